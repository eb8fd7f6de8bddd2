/* fuzz_log.c: libFuzzer harness for the embedded log's segment recovery (src/log): the input
 * becomes the last segment of a partition in a temporary data dir, the log is opened (the
 * writer recovers: cuts the torn or corrupt tail), and everything is read back; then one
 * append, and a second open must find nothing more to cut.
 * Input: 1 mode byte, then the segment bytes. mode % 4: 0 the bytes as they are; 1 after the
 * frames of 5 valid records (a torn tail); 2 the bytes with each frame's CRC32C recomputed
 * (so lengths, offsets and key lengths get fuzzed, not the checksum); 3 CRCs and offsets
 * recomputed. mode & 4: a closed segment of 5 valid records comes first and the input is the
 * segment starting at offset 5 (modes 2 and 3 then number frames from 5). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_log.h"
#include "pp_util.h"

#define NVALID 5

static char root[64];        /* temporary folder, removed at exit */
static char dir[128];        /* the log's data dir inside it */
static unsigned char *valid; /* NVALID frames written by the log itself */
static size_t valid_len;
static const char *const values[NVALID] = {"{\"index\":1}", "", "v", "{\"x\":\"\\u00e9\"}", "last"};

static void rm_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (root[0] && system(cmd) != 0)
        fprintf(stderr, "fuzz_log: cannot remove %s\n", root);
}

static struct pp_log *open_log(void)
{
    struct pp_log_conf conf;
    char err[256];
    pp_log_conf_defaults(&conf);
    conf.dir = dir;
    conf.partitions = 1;
    conf.fsync = PP_FSYNC_NEVER;
    struct pp_log *log = pp_log_open(&conf, err, sizeof(err));
    if (!log)
        fprintf(stderr, "fuzz_log: open %s: %s\n", dir, err);
    return log;
}

static void write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static unsigned char *read_file(const char *path, size_t *n)
{
    struct stat sb;
    int fd = open(path, O_RDONLY);
    FUZZ_CHECK(fd >= 0 && fstat(fd, &sb) == 0);
    unsigned char *p = malloc((size_t)sb.st_size + 1);
    FUZZ_CHECK(p && read(fd, p, (size_t)sb.st_size) == sb.st_size);
    close(fd);
    *n = (size_t)sb.st_size;
    return p;
}

/* Once: a temporary folder and NVALID frames as the log writes them. */
static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    /* /dev/shm keeps the file churn of every run off the disk */
    snprintf(root, sizeof(root), "%s/pp_fuzz_log.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm"
             : tmp                         ? tmp
                                           : "/tmp");
    FUZZ_CHECK(mkdtemp(root) != NULL);
    atexit(rm_root);
    snprintf(dir, sizeof(dir), "%s/log", root);
    pp_diag_set_level(PP_LVL_ERROR); /* every cut tail would log a warning */
    struct pp_log *log = open_log();
    FUZZ_CHECK(log != NULL);
    for (int i = 0; i < NVALID; i++) {
        int part;
        int64_t off;
        uint64_t ticket;
        char key[8];
        snprintf(key, sizeof(key), "k%d", i);
        FUZZ_CHECK(pp_log_append(log, "pin", 0, key, strlen(key), values[i], strlen(values[i]),
                                 1764000000000 + i, &part, &off, &ticket) == 0 &&
                   off == i);
    }
    pp_log_close(log);
    char path[256];
    snprintf(path, sizeof(path), "%s/topics/pin/0/%020d.log", dir, 0);
    valid = read_file(path, &valid_len);
}

/* Empty the partition folder (segments, hwm) left by the previous run; no fork per run. */
static void clear_partition(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/topics/pin/0", dir);
    DIR *d = opendir(path);
    FUZZ_CHECK(d != NULL);
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.')
            FUZZ_CHECK(unlinkat(dirfd(d), de->d_name, 0) == 0);
    closedir(d);
}

/* Recompute each whole frame's CRC (and offset, from first) in seg[0..n). */
static void fix_frames(unsigned char *seg, size_t n, int offsets, int64_t first)
{
    size_t pos = 0;
    for (int64_t off = first; n - pos >= PP_LOG_FRAME_HEADER; off++) {
        size_t size = log_frame_size(seg + pos);
        if (!size || size > n - pos)
            break;
        if (offsets)
            log_put64(seg + pos + 8, (uint64_t)off);
        log_put32(seg + pos, log_crc32c(0, seg + pos + 4, size - 4));
        pos += size;
    }
}

/* Read the partition from its low watermark to its high one. @returns records read. */
static int64_t read_all(struct pp_log *log, int64_t low, int64_t high, int tail_kept)
{
    char err[256];
    struct pp_log_reader *rd = pp_log_reader_open(log, "pin", 0, low, err, sizeof(err));
    FUZZ_CHECK(rd != NULL);
    int64_t next = low;
    while (next < high) {
        struct pp_log_rec recs[64];
        int n = pp_log_read(rd, recs, 64, 0);
        FUZZ_CHECK(n > 0); /* everything below the high watermark is readable at once */
        for (int i = 0; i < n; i++) {
            FUZZ_CHECK(recs[i].offset == next);
            if (tail_kept && next < NVALID) /* the valid frames before the input survive */
                FUZZ_CHECK(recs[i].vlen == strlen(values[next]) &&
                           !memcmp(recs[i].value, values[next], recs[i].vlen));
            next++;
        }
    }
    FUZZ_CHECK(pp_log_reader_position(rd) == high);
    pp_log_reader_close(rd);
    return next - low;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    if (!valid)
        setup();
    int mode = data[0] % 4, second = data[0] & 4;
    int64_t base = second ? NVALID : 0;
    size_t pre = mode == 1 ? valid_len : 0, n = pre + size - 1;
    unsigned char *seg = malloc(n + 1);
    FUZZ_CHECK(seg != NULL);
    if (pre)
        memcpy(seg, valid, pre);
    memcpy(seg + pre, data + 1, size - 1);
    if (mode >= 2)
        fix_frames(seg, n, mode == 3, base);

    /* a fresh partition folder: meta, the optional closed segment, the input's segment */
    char path[256];
    clear_partition();
    snprintf(path, sizeof(path), "%s/topics/pin/meta", dir);
    write_file(path, "partitions 1\n", 13);
    if (second) {
        snprintf(path, sizeof(path), "%s/topics/pin/0/%020d.log", dir, 0);
        write_file(path, valid, valid_len);
    }
    char seg_path[256];
    snprintf(seg_path, sizeof(seg_path), "%s/topics/pin/0/%020lld.log", dir, (long long)base);
    write_file(seg_path, seg, n);

    struct pp_log *log = open_log();
    FUZZ_CHECK(log != NULL); /* recovery never refuses: it cuts */
    int64_t low = -1, high = -1;
    struct pp_log_stats st;
    FUZZ_CHECK(pp_log_watermarks(log, "pin", 0, &low, &high) == 0);
    pp_log_stats(log, &st);
    FUZZ_CHECK(low == 0 && high >= base);
    if (mode == 1 || second)
        FUZZ_CHECK(high >= NVALID);
    size_t kept_len;
    unsigned char *kept = read_file(seg_path, &kept_len);
    FUZZ_CHECK(kept_len <= n && st.recovered_cut == n - kept_len);
    FUZZ_CHECK(kept_len == 0 || !memcmp(kept, seg, kept_len)); /* a prefix is kept, unchanged */
    free(kept);
    FUZZ_CHECK(read_all(log, low, high, mode == 1 || second) == high - low);

    /* the log goes on where recovery stopped */
    int part;
    int64_t off = -1;
    uint64_t ticket;
    FUZZ_CHECK(
        pp_log_append(log, "pin", 0, "k", 1, "after", 5, 1764000000999, &part, &off, &ticket) == 0);
    FUZZ_CHECK(off == high);
    pp_log_close(log);

    /* recovery is idempotent: a second open cuts nothing and sees the appended record */
    log = open_log();
    FUZZ_CHECK(log != NULL);
    int64_t high2 = -1;
    pp_log_stats(log, &st);
    FUZZ_CHECK(pp_log_watermarks(log, "pin", 0, &low, &high2) == 0);
    FUZZ_CHECK(st.recovered_cut == 0 && high2 == high + 1);
    FUZZ_CHECK(read_all(log, low, high2, mode == 1 || second) == high2 - low);
    pp_log_close(log);
    free(seg);
    return 0;
}
