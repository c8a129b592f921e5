// realm.cpp — a Worker instance in one shard: its global, module graph and dispatcher.
#include <js/Array.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Exception.h>
#include <js/GCAPI.h>
#include <js/JSON.h>
#include <js/Object.h>
#include <js/Realm.h>
#include <js/ValueArray.h>

#include <stdio.h>
#include <string.h>

#include "js/internal.h"

// Slot 0 of the global (one of the application slots) points back at the js_realm.
static const uint32_t kRealmSlot = 0;

static bool global_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id, bool *resolvedp);
static bool global_new_enumerate(JSContext *cx, JS::HandleObject obj,
                                 JS::MutableHandleIdVector properties, bool enumerableOnly);

// Like the engine's default global class, plus the runtime's lazily created globals.
static const JSClassOps worker_global_ops = {
    nullptr, nullptr, nullptr, global_new_enumerate,     global_resolve, nullptr,
    nullptr, nullptr, nullptr, JS_GlobalObjectTraceHook,
};

static JSClass worker_global_class = {"ServiceWorkerGlobalScope",
                                      JSCLASS_GLOBAL_FLAGS,
                                      &worker_global_ops,
                                      nullptr,
                                      nullptr,
                                      nullptr};

js_realm *realm_of_global(JSObject *global) {
    if (!global || JS::GetClass(global) != &worker_global_class) return nullptr;
    JS::Value v = JS::GetReservedSlot(global, kRealmSlot);
    return v.isUndefined() ? nullptr : static_cast<js_realm *>(v.toPrivate());
}

void realm_mark_broken(js_realm *r, const char *reason) {
    if (r->broken) return;
    r->broken = true;
    js_shard *s = r->shard;
    if (s->cb.realm_reset) s->cb.realm_reset(s->opts.host, r, reason);
}

bool realm_create_global(js_shard *s, js_realm *r) {
    JSContext *cx = s->cx;
    JS::RealmOptions options;
    // A zone per realm: it lets us measure (and limit) one Worker's heap.
    options.creationOptions().setNewCompartmentAndZone();
    options.creationOptions().setStreamsEnabled(false);
    options.creationOptions().setWeakRefsEnabled(JS::WeakRefSpecifier::EnabledWithCleanupSome);
    JS::RootedObject global(cx, JS_NewGlobalObject(cx, &worker_global_class, nullptr,
                                                   JS::DontFireOnNewGlobalHook, options));
    if (!global) return false;
    r->global = global;
    JS::SetReservedSlot(global, kRealmSlot, JS::PrivateValue(r));
    JSAutoRealm ar(cx, global);
    // Standard classes are resolved lazily by the global's class hooks, as needed.
    JS::RootedObject namespaces(cx, JS_NewObjectWithGivenProto(cx, nullptr, nullptr));
    if (!namespaces) return false;
    r->namespaces = namespaces;
    if (!define_ops_object(cx, global)) return false;
    JS_FireOnNewGlobalObject(cx, global);
    return true;
}

// Dynamic import(): resolves like a static import (the compiler recorded literal dynamic
// imports too), then links and evaluates the module and settles the import's promise.
bool module_dynamic_import_hook(JSContext *cx, JS::HandleValue referencing,
                                JS::HandleObject request, JS::HandleObject promise) {
    JS::RootedObject mod(cx, module_resolve_hook(cx, referencing, request));
    JS::RootedValue rval(cx);
    bool ok = mod && JS::ModuleInstantiate(cx, mod) && JS::ModuleEvaluate(cx, mod, &rval);
    JS::RootedObject evaluation(cx);
    if (ok && rval.isObject()) {
        evaluation = &rval.toObject();
    } else {
        // Failed before evaluation could start: settle with a rejected promise.
        JS::RootedValue exc(cx);
        if (!JS_GetPendingException(cx, &exc)) return false;
        JS_ClearPendingException(cx);
        evaluation = JS::CallOriginalPromiseReject(cx, exc);
        if (!evaluation) return false;
    }
    return JS::FinishDynamicModuleImport(cx, evaluation, referencing, request, promise);
}

// Finds the module object for `specifier` imported by the module whose private value is
// `referencing`, using the dependency table the compiler recorded.
JSObject *module_resolve_hook(JSContext *cx, JS::HandleValue referencing,
                              JS::HandleObject request) {
    js_realm *r = realm_of_global(JS::CurrentGlobalOrNull(cx));
    if (!r || !referencing.isInt32()) {
        JS_ReportErrorASCII(cx, "module resolution outside a Worker realm");
        return nullptr;
    }
    JS::RootedString spec_str(cx, JS::GetModuleRequestSpecifier(cx, request));
    JS::UniqueChars spec = spec_str ? JS_EncodeStringToUTF8(cx, spec_str) : nullptr;
    if (!spec) return nullptr;
    size_t n = r->program->is_runtime ? 0 : r->program->modules.size();
    size_t from = static_cast<size_t>(referencing.toInt32());
    const js_module_record &m =
        from < n ? r->program->modules[from] : g_runtime_program->modules[from - n];
    for (const auto &dep : m.deps) {
        if (dep.first != spec.get()) continue;
        size_t index;
        if (from >= n) // runtime modules only refer to runtime modules
            index = n + static_cast<size_t>(dep.second);
        else
            index = dep.second >= 0 ? static_cast<size_t>(dep.second)
                                    : n + static_cast<size_t>(-dep.second - 1);
        return realm_module(cx, r, index);
    }
    JS_ReportErrorUTF8(cx, "Cannot find module \"%s\" imported from %s", spec.get(),
                       m.name.c_str());
    return nullptr;
}

static bool get_module(JSContext *cx, js_realm *r, size_t index, JS::MutableHandleObject out) {
    out.set(realm_module(cx, r, index));
    return out != nullptr;
}

// The namespace of runtime module `file` ("streams.js"), linking and evaluating it on first
// use when `load` is set; null (no exception) when it is not loaded and `load` is not set.
JSObject *load_runtime_module(JSContext *cx, js_realm *r, const char *file, bool load) {
    JS::RootedValue cached(cx);
    if (!JS_GetProperty(cx, r->namespaces, file, &cached)) return nullptr;
    if (cached.isObject()) return &cached.toObject();
    if (!load) return nullptr;
    int k = runtime_module_index(file);
    if (k < 0) {
        JS_ReportErrorASCII(cx, "no runtime module %s", file);
        return nullptr;
    }
    size_t n = r->program->is_runtime ? 0 : r->program->modules.size();
    JS::RootedObject mod(cx, realm_module(cx, r, n + static_cast<size_t>(k)));
    JS::RootedValue rval(cx);
    if (!mod || !JS::ModuleInstantiate(cx, mod) || !JS::ModuleEvaluate(cx, mod, &rval))
        return nullptr;
    // Runtime modules never await at top level, so their evaluation has settled already.
    if (rval.isObject()) {
        JS::RootedObject promise(cx, &rval.toObject());
        if (JS::IsPromiseObject(promise) &&
            JS::GetPromiseState(promise) == JS::PromiseState::Rejected) {
            JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
            (void)JS::SetAnyPromiseIsHandled(cx, promise);
            JS_SetPendingException(cx, reason);
            return nullptr;
        }
    }
    JS::RootedObject ns(cx, JS::GetModuleNamespace(cx, mod));
    if (!ns) return nullptr;
    JS::RootedValue v(cx, JS::ObjectValue(*ns));
    if (!JS_SetProperty(cx, r->namespaces, file, v)) return nullptr;
    return ns;
}

// The runtime's lazy globals first (one of them, WebAssembly, wraps a standard class), then
// the engine's lazily created standard classes.
static bool global_resolve(JSContext *cx, JS::HandleObject obj, JS::HandleId id, bool *resolvedp) {
    *resolvedp = false;
    js_realm *r = realm_of_global(obj);
    JS::RootedValue entry(cx);
    if (r && r->lazy_globals && id.isString() &&
        !JS_GetPropertyById(cx, r->lazy_globals, id, &entry))
        return false;
    if (!entry.isObject()) return JS_ResolveStandardClass(cx, obj, id, resolvedp);
    // Resolved once: afterwards the global is an ordinary property (which code may delete).
    JS::ObjectOpResult ignored;
    if (!JS_DeletePropertyById(cx, r->lazy_globals, id, ignored)) return false;
    JS::RootedObject pair(cx, &entry.toObject());
    JS::RootedValue file(cx), name(cx);
    if (!JS_GetElement(cx, pair, 0, &file) || !JS_GetElement(cx, pair, 1, &name) ||
        !file.isString() || !name.isString())
        return true;
    JS::UniqueChars file_chars = JS_EncodeStringToUTF8(cx, JS::RootedString(cx, file.toString()));
    if (!file_chars) return false;
    JS::RootedObject ns(cx, load_runtime_module(cx, r, file_chars.get(), true));
    if (!ns) return false;
    JS::RootedId export_id(cx);
    JS::RootedValue value(cx);
    if (!JS_StringToId(cx, JS::RootedString(cx, name.toString()), &export_id) ||
        !JS_GetPropertyById(cx, ns, export_id, &value))
        return false;
    // As WebIDL interfaces: writable, configurable, not enumerable.
    if (!JS_DefinePropertyById(cx, obj, id, value, 0)) return false;
    *resolvedp = true;
    return true;
}

static bool global_new_enumerate(JSContext *cx, JS::HandleObject obj,
                                 JS::MutableHandleIdVector properties, bool enumerableOnly) {
    if (!JS_NewEnumerateStandardClasses(cx, obj, properties, enumerableOnly)) return false;
    js_realm *r = realm_of_global(obj);
    if (enumerableOnly || !r || !r->lazy_globals) return true;
    // Lazy globals are not enumerable, but getOwnPropertyNames lists them.
    JS::RootedIdVector ids(cx);
    if (!js::GetPropertyKeys(cx, r->lazy_globals, JSITER_OWNONLY, &ids)) return false;
    return properties.appendAll(ids);
}

// Links and evaluates a module, running jobs until its evaluation promise settles.
static bool evaluate_module(js_realm *r, JS::HandleObject mod, js_error *err) {
    js_shard *s = r->shard;
    JSContext *cx = s->cx;
    JS::RootedValue rval(cx);
    if (!JS::ModuleInstantiate(cx, mod) || !JS::ModuleEvaluate(cx, mod, &rval)) {
        if (err) error_from_pending(cx, err);
        return false;
    }
    shard_run_jobs(s);
    if (s->terminated_reason || r->broken) {
        if (err) {
            js_error_clear(err);
            err->name = dup_cstr("Error");
            err->message = dup_cstr("Worker startup was terminated: exceeded its CPU time limit");
        }
        return false;
    }
    if (!rval.isObject() || !JS::IsPromiseObject(JS::RootedObject(cx, &rval.toObject())))
        return true;
    JS::RootedObject promise(cx, &rval.toObject());
    switch (JS::GetPromiseState(promise)) {
    case JS::PromiseState::Fulfilled:
        return true;
    case JS::PromiseState::Rejected: {
        JS::RootedValue reason(cx, JS::GetPromiseResult(promise));
        if (err) error_from_value(cx, reason, nullptr, err);
        // The rejection is reported here; keep it out of the unhandled-rejection list.
        (void)JS::SetAnyPromiseIsHandled(cx, promise);
        return false;
    }
    case JS::PromiseState::Pending:
        if (err) {
            err->name = dup_cstr("Error");
            err->message = dup_cstr(
                "top-level await in the Worker's modules never settled (I/O is not allowed in "
                "global scope: do it inside a handler)");
        }
        return false;
    }
    return false;
}

static bool get_function_export(JSContext *cx, JS::HandleObject ns, const char *name,
                                JS::MutableHandleObject out) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, ns, name, &v)) return false;
    if (!v.isObject() || !JS::IsCallable(&v.toObject())) {
        JS_ReportErrorASCII(cx, "runtime module does not export %s()", name);
        return false;
    }
    out.set(&v.toObject());
    return true;
}

extern "C" js_realm *js_realm_new(js_shard *s, js_program *p, const js_realm_config *cfg,
                                  js_error *err) {
    memset(err, 0, sizeof *err);
    JSContext *cx = s->cx;
    js_realm *r = new js_realm(cx);
    r->shard = s;
    r->program = js_program_ref(p);
    r->host = cfg->host;
    r->broken = false;
    r->sp = nullptr;
    s->realms.push_back(r);

    uint64_t saved_async = s->async_id;
    s->async_id = 0;
    s->terminated_reason = nullptr;
    bool ok = realm_create_global(s, r) && realm_prepare_modules(cx, r);
    if (!ok) {
        error_from_pending(cx, err);
        s->async_id = saved_async;
        js_realm_free(r);
        return nullptr;
    }
    {
        JSAutoRealm ar(cx, r->global);
        js_realm *prev = s->running;
        s->running = r;
        size_t n = p->modules.size();
        JS::RootedObject runtime_main(cx), user_main(cx), runtime_ns(cx), user_ns(cx), init(cx),
            dispatcher(cx);
        ok = get_module(cx, r, n, &runtime_main);
        if (!ok) error_from_pending(cx, err);
        // The runtime first: it installs the Web APIs the Worker's top-level code may use.
        ok = ok && evaluate_module(r, runtime_main, err);
        if (ok) {
            runtime_ns = JS::GetModuleNamespace(cx, runtime_main);
            ok = runtime_ns && get_function_export(cx, runtime_ns, "init", &init) &&
                 get_function_export(cx, runtime_ns, "dispatch", &dispatcher);
            if (!ok) error_from_pending(cx, err);
        }
        ok = ok && get_module(cx, r, 0, &user_main);
        ok = ok && evaluate_module(r, user_main, err);
        if (ok) {
            user_ns = JS::GetModuleNamespace(cx, user_main);
            JS::RootedValueArray<3> argv(cx);
            argv[0].setObjectOrNull(user_ns);
            JS::RootedString bindings(
                cx, JS_NewStringCopyUTF8Z(
                        cx, JS::ConstUTF8CharsZ(
                                cfg->bindings_json ? cfg->bindings_json : "[]",
                                strlen(cfg->bindings_json ? cfg->bindings_json : "[]"))));
            JS::RootedString worker(
                cx,
                JS_NewStringCopyUTF8Z(
                    cx, JS::ConstUTF8CharsZ(cfg->worker_json ? cfg->worker_json : "{}",
                                            strlen(cfg->worker_json ? cfg->worker_json : "{}"))));
            ok = bindings && worker;
            if (ok) {
                argv[1].setString(bindings);
                argv[2].setString(worker);
                JS::RootedValue rval(cx);
                ok = JS::Call(cx, JS::UndefinedHandleValue, init, argv, &rval);
            }
            if (!ok) error_from_pending(cx, err);
            shard_run_jobs(s);
        }
        if (ok) r->dispatcher = dispatcher;
        s->running = prev;
    }
    shard_report_rejections(s);
    s->async_id = saved_async;
    s->terminated_reason = nullptr;
    if (!ok) {
        js_realm_free(r);
        return nullptr;
    }
    return r;
}

extern "C" void js_realm_free(js_realm *r) {
    if (!r) return;
    js_shard *s = r->shard;
    if (r->global) JS::SetReservedSlot(r->global, kRealmSlot, JS::UndefinedValue());
    for (size_t i = 0; i < s->realms.size(); i++) {
        if (s->realms[i] == r) {
            s->realms.erase(s->realms.begin() + i);
            break;
        }
    }
    if (s->running == r) s->running = nullptr;
    if (r->sp) shard_program_release(s, r->sp);
    js_program_unref(r->program);
    delete r;
}

extern "C" void *js_realm_host(js_realm *r) {
    return r->host;
}
extern "C" js_program *js_realm_program(js_realm *r) {
    return r->program;
}
extern "C" bool js_realm_is_broken(const js_realm *r) {
    return r->broken;
}

// GC heap plus the malloc'd memory the engine attributes to the realm's zone (array elements,
// strings, buffer contents): what a Worker's memory limit counts.
extern "C" uint64_t js_realm_heap_bytes(js_realm *r) {
    JSContext *cx = r->shard->cx;
    JSAutoRealm ar(cx, r->global);
    JS::RootedObject info(cx, js::gc::NewMemoryInfoObject(cx));
    JS::RootedValue zone(cx), gc(cx), malloc_bytes(cx);
    if (!info || !JS_GetProperty(cx, info, "zone", &zone) || !zone.isObject()) {
        JS_ClearPendingException(cx);
        return js::GetGCHeapUsageForObjectZone(r->global);
    }
    JS::RootedObject z(cx, &zone.toObject());
    if (!JS_GetProperty(cx, z, "gcBytes", &gc) ||
        !JS_GetProperty(cx, z, "mallocBytes", &malloc_bytes)) {
        JS_ClearPendingException(cx);
        return js::GetGCHeapUsageForObjectZone(r->global);
    }
    double total = (gc.isNumber() ? gc.toNumber() : 0) +
                   (malloc_bytes.isNumber() ? malloc_bytes.toNumber() : 0);
    return static_cast<uint64_t>(total);
}

extern "C" void js_shard_collect_soon(js_shard *s) {
    s->collect_pending = true;
    JS_RequestInterruptCallback(s->cx);
}

// Over the limit even after collecting this realm's zone (most of what it allocated may be
// garbage already)?
bool realm_over_memory_limit(js_shard *s, js_realm *r) {
    size_t limit = s->opts.realm_heap_limit;
    if (!limit || js_realm_heap_bytes(r) <= limit) return false;
    JS::PrepareZoneForGC(s->cx, js::GetObjectZoneFromAnyThread(r->global));
    bool pending = s->memory_check_pending;
    JS::NonIncrementalGC(s->cx, JS::GCOptions::Normal, JS::GCReason::API);
    s->memory_check_pending = pending; // our own collection is not news
    return js_realm_heap_bytes(r) > limit;
}

static bool is_out_of_memory(JSContext *cx) {
    if (!JS_IsExceptionPending(cx)) return true; // uncatchable: OOM or termination
    JS::RootedValue exc(cx);
    if (!JS_GetPendingException(cx, &exc) || !exc.isString()) return false;
    bool match = false;
    return JS_StringEqualsAscii(cx, exc.toString(), "out of memory", &match) && match;
}

extern "C" js_result js_realm_dispatch(js_realm *r, uint64_t async_id, const char *kind,
                                       const js_args *args, js_error *err, const char **reason) {
    js_shard *s = r->shard;
    JSContext *cx = s->cx;
    if (reason) *reason = nullptr;
    if (err) memset(err, 0, sizeof *err);
    if (r->broken) {
        if (reason) *reason = "realmBroken";
        return JS_RESULT_TERMINATED;
    }
    s->interrupt_reason = nullptr;
    s->terminated_reason = nullptr;
    js_result result = JS_RESULT_OK;
    uint64_t saved_async = s->async_id;
    js_realm *prev = s->running;
    {
        JSAutoRealm ar(cx, r->global);
        JS::RootedValueVector argv(cx);
        JS::RootedString kind_str(cx, JS_NewStringCopyZ(cx, kind));
        bool ok = kind_str && argv.append(JS::StringValue(kind_str)) &&
                  (!args || args_to_values(cx, args, &argv));
        s->async_id = async_id;
        s->running = r;
        JS::RootedValue rval(cx);
        JS::RootedObject fn(cx, r->dispatcher);
        ok = ok && JS::Call(cx, JS::UndefinedHandleValue, fn, JS::HandleValueArray(argv), &rval);
        if (!ok) {
            if (s->terminated_reason) {
                JS_ClearPendingException(cx);
                realm_mark_broken(r, s->terminated_reason);
                result = JS_RESULT_TERMINATED;
                if (reason) *reason = s->terminated_reason;
            } else if (is_out_of_memory(cx)) {
                JS_ClearPendingException(cx);
                realm_mark_broken(r, "exceededMemory");
                result = JS_RESULT_TERMINATED;
                if (reason) *reason = "exceededMemory";
            } else {
                result = JS_RESULT_EXCEPTION;
                if (err)
                    error_from_pending(cx, err);
                else
                    JS_ClearPendingException(cx);
            }
        }
    }
    shard_run_jobs(s);
    shard_report_rejections(s);
    if (result == JS_RESULT_OK && r->broken) {
        result = JS_RESULT_TERMINATED;
        if (reason) *reason = s->terminated_reason ? s->terminated_reason : "exceededCpu";
    }
    // A collection happened while no interrupt point was reached: check now.
    if (!r->broken && s->memory_check_pending) {
        s->memory_check_pending = false;
        if (realm_over_memory_limit(s, r)) {
            realm_mark_broken(r, "exceededMemory");
            if (result == JS_RESULT_OK) {
                result = JS_RESULT_TERMINATED;
                if (reason) *reason = "exceededMemory";
            }
        }
    }
    s->async_id = saved_async;
    s->running = prev;
    s->terminated_reason = nullptr;
    return result;
}
