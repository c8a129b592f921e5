/* formdata_ops — the op behind FormData body parsing (src/runtime/formdata.js): the
 * multipart/form-data parser of src/net/multipart.c, exposed to the runtime. */
#ifndef HEARTH_WEBAPI_FORMDATA_OPS_H
#define HEARTH_WEBAPI_FORMDATA_OPS_H

void formdata_ops_register(void);

#endif
