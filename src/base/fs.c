#include "base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"

char *fs_join(const char *a, const char *b) {
    buf out = {0};
    buf_puts(&out, a);
    if (out.len && out.data[out.len - 1] != '/') buf_putc(&out, '/');
    buf_puts(&out, b);
    return buf_detach(&out, NULL);
}

bool fs_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool fs_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

bool fs_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *fs_read_file(const char *path, size_t *len, char *err, size_t errlen) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf b = {0};
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            buf_free(&b);
            return NULL;
        }
        if (n == 0) break;
        buf_append(&b, chunk, (size_t)n);
    }
    close(fd);
    return buf_detach(&b, len);
}

int fs_write_file(const char *path, const void *data, size_t len, char *err, size_t errlen) {
    char *tmp = xmalloc(strlen(path) + 16);
    sprintf(tmp, "%s.tmp%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    /* Errors name `path`, the file the caller asked for: the temporary name is an internal
     * detail that would only confuse a user reading the message. */
    if (fd < 0) {
        if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, p + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (err) snprintf(err, errlen, "%s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        off += (size_t)n;
    }
    /* Close even when fsync fails (a short-circuited close would leak the descriptor). */
    int rc = fsync(fd);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) rc = -1, saved = errno;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1, saved = errno;
    if (rc != 0) {
        if (err) snprintf(err, errlen, "%s: %s", path, strerror(saved));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

uint64_t fs_stamp(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    uint64_t h = (uint64_t)st.st_mtim.tv_sec * 1000000007u + (uint64_t)st.st_mtim.tv_nsec;
    h = h * 31 + (uint64_t)st.st_size;
    h = h * 31 + (uint64_t)st.st_ino;
    return h ? h : 1;
}
