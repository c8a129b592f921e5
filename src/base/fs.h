/* fs — small file helpers with errors as text (for messages that name the file). */
#ifndef HEARTH_BASE_FS_H
#define HEARTH_BASE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "a" + "/" + "b", malloc'd. */
char *fs_join(const char *a, const char *b);
bool fs_is_file(const char *path);
bool fs_exists(const char *path);
bool fs_is_dir(const char *path);
/* The whole file, NUL-terminated, malloc'd; NULL with "path: reason" in err on failure
 * (err may be NULL). */
char *fs_read_file(const char *path, size_t *len, char *err, size_t errlen);
/* Writes atomically (temp file + rename). 0 or -1 with err. */
int fs_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* A change stamp (mtime, size, inode) for watching files; 0 if the file does not exist. */
uint64_t fs_stamp(const char *path);

#endif
