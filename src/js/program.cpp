// program.cpp — compiling a Worker's module graph once, and decoding it per shard.
//
// Compilation parses every module to a stencil, reads its import specifiers, asks the host's
// loader for each dependency, and finally links the whole graph in a throwaway global so that
// a missing export fails the upload instead of the first request. The stencils are kept in
// transcoded (XDR) form: plain bytes that any thread's context can decode cheaply.
#include <js/CompilationAndEvaluation.h>
#include <js/SourceText.h>
#include <js/Array.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/embedded.h"
#include "js/internal.h"

// Runtime modules that Worker code may import by a platform name.
static const struct {
    const char *specifier;
    const char *file;
} kPlatformModules[] = {
    {"cloudflare:workers", "workers.js"},
};
static const char kModuleDataSpecifier[] = "hearth:module-data";
static const char kModuleDataFile[] = "module_data.js";

int runtime_module_index(const char *file) {
    if (!g_runtime_program) return -1;
    const auto &mods = g_runtime_program->modules;
    std::string name = std::string("hearth:") + file;
    for (size_t i = 0; i < mods.size(); i++)
        if (mods[i].name == name) return static_cast<int>(i);
    return -1;
}

static void set_error(js_error *err, const char *name, const std::string &message,
                      const std::string &file, unsigned line, unsigned column) {
    js_error_clear(err);
    err->name = dup_cstr(name);
    err->message = dup_cstr(message.c_str());
    if (!file.empty()) err->file = dup_cstr(file.c_str());
    err->line = line;
    err->column = column;
}

// The source line `line` (1-based) of text, for error messages.
static char *source_line_of(const std::string &text, unsigned line) {
    if (line == 0) return nullptr;
    size_t pos = 0;
    for (unsigned l = 1; l < line; l++) {
        pos = text.find('\n', pos);
        if (pos == std::string::npos) return nullptr;
        pos++;
    }
    size_t end = text.find('\n', pos);
    std::string s = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return dup_cstr(s.c_str());
}

// Non-JavaScript modules become a one-line wrapper whose default export comes from the
// runtime's module-data op.
static std::string wrapper_source(size_t index) {
    char buf[160];
    snprintf(buf, sizeof buf,
             "import { moduleData } from \"%s\";\nexport default moduleData(%zu);\n",
             kModuleDataSpecifier, index);
    return buf;
}

static bool compile_stencil(js_shard *s, const std::string &name, const std::string &source,
                            RefPtr<JS::Stencil> &out, js_error *err) {
    JSContext *cx = s->cx;
    // Compiling needs no realm, but reporting a SyntaxError creates an error object in one.
    JSAutoRealm ar(cx, *s->scratch_global);
    JS::CompileOptions opts(cx);
    opts.setFileAndLine(name.c_str(), 1);
    JS::SourceText<mozilla::Utf8Unit> src;
    if (!src.init(cx, source.data(), source.size(), JS::SourceOwnership::Borrowed)) {
        error_from_pending(cx, err);
        return false;
    }
    out = JS::CompileModuleScriptToStencil(cx, opts, src);
    if (!out) {
        error_from_pending(cx, err);
        if (!err->file) err->file = dup_cstr(name.c_str());
        if (!err->source_line) err->source_line = source_line_of(source, err->line);
        return false;
    }
    return true;
}

struct requested_import {
    std::string specifier;
    uint32_t line, column;
};

// Instantiates the stencil in the shard's scratch global only to read its import list.
static bool read_imports(js_shard *s, JS::Stencil *stencil, std::vector<requested_import> &out,
                         js_error *err) {
    JSContext *cx = s->cx;
    JSAutoRealm ar(cx, *s->scratch_global);
    JS::InstantiateOptions iopts;
    JS::RootedObject mod(cx, JS::InstantiateModuleStencil(cx, iopts, stencil));
    if (!mod) {
        error_from_pending(cx, err);
        return false;
    }
    JS::RootedObject reqs(cx, JS::GetRequestedModules(cx, mod));
    uint32_t n = 0;
    if (!reqs || !JS::GetArrayLength(cx, reqs, &n)) {
        error_from_pending(cx, err);
        return false;
    }
    JS::RootedValue req(cx);
    for (uint32_t i = 0; i < n; i++) {
        if (!JS_GetElement(cx, reqs, i, &req)) {
            error_from_pending(cx, err);
            return false;
        }
        JS::RootedString spec(cx, JS::GetRequestedModuleSpecifier(cx, req));
        JS::UniqueChars chars = spec ? JS_EncodeStringToUTF8(cx, spec) : nullptr;
        if (!chars) {
            error_from_pending(cx, err);
            return false;
        }
        requested_import ri;
        ri.specifier = chars.get();
        JS::GetRequestedModuleSourcePos(cx, req, &ri.line, &ri.column);
        ri.column++; // the engine's column is 0-based; ours are 1-based like the stacks
        out.push_back(ri);
    }
    return true;
}

// The string literals of `import("...")` expressions in a module's source. The engine's
// stencil does not list dynamic imports, yet a Worker may import() its own modules (as bundlers
// bundle literal dynamic imports), so they must be compiled in too. A small scanner that skips
// comments, strings and template literals is enough for this; a regular expression literal
// that contains `import(` is the one thing it can mistake, at worst compiling a module more.
static std::vector<requested_import> scan_dynamic_imports(const std::string &src) {
    std::vector<requested_import> out;
    size_t i = 0, n = src.size();
    uint32_t line = 1, col = 1;
    auto advance = [&](size_t k) {
        for (size_t j = 0; j < k && i < n; j++, i++) {
            if (src[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
    };
    while (i < n) {
        char c = src[i];
        if (c == '/' && i + 1 < n && src[i + 1] == '/') {
            while (i < n && src[i] != '\n') advance(1);
        } else if (c == '/' && i + 1 < n && src[i + 1] == '*') {
            advance(2);
            while (i < n && !(src[i] == '*' && i + 1 < n && src[i + 1] == '/')) advance(1);
            advance(2);
        } else if (c == '"' || c == '\'' || c == '`') {
            advance(1);
            while (i < n && src[i] != c) advance(src[i] == '\\' ? 2 : 1);
            advance(1);
        } else if (c == 'i' && src.compare(i, 6, "import") == 0 &&
                   (i == 0 || !(isalnum((unsigned char)src[i - 1]) || src[i - 1] == '_' ||
                                src[i - 1] == '$' || src[i - 1] == '.'))) {
            uint32_t at_line = line, at_col = col;
            size_t j = i + 6;
            while (j < n && isspace((unsigned char)src[j])) j++;
            if (j < n && src[j] == '(') {
                j++;
                while (j < n && isspace((unsigned char)src[j])) j++;
                if (j < n && (src[j] == '"' || src[j] == '\'')) {
                    char q = src[j];
                    size_t end = src.find(q, j + 1);
                    if (end != std::string::npos && src.find('\n', j) > end) {
                        requested_import ri;
                        ri.specifier = src.substr(j + 1, end - j - 1);
                        ri.line = at_line;
                        ri.column = at_col;
                        out.push_back(ri);
                    }
                }
            }
            advance(6);
        } else {
            advance(1);
        }
    }
    return out;
}

static bool encode_stencil(JSContext *cx, JS::Stencil *stencil, JS::TranscodeBuffer &buf,
                           js_error *err) {
    if (JS::EncodeStencil(cx, stencil, buf) != JS::TranscodeResult::Ok) {
        if (JS_IsExceptionPending(cx))
            error_from_pending(cx, err);
        else
            set_error(err, "Error", "could not encode compiled module", "", 0, 0);
        return false;
    }
    return true;
}

struct graph_builder {
    js_shard *s;
    js_program *p;
    js_module_loader load;
    void *ud;
    js_error *err;
};

static int find_module(js_program *p, const std::string &name) {
    for (size_t i = 0; i < p->modules.size(); i++)
        if (p->modules[i].name == name) return static_cast<int>(i);
    return -1;
}

// Adds a module from the loader's result; returns its index.
static int add_module(js_program *p, js_module_source &src) {
    std::string name = src.name ? src.name : "";
    int existing = find_module(p, name);
    if (existing >= 0) {
        free(src.name);
        free(src.data);
        return existing;
    }
    js_module_record rec;
    rec.name = name;
    rec.kind = src.kind;
    rec.data.assign(src.data ? src.data : "", src.len);
    rec.may_import_internal = src.kind != JS_MODULE_ESM;
    free(src.name);
    free(src.data);
    p->modules.push_back(std::move(rec));
    return static_cast<int>(p->modules.size() - 1);
}

static int resolve_import(graph_builder &g, size_t from, const requested_import &imp) {
    js_module_record &m = g.p->modules[from];
    if (!g.p->is_runtime) {
        for (const auto &pm : kPlatformModules) {
            if (imp.specifier != pm.specifier) continue;
            int idx = runtime_module_index(pm.file);
            if (idx < 0) break; /* a runtime without it: report as unresolvable below */
            return -idx - 1;
        }
        if (imp.specifier == kModuleDataSpecifier && m.may_import_internal) {
            int idx = runtime_module_index(kModuleDataFile);
            if (idx >= 0) return -idx - 1;
        }
    }
    js_module_source src = {};
    char msg[512] = "";
    if (g.load(g.ud, m.name.c_str(), imp.specifier.c_str(), &src, msg, sizeof msg) != 0) {
        set_error(g.err, "Error",
                  std::string("Could not resolve \"") + imp.specifier + "\"" +
                      (msg[0] ? std::string(": ") + msg : std::string()),
                  m.name, imp.line, imp.column);
        g.err->source_line = source_line_of(m.data, imp.line);
        return INT32_MIN;
    }
    return add_module(g.p, src);
}

static bool build_graph(graph_builder &g) {
    JSContext *cx = g.s->cx;
    // Modules are appended as they are discovered; walk until no new ones appear.
    for (size_t i = 0; i < g.p->modules.size(); i++) {
        js_module_record &m = g.p->modules[i];
        std::string source = m.kind == JS_MODULE_ESM ? m.data : wrapper_source(i);
        RefPtr<JS::Stencil> stencil;
        if (!compile_stencil(g.s, m.name, source, stencil, g.err)) return false;
        std::vector<requested_import> imports;
        if (!read_imports(g.s, stencil, imports, g.err)) return false;
        if (!encode_stencil(cx, stencil, g.p->modules[i].xdr, g.err)) return false;
        for (const auto &imp : imports) {
            int target = resolve_import(g, i, imp);
            if (target == INT32_MIN) return false;
            g.p->modules[i].deps.emplace_back(imp.specifier, target);
        }
        if (g.p->modules[i].kind == JS_MODULE_ESM && !g.p->is_runtime) {
            // A dynamic import that cannot be resolved is not an error until it runs.
            for (const auto &imp : scan_dynamic_imports(g.p->modules[i].data)) {
                bool known = false;
                for (const auto &d : g.p->modules[i].deps)
                    known = known || d.first == imp.specifier;
                if (known) continue;
                js_error ignored = {};
                js_error *saved = g.err;
                g.err = &ignored;
                int target = resolve_import(g, i, imp);
                g.err = saved;
                js_error_clear(&ignored);
                if (target != INT32_MIN) g.p->modules[i].deps.emplace_back(imp.specifier, target);
            }
        }
    }
    return true;
}

static js_program *program_new(bool is_runtime) {
    js_program *p = new js_program();
    p->refs = 1;
    p->is_runtime = is_runtime;
    return p;
}

static int runtime_loader(void *ud, const char *referrer, const char *specifier,
                          js_module_source *out, char *msg, size_t msglen) {
    (void)ud, (void)referrer;
    const char *file = specifier;
    if (strncmp(file, "./", 2) == 0) file += 2;
    const struct embedded_file *f = embedded_find(runtime_files, file);
    if (!f) {
        snprintf(msg, msglen, "no runtime module %s", file);
        return -1;
    }
    std::string name = std::string("hearth:") + file;
    out->name = dup_cstr(name.c_str());
    out->kind = JS_MODULE_ESM;
    out->data = static_cast<char *>(malloc(f->len + 1));
    memcpy(out->data, f->data, f->len + 1);
    out->len = f->len;
    return 0;
}

js_program *program_compile_runtime(js_shard *s, js_error *err) {
    js_program *p = program_new(true);
    graph_builder g = {s, p, runtime_loader, nullptr, err};
    js_module_source main = {};
    char msg[256];
    bool ok = runtime_loader(nullptr, nullptr, "main.js", &main, msg, sizeof msg) == 0;
    if (ok) add_module(p, main); // index 0: the runtime's entry
    // Every other file too: many are loaded only on first use (ops.loadModule, lazy globals)
    // and so are not reachable through static imports.
    for (const struct embedded_file *f = runtime_files; ok && f->name; f++) {
        js_module_source src = {};
        ok = runtime_loader(nullptr, nullptr, f->name, &src, msg, sizeof msg) == 0;
        if (ok) add_module(p, src);
    }
    if (!ok) set_error(err, "Error", msg, "", 0, 0);
    if (ok) ok = build_graph(g);
    if (!ok) {
        js_program_unref(p);
        return nullptr;
    }
    return p;
}

extern "C" js_program *js_program_compile(js_shard *s, const char *main, js_module_loader load,
                                          void *ud, js_error *err) {
    memset(err, 0, sizeof *err);
    js_program *p = program_new(false);
    graph_builder g = {s, p, load, ud, err};
    js_module_source src = {};
    char msg[512] = "";
    if (load(ud, nullptr, main, &src, msg, sizeof msg) != 0) {
        set_error(err, "Error", std::string("Could not load main module \"") + main + "\": " + msg,
                  "", 0, 0);
        js_program_unref(p);
        return nullptr;
    }
    add_module(p, src);
    bool ok = build_graph(g);
    if (ok) {
        // Link the graph once without running it, so that a missing export is an upload error.
        js_realm probe(s->cx);
        probe.shard = s;
        probe.program = p;
        probe.host = nullptr;
        probe.broken = false;
        probe.sp = nullptr;
        ok = realm_create_global(s, &probe) && realm_prepare_modules(s->cx, &probe);
        if (ok) {
            JSAutoRealm ar(s->cx, probe.global);
            JS::RootedObject mod(s->cx, realm_module(s->cx, &probe, 0));
            ok = mod && JS::ModuleInstantiate(s->cx, mod);
            if (!ok) {
                error_from_pending(s->cx, err);
                if (err->file) {
                    int idx = find_module(p, err->file);
                    if (idx >= 0 && !err->source_line)
                        err->source_line = source_line_of(p->modules[idx].data, err->line);
                }
            }
        } else if (!err->message) {
            error_from_pending(s->cx, err);
        }
        if (probe.sp) shard_program_release(s, probe.sp);
    }
    if (!ok) {
        js_program_unref(p);
        return nullptr;
    }
    return p;
}

extern "C" js_program *js_program_ref(js_program *p) {
    p->refs.fetch_add(1);
    return p;
}

extern "C" void js_program_unref(js_program *p) {
    if (p && p->refs.fetch_sub(1) == 1) delete p;
}

extern "C" size_t js_program_module_count(const js_program *p) {
    return p->modules.size();
}

extern "C" const char *js_program_module_name(const js_program *p, size_t i) {
    return i < p->modules.size() ? p->modules[i].name.c_str() : nullptr;
}

extern "C" js_module_kind js_program_module_kind(const js_program *p, size_t i) {
    return p->modules[i].kind;
}

extern "C" const char *js_program_module_data(const js_program *p, size_t i, size_t *len) {
    if (len) *len = p->modules[i].data.size();
    return p->modules[i].data.data();
}

// The program's stencils for this shard, decoded on first use and shared by the shard's realms
// of the program.
shard_program *shard_program_get(js_shard *s, js_program *p) {
    auto it = s->programs.find(p);
    if (it != s->programs.end()) {
        it->second->realms++;
        return it->second;
    }
    shard_program *sp = new shard_program();
    sp->program = js_program_ref(p);
    sp->realms = 1;
    sp->stencils.resize(p->modules.size());
    s->programs[p] = sp;
    return sp;
}

JS::Stencil *shard_program_stencil(js_shard *s, shard_program *sp, size_t i) {
    if (sp->stencils[i]) return sp->stencils[i].get();
    js_module_record &m = sp->program->modules[i];
    JS::DecodeOptions dopts;
    // The XDR bytes live as long as the program, which outlives this entry.
    dopts.borrowBuffer = true;
    JS::TranscodeRange range(m.xdr.begin(), m.xdr.length());
    JS::Stencil *stencil = nullptr;
    if (JS::DecodeStencil(s->cx, dopts, range, &stencil) != JS::TranscodeResult::Ok || !stencil) {
        if (!JS_IsExceptionPending(s->cx))
            JS_ReportErrorASCII(s->cx, "could not decode module %s", m.name.c_str());
        return nullptr;
    }
    sp->stencils[i] = already_AddRefed<JS::Stencil>(stencil);
    return stencil;
}

void shard_program_release(js_shard *s, shard_program *sp) {
    if (--sp->realms > 0) return;
    auto it = s->programs.find(sp->program);
    if (it != s->programs.end() && it->second == sp) s->programs.erase(it);
    sp->stencils.clear();
    js_program_unref(sp->program);
    delete sp;
}

// Prepares a realm's module table: nothing is instantiated until it is needed (an import
// being linked, or ops.loadModule), because most of the runtime goes unused by most Workers.
bool realm_prepare_modules(JSContext *cx, js_realm *r) {
    js_shard *s = r->shard;
    if (!r->program->is_runtime) {
        r->sp = shard_program_get(s, r->program);
        if (!r->sp) return false;
    }
    JSAutoRealm ar(cx, r->global);
    size_t n = r->program->is_runtime ? 0 : r->program->modules.size();
    JS::RootedObject arr(cx, JS::NewArrayObject(cx, n + g_runtime_program->modules.size()));
    if (!arr) return false;
    r->modules = arr;
    return true;
}

// Module `index` of the realm (program modules first, then the runtime's), instantiated from
// its stencil on first use. Call inside the realm.
JSObject *realm_module(JSContext *cx, js_realm *r, size_t index) {
    JS::RootedValue v(cx);
    if (!JS_GetElement(cx, r->modules, static_cast<uint32_t>(index), &v)) return nullptr;
    if (v.isObject()) return &v.toObject();
    js_shard *s = r->shard;
    size_t n = r->program->is_runtime ? 0 : r->program->modules.size();
    if (index >= n + g_runtime_program->modules.size()) {
        JS_ReportErrorASCII(cx, "no module %zu", index);
        return nullptr;
    }
    JS::Stencil *st = index < n ? shard_program_stencil(s, r->sp, index)
                                : shard_program_stencil(s, s->runtime_sp, index - n);
    if (!st) return nullptr;
    JS::InstantiateOptions iopts;
    JS::RootedObject mod(cx, JS::InstantiateModuleStencil(cx, iopts, st));
    if (!mod) return nullptr;
    // The private value says which module this is: its index in r->modules.
    JS::SetModulePrivate(mod, JS::Int32Value(static_cast<int32_t>(index)));
    if (!JS_SetElement(cx, r->modules, static_cast<uint32_t>(index), mod)) return nullptr;
    return mod;
}
