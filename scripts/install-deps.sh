#!/usr/bin/env bash
# Installs the Debian packages hearth needs to build, test and run — only those missing, so
# it is quick when everything is there. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang lld clang-format
  libmozjs-102-dev libuv1-dev libhttp-parser-dev libjansson-dev libcurl4-openssl-dev
  libssl-dev libsqlite3-dev zlib1g-dev libbrotli-dev libwslay-dev libcmocka-dev
  nodejs memcached wrk curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node from elsewhere (nvm, tarball) is fine too: only install Debian's if there is none.
if [[ " ${missing[*]} " == *" nodejs "* ]] && command -v node >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
