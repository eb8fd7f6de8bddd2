/* kafka_connect.c: first contact with the Kafka cluster at open (bounded, failing fast on
 * librdkafka's error events) and where librdkafka's log lines and error events go. */
#include <stdio.h>
#include <string.h>

#include "kafka_int.h"
#include "log_int.h"
#include "pp_err.h"
#include "pp_util.h"

/* After librdkafka reports every broker down (ALL_BROKERS_DOWN: once, until one comes up),
 * open waits this much longer before giving up: a name that resolves to ::1 and 127.0.0.1
 * fails on one address and connects on the next, which librdkafka tries 100 ms later
 * (reconnect.backoff.ms, doubling), so this covers a few more attempts. */
#define KAFKA_DOWN_GRACE_MS 1000
/* First-contact metadata requests wait this long each, so error events are seen between. */
#define KAFKA_CONTACT_SLICE_MS 250

/* The log of a librdkafka handle when it is the log's producer (the one handle that exists
 * during first contact), else NULL. */
static struct log_kafka *producer_of(const rd_kafka_t *rk)
{
    if (!rk || rd_kafka_type(rk) != RD_KAFKA_PRODUCER)
        return NULL;
    struct pp_log *log = rd_kafka_opaque(rk);
    return log ? log->kafka : NULL;
}

/* Keep msg as the last failure seen while connecting, without librdkafka's "host:port/id: "
 * prefix and its "(after Nms in state S)" suffix: the cause, for the one-line error. */
static void note_failure(struct log_kafka *kf, const char *msg)
{
    if (msg[0] == '[' && strstr(msg, "]: ")) /* "[thrd:127.0.0.1:1/bootstrap]: " */
        msg = strstr(msg, "]: ") + 3;
    const char *p = strstr(msg, ": "), *slash = strchr(msg, '/');
    if (p && slash && slash < p) /* "127.0.0.1:1/bootstrap: Connect to ..." */
        msg = p + 2;
    size_t n = strlen(msg);
    const char *after = strstr(msg, " (after ");
    if (after)
        n = (size_t)(after - msg);
    pthread_mutex_lock(&kf->fail_mu);
    snprintf(kf->last_fail, sizeof(kf->last_fail), "%.*s", (int)n, msg);
    pthread_mutex_unlock(&kf->fail_mu);
}

void log_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct log_kafka *kf = producer_of(rk);
    if (!strcmp(fac, "CONFWARN")) /* one -X list serves producer and consumers alike */
        level = 7;
    if (kf && LOAD(&kf->connecting)) {
        /* open decides and says it in one line; the details are for --verbose */
        if (level <= 4 && !strcmp(fac, "FAIL"))
            note_failure(kf, buf);
        level = 7;
    }
    if (level <= 3)
        PP_ERROR(KAFKA_MOD, "%s: %s", fac, buf);
    else if (level == 4)
        PP_WARN(KAFKA_MOD, "%s: %s", fac, buf);
    else if (level <= 6)
        PP_INFO(KAFKA_MOD, "%s: %s", fac, buf);
    else
        PP_DEBUG(KAFKA_MOD, "%s: %s", fac, buf);
}

/* Errors that no amount of waiting fixes at first contact. */
static int contact_fatal(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
           err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__FATAL ||
           err == RD_KAFKA_RESP_ERR__INVALID_ARG;
}

/* The producer's error events (served by its poll thread). Without this callback librdkafka
 * logs them as "ERROR" lines; after first contact they still are, as errors. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct pp_log *log = opaque;
    struct log_kafka *kf = log->kafka;
    (void)rk;
    if (LOAD(&kf->connecting)) {
        PP_DEBUG(KAFKA_MOD, "%s: %s", rd_kafka_err2name(err), reason);
        int64_t none = 0;
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
            __atomic_compare_exchange_n(&kf->down_us, &none, pp_mono_us(), 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST);
        } else if (contact_fatal(err)) {
            note_failure(kf, reason);
            STORE(&kf->fatal, err);
        }
        return;
    }
    PP_ERROR(KAFKA_MOD, "%s: %s", rd_kafka_err2name(err), reason);
}

void log_kafka_conf_errors(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_error_cb(conf, error_cb);
}

int log_kafka_contact(struct pp_log *log, char *errstr, size_t errstr_size)
{
    struct log_kafka *kf = log->kafka;
    int timeout_ms =
        log->conf.connect_timeout_ms > 0 ? log->conf.connect_timeout_ms : PP_LOG_CONNECT_TIMEOUT_MS;
    int64_t deadline = pp_mono_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        int64_t now = pp_mono_us(), left_ms = (deadline - now) / 1000, down = LOAD(&kf->down_us);
        if (left_ms <= 0 || LOAD(&kf->fatal) || (down && now - down >= KAFKA_DOWN_GRACE_MS * 1000))
            break;
        const struct rd_kafka_metadata *md;
        /* no topics: brokers only. It waits for a usable broker (connected, ApiVersion
         * answered) within the slice, so a silent listener costs no request per slice. */
        rd_kafka_resp_err_t err = rd_kafka_metadata(
            kf->rk, 0, NULL, &md,
            left_ms < KAFKA_CONTACT_SLICE_MS ? (int)left_ms : KAFKA_CONTACT_SLICE_MS);
        if (!err) {
            rd_kafka_metadata_destroy(md);
            STORE(&kf->connecting, 0);
            return 0;
        }
    }
    char why[256];
    pthread_mutex_lock(&kf->fail_mu);
    snprintf(why, sizeof(why), "%s", kf->last_fail);
    pthread_mutex_unlock(&kf->fail_mu);
    log_kafka_mask(kf, why);
    int fatal = LOAD(&kf->fatal), down = LOAD(&kf->down_us) != 0;
    if (fatal)
        snprintf(errstr, errstr_size, "kafka: cannot reach the brokers at %s: %s (check %s)",
                 kf->brokers, why[0] ? why : rd_kafka_err2str(fatal),
                 fatal == RD_KAFKA_RESP_ERR__RESOLVE ? "--brokers" : "the -X security settings");
    else if (down)
        snprintf(errstr, errstr_size,
                 "kafka: no broker reachable at %s%s%s (check --brokers and that Kafka is "
                 "running)",
                 kf->brokers, why[0] ? ": " : "", why);
    else
        snprintf(errstr, errstr_size,
                 "kafka: no broker answered at %s within %d s%s%s (check --brokers and that "
                 "Kafka is running)",
                 kf->brokers, (timeout_ms + 999) / 1000, why[0] ? ": " : "", why);
    return fatal || down ? PP_EIO : PP_ETIMEDOUT;
}
