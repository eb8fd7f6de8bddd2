/* io.c: pp_io_posix, the real file calls behind the log's I/O vtable. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pp_io.h"

static int posix_open(const char *path, int flags, mode_t mode)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static ssize_t posix_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r;
    do
        r = pwrite(fd, buf, n, off);
    while (r < 0 && errno == EINTR);
    return r;
}

static ssize_t posix_pread(int fd, void *buf, size_t n, off_t off)
{
    ssize_t r;
    do
        r = pread(fd, buf, n, off);
    while (r < 0 && errno == EINTR);
    return r;
}

static int posix_fsync(int fd)
{
    return fdatasync(fd);
}

static int posix_ftruncate(int fd, off_t len)
{
    int r;
    do
        r = ftruncate(fd, len);
    while (r < 0 && errno == EINTR);
    return r;
}

static int posix_close(int fd)
{
    return close(fd);
}

const struct pp_io pp_io_posix = {
    .open = posix_open,
    .pwrite = posix_pwrite,
    .pread = posix_pread,
    .fsync = posix_fsync,
    .ftruncate = posix_ftruncate,
    .close = posix_close,
};
