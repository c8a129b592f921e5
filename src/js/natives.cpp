// natives.cpp — ops that need the engine itself rather than C: they work on arbitrary
// JavaScript values (promise state; structured clone is in clone.cpp) or on the realm's compiled
// program (module data). Everything that can be written over primitives lives in C instead.
#include <js/ArrayBuffer.h>
#include <js/Conversions.h>
#include <js/Object.h>
#include <js/Proxy.h>
#include <jsfriendapi.h>
#include <js/StructuredClone.h>

#include <string.h>

#include "js/internal.h"

// moduleData(index) → [kind, payload] for the wrapper of a text/data/json/wasm module:
// payload is a string for text and json, an ArrayBuffer for data and wasm.
static bool native_module_data(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    js_realm *r = realm_of_global(JS::CurrentGlobalOrNull(cx));
    if (!r || args.length() < 1 || !args[0].isInt32() || args[0].toInt32() < 0 ||
        static_cast<size_t>(args[0].toInt32()) >= r->program->modules.size()) {
        JS_ReportErrorASCII(cx, "moduleData: no such module");
        return false;
    }
    const js_module_record &m = r->program->modules[static_cast<size_t>(args[0].toInt32())];
    JS::RootedObject arr(cx, JS::NewArrayObject(cx, 2));
    if (!arr) return false;
    static const char *kinds[] = {"esm", "text", "data", "json", "wasm"};
    JS::RootedValue v(cx);
    JSString *kind = JS_NewStringCopyZ(cx, kinds[m.kind]);
    if (!kind) return false;
    v.setString(kind);
    if (!JS_SetElement(cx, arr, 0, v)) return false;
    if (m.kind == JS_MODULE_TEXT || m.kind == JS_MODULE_JSON) {
        JSString *s = JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(m.data.data(), m.data.size()));
        if (!s) return false;
        v.setString(s);
    } else {
        JS::RootedObject ab(cx, JS::NewArrayBuffer(cx, m.data.size()));
        if (!ab) return false;
        {
            JS::AutoCheckCannotGC nogc;
            bool shared;
            uint8_t *data = JS::GetArrayBufferData(ab, &shared, nogc);
            if (!m.data.empty()) memcpy(data, m.data.data(), m.data.size());
        }
        v.setObject(*ab);
    }
    if (!JS_SetElement(cx, arr, 1, v)) return false;
    args.rval().setObject(*arr);
    return true;
}

// transferArrayBuffer(ab) → a new ArrayBuffer owning ab's bytes; ab is detached (the spec's
// TransferArrayBuffer, which SpiderMonkey 102 does not expose to scripts).
static bool native_transfer_array_buffer(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    if (!args.get(0).isObject() || !JS::IsArrayBufferObject(&args[0].toObject())) {
        JS_ReportErrorASCII(cx, "transferArrayBuffer: expected an ArrayBuffer");
        return false;
    }
    JS::RootedObject ab(cx, &args[0].toObject());
    if (JS::IsDetachedArrayBufferObject(ab)) {
        JS_ReportErrorASCII(cx, "Cannot transfer a detached ArrayBuffer");
        return false;
    }
    size_t len = JS::GetArrayBufferByteLength(ab);
    void *contents = JS::StealArrayBufferContents(cx, ab);
    if (!contents) return false;
    JSObject *out = JS::NewArrayBufferWithContents(cx, len, contents);
    if (!out) {
        js_free(contents);
        return false;
    }
    args.rval().setObject(*out);
    return true;
}

// promiseState(p) → [state, value] for console formatting: "pending", "fulfilled", "rejected".
static bool native_promise_state(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    if (!args.get(0).isObject()) {
        args.rval().setNull();
        return true;
    }
    JS::RootedObject p(cx, &args[0].toObject());
    if (!JS::IsPromiseObject(p)) {
        args.rval().setNull();
        return true;
    }
    JS::PromiseState st = JS::GetPromiseState(p);
    const char *name = st == JS::PromiseState::Pending     ? "pending"
                       : st == JS::PromiseState::Fulfilled ? "fulfilled"
                                                           : "rejected";
    JS::RootedObject arr(cx, JS::NewArrayObject(cx, 2));
    JSString *s = arr ? JS_NewStringCopyZ(cx, name) : nullptr;
    if (!s) return false;
    JS::RootedValue v(cx, JS::StringValue(s));
    if (!JS_SetElement(cx, arr, 0, v)) return false;
    v = st == JS::PromiseState::Pending ? JS::UndefinedValue() : JS::GetPromiseResult(p);
    if (!JS_SetElement(cx, arr, 1, v)) return false;
    args.rval().setObject(*arr);
    return true;
}

// proxyParts(v) → [target, handler] for a scripted Proxy (target null once revoked), else
// null — console shows proxies without running their traps.
static bool native_proxy_parts(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    if (!args.get(0).isObject() || !js::IsScriptedProxy(&args[0].toObject())) {
        args.rval().setNull();
        return true;
    }
    JSObject *proxy = &args[0].toObject();
    JS::RootedObject arr(cx, JS::NewArrayObject(cx, 2));
    if (!arr) return false;
    JSObject *target = js::GetProxyTargetObject(proxy);
    JS::RootedValue v(cx, target ? JS::ObjectValue(*target) : JS::NullValue());
    if (!JS_SetElement(cx, arr, 0, v)) return false;
    // A scripted proxy keeps its handler object in its first reserved slot.
    v = js::GetProxyReservedSlot(proxy, 0);
    if (!JS_SetElement(cx, arr, 1, v)) return false;
    args.rval().setObject(*arr);
    return true;
}

// nonIndexKeys(obj, includeNonEnumerable) → own keys that are not array indices (strings,
// then symbols), without materialising an id for every element of a large array.
static bool native_non_index_keys(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    if (!args.get(0).isObject()) {
        JS_ReportErrorASCII(cx, "nonIndexKeys: expected an object");
        return false;
    }
    JS::RootedObject obj(cx, &args[0].toObject());
    unsigned flags =
        JSITER_OWNONLY | JSITER_SYMBOLS | (JS::ToBoolean(args.get(1)) ? JSITER_HIDDEN : 0);
    JS::RootedIdVector ids(cx);
    if (!js::GetPropertyKeys(cx, obj, flags, &ids)) return false;
    JS::RootedValueVector strings(cx), symbols(cx);
    JS::RootedValue v(cx);
    for (size_t i = 0; i < ids.length(); i++) {
        JS::HandleId id = ids[i];
        if (id.isInt()) continue;
        if (id.isSymbol()) {
            if (!symbols.append(JS::SymbolValue(id.toSymbol()))) return false;
        } else if (id.isString()) {
            if (!strings.append(JS::StringValue(id.toString()))) return false;
        }
    }
    JS::RootedObject out(cx, JS::NewArrayObject(cx, strings.length() + symbols.length()));
    if (!out) return false;
    uint32_t k = 0;
    for (size_t i = 0; i < strings.length(); i++)
        if (!JS_SetElement(cx, out, k++, strings[i])) return false;
    for (size_t i = 0; i < symbols.length(); i++)
        if (!JS_SetElement(cx, out, k++, symbols[i])) return false;
    args.rval().setObject(*out);
    return true;
}

// loadModule(file) → the namespace of runtime module `file`, evaluated on first use;
// loadedModule(file) → the namespace if it was loaded already, else null.
static bool load_module_common(JSContext *cx, unsigned argc, JS::Value *vp, bool load) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    js_realm *r = realm_of_global(JS::CurrentGlobalOrNull(cx));
    if (!r || !args.get(0).isString()) {
        JS_ReportErrorASCII(cx, "loadModule: expected a runtime file name");
        return false;
    }
    JS::UniqueChars file = JS_EncodeStringToUTF8(cx, JS::RootedString(cx, args[0].toString()));
    if (!file) return false;
    JSObject *ns = load_runtime_module(cx, r, file.get(), load);
    if (!ns) {
        if (JS_IsExceptionPending(cx) || load) return false;
        args.rval().setNull();
        return true;
    }
    args.rval().setObject(*ns);
    return true;
}

static bool native_load_module(JSContext *cx, unsigned argc, JS::Value *vp) {
    return load_module_common(cx, argc, vp, true);
}

static bool native_loaded_module(JSContext *cx, unsigned argc, JS::Value *vp) {
    return load_module_common(cx, argc, vp, false);
}

// defineLazyGlobals({ name: [file, exportName], ... }) — globals created from a runtime
// module's export the first time code touches them (see global_resolve in realm.cpp).
static bool native_define_lazy_globals(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    js_realm *r = realm_of_global(JS::CurrentGlobalOrNull(cx));
    if (!r || !args.get(0).isObject()) {
        JS_ReportErrorASCII(cx, "defineLazyGlobals: expected a table");
        return false;
    }
    r->lazy_globals = &args[0].toObject();
    args.rval().setUndefined();
    return true;
}

// withAsyncContext(id, fn) — runs fn in async context `id`: promise reactions it queues belong
// to that invocation. For continuations of engine-internal background work (WebAssembly
// compilation), which arrive outside any invocation.
static bool native_with_async_context(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    js_shard *s = static_cast<js_shard *>(JS_GetContextPrivate(cx));
    if (!args.get(0).isNumber() || !args.get(1).isObject()) {
        JS_ReportErrorASCII(cx, "withAsyncContext: expected (id, fn)");
        return false;
    }
    uint64_t saved = s->async_id;
    s->async_id = static_cast<uint64_t>(args[0].toNumber());
    JS::RootedValue fn(cx, args[1]);
    bool ok =
        JS::Call(cx, JS::UndefinedHandleValue, fn, JS::HandleValueArray::empty(), args.rval());
    s->async_id = saved;
    return ok;
}

// engineWebAssembly() — the engine's own WebAssembly namespace (the runtime wraps it).
static bool native_engine_webassembly(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    JS::RootedId id(cx);
    bool resolved = false;
    if (!JS_StringToId(cx, JS::RootedString(cx, JS_AtomizeString(cx, "WebAssembly")), &id) ||
        !JS_ResolveStandardClass(cx, global, id, &resolved) ||
        !JS_GetPropertyById(cx, global, id, args.rval()))
        return false;
    return true;
}

static const JSFunctionSpec kNativeOps[] = {
    JS_FN("withAsyncContext", native_with_async_context, 2, 0),
    JS_FN("engineWebAssembly", native_engine_webassembly, 0, 0),
    JS_FN("loadModule", native_load_module, 1, 0),
    JS_FN("loadedModule", native_loaded_module, 1, 0),
    JS_FN("defineLazyGlobals", native_define_lazy_globals, 1, 0),
    JS_FN("moduleData", native_module_data, 1, 0),
    JS_FN("promiseState", native_promise_state, 1, 0),
    JS_FN("transferArrayBuffer", native_transfer_array_buffer, 1, 0),
    JS_FN("proxyParts", native_proxy_parts, 1, 0),
    JS_FN("nonIndexKeys", native_non_index_keys, 2, 0),
    JS_FS_END,
};

bool define_native_ops(JSContext *cx, JS::HandleObject ops) {
    return JS_DefineFunctions(cx, ops, kNativeOps) && define_clone_ops(cx, ops);
}
