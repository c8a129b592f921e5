#!/bin/sh
# `make run`: starts the platform (`hearth serve`) on its defaults (state in ./.hearth),
# deploys the example Workers through the control API with the CLI, and stays in the
# foreground until Ctrl-C.
#
# The admin token is generated once and kept in .hearth/run-token (mode 0600) so that later
# runs, and the CLI in another terminal, can use it:
#   HEARTH_API_TOKEN=$(cat .hearth/run-token) build/hearth versions list --name hello
set -eu

HEARTH=${HEARTH:-build/hearth}
STATE=.hearth
TOKEN_FILE=$STATE/run-token
ADMIN=127.0.0.1:8788

mkdir -p "$STATE"
if [ ! -s "$TOKEN_FILE" ]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$TOKEN_FILE")
fi
HEARTH_ADMIN_TOKEN=$(cat "$TOKEN_FILE")
export HEARTH_ADMIN_TOKEN

"$HEARTH" serve --default-worker hello &
SERVE=$!
trap 'kill -TERM $SERVE 2>/dev/null; wait $SERVE; exit 0' INT TERM

# The control API answers once the store is open and the shards are up.
tries=0
until curl -fsS -o /dev/null -H "Authorization: Bearer $HEARTH_ADMIN_TOKEN" \
    "http://$ADMIN/client/v4/user/tokens/verify" 2>/dev/null; do
    tries=$((tries + 1))
    if ! kill -0 $SERVE 2>/dev/null || [ $tries -gt 100 ]; then
        echo "make run: hearth serve did not start (see its messages above)" >&2
        exit 1
    fi
    sleep 0.1
done

export HEARTH_API_URL=http://$ADMIN HEARTH_API_TOKEN=$HEARTH_ADMIN_TOKEN
for example in examples/hello examples/greeter examples/ratelimit examples/wasm; do
    "$HEARTH" deploy "$example" -m "make run"
done

cat >&2 <<EOF

[make run] Deployed:
[make run]   hello    http://hello.localhost:8787/   (also every host without its own Worker)
[make run]   greeter  http://greeter.localhost:8787/ (says which version answered)
[make run]   ratelimit http://ratelimit.localhost:8787/ (429 after 100 requests to a path in a minute)
[make run]   wasm     http://wasm.localhost:8787/fib/40 (C compiled to WebAssembly)
[make run] Control API: http://$ADMIN/client/v4   metrics: http://$ADMIN/metrics
[make run] Admin API token: $HEARTH_ADMIN_TOKEN   (kept in $TOKEN_FILE)
[make run] Try, in another terminal:
[make run]   export HEARTH_API_URL=http://$ADMIN HEARTH_API_TOKEN=\$(cat $TOKEN_FILE)
[make run]   $HEARTH versions list --name greeter
[make run] Ctrl-C stops it; the state stays in $STATE.

EOF
wait $SERVE
