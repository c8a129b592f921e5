// ops.cpp — the bridge that lets the runtime's JavaScript call C ("ops"), and C pass
// primitive arguments into JavaScript.
//
// An op is a C function that reads its arguments through js_arg_* and stages its result with
// js_ret_*; the trampoline creates the JavaScript result only after the C function returned.
// That rule (no engine allocation while C code holds pointers into engine memory) is what makes
// it safe to hand C borrowed views of strings and buffers.
#include <deque>
#include <js/Array.h>
#include <js/ArrayBuffer.h>
#include <js/ArrayBufferMaybeShared.h>
#include <js/SharedArrayBuffer.h>
#include <js/String.h>
#include <js/experimental/TypedData.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memory>

#include "js/internal.h"

static std::vector<js_op> g_ops;

extern "C" void js_ops_register(const js_op *ops, size_t count) {
    for (size_t i = 0; i < count; i++) g_ops.push_back(ops[i]);
}

namespace {

enum class ret_kind {
    undefined,
    null,
    boolean,
    number,
    utf8,
    latin1,
    latin1_ref,
    bytes,
    bytes_taken,
    list
};

struct ret_item {
    ret_kind kind = ret_kind::undefined;
    double num = 0;
    bool b = false;
    std::string str;           // utf8 / latin1 / bytes
    const char *ref = nullptr; // latin1_ref: borrowed bytes
    size_t ref_len = 0;
};

} // namespace

struct js_call {
    JSContext *cx;
    js_shard *s;
    JS::CallArgs *args;
    // Staged result.
    ret_item ret;
    void *taken = nullptr;
    size_t taken_len = 0;
    std::vector<ret_item> list;
    // Staged exception.
    bool throwing = false;
    std::string throw_class, throw_message;
    // Storage for converted arguments, alive until the op returns.
    std::vector<std::unique_ptr<char[]>> strings;
    // A deque: growing it must not move earlier copies (an op may hold pointers to several).
    std::deque<std::string> copies;
};

static void arg_type_error(js_call *c, size_t i, const char *expected) {
    if (c->throwing) return;
    c->throwing = true;
    c->throw_class = "TypeError";
    char buf[128];
    snprintf(buf, sizeof buf, "internal error: op argument %zu must be %s", i, expected);
    c->throw_message = buf;
}

extern "C" js_shard *js_call_shard(js_call *c) {
    return c->s;
}
extern "C" js_realm *js_call_realm(js_call *c) {
    return realm_of_global(JS::CurrentGlobalOrNull(c->cx));
}
extern "C" uint64_t js_call_async_id(js_call *c) {
    return c->s->async_id;
}
extern "C" size_t js_argc(js_call *c) {
    return c->args->length();
}

extern "C" bool js_arg_is_nullish(js_call *c, size_t i) {
    return i >= c->args->length() || (*c->args)[i].isNullOrUndefined();
}

extern "C" bool js_arg_is_string(js_call *c, size_t i) {
    return i < c->args->length() && (*c->args)[i].isString();
}

static JSObject *bytes_object(js_call *c, size_t i) {
    if (i >= c->args->length() || !(*c->args)[i].isObject()) return nullptr;
    JSObject *obj = &(*c->args)[i].toObject();
    if (JS::IsArrayBufferObject(obj) || JS_IsArrayBufferViewObject(obj)) return obj;
    if (JS::IsSharedArrayBufferObject(obj)) return obj;
    return nullptr;
}

extern "C" bool js_arg_is_bytes(js_call *c, size_t i) {
    return bytes_object(c, i) != nullptr;
}

extern "C" double js_arg_number(js_call *c, size_t i) {
    if (i < c->args->length() && (*c->args)[i].isNumber()) return (*c->args)[i].toNumber();
    arg_type_error(c, i, "a number");
    return 0;
}

extern "C" int64_t js_arg_int(js_call *c, size_t i) {
    double d = js_arg_number(c, i);
    if (d != d) return 0;
    if (d >= 9.2e18) return INT64_MAX;
    if (d <= -9.2e18) return INT64_MIN;
    return static_cast<int64_t>(d);
}

extern "C" bool js_arg_bool(js_call *c, size_t i) {
    if (i < c->args->length() && (*c->args)[i].isBoolean()) return (*c->args)[i].toBoolean();
    if (i >= c->args->length() || (*c->args)[i].isUndefined()) return false;
    arg_type_error(c, i, "a boolean");
    return false;
}

static const char *string_to_utf8(js_call *c, JSString *str_ptr, size_t *len) {
    JSContext *cx = c->cx;
    JS::RootedString str(cx, str_ptr);
    JSLinearString *linear = JS_EnsureLinearString(cx, str);
    if (!linear) {
        JS_ClearPendingException(cx);
        arg_type_error(c, 0, "a string the engine can read");
        return "";
    }
    size_t n = JS::GetDeflatedUTF8StringLength(linear);
    std::unique_ptr<char[]> buf(new char[n + 1]);
    // Lone surrogates are written as U+FFFD, as the Encoding Standard's UTF-8 encoder does.
    auto written = JS_EncodeStringToUTF8BufferPartial(cx, str, mozilla::Span<char>(buf.get(), n));
    size_t out = written ? mozilla::Get<1>(*written) : 0;
    buf[out] = '\0';
    if (len) *len = out;
    c->strings.push_back(std::move(buf));
    return c->strings.back().get();
}

extern "C" const char *js_arg_string(js_call *c, size_t i, size_t *len) {
    if (i >= c->args->length() || !(*c->args)[i].isString()) {
        arg_type_error(c, i, "a string");
        if (len) *len = 0;
        return "";
    }
    return string_to_utf8(c, (*c->args)[i].toString(), len);
}

extern "C" const char *js_arg_latin1(js_call *c, size_t i, size_t *len) {
    if (len) *len = 0;
    if (i >= c->args->length() || !(*c->args)[i].isString()) {
        arg_type_error(c, i, "a string");
        return "";
    }
    JSContext *cx = c->cx;
    JS::RootedString str(cx, (*c->args)[i].toString());
    JSLinearString *linear = JS_EnsureLinearString(cx, str);
    if (!linear) {
        JS_ClearPendingException(cx);
        arg_type_error(c, i, "a readable string");
        return "";
    }
    size_t n = JS::GetLinearStringLength(linear);
    std::unique_ptr<char[]> buf(new char[n + 1]);
    for (size_t k = 0; k < n; k++) {
        char16_t ch = JS::GetLinearStringCharAt(linear, k);
        if (ch > 0xFF) {
            c->throwing = true;
            c->throw_class = "TypeError";
            c->throw_message =
                "Cannot convert argument to a ByteString because the character at index " +
                std::to_string(k) + " has a value of " + std::to_string(ch) +
                " which is greater than 255.";
            return nullptr;
        }
        buf[k] = static_cast<char>(ch);
    }
    buf[n] = '\0';
    if (len) *len = n;
    c->strings.push_back(std::move(buf));
    return c->strings.back().get();
}

extern "C" const uint8_t *js_arg_bytes(js_call *c, size_t i, size_t *len) {
    *len = 0;
    JSObject *obj = bytes_object(c, i);
    if (!obj) {
        arg_type_error(c, i, "an ArrayBuffer or view");
        return reinterpret_cast<const uint8_t *>("");
    }
    uint8_t *data = nullptr;
    size_t n = 0;
    bool shared = false;
    if (JS_IsArrayBufferViewObject(obj))
        js::GetArrayBufferViewLengthAndData(obj, &n, &shared, &data);
    else
        JS::GetArrayBufferMaybeSharedLengthAndData(obj, &n, &shared, &data);
    *len = n;
    if (!data) return reinterpret_cast<const uint8_t *>("");
    // Small buffers may live inline in their (movable) object; copy them so the pointer stays
    // valid whatever the op does. Large buffers have stable out-of-line storage.
    if (n <= 256) {
        c->copies.emplace_back(reinterpret_cast<const char *>(data), n);
        return reinterpret_cast<const uint8_t *>(c->copies.back().data());
    }
    return data;
}

static bool is_ascii(const char *s, size_t n);

extern "C" const char *js_arg_string_view(js_call *c, size_t i, size_t *len) {
    if (i < c->args->length() && (*c->args)[i].isString()) {
        JS::RootedString str(c->cx, (*c->args)[i].toString());
        JSLinearString *linear = JS_EnsureLinearString(c->cx, str);
        if (linear && JS::LinearStringHasLatin1Chars(linear)) {
            JS::AutoCheckCannotGC nogc;
            size_t n = JS::GetLinearStringLength(linear);
            const char *chars =
                reinterpret_cast<const char *>(JS::GetLatin1LinearStringChars(nogc, linear));
            // Short strings live inside their (movable) cell: those are copied.
            if (n > 64 && is_ascii(chars, n)) {
                if (len) *len = n;
                return chars;
            }
        }
        JS_ClearPendingException(c->cx);
    }
    return js_arg_string(c, i, len);
}

extern "C" size_t js_arg_array_len(js_call *c, size_t i) {
    if (i >= c->args->length() || !(*c->args)[i].isObject()) {
        arg_type_error(c, i, "an array");
        return 0;
    }
    JS::RootedObject arr(c->cx, &(*c->args)[i].toObject());
    uint32_t n = 0;
    bool is_array = false;
    if (!JS::IsArrayObject(c->cx, arr, &is_array) || !is_array ||
        !JS::GetArrayLength(c->cx, arr, &n)) {
        JS_ClearPendingException(c->cx);
        arg_type_error(c, i, "an array");
        return 0;
    }
    return n;
}

extern "C" const char *js_arg_array_string(js_call *c, size_t i, size_t j, size_t *len) {
    if (len) *len = 0;
    if (i >= c->args->length() || !(*c->args)[i].isObject()) {
        arg_type_error(c, i, "an array");
        return "";
    }
    JS::RootedObject arr(c->cx, &(*c->args)[i].toObject());
    JS::RootedValue v(c->cx);
    if (!JS_GetElement(c->cx, arr, static_cast<uint32_t>(j), &v) || !v.isString()) {
        JS_ClearPendingException(c->cx);
        arg_type_error(c, i, "an array of strings");
        return "";
    }
    return string_to_utf8(c, v.toString(), len);
}

extern "C" void js_ret_undefined(js_call *c) {
    c->ret.kind = ret_kind::undefined;
}
extern "C" void js_ret_null(js_call *c) {
    c->ret.kind = ret_kind::null;
}
extern "C" void js_ret_bool(js_call *c, bool v) {
    c->ret.kind = ret_kind::boolean;
    c->ret.b = v;
}
extern "C" void js_ret_number(js_call *c, double v) {
    c->ret.kind = ret_kind::number;
    c->ret.num = v;
}
extern "C" void js_ret_string(js_call *c, const char *s, size_t len) {
    c->ret.kind = ret_kind::utf8;
    c->ret.str.assign(s, len);
}
extern "C" void js_ret_latin1(js_call *c, const char *s, size_t len) {
    c->ret.kind = ret_kind::latin1;
    c->ret.str.assign(s, len);
}
extern "C" void js_ret_latin1_ref(js_call *c, const char *s, size_t len) {
    c->ret.kind = ret_kind::latin1_ref;
    c->ret.ref = s;
    c->ret.ref_len = len;
}
extern "C" void js_ret_bytes(js_call *c, const void *p, size_t len) {
    c->ret.kind = ret_kind::bytes;
    c->ret.str.assign(static_cast<const char *>(p), len);
}
extern "C" void js_ret_bytes_take(js_call *c, void *p, size_t len) {
    free(c->taken);
    c->ret.kind = ret_kind::bytes_taken;
    c->taken = p;
    c->taken_len = len;
}
extern "C" void js_ret_list(js_call *c) {
    c->ret.kind = ret_kind::list;
    c->list.clear();
}

static void push_item(js_call *c, ret_kind kind, const char *s, size_t len, double num, bool b) {
    ret_item item;
    item.kind = kind;
    if (s) item.str.assign(s, len);
    item.num = num;
    item.b = b;
    c->list.push_back(std::move(item));
}

extern "C" void js_ret_push_string(js_call *c, const char *s, size_t len) {
    push_item(c, ret_kind::utf8, s, len, 0, false);
}
extern "C" void js_ret_push_latin1(js_call *c, const char *s, size_t len) {
    push_item(c, ret_kind::latin1, s, len, 0, false);
}
extern "C" void js_ret_push_latin1_ref(js_call *c, const char *s, size_t len) {
    ret_item item;
    item.kind = ret_kind::latin1_ref;
    item.ref = s;
    item.ref_len = len;
    c->list.push_back(std::move(item));
}
extern "C" void js_ret_push_number(js_call *c, double v) {
    push_item(c, ret_kind::number, nullptr, 0, v, false);
}
extern "C" void js_ret_push_bool(js_call *c, bool v) {
    push_item(c, ret_kind::boolean, nullptr, 0, 0, v);
}
extern "C" void js_ret_push_null(js_call *c) {
    push_item(c, ret_kind::null, nullptr, 0, 0, false);
}
extern "C" void js_ret_push_bytes(js_call *c, const void *p, size_t len) {
    push_item(c, ret_kind::bytes, static_cast<const char *>(p), len, 0, false);
}

extern "C" void js_throw(js_call *c, const char *cls, const char *fmt, ...) {
    if (c->throwing) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->throwing = true;
    c->throw_class = cls;
    c->throw_message = buf;
}

// ---- creating JavaScript values ------------------------------------------------------------

// Word at a time: request and response bodies are mostly ASCII, and large.
static bool is_ascii(const char *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) return false;
    }
    for (; i < n; i++)
        if (static_cast<unsigned char>(s[i]) >= 0x80) return false;
    return true;
}

extern "C" bool js_bytes_are_ascii(const void *p, size_t n) {
    return is_ascii(static_cast<const char *>(p), n);
}

static JSString *new_utf8_string(JSContext *cx, const char *s, size_t n) {
    // ASCII is also Latin-1, which the engine stores without decoding.
    if (is_ascii(s, n)) return JS_NewStringCopyN(cx, s, n);
    return JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(s, n));
}

static JSObject *new_array_buffer(JSContext *cx, const char *p, size_t n) {
    if (n == 0) return JS::NewArrayBuffer(cx, 0);
    void *copy = js_malloc(n);
    if (!copy) {
        JS_ReportOutOfMemory(cx);
        return nullptr;
    }
    memcpy(copy, p, n);
    JSObject *ab = JS::NewArrayBufferWithContents(cx, n, copy);
    if (!ab) js_free(copy);
    return ab;
}

static bool item_to_value(JSContext *cx, const ret_item &item, JS::MutableHandleValue out) {
    switch (item.kind) {
    case ret_kind::undefined:
        out.setUndefined();
        return true;
    case ret_kind::null:
        out.setNull();
        return true;
    case ret_kind::boolean:
        out.setBoolean(item.b);
        return true;
    case ret_kind::number:
        out.setNumber(item.num);
        return true;
    case ret_kind::utf8: {
        JSString *s = new_utf8_string(cx, item.str.data(), item.str.size());
        if (!s) return false;
        out.setString(s);
        return true;
    }
    case ret_kind::latin1: {
        JSString *s = JS_NewStringCopyN(cx, item.str.data(), item.str.size());
        if (!s) return false;
        out.setString(s);
        return true;
    }
    case ret_kind::latin1_ref: {
        JSString *s = JS_NewStringCopyN(cx, item.ref, item.ref_len);
        if (!s) return false;
        out.setString(s);
        return true;
    }
    case ret_kind::bytes: {
        JSObject *ab = new_array_buffer(cx, item.str.data(), item.str.size());
        if (!ab) return false;
        out.setObject(*ab);
        return true;
    }
    default:
        out.setUndefined();
        return true;
    }
}

static bool throw_staged(JSContext *cx, js_call *c) {
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    std::string cls = c->throw_class;
    std::string dom_name;
    if (cls.rfind("DOMException:", 0) == 0) {
        dom_name = cls.substr(13);
        cls = "DOMException";
    }
    JS::RootedValue ctor(cx);
    if (!JS_GetProperty(cx, global, cls.c_str(), &ctor)) return false;
    JS::RootedString msg(cx, new_utf8_string(cx, c->throw_message.data(), c->throw_message.size()));
    if (!msg) return false;
    JS::RootedValueVector argv(cx);
    if (!argv.append(JS::StringValue(msg))) return false;
    if (!dom_name.empty()) {
        JS::RootedString name(cx, JS_NewStringCopyN(cx, dom_name.data(), dom_name.size()));
        if (!name || !argv.append(JS::StringValue(name))) return false;
    }
    JS::RootedObject err(cx);
    if (!ctor.isObject() || !JS::Construct(cx, ctor, JS::HandleValueArray(argv), &err)) {
        if (JS_IsExceptionPending(cx)) return false;
        JS_ReportErrorUTF8(cx, "%s", c->throw_message.c_str());
        return false;
    }
    JS::RootedValue errv(cx, JS::ObjectValue(*err));
    JS_SetPendingException(cx, errv);
    return false;
}

static bool finish_call(JSContext *cx, js_call *c, JS::MutableHandleValue rval) {
    if (c->throwing) {
        free(c->taken);
        return throw_staged(cx, c);
    }
    switch (c->ret.kind) {
    case ret_kind::bytes_taken: {
        JSObject *ab = c->taken_len ? JS::NewArrayBufferWithContents(cx, c->taken_len, c->taken)
                                    : JS::NewArrayBuffer(cx, 0);
        if (!c->taken_len) free(c->taken);
        if (!ab) {
            if (c->taken_len) free(c->taken);
            return false;
        }
        rval.setObject(*ab);
        return true;
    }
    case ret_kind::list: {
        JS::RootedObject arr(cx, JS::NewArrayObject(cx, c->list.size()));
        if (!arr) return false;
        JS::RootedValue v(cx);
        for (size_t i = 0; i < c->list.size(); i++) {
            if (!item_to_value(cx, c->list[i], &v) ||
                !JS_SetElement(cx, arr, static_cast<uint32_t>(i), v))
                return false;
        }
        rval.setObject(*arr);
        return true;
    }
    default:
        return item_to_value(cx, c->ret, rval);
    }
}

static bool op_trampoline(JSContext *cx, unsigned argc, JS::Value *vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    int index = js::GetFunctionNativeReserved(&args.callee(), 0).toInt32();
    js_call c;
    c.cx = cx;
    c.s = static_cast<js_shard *>(JS_GetContextPrivate(cx));
    c.args = &args;
    g_ops[static_cast<size_t>(index)].fn(&c);
    return finish_call(cx, &c, args.rval());
}

// The `ops` object the runtime captures at startup (src/runtime/ops.js), then deletes from the
// global so Worker code never sees it.
bool define_ops_object(JSContext *cx, JS::HandleObject global) {
    JS::RootedObject ops(cx, JS_NewPlainObject(cx));
    if (!ops) return false;
    for (size_t i = 0; i < g_ops.size(); i++) {
        JSFunction *fn = js::NewFunctionWithReserved(cx, op_trampoline, 0, 0, g_ops[i].name);
        if (!fn) return false;
        js::SetFunctionNativeReserved(JS_GetFunctionObject(fn), 0,
                                      JS::Int32Value(static_cast<int32_t>(i)));
        JS::RootedObject fobj(cx, JS_GetFunctionObject(fn));
        if (!JS_DefineProperty(cx, ops, g_ops[i].name, fobj, JSPROP_ENUMERATE)) return false;
    }
    if (!define_native_ops(cx, ops)) return false;
    // Non-enumerable but configurable, so that ops.js can delete it.
    return JS_DefineProperty(cx, global, "__hearth_ops", ops, 0);
}

bool args_to_values(JSContext *cx, const js_args *args, JS::MutableHandleValueVector out) {
    JS::RootedValue v(cx);
    for (size_t i = 0; i < args->n; i++) {
        const js_arg &a = args->v[i];
        ret_item item;
        switch (a.kind) {
        case JS_ARG_UNDEFINED:
            item.kind = ret_kind::undefined;
            break;
        case JS_ARG_NULL:
            item.kind = ret_kind::null;
            break;
        case JS_ARG_BOOL:
            item.kind = ret_kind::boolean, item.b = a.num != 0;
            break;
        case JS_ARG_NUMBER:
            item.kind = ret_kind::number, item.num = a.num;
            break;
        case JS_ARG_STRING: {
            JSString *s = new_utf8_string(cx, a.ptr, a.len);
            if (!s || !out.append(JS::StringValue(s))) return false;
            continue;
        }
        case JS_ARG_LATIN1: {
            JSString *s = JS_NewStringCopyN(cx, a.ptr, a.len);
            if (!s || !out.append(JS::StringValue(s))) return false;
            continue;
        }
        case JS_ARG_BYTES: {
            JSObject *ab = new_array_buffer(cx, a.ptr, a.len);
            if (!ab || !out.append(JS::ObjectValue(*ab))) return false;
            continue;
        }
        }
        if (!item_to_value(cx, item, &v) || !out.append(v)) return false;
    }
    return true;
}

// ---- js_args builders (C side) --------------------------------------------------------------

static js_arg *next_arg(js_args *a) {
    if (a->n >= JS_ARGS_MAX) abort(); // a programming error in hearth, not bad input
    js_arg *arg = &a->v[a->n++];
    memset(arg, 0, sizeof *arg);
    return arg;
}

extern "C" void js_args_number(js_args *a, double v) {
    js_arg *arg = next_arg(a);
    arg->kind = JS_ARG_NUMBER;
    arg->num = v;
}
extern "C" void js_args_bool(js_args *a, bool v) {
    js_arg *arg = next_arg(a);
    arg->kind = JS_ARG_BOOL;
    arg->num = v ? 1 : 0;
}
extern "C" void js_args_null(js_args *a) {
    next_arg(a)->kind = JS_ARG_NULL;
}
extern "C" void js_args_string(js_args *a, const char *s, size_t len) {
    js_arg *arg = next_arg(a);
    arg->kind = JS_ARG_STRING;
    arg->ptr = s;
    arg->len = len;
}
extern "C" void js_args_latin1(js_args *a, const char *s, size_t len) {
    js_arg *arg = next_arg(a);
    arg->kind = JS_ARG_LATIN1;
    arg->ptr = s;
    arg->len = len;
}
extern "C" void js_args_bytes(js_args *a, const void *p, size_t len) {
    js_arg *arg = next_arg(a);
    arg->kind = JS_ARG_BYTES;
    arg->ptr = static_cast<const char *>(p);
    arg->len = len;
}
