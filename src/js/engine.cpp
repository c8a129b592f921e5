// engine.cpp — process-wide engine setup, shards (one JSContext per thread), the promise job
// queue that carries async context, interrupts and unhandled-rejection tracking.
#include <js/BuildId.h>
#include <js/Initialization.h>
#include <js/Stack.h>
#include <js/Interrupt.h>
#include <js/GCAPI.h>
#include <js/GCVector.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "js/internal.h"

js_program *g_runtime_program;

// Promise jobs, each remembered with the async context that was current when it was queued,
// so code after an `await` still knows which invocation it belongs to.
class hearth_job_queue : public JS::JobQueue {
  public:
    explicit hearth_job_queue(js_shard *shard) : s(shard), queue(shard->cx) {}

    JSObject *getIncumbentGlobal(JSContext *cx) override { return JS::CurrentGlobalOrNull(cx); }

    bool enqueuePromiseJob(JSContext *cx, JS::HandleObject promise, JS::HandleObject job,
                           JS::HandleObject allocationSite,
                           JS::HandleObject incumbentGlobal) override {
        (void)promise, (void)allocationSite, (void)incumbentGlobal;
        if (!queue.append(job)) {
            JS_ReportOutOfMemory(cx);
            return false;
        }
        ids.push_back(s->async_id);
        return true;
    }

    void runJobs(JSContext *cx) override {
        (void)cx;
        shard_run_jobs(s);
    }

    bool empty() const override { return head == queue.length(); }

    js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext *cx) override {
        // Only the debugger saves queues, and hearth never enables it.
        JS_ReportErrorASCII(cx, "job queue saving is not supported");
        return nullptr;
    }

    js_shard *s;
    JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>> queue;
    std::vector<uint64_t> ids;
    size_t head = 0;
    bool running = false;
};

static JSClass scratch_global_class = {
    "HearthScratch", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps, nullptr, nullptr, nullptr};

static bool interrupt_callback(JSContext *cx) {
    js_shard *s = static_cast<js_shard *>(JS_GetContextPrivate(cx));
    if (s->memory_check_pending) {
        s->memory_check_pending = false;
        s->collect_pending = false;
        if (s->running && !s->running->broken && realm_over_memory_limit(s, s->running))
            s->interrupt_reason.store("exceededMemory");
    }
    if (s->collect_pending) {
        s->collect_pending = false;
        if (s->running && !s->running->broken) {
            JS::PrepareZoneForGC(cx, js::GetObjectZoneFromAnyThread(s->running->global));
            bool pending = s->memory_check_pending;
            JS::NonIncrementalGC(cx, JS::GCOptions::Normal, JS::GCReason::API);
            s->memory_check_pending = pending; // our own collection is not news
        }
    }
    const char *reason = s->interrupt_reason.exchange(nullptr);
    if (!reason) return true;
    // Returning false without a pending exception terminates the running script; nothing in
    // JavaScript can catch it.
    s->terminated_reason = reason;
    return false;
}

// After each collection the running realm's memory is checked (at the next interrupt point:
// measuring allocates, which a GC callback must not do). A realm over its limit is stopped the
// way a CPU-limit breach is, so an allocation loop never gets to exhaust the process.
static void gc_callback(JSContext *cx, JSGCStatus status, JS::GCReason reason, void *data) {
    (void)reason;
    js_shard *s = static_cast<js_shard *>(data);
    if (status != JSGC_END || !s->opts.realm_heap_limit) return;
    s->memory_check_pending = true;
    if (s->running) JS_RequestInterruptCallback(cx);
}

static void rejection_tracker(JSContext *cx, bool muted, JS::HandleObject promise,
                              JS::PromiseRejectionHandlingState state, void *data) {
    (void)cx, (void)muted;
    js_shard *s = static_cast<js_shard *>(data);
    auto &list = s->rejections->get();
    if (state == JS::PromiseRejectionHandlingState::Unhandled) {
        if (list.append(promise)) s->rejection_async_ids.push_back(s->async_id);
        return;
    }
    for (size_t i = 0; i < list.length(); i++) {
        if (list[i] == promise) {
            list.erase(list.begin() + i);
            s->rejection_async_ids.erase(s->rejection_async_ids.begin() + i);
            return;
        }
    }
}

// Helper threads hand finished work (WebAssembly compilation for promises, ...) to the shard's
// thread through here; the host wakes its loop and calls js_shard_run_tasks.
static bool dispatch_to_event_loop(void *closure, JS::Dispatchable *task) {
    js_shard *s = static_cast<js_shard *>(closure);
    {
        std::lock_guard<std::mutex> guard(s->tasks_lock);
        s->tasks.push_back(task);
    }
    if (s->cb.wake) s->cb.wake(s->opts.host);
    return true;
}

extern "C" void js_shard_run_tasks(js_shard *s) {
    std::vector<JS::Dispatchable *> tasks;
    {
        std::lock_guard<std::mutex> guard(s->tasks_lock);
        tasks.swap(s->tasks);
    }
    for (JS::Dispatchable *task : tasks) task->run(s->cx, JS::Dispatchable::NotShuttingDown);
    shard_run_jobs(s);
    shard_report_rejections(s);
    s->terminated_reason = nullptr;
}

// Runs every queued job, including those queued by jobs. Returns false if the shard was
// interrupted (the remaining jobs are dropped with the realm that owns them).
bool shard_run_jobs(js_shard *s) {
    hearth_job_queue *q = s->jobs;
    if (q->running) return true;
    q->running = true;
    JSContext *cx = s->cx;
    bool ok = true;
    JS::RootedObject job(cx);
    JS::RootedValue rval(cx);
    uint64_t saved_async = s->async_id;
    while (q->head < q->queue.length()) {
        job = q->queue[q->head];
        s->async_id = q->ids[q->head];
        q->queue[q->head].set(nullptr);
        q->head++;
        JSObject *global = JS::GetNonCCWObjectGlobal(job);
        js_realm *r = realm_of_global(global);
        if (r && r->broken) continue;
        JSAutoRealm ar(cx, job);
        js_realm *prev_running = s->running;
        if (r) s->running = r;
        bool call_ok =
            JS::Call(cx, JS::UndefinedHandleValue, job, JS::HandleValueArray::empty(), &rval);
        s->running = prev_running;
        if (!call_ok) {
            if (s->terminated_reason) {
                if (r) realm_mark_broken(r, s->terminated_reason);
                ok = false;
                JS_ClearPendingException(cx);
                continue;
            }
            js_error err = {};
            error_from_pending(cx, &err);
            if (s->cb.uncaught) s->cb.uncaught(s->opts.host, r, s->async_id, &err);
            js_error_clear(&err);
        }
    }
    q->queue.clear();
    q->ids.clear();
    q->head = 0;
    q->running = false;
    s->async_id = saved_async;
    return ok;
}

// After a drain: promises still rejected without a handler are uncaught errors of the
// invocation that rejected them (what workerd logs as "Uncaught (in promise)").
void shard_report_rejections(js_shard *s) {
    JSContext *cx = s->cx;
    auto &list = s->rejections->get();
    while (list.length() > 0) {
        JS::RootedObject promise(cx, list[0]);
        uint64_t id = s->rejection_async_ids[0];
        list.erase(list.begin());
        s->rejection_async_ids.erase(s->rejection_async_ids.begin());
        js_realm *r = realm_of_global(JS::GetNonCCWObjectGlobal(promise));
        if (!r || r->broken) continue;
        JSAutoRealm ar(cx, promise);
        JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
        JS::RootedObject stack(cx, JS::GetPromiseResolutionSite(promise));
        js_error err = {};
        error_from_value(cx, reason, nullptr, &err);
        if (s->cb.uncaught) s->cb.uncaught(s->opts.host, r, id, &err);
        js_error_clear(&err);
    }
}

// Transcoded stencils are tagged with a build id and only decoded by the same build; they never
// leave the process, so the engine's own version is enough.
static bool build_id_op(JS::BuildIdCharVector *out) {
    const char *id = JS_GetImplementationVersion();
    return out->append(id, strlen(id));
}

int js_engine_init(js_error *err) {
    JS::SetProcessBuildIdOp(build_id_op);
    if (!JS_Init()) {
        err->message = dup_cstr("JS_Init failed");
        return -1;
    }
    // Compile the embedded runtime once, on a temporary shard; realms decode it per shard.
    js_shard_options opts = {};
    js_shard *s = js_shard_new(&opts);
    if (!s) {
        err->message = dup_cstr("could not create a JavaScript context");
        return -1;
    }
    g_runtime_program = program_compile_runtime(s, err);
    js_shard_free(s);
    return g_runtime_program ? 0 : -1;
}

void js_engine_shutdown(void) {
    if (g_runtime_program) js_program_unref(g_runtime_program);
    g_runtime_program = nullptr;
    JS_ShutDown();
}

const char *js_engine_version(void) {
    return JS_GetImplementationVersion();
}

js_shard *js_shard_new(const js_shard_options *opts) {
    // A generous native stack quota: Workers recurse (JSON, routers), and each loop thread
    // runs with an 8 MiB stack.
    const size_t kNativeStackQuota = 6 * 1024 * 1024;
    JSContext *cx =
        JS_NewContext(opts->max_heap_bytes ? opts->max_heap_bytes : 1024u * 1024 * 1024);
    if (!cx) return nullptr;
    js_shard *s = new js_shard();
    s->cx = cx;
    s->opts = *opts;
    if (opts->cb) s->cb = *opts->cb;
    s->async_id = 0;
    s->interrupt_reason = nullptr;
    s->terminated_reason = nullptr;
    s->memory_check_pending = false;
    s->running = nullptr;
    JS_SetContextPrivate(cx, s);
    JS_SetNativeStackQuota(cx, kNativeStackQuota);
    s->jobs = new hearth_job_queue(s);
    JS::SetJobQueue(cx, s->jobs);
    if (!JS::InitSelfHostedCode(cx)) {
        delete s->jobs;
        JS_DestroyContext(cx);
        delete s;
        return nullptr;
    }
    // Incremental GC keeps write barriers busy while a collection is in progress; with the small
    // heaps of Worker realms it cost allocation-heavy code (JSON) ~60% of its speed for pauses
    // that are short anyway. Zones (one per realm) are collected separately.
    JS_SetGCParameter(cx, JSGC_INCREMENTAL_GC_ENABLED, 0);
    JS_SetGCParameter(cx, JSGC_PER_ZONE_GC_ENABLED, 1);
    // A zone is collected once 4 MiB of malloc'd memory (string characters, ArrayBuffer
    // contents, ...) has piled up in it, not SpiderMonkey's default 38 MiB: a Worker's garbage
    // of that kind is freed sooner, per zone, and the process stays small. Measured on the
    // service-binding benchmark (a request = an RPC between two realms, whose garbage outlives
    // the nursery): 417 → 122 MiB RSS at the same requests/s; JSON echo 168 → 58 MiB, same
    // CPU per request (bench/RESULTS.md, 2026-11-22).
    JS_SetGCParameter(cx, JSGC_MALLOC_THRESHOLD_BASE, 4);
    JS_AddInterruptCallback(cx, interrupt_callback);
    // Workers code (and the tools around it) expect V8's "    at fn (file:line:col)" stacks.
    js::SetStackFormat(cx, js::StackFormat::V8);
    JS::SetModuleResolveHook(JS_GetRuntime(cx), module_resolve_hook);
    JS::SetModuleDynamicImportHook(JS_GetRuntime(cx), module_dynamic_import_hook);
    s->rejections =
        new JS::PersistentRooted<JS::GCVector<JSObject *, 0, js::SystemAllocPolicy>>(cx);
    JS::SetPromiseRejectionTrackerCallback(cx, rejection_tracker, s);
    JS_SetGCCallback(cx, gc_callback, s);
    JS::InitDispatchToEventLoop(cx, dispatch_to_event_loop, s);

    JS::RealmOptions options;
    JS::RootedObject global(cx, JS_NewGlobalObject(cx, &scratch_global_class, nullptr,
                                                   JS::FireOnNewGlobalHook, options));
    s->scratch_global = new JS::PersistentRootedObject(cx, global);
    // The runtime's stencils are decoded (lazily, module by module) once per shard.
    s->runtime_sp = g_runtime_program ? shard_program_get(s, g_runtime_program) : nullptr;
    return s;
}

void js_shard_free(js_shard *s) {
    if (!s) return;
    // Cancel background tasks, then release those that finished but never ran.
    JS::ShutdownAsyncTasks(s->cx);
    for (JS::Dispatchable *task : s->tasks) task->run(s->cx, JS::Dispatchable::ShuttingDown);
    s->tasks.clear();
    while (!s->realms.empty()) js_realm_free(s->realms.back());
    if (s->runtime_sp) shard_program_release(s, s->runtime_sp);
    s->runtime_sp = nullptr;
    for (auto &entry : s->programs) {
        entry.second->stencils.clear();
        js_program_unref(entry.second->program);
        delete entry.second;
    }
    s->programs.clear();
    delete s->scratch_global;
    delete s->rejections;
    s->jobs->queue.clear();
    JSContext *cx = s->cx;
    delete s->jobs;
    JS_DestroyContext(cx);
    delete s;
}

void *js_shard_host(js_shard *s) {
    return s->opts.host;
}

void js_shard_interrupt(js_shard *s, const char *reason) {
    s->interrupt_reason.store(reason);
    JS_RequestInterruptCallback(s->cx);
}

void js_shard_drain(js_shard *s) {
    shard_run_jobs(s);
    shard_report_rejections(s);
    s->terminated_reason = nullptr;
}

void js_shard_gc(js_shard *s) {
    JS_GC(s->cx);
}
