/* url_ops — the ops behind the JavaScript URL class (src/runtime/url.js). */
#ifndef HEARTH_WEBAPI_URL_OPS_H
#define HEARTH_WEBAPI_URL_OPS_H

void url_ops_register(void);

#endif
