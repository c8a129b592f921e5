// clone.cpp — the engine's structured clone, as the runtime uses it: the global
// structuredClone() (same realm) and serialize/deserialize (bytes in the engine's portable
// format, which carry RPC arguments and results between two realms of a service binding).
//
// SpiderMonkey 102 clones what the HTML Standard lists except Error objects; those are written
// through the clone callbacks under a tag of our own. The callbacks also word the errors for
// values that cannot be cloned, so that the message names the problem.
#include <js/ArrayBuffer.h>
#include <js/Conversions.h>
#include <js/Object.h>
#include <jsapi.h>
#include <jsfriendapi.h>
#include <js/StructuredClone.h>

#include <stdio.h>
#include <string.h>

#include "js/internal.h"

static const uint32_t kTagError = JS_SCTAG_USER_MIN + 1;
static const char *const kErrorNames[] = {
    "Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"};

// The closure the clone callbacks get: how a read treats an error whose name is not one of
// the standard ones. structuredClone() follows the HTML Standard (it becomes "Error"); RPC
// keeps the name, so that a thrown CustomError reaches the caller as one.
struct clone_mode {
    bool keep_error_names;
};
static clone_mode kStandard = {false};
static clone_mode kRpc = {true};

static bool write_string_prop(JSContext *cx, JSStructuredCloneWriter *w, JS::HandleObject obj,
                              const char *name) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, obj, name, &v)) return false;
    JS::RootedString s(cx, v.isUndefined() ? JS_GetEmptyString(cx) : JS::ToString(cx, v));
    return s && JS_WriteString(w, s);
}

// Called for every object the engine does not clone itself: Errors are written, anything else
// is refused with a message that says what it was.
static bool clone_write(JSContext *cx, JSStructuredCloneWriter *w, JS::HandleObject obj,
                        bool *same_process, void *closure) {
    (void)same_process, (void)closure;
    js::ESClass cls;
    if (!JS::GetBuiltinClass(cx, obj, &cls)) return false;
    if (cls == js::ESClass::Error) {
        return JS_WriteUint32Pair(w, kTagError, 0) && write_string_prop(cx, w, obj, "name") &&
               write_string_prop(cx, w, obj, "message") && write_string_prop(cx, w, obj, "stack");
    }
    if (JS::IsCallable(obj)) {
        JS_ReportErrorASCII(cx, "A function could not be cloned: functions cannot be serialized.");
        return false;
    }
    const char *cls_name = JS::GetClass(obj)->name;
    char msg[160];
    snprintf(msg, sizeof msg, "An object of type %s could not be cloned.",
             cls_name ? cls_name : "(unknown)");
    JS_ReportErrorASCII(cx, "%s", msg);
    return false;
}

// The engine's own refusals (symbols, detached buffers, ...): its message, with the common
// case spelled out.
static void clone_report_error(JSContext *cx, uint32_t errorid, void *closure,
                               const char *message) {
    (void)closure;
    if (errorid == JS_SCERR_UNSUPPORTED_TYPE)
        JS_ReportErrorASCII(cx, "A symbol could not be cloned: symbols cannot be serialized.");
    else
        JS_ReportErrorASCII(cx, "%s",
                            message && *message ? message : "The value could not be cloned.");
}

static JSObject *clone_read(JSContext *cx, JSStructuredCloneReader *r,
                            const JS::CloneDataPolicy &policy, uint32_t tag, uint32_t data,
                            void *closure) {
    (void)policy, (void)data;
    const clone_mode *mode = closure ? static_cast<const clone_mode *>(closure) : &kStandard;
    if (tag != kTagError) {
        JS_ReportErrorASCII(cx, "unknown structured clone tag");
        return nullptr;
    }
    JS::RootedString name(cx), message(cx), stack(cx);
    if (!JS_ReadString(r, &name) || !JS_ReadString(r, &message) || !JS_ReadString(r, &stack))
        return nullptr;
    // Only the standard error types survive as classes; anything else becomes a plain Error.
    const char *ctor_name = nullptr;
    for (const char *known : kErrorNames) {
        bool match = false;
        if (!JS_StringEqualsAscii(cx, name, known, &match)) return nullptr;
        if (match) ctor_name = known;
    }
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    JS::RootedValue ctor(cx), msg(cx, JS::StringValue(message)), sv(cx, JS::StringValue(stack));
    JS::RootedObject err(cx);
    if (!JS_GetProperty(cx, global, ctor_name ? ctor_name : "Error", &ctor) ||
        !JS::Construct(cx, ctor, JS::HandleValueArray(msg), &err) ||
        !JS_DefineProperty(cx, err, "stack", sv, JSPROP_RESOLVING))
        return nullptr;
    if (!ctor_name && mode->keep_error_names) {
        JS::RootedValue nv(cx, JS::StringValue(name));
        if (!JS_DefineProperty(cx, err, "name", nv, JSPROP_RESOLVING)) return nullptr;
    }
    return err;
}

static const JSStructuredCloneCallbacks kCloneCallbacks = {
    clone_read, clone_write, clone_report_error, nullptr, nullptr, nullptr, nullptr, nullptr,
};

// structuredClone(value, transferList) — same-thread clone through the engine's serializer.
static bool native_structured_clone(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JS::RootedValue value(cx, args.get(0));
    JS::RootedValue transfer(cx, args.get(1));
    JSAutoStructuredCloneBuffer buf(JS::StructuredCloneScope::SameProcess, &kCloneCallbacks,
                                    &kStandard);
    JS::CloneDataPolicy policy;
    if (!buf.write(cx, value, transfer, policy)) return false;
    return buf.read(cx, args.rval());
}

// serialize(value) → ArrayBuffer in the engine's portable format (DifferentProcess scope: no
// pointers into this realm, so another realm can read it); deserialize(buffer) reverses it in
// the realm that calls it. Errors keep custom names (see clone_mode).
static bool native_serialize(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JS::RootedValue value(cx, args.get(0));
    JSAutoStructuredCloneBuffer buf(JS::StructuredCloneScope::DifferentProcess, &kCloneCallbacks,
                                    &kRpc);
    JS::CloneDataPolicy policy;
    if (!buf.write(cx, value, JS::UndefinedHandleValue, policy)) return false;
    const JSStructuredCloneData &data = buf.data();
    size_t n = data.Size();
    JS::RootedObject ab(cx, JS::NewArrayBuffer(cx, n));
    if (!ab) return false;
    {
        JS::AutoCheckCannotGC nogc;
        bool shared;
        uint8_t *out = JS::GetArrayBufferData(ab, &shared, nogc);
        size_t off = 0;
        data.ForEachDataChunk([&](const char *chunk, size_t len) {
            memcpy(out + off, chunk, len);
            off += len;
            return true;
        });
    }
    args.rval().setObject(*ab);
    return true;
}

static bool native_deserialize(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    if (!args.get(0).isObject() || !JS::IsArrayBufferObject(&args[0].toObject())) {
        JS_ReportErrorASCII(cx, "deserialize: expected an ArrayBuffer");
        return false;
    }
    JS::RootedObject ab(cx, &args[0].toObject());
    // The engine's reader works on 8-byte words; anything else is not its format.
    size_t n = JS::GetArrayBufferByteLength(ab);
    if (n == 0 || n % 8 != 0) {
        JS_ReportErrorASCII(cx, "deserialize: not structured clone data");
        return false;
    }
    JSStructuredCloneData data(JS::StructuredCloneScope::DifferentProcess);
    bool appended;
    {
        JS::AutoCheckCannotGC nogc;
        bool shared;
        uint8_t *p = JS::GetArrayBufferData(ab, &shared, nogc);
        appended = data.AppendBytes(reinterpret_cast<const char *>(p), n);
    }
    if (!appended) {
        JS_ReportOutOfMemory(cx);
        return false;
    }
    JS::CloneDataPolicy policy;
    return JS_ReadStructuredClone(cx, data, JS_STRUCTURED_CLONE_VERSION,
                                  JS::StructuredCloneScope::DifferentProcess, args.rval(), policy,
                                  &kCloneCallbacks, &kRpc);
}

static const JSFunctionSpec kCloneOps[] = {
    JS_FN("structuredClone", native_structured_clone, 2, 0),
    JS_FN("serialize", native_serialize, 1, 0),
    JS_FN("deserialize", native_deserialize, 1, 0),
    JS_FS_END,
};

bool define_clone_ops(JSContext *cx, JS::HandleObject ops) {
    return JS_DefineFunctions(cx, ops, kCloneOps);
}
