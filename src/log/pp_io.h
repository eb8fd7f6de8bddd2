/* pp_io.h: the file I/O vtable all log file access goes through, so tests can inject
 * short writes, EIO and torn tails (SQLite's VFS approach). */
#ifndef PP_IO_H
#define PP_IO_H

#include <sys/types.h>

struct pp_io {
    int (*open)(const char *path, int flags, mode_t mode);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    int (*fsync)(int fd);  /* fdatasync semantics are enough */
    int (*ftruncate)(int fd, off_t len);
    int (*close)(int fd);
};

/* The real POSIX calls. */
extern const struct pp_io pp_io_posix;

#endif
