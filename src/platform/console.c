/* console output of Workers: the runtime formats (src/runtime/console.js), C writes. */
#include "platform/console.h"

#include <string.h>

#include "platform/invocation.h"
#include "platform/shard.h"

/* log(level, text) — level is "log", "info", "debug", "warn" or "error". Output goes through
 * the shard's log buffer, so a burst of logs costs one write per loop turn. */
static void op_log(js_call *c) {
    shard *sh = shard_of(c);
    if (!sh) return; /* the trial load at startup: its realm serves nothing */
    const char *level = js_arg_string(c, 0, NULL);
    size_t len;
    const char *text = js_arg_string(c, 1, &len);
    bool to_stderr = !strcmp(level, "warn") || !strcmp(level, "error");
    shard_log(sh, to_stderr, "%.*s\n", (int)len, text);
    /* Tells console.js to send the values too: someone watches this invocation. */
    invocation *inv = invocation_lookup(sh, js_call_async_id(c));
    js_ret_bool(c, inv && inv->trace);
}

static const js_op console_ops[] = {
    {"log", op_log},
};

void console_ops_register(void) {
    js_ops_register(console_ops, sizeof console_ops / sizeof console_ops[0]);
}
