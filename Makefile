# hearth — build, test, run, bench.
#
#   make            build build/hearth
#   make run        install missing packages, build, serve examples/hello on :8787
#   make test       install missing packages, build (normal + ASan/UBSan), run every test
#   make bench      run the benchmarks side by side with workerd (see bench/README.md)
#
# A second build tree with sanitizers: `make BUILD=build/asan SAN=1`.

BUILD ?= build
SAN   ?=

CC  := gcc
CXX := g++

PKGS := mozjs-102 libuv jansson libcurl openssl sqlite3 zlib libbrotlienc libbrotlidec
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lwslay

OPT := -O2
ifeq ($(SAN),1)
  OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

WARN     := -Wall -Wextra -Werror
CPPFLAGS := -D_GNU_SOURCE -Isrc -I$(BUILD)/gen -MMD -MP
CFLAGS   := -std=c11 $(WARN) $(OPT) -g -pthread
# SpiderMonkey headers are C++17 and include their own config; -isystem keeps their warnings out.
CXXFLAGS := -std=c++17 $(WARN) -Wno-invalid-offsetof -Wno-unused-parameter -Wno-dangling-pointer $(OPT) -g -pthread \
            -fno-rtti -fno-exceptions $(PKG_CFLAGS)
LDFLAGS  := $(OPT) -g -pthread -rdynamic
LDLIBS   := $(PKG_LIBS) -lstdc++ -lm -ldl

C_SRCS   := $(filter-out src/main.c,$(wildcard src/*/*.c))
CXX_SRCS := $(wildcard src/js/*.cpp)
JS_SRCS  := $(sort $(wildcard src/runtime/*.js))
OBJS     := $(C_SRCS:%.c=$(BUILD)/%.o) $(CXX_SRCS:%.cpp=$(BUILD)/%.o) $(BUILD)/gen/runtime_files.o

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
CONF_SRCS  := $(wildcard tests/conformance/*.c)
CONF_BINS  := $(CONF_SRCS:tests/conformance/%.c=$(BUILD)/tests/conformance_%)
# Programs the end-to-end tests drive (servers and clients for the protocols under test).
HELPER_SRCS := $(wildcard tests/unit/ws_*.c)
HELPER_BINS := $(HELPER_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

EXAMPLE_WASM := examples/wasm/src/checksum.wasm

.PHONY: all tests deps run test unit bench clean format check-format fuzzers
all: $(BUILD)/hearth $(EXAMPLE_WASM)

# The binary plus every C test program (and the WebAssembly example the tests run).
tests: $(BUILD)/hearth $(UNIT_BINS) $(CONF_BINS) $(HELPER_BINS) $(EXAMPLE_WASM)

# examples/wasm: C compiled to WebAssembly with Debian's clang and wasm-ld (package lld).
# Functions the C leaves undefined become imports the Worker provides.
$(EXAMPLE_WASM): examples/wasm/src/checksum.c
	clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--allow-undefined \
	  -Wl,--export=crc32 -Wl,--export=fib -Wl,--export=input_buffer -Wl,--export=input_capacity \
	  -o $@ $<

$(BUILD)/hearth: $(BUILD)/src/main.o $(BUILD)/libhearth.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libhearth.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -isystem /usr/include/mozjs-102 -c -o $@ $<

$(BUILD)/src/js/%.o: src/js/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c -o $@ $<

$(BUILD)/gen/runtime_files.c: $(JS_SRCS) $(BUILD)/tools/embed
	@mkdir -p $(dir $@)
	$(BUILD)/tools/embed $@ runtime_files src/runtime/ $(JS_SRCS)

$(BUILD)/gen/runtime_files.o: $(BUILD)/gen/runtime_files.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The embed tool runs at build time on the build machine; it never needs sanitizers.
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDLIBS) -lcmocka

$(BUILD)/tests/ws_%: tests/unit/ws_%.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDLIBS)

$(BUILD)/tests/conformance_%: tests/conformance/%.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDLIBS)

# The source map decoder on the command line: for the differential test against Mozilla's
# source-map (tests/js/sourcemap_diff.test.mjs) and the benchmark (bench/sourcemap.mjs).
tests: $(BUILD)/tests/sourcemap_query
$(BUILD)/tests/sourcemap_query: tools/sourcemap_query.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDLIBS)

# A raw pipelined memcached load generator, and the same load through src/ratelimit/memcached.c
# (--client): the Rate Limiting benchmark's "physical limit" and what the client gets of it.
tests: $(BUILD)/tests/memcached_bench
$(BUILD)/tests/memcached_bench: tools/memcached_bench.c $(BUILD)/libhearth.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libhearth.a $(LDLIBS)

# Fuzz targets (libFuzzer, clang): each is linked with only the sources it exercises, compiled
# with coverage instrumentation.
FUZZ_BASE      := src/base/alloc.c src/base/buf.c
FUZZ_SRCS_toml := src/config/toml.c src/config/value.c $(FUZZ_BASE)
FUZZ_SRCS_url  := src/webapi/url.c src/webapi/url_host.c src/webapi/url_idna.c $(FUZZ_BASE)
FUZZ_SRCS_config := src/config/jsonc.c src/config/dotenv.c src/config/value.c $(FUZZ_BASE)
FUZZ_LIBS_config := -ljansson
FUZZ_SRCS_multipart := src/net/multipart.c $(FUZZ_BASE)
FUZZ_SRCS_sfv  := src/net/sfv.c $(FUZZ_BASE)
FUZZ_SRCS_websocket := src/net/websocket.c src/net/http_server.c $(FUZZ_BASE)
FUZZ_LIBS_websocket := -lwslay -luv -lhttp_parser -lcrypto
FUZZ_SRCS_sourcemap := src/observe/sourcemap.c src/observe/sourcemap_slim.c src/observe/sourcemap_stack.c $(FUZZ_BASE)
FUZZ_LIBS_sourcemap := -ljansson -lm
FUZZ_SRCS_memcached := src/ratelimit/memcached_reply.c $(FUZZ_BASE)
FUZZ_SRCS_crypto_import := src/webapi/crypto_pkey.c src/webapi/crypto_sym.c
FUZZ_LIBS_crypto_import := -lcrypto
FUZZ_SRCS_ws_response := src/net/websocket_response.c $(FUZZ_BASE)
FUZZ_LIBS_ws_response := -lhttp_parser
FUZZ_SRCS_wrangler := src/config/wrangler.c src/config/toml.c src/config/jsonc.c src/config/dotenv.c \
	src/config/value.c src/base/fs.c src/platform/cron.c src/platform/route_pattern.c \
	src/ratelimit/binding.c $(FUZZ_BASE)
FUZZ_LIBS_wrangler := -ljansson -lm
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

fuzzers: $(FUZZ_BINS)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard src/*/*.c src/*/*.h)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LIBS_$*)

# The rate limiter's threads under ThreadSanitizer: every loop thread shares the embedded
# table, so its unit test runs with TSan too (linked with only the limiter's sources).
TSAN_SRCS_ratelimit := $(wildcard src/ratelimit/*.c) src/base/alloc.c src/base/buf.c
build/tsan/test_ratelimit: tests/unit/test_ratelimit.c $(TSAN_SRCS_ratelimit) $(wildcard src/ratelimit/*.h)
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -Isrc -std=c11 -g -O1 -fsanitize=thread -pthread -o $@ $< $(TSAN_SRCS_ratelimit) -luv -ljansson -lcrypto -lcmocka

# The benchmarks' own programs (bench/run.mjs), plain epoll: the WebSocket echo's load
# generator (scenario j) and the streaming proxy's origin (scenario i).
BENCH_TOOLS := $(BUILD)/tools/wsload $(BUILD)/tools/origin
$(BENCH_TOOLS): $(BUILD)/tools/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -std=c11 -O2 -g -Wall -Wextra -Werror -o $@ $<

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory $(BUILD)/hearth $(EXAMPLE_WASM)
	HEARTH=$(BUILD)/hearth scripts/run.sh

test: deps
	@$(MAKE) --no-print-directory -j2 tests
	@$(MAKE) --no-print-directory -j2 BUILD=build/asan SAN=1 tests
	@scripts/run-tests.sh

unit: tests
	@for t in $(UNIT_BINS); do echo "== $$t"; $$t || exit 1; done

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/hearth $(BENCH_TOOLS)
	@bench/run.sh

# C and C++ sources (clang-format with .clang-format); `make test` checks them.
FORMAT_SRCS := $(wildcard src/*.c src/*/*.c src/*/*.h src/js/*.cpp tests/unit/*.c tests/conformance/*.c tests/fuzz/*.c tools/*.c bench/*.c)

format:
	clang-format -i $(FORMAT_SRCS)

check-format:
	@clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
