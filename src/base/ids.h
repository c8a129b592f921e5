/* ids — random identifiers. */
#ifndef HEARTH_BASE_IDS_H
#define HEARTH_BASE_IDS_H

/* A random (version 4) UUID, lowercase, NUL-terminated: 36 characters plus NUL. */
void uuid_v4(char out[37]);

#endif
