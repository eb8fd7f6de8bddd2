/* common.c: what the subcommands share: signals, paths, fsync policy, failure lines. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_metrics.h"
#include "pp_err.h"
#include "pp_util.h"

volatile sig_atomic_t pp_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    pp_cli_stop = 1;
}

/* SIGHUPs received (a lock-free atomic: async-signal-safe); each reloader compares it with the
 * count it saw last, so the TLS reload thread and the API keys' poll never steal each other's
 * signal. */
static atomic_uint hups;

static void on_hup(int sig)
{
    (void)sig;
    atomic_fetch_add(&hups, 1);
}

void pp_cli_hup_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

unsigned pp_cli_hup_count(void)
{
    return atomic_load(&hups);
}

void pp_cli_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int pp_cli_self_exe(char *out, size_t size)
{
    ssize_t n = size > 1 ? readlink("/proc/self/exe", out, size - 1) : -1;
    if (n <= 0)
        return -1;
    out[n] = '\0';
    return 0;
}

void pp_cli_path(const char *data_dir, const char *leaf, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", data_dir, leaf);
}

int pp_cli_parse_fsync(const char *s, struct pp_log_conf *conf)
{
    if (!strcmp(s, "always")) {
        conf->fsync = PP_FSYNC_ALWAYS;
    } else if (!strcmp(s, "never")) {
        conf->fsync = PP_FSYNC_NEVER;
    } else if (!strncmp(s, "interval:", 9)) {
        int64_t ms;
        if (pp_parse_duration_ms(s + 9, &ms) || ms < 1 || ms > 3600000)
            return PP_EPARSE;
        conf->fsync = PP_FSYNC_INTERVAL;
        conf->fsync_interval_ms = (int)ms;
    } else {
        return PP_EPARSE;
    }
    return 0;
}

struct pp_log *pp_cli_open_log_wait(const char *module, const char *log_dir,
                                    const struct pp_log_conf *base, char *err, size_t err_size)
{
    struct pp_log_conf conf = *base;
    struct stat st;
    int64_t deadline = 0;
    int said = 0;
    conf.dir = log_dir;
    conf.readonly = 1;
    for (;;) {
        struct pp_log *log = pp_log_open(&conf, err, err_size);
        if (log || pp_cli_stop || conf.backend != PP_LOG_EMBEDDED)
            return log;
        if (stat(log_dir, &st) == 0) {
            if (!deadline)
                deadline = pp_mono_us() + 2000000;
            else if (pp_mono_us() > deadline)
                return NULL;
        } else if (!said) {
            PP_INFO(module, "waiting for the log to be created (by pinpipe serve) dir=%s",
                    log_dir);
            said = 1;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

int pp_cli_write_listen(const char *data_dir, const char *listen, int port)
{
    char host[256], path[4200], tmp[4300];
    int ignored;
    if (pp_parse_hostport(listen, host, sizeof(host), &ignored) || !host[0] ||
        !strcmp(host, "*") || !strcmp(host, "0.0.0.0"))
        snprintf(host, sizeof(host), "127.0.0.1");
    int v6 = strchr(host, ':') != NULL;
    snprintf(path, sizeof(path), "%s/listen", data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return PP_EIO;
    fprintf(f, "%s%s%s:%d\n", v6 ? "[" : "", host, v6 ? "]" : "", port);
    if (fclose(f) || rename(tmp, path))
        return PP_EIO;
    return 0;
}

#define PP_CLI_MAX_KAFKA_PROPS 64

/* @returns 0 applied, 2 bad value, -1 not a backend option (of this command). */
static int backend_opt(const char *cmd, int c, const char *arg, struct pp_log_conf *log,
                       struct pp_lake_conf *lake)
{
    static const char *props[PP_CLI_MAX_KAFKA_PROPS];
    switch (c) {
    case PP_OPT_LOG:
        if (!log)
            return -1;
        if (!strcmp(arg, "embedded"))
            log->backend = PP_LOG_EMBEDDED;
        else if (!strcmp(arg, "kafka"))
            log->backend = PP_LOG_KAFKA;
        else
            return pp_cli_fail(cmd, 2, "bad --log '%s' (embedded|kafka)", arg);
        return 0;
    case PP_OPT_BROKERS:
        if (!log)
            return -1;
        log->brokers = arg;
        return 0;
    case 'X':
        if (!log)
            return -1;
        if (!strchr(arg, '=') || arg[0] == '=')
            return pp_cli_fail(cmd, 2, "bad -X '%s' (NAME=VALUE)", arg);
        if (log->nkafka_props >= PP_CLI_MAX_KAFKA_PROPS)
            return pp_cli_fail(cmd, 2, "too many -X properties (at most %d)",
                               PP_CLI_MAX_KAFKA_PROPS);
        props[log->nkafka_props++] = arg;
        log->kafka_props = props;
        return 0;
    case PP_OPT_CONNECT_TIMEOUT: {
        int ms = 0, rc;
        if (!log && !lake)
            return -1;
        if ((rc = pp_cli_connect_opt(cmd, c, arg, &ms)))
            return rc;
        if (log)
            log->connect_timeout_ms = ms;
        if (lake)
            lake->connect_timeout_ms = ms;
        return 0;
    }
    case PP_OPT_S3_ENDPOINT:
        if (!lake)
            return -1;
        if (strncmp(arg, "http://", 7) && strncmp(arg, "https://", 8))
            return pp_cli_fail(cmd, 2, "bad --s3-endpoint '%s' (http://... or https://...)",
                               arg);
        lake->s3_endpoint = arg;
        return 0;
    case PP_OPT_S3_REGION:
        if (!lake)
            return -1;
        lake->s3_region = arg;
        return 0;
    case PP_OPT_S3_PATH_STYLE:
        if (!lake)
            return -1;
        lake->s3_path_style = 1;
        return 0;
    default:
        return -1;
    }
}

int pp_cli_connect_opt(const char *cmd, int c, const char *arg, int *timeout_ms)
{
    int64_t s;
    if (c != PP_OPT_CONNECT_TIMEOUT)
        return -1;
    if (pp_parse_i64(arg, 1, 3600, &s))
        return pp_cli_fail(cmd, 2, "--connect-timeout wants whole seconds 1..3600, got '%s'",
                           arg);
    *timeout_ms = (int)s * 1000;
    return 0;
}

int pp_cli_log_fail(const char *cmd, const struct pp_log_conf *conf, const char *log_dir,
                    const char *err)
{
    if (conf->backend == PP_LOG_KAFKA)
        return pp_cli_fail(cmd, 1, "%s", err);
    return pp_cli_fail(cmd, 1, "log %s: %s", log_dir, err);
}

int pp_cli_backend_opt(const char *cmd, int c, const char *arg, const char *opt,
                       struct pp_log_conf *log, struct pp_lake_conf *lake)
{
    int rc = backend_opt(cmd, c, arg, log, lake);
    if (rc >= 0)
        return rc;
    return pp_cli_fail(cmd, 2, "bad option '%s' (see pinpipe %s --help)", opt ? opt : "?", cmd);
}

int pp_cli_backend_check(const char *cmd, struct pp_log_conf *log)
{
    if (log && log->backend == PP_LOG_KAFKA && !log->brokers)
        log->brokers = getenv("PINPIPE_BROKERS");
    if (log && log->backend == PP_LOG_KAFKA && (!log->brokers || !*log->brokers))
        return pp_cli_fail(cmd, 2, "--log kafka needs --brokers HOST:PORT,... (or "
                                   "$PINPIPE_BROKERS)");
    return 0;
}

int pp_cli_fail(const char *cmd, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (pp_cli_color(STDERR_FILENO))
        fprintf(stderr, "\033[1;31mpinpipe %s:\033[0m %s\n", cmd, msg);
    else
        fprintf(stderr, "pinpipe %s: %s\n", cmd, msg);
    return status;
}

#define COLLECT_MAX_TOPICS 16
#define COLLECT_MAX_GROUPS 16

static void log_counters(struct pp_log *log, struct pp_buf *out)
{
    struct pp_log_stats st;
    pp_log_stats(log, &st);
    static const struct {
        const char *name, *type, *help;
        size_t off;
    } c[] = {
        {"pinpipe_log_appends_total", "counter", "records appended to the log",
         offsetof(struct pp_log_stats, appends)},
        {"pinpipe_log_append_bytes_total", "counter", "bytes appended (frames)",
         offsetof(struct pp_log_stats, append_bytes)},
        {"pinpipe_log_fsyncs_total", "counter", "fsync calls on segment files",
         offsetof(struct pp_log_stats, fsyncs)},
        {"pinpipe_log_group_commits_total", "counter", "group commits (sync rounds)",
         offsetof(struct pp_log_stats, sync_rounds)},
        {"pinpipe_log_full_total", "counter", "appends refused because the log was full (503)",
         offsetof(struct pp_log_stats, efull)},
        {"pinpipe_log_pending_bytes", "gauge", "bytes appended and not yet durable",
         offsetof(struct pp_log_stats, pending_bytes)},
        {"pinpipe_log_recovered_bytes_cut", "gauge", "torn-tail bytes cut at open",
         offsetof(struct pp_log_stats, recovered_cut)},
        {"pinpipe_log_segments_deleted_total", "counter", "segments deleted by retention",
         offsetof(struct pp_log_stats, segments_deleted)},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t v;
        memcpy(&v, (const char *)&st + c[i].off, sizeof(v));
        pp_metrics_head(out, c[i].name, c[i].type, c[i].help);
        pp_metrics_sample(out, c[i].name, "", (double)v);
    }
}

/* pp_log_lag_each for the metrics: a partition's high watermark (group NULL), or a group's lag
 * where it has a commit. */
struct lag_samples {
    struct pp_buf *out;
    const char *group;
};

static int lag_sample(void *arg, const struct pp_log_lag *l)
{
    struct lag_samples *ls = arg;
    char labels[256];
    if (l->err || (ls->group && l->committed < 0))
        return 0;
    if (!ls->group) {
        snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", l->topic, l->partition);
        pp_metrics_sample(ls->out, "pinpipe_log_high_watermark", labels, (double)l->high);
    } else {
        snprintf(labels, sizeof(labels), "group=\"%s\",topic=\"%s\",partition=\"%d\"", ls->group,
                 l->topic, l->partition);
        pp_metrics_sample(ls->out, "pinpipe_consumer_lag_records", labels, (double)l->lag);
    }
    return 0;
}

void pp_cli_log_collect(void *arg, struct pp_buf *out)
{
    struct pp_log *log = arg;
    const char *topics[COLLECT_MAX_TOPICS];
    char *groups[COLLECT_MAX_GROUPS];
    log_counters(log, out);
    int nt = pp_log_topics(log, topics, COLLECT_MAX_TOPICS);
    int ng = pp_log_groups(log, groups, COLLECT_MAX_GROUPS);
    struct lag_samples ls = {out, NULL};
    pp_metrics_head(out, "pinpipe_log_high_watermark", "gauge",
                    "next offset to be written, per topic and partition");
    pp_log_lag_each(log, NULL, topics, nt, lag_sample, &ls);
    pp_metrics_head(out, "pinpipe_consumer_lag_records", "gauge",
                    "records between a consumer group's committed offset and the high watermark");
    for (int g = 0; g < ng; g++) {
        ls.group = groups[g];
        pp_log_lag_each(log, groups[g], topics, nt, lag_sample, &ls);
        free(groups[g]);
    }
}

int pp_cli_verbosity;

void pp_cli_global_flags(int *argc, char **argv, int from)
{
    for (int i = from; i < *argc && strcmp(argv[i], "--"); i++) {
        int v = !strcmp(argv[i], "--quiet") ? -1 : !strcmp(argv[i], "--verbose") ? 1 : 0;
        if (!v)
            continue;
        pp_cli_verbosity = v;
        memmove(&argv[i], &argv[i + 1], sizeof(char *) * (size_t)(*argc - i));
        (*argc)--;
        i--;
    }
    pp_diag_set_level(pp_cli_verbosity < 0   ? PP_LVL_WARN
                      : pp_cli_verbosity > 0 ? PP_LVL_DEBUG
                                             : PP_LVL_INFO);
    pp_diag_set_color(pp_cli_color(STDERR_FILENO));
}

int pp_cli_color(int fd)
{
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    if (no && *no)
        return 0;
    if (term && !strcmp(term, "dumb"))
        return 0;
    return isatty(fd);
}

enum pp_progress_mode pp_cli_progress_mode(void)
{
    if (pp_cli_verbosity < 0)
        return PP_PROGRESS_OFF;
    return isatty(STDERR_FILENO) ? PP_PROGRESS_BAR : PP_PROGRESS_LINES;
}

void pp_cli_progress(struct pp_progress *p, const char *label, const char *unit, int64_t total)
{
    pp_progress_init(p, stderr, pp_cli_progress_mode(), pp_cli_color(STDERR_FILENO), label, unit,
                     total, pp_mono_us());
}
