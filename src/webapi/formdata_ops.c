/* formDataParse(bytes, contentType) → [name, filename, type, offset, length, ...]
 *
 * Parses a multipart/form-data body with the boundary from contentType. Each part gives five
 * items: its field name (a string), its filename (a string, or null when the part is not a
 * file), its Content-Type (a string, or null) and where its data lies in `bytes` (offset and
 * length), so JavaScript slices the data without another copy through C. Names are decoded
 * as UTF-8, invalid sequences replaced by U+FFFD (the HTML Standard's multipart parser).
 * Malformed bodies throw TypeError "Failed to parse body as FormData: <what is wrong>". */
#include "webapi/formdata_ops.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "js/engine.h"
#include "net/multipart.h"
#include "webapi/encoding.h"

static void push_utf8(js_call *c, const char *s) {
    buf out = {0};
    bool error;
    size_t len = strlen(s);
    utf8_decode((const uint8_t *)s, len, false, false, &out, &error);
    js_ret_push_string(c, out.data ? out.data : "", out.len);
    buf_free(&out);
}

static void op_formdata_parse(js_call *c) {
    size_t len, ct_len;
    const uint8_t *body = js_arg_bytes(c, 0, &len);
    const char *ct = js_arg_string(c, 1, &ct_len);
    char err[256];
    char *boundary = multipart_boundary(ct, err, sizeof err);
    if (!boundary) {
        js_throw(c, "TypeError", "Failed to parse body as FormData: %s", err);
        return;
    }
    multipart m;
    int rc = multipart_parse((const char *)body, len, boundary, &m, err, sizeof err);
    free(boundary);
    if (rc != 0) {
        js_throw(c, "TypeError", "Failed to parse body as FormData: %s", err);
        return;
    }
    js_ret_list(c);
    for (size_t i = 0; i < m.count; i++) {
        const multipart_part *p = &m.parts[i];
        push_utf8(c, p->name);
        if (p->filename)
            push_utf8(c, p->filename);
        else
            js_ret_push_null(c);
        if (p->content_type)
            push_utf8(c, p->content_type);
        else
            js_ret_push_null(c);
        js_ret_push_number(c, (double)(p->data - (const char *)body));
        js_ret_push_number(c, (double)p->len);
    }
    multipart_free(&m);
}

static const js_op formdata_ops[] = {
    {"formDataParse", op_formdata_parse},
};

void formdata_ops_register(void) {
    js_ops_register(formdata_ops, sizeof formdata_ops / sizeof formdata_ops[0]);
}
