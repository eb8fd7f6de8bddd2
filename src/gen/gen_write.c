/* gen_write.c: `pinpipe gen`'s writer: the three tables as JSON lines, rows generated in
 * parallel batches and written in id order (a row depends only on (seed, id), so the files
 * are byte-identical whatever the thread count). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "pp_err.h"
#include "pp_gen.h"

#define BATCH_ROWS 8192
#define MAX_THREADS 8

struct batch {
    struct pp_gen *gen;
    int64_t from, to; /* ids [from, to) */
    struct pp_buf b[3];
    int rc;
    int64_t bad_id;
    pthread_t th;
    int started;
};

static void *batch_run(void *arg)
{
    struct batch *bt = arg;
    bt->rc = 0;
    for (int k = 0; k < 3; k++)
        pp_buf_reset(&bt->b[k]);
    for (int64_t id = bt->from; id < bt->to; id++) {
        int rc = pp_gen_row(bt->gen, id, &bt->b[0], &bt->b[1], &bt->b[2]);
        for (int k = 0; k < 3 && !rc; k++)
            rc = pp_buf_putc(&bt->b[k], '\n');
        if (rc) {
            bt->rc = rc, bt->bad_id = id;
            break;
        }
    }
    return NULL;
}

static int threads_to_use(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

int pp_gen_write(const char *dir, int64_t rows, uint64_t seed, char *errstr, size_t errstr_size)
{
    static const char *const names[3] = {"pin.jsonl", "geo.jsonl", "user.jsonl"};
    struct batch bt[MAX_THREADS];
    FILE *f[3] = {NULL, NULL, NULL};
    char path[4096];
    int rc = 0, nt = threads_to_use();
    struct pp_gen *gen = pp_gen_new(seed);
    memset(bt, 0, sizeof(bt));
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < 3; k++)
            pp_buf_init(&bt[t].b[k], 0);
    if (!gen) {
        rc = PP_ENOMEM;
        goto out;
    }
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[k]);
        if (!(f[k] = fopen(path, "w"))) {
            snprintf(errstr, errstr_size, "cannot create %s: %s", path, strerror(errno));
            rc = PP_EIO;
            goto out;
        }
    }
    for (int64_t start = 0; start < rows && !rc; start += (int64_t)nt * BATCH_ROWS) {
        int used = 0;
        for (int t = 0; t < nt; t++) {
            struct batch *b = &bt[t];
            b->gen = gen;
            b->from = start + (int64_t)t * BATCH_ROWS;
            b->to = b->from + BATCH_ROWS < rows ? b->from + BATCH_ROWS : rows;
            if (b->from >= rows)
                break;
            used++;
            /* batch 0 runs on this thread; the others on their own (inline if that fails) */
            b->started = t > 0 && pthread_create(&b->th, NULL, batch_run, b) == 0;
        }
        batch_run(&bt[0]);
        for (int t = 0; t < used; t++) {
            struct batch *b = &bt[t];
            if (t > 0 && b->started)
                pthread_join(b->th, NULL);
            else if (t > 0)
                batch_run(b);
            if (b->rc && !rc) {
                snprintf(errstr, errstr_size, "row %lld: %s", (long long)b->bad_id,
                         pp_err_str(b->rc));
                rc = b->rc;
            }
            for (int k = 0; k < 3 && !rc; k++)
                if (fwrite(b->b[k].data, 1, b->b[k].len, f[k]) != b->b[k].len) {
                    snprintf(errstr, errstr_size, "writing %s/%s: %s", dir, names[k],
                             strerror(errno));
                    rc = PP_EIO;
                }
        }
    }
out:
    for (int k = 0; k < 3; k++) {
        if (f[k] && (ferror(f[k]) | fclose(f[k])) && !rc) {
            snprintf(errstr, errstr_size, "writing %s/%s: %s", dir, names[k], strerror(errno));
            rc = PP_EIO;
        }
    }
    for (int t = 0; t < nt; t++)
        for (int k = 0; k < 3; k++)
            pp_buf_free(&bt[t].b[k]);
    pp_gen_destroy(gen);
    return rc;
}
