// internal.h — structures shared by the engine binding's C++ files. Never included from C.
#ifndef HEARTH_JS_INTERNAL_H
#define HEARTH_JS_INTERNAL_H

#include <jsapi.h>
#include <jsfriendapi.h>
#include <js/CompileOptions.h>
#include <js/Modules.h>
#include <js/Promise.h>
#include <js/Transcoding.h>
#include <js/experimental/JSStencil.h>

#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "js/engine.h"

// One module of a program. JavaScript modules (and the small wrapper module generated for
// text/data/json/wasm modules) are kept as transcoded stencils: compiled once, decoded by each
// shard that instantiates the program.
struct js_module_record {
    std::string name;
    js_module_kind kind;
    std::string data;         // source text for ESM; the payload for other kinds
    JS::TranscodeBuffer xdr;  // encoded stencil
    bool may_import_internal; // wrappers may import "hearth:module-data"
    // specifier → target. Targets >= 0 are modules of this program; a target < 0 is runtime
    // module (-target - 1).
    std::vector<std::pair<std::string, int>> deps;
};

struct js_program {
    std::atomic<int> refs;
    std::vector<js_module_record> modules; // modules[0] is the main module
    bool is_runtime;
};

// A program's stencils decoded in one shard, shared by that shard's realms of the program.
struct shard_program {
    js_program *program;
    std::vector<RefPtr<JS::Stencil>> stencils;
    int realms;
};

class hearth_job_queue;

struct js_shard {
    JSContext *cx;
    js_shard_options opts;
    js_shard_callbacks cb;
    hearth_job_queue *jobs;
    // Async context of the code running now (an invocation id); saved with each promise job.
    uint64_t async_id;
    // Set by another thread to stop the running code; read by the interrupt callback.
    std::atomic<const char *> interrupt_reason;
    // A GC finished: check the running realm's memory at the next interrupt point.
    bool memory_check_pending;
    // The running realm's zone is to be collected at the next interrupt point
    // (js_realm_collect_soon).
    bool collect_pending;
    // The reason the last dispatch was terminated, once the interrupt was taken.
    const char *terminated_reason;
    js_realm *running;                          // realm of the dispatch in progress
    JS::PersistentRootedObject *scratch_global; // for compile-time module inspection
    std::unordered_map<const js_program *, shard_program *> programs;
    shard_program *runtime_sp; // the runtime's stencils, kept for the shard's lifetime
    std::vector<js_realm *> realms;
    // Promises rejected with no handler, reported after the job queue drains.
    JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> *rejections;
    std::vector<uint64_t> rejection_async_ids;
    // Background work finished on helper threads, to run on this shard's thread.
    std::mutex tasks_lock;
    std::vector<JS::Dispatchable *> tasks;
};

struct js_realm {
    js_shard *shard;
    js_program *program;
    shard_program *sp;
    void *host;
    bool broken;
    JS::PersistentRootedObject global;
    JS::PersistentRootedObject dispatcher;
    // Module objects by index: [0, n) the program's, [n, n + r) the runtime's.
    JS::PersistentRootedObject modules; // a JS array
    // Runtime modules evaluated so far, by file name → namespace (ops.loadModule's cache).
    JS::PersistentRootedObject namespaces;
    // Globals created on first access: name → [runtime file, export name] (see globals.js).
    JS::PersistentRootedObject lazy_globals;
    js_realm(JSContext *cx)
        : global(cx), dispatcher(cx), modules(cx), namespaces(cx), lazy_globals(cx) {}
};

extern js_program *g_runtime_program;

// errors.cpp
void error_from_pending(JSContext *cx, js_error *err);
void error_from_value(JSContext *cx, JS::HandleValue exc, JS::HandleObject stack, js_error *err);
char *dup_cstr(const char *s);

// program.cpp
shard_program *shard_program_get(js_shard *s, js_program *p);
JS::Stencil *shard_program_stencil(js_shard *s, shard_program *sp, size_t i);
void shard_program_release(js_shard *s, shard_program *sp);
int runtime_module_index(const char *name);
js_program *program_compile_runtime(js_shard *s, js_error *err);
bool realm_prepare_modules(JSContext *cx, js_realm *r);
JSObject *realm_module(JSContext *cx, js_realm *r, size_t index);

// realm.cpp
JSObject *load_runtime_module(JSContext *cx, js_realm *r, const char *file, bool load);
JSObject *module_resolve_hook(JSContext *cx, JS::HandleValue referencing, JS::HandleObject request);
bool module_dynamic_import_hook(JSContext *cx, JS::HandleValue referencing,
                                JS::HandleObject request, JS::HandleObject promise);
js_realm *realm_of_global(JSObject *global);
void realm_mark_broken(js_realm *r, const char *reason);
bool realm_over_memory_limit(js_shard *s, js_realm *r);
bool realm_create_global(js_shard *s, js_realm *r);

// natives.cpp
bool define_native_ops(JSContext *cx, JS::HandleObject ops);

// clone.cpp
bool define_clone_ops(JSContext *cx, JS::HandleObject ops);

// ops.cpp
bool define_ops_object(JSContext *cx, JS::HandleObject global);
bool args_to_values(JSContext *cx, const js_args *args, JS::MutableHandleValueVector out);

// engine.cpp
bool shard_run_jobs(js_shard *s);
void shard_report_rejections(js_shard *s);

#endif
