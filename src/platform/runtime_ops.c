#include "platform/runtime_ops.h"

#include "platform/console.h"
#include "platform/fetch_ops.h"
#include "platform/invocation.h"
#include "platform/ratelimit_ops.h"
#include "platform/service_ops.h"
#include "platform/timers.h"
#include "platform/websocket_ops.h"
#include "platform/tracing.h"
#include "webapi/compression.h"
#include "webapi/crypto.h"
#include "webapi/encoding.h"
#include "webapi/formdata_ops.h"
#include "webapi/url_ops.h"

void runtime_ops_register(void) {
    invocation_ops_register();
    timers_ops_register();
    console_ops_register();
    tracing_ops_register();
    encoding_ops_register();
    compression_ops_register();
    crypto_ops_register();
    url_ops_register();
    formdata_ops_register();
    ratelimit_ops_register();
    service_ops_register();
    fetch_ops_register();
    websocket_ops_register();
}
