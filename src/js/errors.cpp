// errors.cpp — turning JavaScript exceptions into js_error text for logs and error pages.
#include <js/ErrorReport.h>
#include <js/Conversions.h>
#include <js/Exception.h>
#include <js/friend/ErrorMessages.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "js/internal.h"

char *dup_cstr(const char *s) {
    if (!s) return nullptr;
    size_t n = strlen(s);
    char *p = static_cast<char *>(malloc(n + 1));
    if (!p) abort();
    memcpy(p, s, n + 1);
    return p;
}

static char *to_utf8(JSContext *cx, JS::HandleString str) {
    if (!str) return nullptr;
    JS::UniqueChars chars = JS_EncodeStringToUTF8(cx, str);
    if (!chars) {
        JS_ClearPendingException(cx);
        return nullptr;
    }
    return dup_cstr(chars.get());
}

// Reads a string-valued property without letting a throwing getter escape.
static char *get_string_prop(JSContext *cx, JS::HandleObject obj, const char *name) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, obj, name, &v)) {
        JS_ClearPendingException(cx);
        return nullptr;
    }
    if (v.isUndefined()) return nullptr;
    JS::RootedString s(cx, JS::ToString(cx, v));
    if (!s) {
        JS_ClearPendingException(cx);
        return nullptr;
    }
    return to_utf8(cx, s);
}

void error_from_value(JSContext *cx, JS::HandleValue exc, JS::HandleObject stack, js_error *err) {
    memset(err, 0, sizeof *err);
    JS::ExceptionStack exn(cx, exc, stack);
    JS::ErrorReportBuilder report(cx);
    if (report.init(cx, exn, JS::ErrorReportBuilder::WithSideEffects) && report.report()) {
        JSErrorReport *rep = report.report();
        if (rep->filename) err->file = dup_cstr(rep->filename);
        err->line = rep->lineno;
        err->column = rep->column + 1; // the report's column is 0-based
        if (rep->linebuf()) {
            JS::RootedString line(cx,
                                  JS_NewUCStringCopyN(cx, rep->linebuf(), rep->linebufLength()));
            err->source_line = to_utf8(cx, line);
        }
    }
    if (exc.isObject()) {
        JS::RootedObject obj(cx, &exc.toObject());
        err->name = get_string_prop(cx, obj, "name");
        err->message = get_string_prop(cx, obj, "message");
        err->stack = get_string_prop(cx, obj, "stack");
        if (!err->name && !err->message) {
            JS::RootedString s(cx, JS::ToString(cx, exc));
            if (!s) JS_ClearPendingException(cx);
            err->message = to_utf8(cx, s);
        }
    } else {
        // `throw "text"` and friends: no name, the value as text.
        JS::RootedString s(cx, JS::ToString(cx, exc));
        if (!s) JS_ClearPendingException(cx);
        err->message = to_utf8(cx, s);
    }
    if (!err->message) err->message = dup_cstr("");
}

void error_from_pending(JSContext *cx, js_error *err) {
    JS::ExceptionStack exn(cx);
    if (!JS::StealPendingExceptionStack(cx, &exn)) {
        memset(err, 0, sizeof *err);
        err->name = dup_cstr("Error");
        err->message = dup_cstr("uncatchable exception (out of memory or terminated)");
        return;
    }
    JS::RootedValue exc(cx, exn.exception());
    JS::RootedObject stack(cx, exn.stack());
    error_from_value(cx, exc, stack, err);
}

extern "C" void js_error_clear(js_error *err) {
    if (!err) return;
    free(err->name);
    free(err->message);
    free(err->stack);
    free(err->file);
    free(err->source_line);
    memset(err, 0, sizeof *err);
}

extern "C" char *js_error_format(const js_error *err) {
    std::string out;
    if (err->name && *err->name) {
        out += err->name;
        out += ": ";
    }
    out += err->message ? err->message : "";
    // V8-format stacks start with "Name: message"; skip that line since it was printed.
    std::string frames;
    if (err->stack) {
        const char *stack = err->stack;
        const char *first_nl = strchr(stack, '\n');
        bool has_header = strncmp(stack, "    at ", 7) != 0;
        if (has_header) stack = first_nl ? first_nl + 1 : "";
        // The runtime's own modules ("hearth:...") are not the Worker's code: leave them out.
        for (const char *p = stack; *p;) {
            const char *eol = strchr(p, '\n');
            size_t len = eol ? static_cast<size_t>(eol - p) : strlen(p);
            std::string frame(p, len);
            if (frame.find("(hearth:") == std::string::npos &&
                frame.find("at hearth:") == std::string::npos) {
                frames += frame;
                frames += '\n';
            }
            p += len + (eol ? 1 : 0);
        }
        while (!frames.empty() && (frames.back() == '\n' || frames.back() == ' '))
            frames.pop_back();
    }
    if (!frames.empty()) {
        out += "\n";
        out += frames;
    } else if (err->file) {
        // A compile error has no frames: show where it is, the line, and a caret.
        char loc[64];
        snprintf(loc, sizeof loc, ":%u:%u", err->line, err->column);
        out += "\n    at ";
        out += err->file;
        out += loc;
        if (err->source_line) {
            out += "\n    ";
            out += err->source_line;
            if (err->column > 0) {
                out += "\n    ";
                // Caret under the column, counting each UTF-8 lead byte as one column.
                unsigned col = 1;
                for (const char *p = err->source_line; *p && col < err->column; p++) {
                    if ((static_cast<unsigned char>(*p) & 0xC0) == 0x80) continue;
                    out += (*p == '\t') ? '\t' : ' ';
                    col++;
                }
                out += "^";
            }
        }
    }
    return dup_cstr(out.c_str());
}
