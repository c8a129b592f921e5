/* engine.h — the C interface to the JavaScript engine.
 *
 * This is the only door between hearth's C code and SpiderMonkey; nothing outside src/js/
 * includes an engine header. The model:
 *
 *   js_engine   process-wide: JS_Init, the compiled JavaScript half of the runtime.
 *   js_shard    one per thread that runs JavaScript: a JSContext, its job queue, CPU-limit
 *               interrupts. Loop threads each own one; the control thread owns one to compile.
 *   js_program  compiled Worker code: every module of one version, compiled once (to
 *               SpiderMonkey's transcoded stencil form) and shared read-only by all shards.
 *   js_realm    one instance of a program in one shard: a global with the runtime's Web APIs,
 *               the Worker's evaluated modules and its `env`. Reused across requests, like an
 *               isolate; thrown away on a limit breach and re-created on the next request.
 *
 * JavaScript calls C through "ops": named native functions with primitive arguments that C
 * registers (js_ops_register) and the runtime's JavaScript reaches through a private `ops`
 * object. C calls JavaScript through js_realm_dispatch: the runtime's single entry point,
 * which receives an event kind and primitive arguments. Keeping both directions to primitive
 * values (numbers, strings, bytes, lists of them) keeps the C++ small and every Web API in
 * JavaScript, testable on its own.
 *
 * Threading: a js_shard and every js_realm made from it belong to the thread that created
 * the shard. js_program is immutable and reference-counted; any thread may hold one. */
#ifndef HEARTH_JS_ENGINE_H
#define HEARTH_JS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct js_shard js_shard;
typedef struct js_program js_program;
typedef struct js_realm js_realm;
typedef struct js_call js_call;

/* ---- errors ------------------------------------------------------------------------------- */

/* A JavaScript error turned into text. `stack` holds "fn@file:line:col" lines as SpiderMonkey
 * writes them; `file`/`line`/`column` locate compile errors (1-based; 0 when unknown) and
 * `source_line` is the offending line of source when known. All strings are malloc'd. */
typedef struct js_error {
    char *name;    /* "TypeError", "SyntaxError", ... */
    char *message; /* without the name */
    char *stack;
    char *file;
    unsigned line, column;
    char *source_line;
} js_error;

void js_error_clear(js_error *err);
/* "SyntaxError: unexpected token\n  at file:1:2\n  <line>\n  ^" — malloc'd, for printing. */
char *js_error_format(const js_error *err);

/* ---- engine ------------------------------------------------------------------------------- */

/* Initialises SpiderMonkey and compiles the embedded runtime (the files of src/runtime/). Call
 * once, from the main thread, before anything else. Returns 0, or -1 with *err set (a runtime bug).
 */
int js_engine_init(js_error *err);
void js_engine_shutdown(void);
const char *js_engine_version(void);

/* ---- ops ----------------------------------------------------------------------------------- */

typedef void (*js_op_fn)(js_call *call);

typedef struct js_op {
    const char *name;
    js_op_fn fn;
} js_op;

/* Registers ops, visible to the runtime as `ops.<name>(...)` in every realm created afterwards.
 * The table must outlive the engine (use static arrays). Call before creating shards. */
void js_ops_register(const js_op *ops, size_t count);

/* Inside an op: the context it was called in. */
js_shard *js_call_shard(js_call *c);
js_realm *js_call_realm(js_call *c);
/* The async context of the running code: the invocation id given to js_realm_dispatch, carried
 * through promise jobs, so an op knows which request it serves even after an await. 0 = none. */
uint64_t js_call_async_id(js_call *c);

/* Arguments. The runtime passes primitives only; asking for the wrong type throws a TypeError
 * in JavaScript after the op returns (and the accessor returns a zero value). Strings and
 * bytes are borrowed until the op returns: ops never allocate JavaScript values while they
 * run (results are staged and created afterwards), so no garbage collection can move them. */
size_t js_argc(js_call *c);
bool js_arg_is_nullish(js_call *c, size_t i);
bool js_arg_is_string(js_call *c, size_t i);
bool js_arg_is_bytes(js_call *c, size_t i);
double js_arg_number(js_call *c, size_t i);
int64_t js_arg_int(js_call *c, size_t i);
bool js_arg_bool(js_call *c, size_t i);
/* UTF-8 (lone surrogates become U+FFFD). NUL-terminated; *len may be NULL. */
const char *js_arg_string(js_call *c, size_t i, size_t *len);
/* Latin-1 view of a string whose code units are all < 256 (header values, byte strings);
 * returns NULL (and throws) if a code unit is wider. */
const char *js_arg_latin1(js_call *c, size_t i, size_t *len);
/* Contents of an ArrayBuffer, typed array or DataView. */
const uint8_t *js_arg_bytes(js_call *c, size_t i, size_t *len);
/* Like js_arg_string, but without a copy when the engine stores the string as ASCII: the
 * view then points into the string itself and is valid only until the op returns and until
 * the next js_arg_* call (which may allocate). Read it last. */
const char *js_arg_string_view(js_call *c, size_t i, size_t *len);
/* Length of an array argument, and its string elements (UTF-8, borrowed as above). */
size_t js_arg_array_len(js_call *c, size_t i);
const char *js_arg_array_string(js_call *c, size_t i, size_t j, size_t *len);

/* True if the n bytes at p are all ASCII (a fast check for ops' ASCII fast paths). */
bool js_bytes_are_ascii(const void *p, size_t n);

/* Results (the last call wins, except that lists append). */
void js_ret_undefined(js_call *c);
void js_ret_null(js_call *c);
void js_ret_bool(js_call *c, bool v);
void js_ret_number(js_call *c, double v);
void js_ret_string(js_call *c, const char *s, size_t len); /* UTF-8, copied */
void js_ret_latin1(js_call *c, const char *s, size_t len); /* bytes as code units */
/* As js_ret_latin1, without copying: s must stay valid until the op has returned, which is
 * true of an argument's bytes (js_arg_bytes). */
void js_ret_latin1_ref(js_call *c, const char *s, size_t len);
void js_ret_bytes(js_call *c, const void *p, size_t len); /* new ArrayBuffer, copied */
void js_ret_bytes_take(js_call *c, void *p, size_t len);  /* takes a malloc'd block */
/* A result that is an array of primitives: begin, then push. */
void js_ret_list(js_call *c);
void js_ret_push_string(js_call *c, const char *s, size_t len);
void js_ret_push_latin1(js_call *c, const char *s, size_t len);
void js_ret_push_latin1_ref(js_call *c, const char *s, size_t len); /* see js_ret_latin1_ref */
void js_ret_push_number(js_call *c, double v);
void js_ret_push_bool(js_call *c, bool v);
void js_ret_push_null(js_call *c);
void js_ret_push_bytes(js_call *c, const void *p, size_t len);
/* Throws `new <cls>(message)` when the op returns; cls is "Error", "TypeError", "RangeError",
 * "SyntaxError" or a DOMException name prefixed "DOMException:" (e.g. "DOMException:DataError"). */
void js_throw(js_call *c, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- values passed from C into JavaScript ---------------------------------------------------- */

/* A short list of primitives for js_realm_dispatch. Strings and bytes are borrowed until the
 * dispatch returns. */
enum { JS_ARGS_MAX = 12 };
typedef enum js_arg_kind {
    JS_ARG_UNDEFINED,
    JS_ARG_NULL,
    JS_ARG_BOOL,
    JS_ARG_NUMBER,
    JS_ARG_STRING, /* UTF-8 */
    JS_ARG_LATIN1, /* bytes as code units */
    JS_ARG_BYTES,  /* becomes an ArrayBuffer */
} js_arg_kind;

typedef struct js_arg {
    js_arg_kind kind;
    double num;
    const char *ptr;
    size_t len;
} js_arg;

typedef struct js_args {
    js_arg v[JS_ARGS_MAX];
    size_t n;
} js_args;

void js_args_number(js_args *a, double v);
void js_args_bool(js_args *a, bool v);
void js_args_null(js_args *a);
void js_args_string(js_args *a, const char *s, size_t len);
void js_args_latin1(js_args *a, const char *s, size_t len);
void js_args_bytes(js_args *a, const void *p, size_t len);

/* ---- shards ------------------------------------------------------------------------------- */

typedef struct js_shard_callbacks {
    /* A realm was torn down (limit breach or fatal error) while invocations were using it;
     * the host must fail those invocations (they will never complete). reason is e.g.
     * "exceededCpu", "exceededMemory". */
    void (*realm_reset)(void *host, js_realm *realm, const char *reason);
    /* An exception nobody caught (a rejected promise with no handler after the job queue
     * drained, or an error thrown from a job) in the given async context. */
    void (*uncaught)(void *host, js_realm *realm, uint64_t async_id, const js_error *err);
    /* The engine finished work on a helper thread (e.g. compiling WebAssembly for a promise):
     * the host must call js_shard_run_tasks on the shard's thread soon. Called from any
     * thread. */
    void (*wake)(void *host);
} js_shard_callbacks;

typedef struct js_shard_options {
    unsigned index;               /* 0..N-1, for logs */
    size_t max_heap_bytes;        /* per-thread engine heap cap (0 = engine default) */
    size_t realm_heap_limit;      /* per-realm limit checked after GC and invocations */
    const js_shard_callbacks *cb; /* may be NULL */
    void *host;                   /* passed to callbacks; the loop thread */
} js_shard_options;

/* Creates the calling thread's shard. */
js_shard *js_shard_new(const js_shard_options *opts);
void js_shard_free(js_shard *s);
void *js_shard_host(js_shard *s);

/* Stops the JavaScript running on the shard's thread, from any thread (the CPU-limit watchdog):
 * it is terminated (uncatchable), its realm is torn down and the dispatch in progress returns
 * JS_RESULT_TERMINATED with `reason` (a string with static lifetime). Has no effect if the
 * shard is idle by the time the engine checks. */
void js_shard_interrupt(js_shard *s, const char *reason);

/* Runs pending promise jobs until none are left. Dispatch does this itself; the host calls it
 * after resolving things from C outside a dispatch. */
void js_shard_drain(js_shard *s);

/* Runs the engine's completed background tasks (see js_shard_callbacks.wake) and the promise
 * jobs they queue. */
void js_shard_run_tasks(js_shard *s);

/* Collects garbage now (tests and idle times). */
void js_shard_gc(js_shard *s);

/* ---- programs (compiled Worker code) ------------------------------------------------------ */

typedef enum js_module_kind {
    JS_MODULE_ESM,  /* JavaScript module */
    JS_MODULE_TEXT, /* default export is the text */
    JS_MODULE_DATA, /* default export is an ArrayBuffer */
    JS_MODULE_JSON, /* default export is the parsed value */
    JS_MODULE_WASM, /* default export is a WebAssembly.Module */
} js_module_kind;

/* What a module loader returns for one module. The engine copies everything. */
typedef struct js_module_source {
    char *name; /* canonical name, e.g. "src/index.js"; malloc'd by the loader */
    js_module_kind kind;
    char *data; /* malloc'd by the loader */
    size_t len;
} js_module_source;

/* Resolves `specifier` imported from module `referrer` (NULL for the main module) and loads it.
 * Returns 0 and fills *out (ownership passes to the engine), or -1 with a message in msg. */
typedef int (*js_module_loader)(void *ud, const char *referrer, const char *specifier,
                                js_module_source *out, char *msg, size_t msglen);

/* Compiles the module graph rooted at `main` with the loader, validating syntax and imports
 * (every import resolves and names an existing export). Does not run any Worker code.
 * Returns a program with one reference, or NULL with *err (file:line:col of the problem). */
js_program *js_program_compile(js_shard *compiler, const char *main, js_module_loader load,
                               void *ud, js_error *err);
js_program *js_program_ref(js_program *p);
void js_program_unref(js_program *p);
size_t js_program_module_count(const js_program *p);
const char *js_program_module_name(const js_program *p, size_t i);
js_module_kind js_program_module_kind(const js_program *p, size_t i);
/* The module's source (ES modules) or payload (other kinds), as the loader gave it. */
const char *js_program_module_data(const js_program *p, size_t i, size_t *len);

/* ---- realms ------------------------------------------------------------------------------- */

typedef struct js_realm_config {
    /* The Worker's bindings as a JSON array in the Cloudflare upload-metadata form:
     * [{"type":"plain_text","name":"X","text":"..."}, {"type":"json",...}, ...]. */
    const char *bindings_json;
    /* Worker-level facts the runtime exposes (JSON object), e.g. {"name":"hello"}. */
    const char *worker_json;
    void *host; /* the host's per-realm data, returned by js_realm_host */
} js_realm_config;

/* Instantiates a program in the calling thread's shard: creates the global, installs the
 * runtime, evaluates the Worker's modules and builds `env`. Top-level code runs here; an error
 * it throws (or a top-level await that never settles) fails the realm with *err. */
js_realm *js_realm_new(js_shard *s, js_program *p, const js_realm_config *cfg, js_error *err);
/* Destroys the realm now. Invocations still using it never complete. */
void js_realm_free(js_realm *r);
void *js_realm_host(js_realm *r);
js_program *js_realm_program(js_realm *r);
/* True once the realm was torn down by a limit breach; the host replaces it. */
bool js_realm_is_broken(const js_realm *r);
/* Bytes of engine heap used by this realm (its zone). */
uint64_t js_realm_heap_bytes(js_realm *r);
/* Collects the zone of the realm whose code runs next, at its next interrupt point: for
 * garbage the host knows piles up faster than the engine's own triggers notice (the chunks of
 * a streamed body). */
void js_shard_collect_soon(js_shard *s);

typedef enum js_result {
    JS_RESULT_OK,         /* the dispatcher returned */
    JS_RESULT_EXCEPTION,  /* it threw; *err holds the exception */
    JS_RESULT_TERMINATED, /* stopped by js_shard_interrupt or an out-of-memory; realm broken */
} js_result;

/* Calls the runtime's dispatcher, `dispatch(kind, ...args)` in src/runtime/main.js, inside
 * async context `async_id`, then drains the job queue. On JS_RESULT_TERMINATED *reason names
 * why ("exceededCpu", "exceededMemory"). err may be NULL. */
js_result js_realm_dispatch(js_realm *r, uint64_t async_id, const char *kind, const js_args *args,
                            js_error *err, const char **reason);

#ifdef __cplusplus
}
#endif

#endif
