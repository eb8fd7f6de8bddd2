/* guard.c: per-connection deadlines for the ingestion server: a watchdog thread that shuts down
 * connections whose request line + headers, or whose body, did not arrive in time.
 *
 * Why not libmicrohttpd's own timeout: MHD_OPTION_CONNECTION_TIMEOUT is an idle timeout, reset
 * by every byte received, so a client trickling one header byte every few seconds (slowloris)
 * holds its connection forever, and a few thousand of them exhaust the connection limit. MHD
 * 0.9.75 has no per-phase deadline and no call to close a connection from outside its handler,
 * so the watchdog calls shutdown(2) on the socket: MHD then reads EOF and closes the connection
 * itself, through its usual path. The fd stays valid while the watchdog may touch it: MHD's
 * close notification (pp_http_guard_remove, under the same lock) comes before it closes the
 * socket. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "pp_err.h"
#include "pp_http.h"
#include "pp_util.h"

struct pp_http_guard {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int stop;
    int tick_ms;
    struct pp_http_guard_conn head; /* circular list sentinel */
    void (*on_expire)(void *arg, int phase);
    void *arg;
};

/* Shut down every connection past its deadline; @returns how many. Called under the lock. */
static int sweep(struct pp_http_guard *guard, int64_t now)
{
    int n = 0;
    for (struct pp_http_guard_conn *gc = guard->head.next; gc != &guard->head; gc = gc->next) {
        long long dl = atomic_load_explicit(&gc->deadline_us, memory_order_relaxed);
        if (!dl || dl > now)
            continue;
        atomic_store_explicit(&gc->deadline_us, 0, memory_order_relaxed);
        if (gc->fd >= 0)
            shutdown(gc->fd, SHUT_RDWR);
        if (guard->on_expire)
            guard->on_expire(guard->arg, atomic_load_explicit(&gc->phase, memory_order_relaxed));
        n++;
    }
    return n;
}

static void *guard_main(void *arg)
{
    struct pp_http_guard *guard = arg;
    pthread_mutex_lock(&guard->lock);
    while (!guard->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = ts.tv_nsec + (int64_t)guard->tick_ms * 1000000;
        ts.tv_sec += ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        pthread_cond_timedwait(&guard->wake, &guard->lock, &ts);
        if (!guard->stop)
            sweep(guard, pp_mono_us());
    }
    pthread_mutex_unlock(&guard->lock);
    return NULL;
}

struct pp_http_guard *pp_http_guard_start(int tick_ms, void (*on_expire)(void *arg, int phase),
                                          void *arg)
{
    struct pp_http_guard *guard = calloc(1, sizeof(*guard));
    if (!guard)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&guard->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&guard->lock, NULL);
    guard->head.next = guard->head.prev = &guard->head;
    guard->tick_ms = tick_ms > 0 ? tick_ms : 250;
    guard->on_expire = on_expire;
    guard->arg = arg;
    if (pthread_create(&guard->thread, NULL, guard_main, guard)) {
        pthread_cond_destroy(&guard->wake);
        pthread_mutex_destroy(&guard->lock);
        free(guard);
        return NULL;
    }
    return guard;
}

void pp_http_guard_stop(struct pp_http_guard *guard)
{
    if (!guard)
        return;
    pthread_mutex_lock(&guard->lock);
    guard->stop = 1;
    pthread_cond_signal(&guard->wake);
    pthread_mutex_unlock(&guard->lock);
    pthread_join(guard->thread, NULL);
    pthread_cond_destroy(&guard->wake);
    pthread_mutex_destroy(&guard->lock);
    free(guard);
}

void pp_http_guard_add(struct pp_http_guard *guard, struct pp_http_guard_conn *gc, int fd)
{
    gc->fd = fd;
    if (!guard) {
        gc->next = gc->prev = NULL;
        return;
    }
    pthread_mutex_lock(&guard->lock);
    gc->next = guard->head.next;
    gc->prev = &guard->head;
    guard->head.next->prev = gc;
    guard->head.next = gc;
    pthread_mutex_unlock(&guard->lock);
}

void pp_http_guard_remove(struct pp_http_guard *guard, struct pp_http_guard_conn *gc)
{
    if (!guard)
        return;
    pthread_mutex_lock(&guard->lock); /* gc->next is a neighbour's to change: read it locked */
    if (!gc->next) {
        pthread_mutex_unlock(&guard->lock);
        return;
    }
    gc->prev->next = gc->next;
    gc->next->prev = gc->prev;
    gc->next = gc->prev = NULL;
    gc->fd = -1;
    pthread_mutex_unlock(&guard->lock);
}

void pp_http_guard_set(struct pp_http_guard_conn *gc, int phase, int timeout_s)
{
    atomic_store_explicit(&gc->phase, phase, memory_order_relaxed);
    atomic_store_explicit(&gc->deadline_us,
                          timeout_s > 0 ? pp_mono_us() + (int64_t)timeout_s * 1000000 : 0,
                          memory_order_relaxed);
}
