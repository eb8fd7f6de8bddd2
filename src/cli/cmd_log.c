/* cmd_log.c: `pinpipe log topics|offsets|tail|append`: look inside the log (after kcat -L /
 * -C), opened read-only, so it works next to a running writer; append (kcat -P) writes. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_util.h"

#define MAX_TOPICS 256
#define MAX_GROUPS 256
#define TAIL_BATCH 256

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe log topics  [--data-dir DIR]\n"
            "       pinpipe log offsets [--data-dir DIR] [--group G]\n"
            "       pinpipe log tail    [--data-dir DIR] --topic T [--partition P]\n"
            "                           [--offset N | --from-beginning] [-n COUNT] [--follow]\n"
            "                           [--value-only]\n"
            "       pinpipe log append  [--data-dir DIR] --topic T [--partition P]\n"
            "\n"
            "Look inside the log at DIR/log (opened read-only; works while a writer runs).\n"
            "Output is tab-separated on stdout, after a header line for topics and offsets.\n"
            "\n"
            "  topics    one line per partition: topic, partition, low and high watermark\n"
            "            (the first retained offset and the next offset to be written)\n"
            "  offsets   one line per consumer group and partition: group, topic, partition,\n"
            "            committed next offset, high watermark, lag ('-' when no commit)\n"
            "  tail      records, one per line: topic, partition, offset, ingest ts (ms), value\n"
            "  append    append each line of stdin as one record (no key, ingest ts now) and\n"
            "            print its topic, partition and offset once durable; the embedded log\n"
            "            takes one writer at a time (not next to serve/run), Kafka any number\n"
            "\n"
            "  --data-dir DIR      data directory (default %s); the log is DIR/log\n"
            "  --group G           offsets: only consumer group G\n"
            "  -t, --topic T       tail, append: the topic (required; append creates it)\n"
            "  -p, --partition P   tail: only partition P (default: every partition);\n"
            "                      append: to partition P (default: round robin)\n"
            "  -o, --offset N      tail: start at offset N; -N means N before the high watermark\n"
            "  --from-beginning    tail: start at the low watermark\n"
            "  -n COUNT            tail: without a start, the last COUNT records of each\n"
            "                      partition (default 10); with one, stop after COUNT records\n"
            "  -f, --follow        tail: keep printing new records until SIGINT/SIGTERM\n"
            "  --value-only        tail: print only the value\n"
            PP_CLI_LOG_HELP PP_CLI_CONNECT_HELP
            "  -h, --help          this help\n"
            "\n"
            "exit status: 0 ok, 1 failure (no log, unknown topic, read error), 2 usage error\n",
            PP_DEFAULT_DATA_DIR);
}

struct opts {
    const char *data_dir, *group, *topic;
    int partition, has_offset, from_beginning, follow, value_only, has_count;
    int64_t offset, count;
    struct pp_log_conf log; /* backend settings from the command line */
};

static struct pp_log *open_ro(const char *cmd, const struct opts *o, int *status)
{
    char dir[4096], err[512] = "";
    struct pp_log_conf conf = o->log;
    pp_cli_path(o->data_dir, "log", dir, sizeof(dir));
    conf.dir = dir;
    conf.readonly = 1;
    struct pp_log *log = pp_log_open(&conf, err, sizeof(err));
    if (!log)
        *status = pp_cli_fail(cmd, 1, "%s", err);
    return log;
}

static int do_topics(struct pp_log *log)
{
    const char *names[MAX_TOPICS];
    int n = pp_log_topics(log, names, MAX_TOPICS);
    printf("topic\tpartition\tlow\thigh\n");
    for (int i = 0; i < n; i++) {
        int parts = pp_log_partitions(log, names[i], 0);
        for (int p = 0; p < parts; p++) {
            int64_t low, high;
            if (pp_log_watermarks(log, names[i], p, &low, &high))
                continue;
            printf("%s\t%d\t%" PRId64 "\t%" PRId64 "\n", names[i], p, low, high);
        }
    }
    return 0;
}

/* pp_log_lag_each: 1 at the first partition the group has a commit in. */
static int has_commit(void *arg, const struct pp_log_lag *l)
{
    (void)arg;
    return l->committed >= 0;
}

/* pp_log_lag_each: one tab-separated row (committed and lag '-' without a commit). */
static int offsets_row(void *arg, const struct pp_log_lag *l)
{
    const char *group = arg;
    if (l->committed >= 0)
        printf("%s\t%s\t%d\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n", group, l->topic, l->partition,
               l->committed, l->high, l->lag);
    else
        printf("%s\t%s\t%d\t-\t%" PRId64 "\t-\n", group, l->topic, l->partition, l->high);
    return 0;
}

static void group_offsets(struct pp_log *log, const char *group, const char **topics, int n)
{
    for (int i = 0; i < n; i++) /* only the topics the group consumes (a commit somewhere) */
        if (pp_log_lag_each(log, group, &topics[i], 1, has_commit, NULL))
            pp_log_lag_each(log, group, &topics[i], 1, offsets_row, (void *)group);
}

static int do_offsets(struct pp_log *log, const struct opts *o)
{
    const char *topics[MAX_TOPICS];
    char *groups[MAX_GROUPS];
    int nt = pp_log_topics(log, topics, MAX_TOPICS);
    int ng = pp_log_groups(log, groups, MAX_GROUPS);
    if (ng < 0) {
        fprintf(stderr, "pinpipe log: cannot list consumer groups: %s\n", pp_err_str(ng));
        return 1;
    }
    printf("group\ttopic\tpartition\tcommitted\thigh\tlag\n");
    for (int g = 0; g < ng; g++) {
        if (!o->group || !strcmp(o->group, groups[g]))
            group_offsets(log, groups[g], topics, nt);
        free(groups[g]);
    }
    return 0;
}

static void print_rec(const struct opts *o, int partition, const struct pp_log_rec *rec)
{
    if (!o->value_only)
        printf("%s\t%d\t%" PRId64 "\t%" PRId64 "\t", o->topic, partition, rec->offset, rec->ts_ms);
    fwrite(rec->value, 1, rec->vlen, stdout);
    putchar('\n');
}

struct tail_part {
    struct pp_log_reader *rd;
    int partition;
    int64_t stop; /* without --follow: the high watermark at start */
};

static int64_t start_offset(const struct opts *o, int64_t low, int64_t high)
{
    int64_t at;
    if (o->from_beginning)
        at = low;
    else if (o->has_offset)
        at = o->offset >= 0 ? o->offset : high + o->offset;
    else
        at = high - (o->has_count ? o->count : 10);
    return at < low ? low : at;
}

/* One pass over the partitions. @returns records printed, or <0 on a read error. */
static int tail_pass(const struct opts *o, struct tail_part *tp, int n, int64_t *left,
                     int timeout_ms)
{
    struct pp_log_rec recs[TAIL_BATCH];
    int printed = 0;
    for (int i = 0; i < n && *left != 0; i++) {
        if (!tp[i].rd)
            continue;
        int64_t pos = pp_log_reader_position(tp[i].rd);
        int64_t want = o->follow ? TAIL_BATCH : tp[i].stop - pos;
        if (want > TAIL_BATCH)
            want = TAIL_BATCH;
        if (*left > 0 && want > *left)
            want = *left;
        if (want <= 0)
            continue;
        int r = pp_log_read(tp[i].rd, recs, (int)want, timeout_ms);
        if (r < 0) {
            fprintf(stderr, "pinpipe log: read %s/%d: %s\n", o->topic, tp[i].partition,
                    pp_err_str(r));
            return r;
        }
        for (int k = 0; k < r; k++)
            print_rec(o, tp[i].partition, &recs[k]);
        printed += r;
        if (*left > 0)
            *left -= r;
    }
    return printed;
}

static int do_tail(struct pp_log *log, const struct opts *o)
{
    int parts = pp_log_partitions(log, o->topic, 0);
    if (parts < 0)
        return pp_cli_fail("log", 1, "no topic '%s' in the log", o->topic);
    if (o->partition >= parts)
        return pp_cli_fail("log", 1, "topic '%s' has %d partitions, no %d", o->topic, parts,
                           o->partition);
    struct tail_part tp[64];
    int n = 0, status = 0;
    char err[256];
    for (int p = 0; p < parts && n < 64; p++) {
        if (o->partition >= 0 && p != o->partition)
            continue;
        int64_t low = 0, high = 0;
        pp_log_watermarks(log, o->topic, p, &low, &high);
        tp[n].partition = p;
        tp[n].stop = high;
        tp[n].rd =
            pp_log_reader_open(log, o->topic, p, start_offset(o, low, high), err, sizeof(err));
        if (!tp[n].rd) {
            status = pp_cli_fail("log", 1, "%s", err);
            goto out;
        }
        n++;
    }
    /* -n bounds the total only when a start was given; else it picked the start */
    int64_t left = (o->has_count && (o->has_offset || o->from_beginning)) ? o->count : -1;
    if (o->follow)
        pp_cli_signals();
    for (;;) {
        int r = tail_pass(o, tp, n, &left, 0);
        if (r < 0) {
            status = 1;
            break;
        }
        fflush(stdout);
        if (left == 0 || pp_cli_stop)
            break;
        if (!o->follow) {
            int done = 1;
            for (int i = 0; i < n; i++)
                done &= pp_log_reader_position(tp[i].rd) >= tp[i].stop;
            if (done)
                break;
        } else if (r == 0) {
            struct timespec ts = {0, 2 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
out:
    for (int i = 0; i < n; i++)
        pp_log_reader_close(tp[i].rd);
    return status;
}

/* `log append`: stdin's lines as records, then wait until they are durable. */
static int do_append(const struct opts *o)
{
    char dir[4096], err[512] = "", *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct pp_log_conf conf = o->log;
    pp_cli_path(o->data_dir, "log", dir, sizeof(dir));
    conf.dir = dir;
    struct pp_log *log = pp_log_open(&conf, err, sizeof(err));
    if (!log)
        return pp_cli_fail("log", 1, "%s", err);
    int status = 0;
    uint64_t ticket = 0;
    while (!status && (n = getline(&line, &cap, stdin)) >= 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        int part;
        int64_t off;
        int rc = pp_log_append(log, o->topic, o->partition, NULL, 0, line, (size_t)n, 0, &part,
                               &off, &ticket);
        if (rc)
            status = pp_cli_fail("log", 1, "append to %s: %s", o->topic, pp_err_str(rc));
        else
            printf("%s\t%d\t%" PRId64 "\n", o->topic, part, off);
    }
    free(line);
    int rc = ticket ? pp_log_wait_durable(log, ticket, 30000) : 0;
    if (!status && rc)
        status = pp_cli_fail("log", 1, "append to %s: not durable: %s", o->topic, pp_err_str(rc));
    pp_log_close(log);
    return status;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        {"data-dir", required_argument, NULL, 'd'}, {"group", required_argument, NULL, 'g'},
        {"topic", required_argument, NULL, 't'},    {"partition", required_argument, NULL, 'p'},
        {"offset", required_argument, NULL, 'o'},   {"from-beginning", no_argument, NULL, 'b'},
        {"follow", no_argument, NULL, 'f'},         {"value-only", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           PP_CLI_LOG_OPTIONS,
        PP_CLI_CONNECT_OPTIONS,                     {NULL, 0, NULL, 0}};
    int c;
    int64_t v;
    optind = 1;
    opterr = 0;
    pp_log_conf_defaults(&o->log);
    while ((c = getopt_long(argc, argv, "ht:p:o:n:fX:", lopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->data_dir = optarg;
            break;
        case 'g':
            o->group = optarg;
            break;
        case 't':
            o->topic = optarg;
            break;
        case 'p':
            if (pp_parse_i64(optarg, 0, 65535, &v))
                return pp_cli_fail("log", 2, "--partition wants 0..65535, got '%s'", optarg);
            o->partition = (int)v;
            break;
        case 'o':
            if (pp_parse_i64(optarg, -INT64_MAX, INT64_MAX, &o->offset))
                return pp_cli_fail("log", 2, "--offset wants an integer, got '%s'", optarg);
            o->has_offset = 1;
            break;
        case 'n':
            if (pp_parse_i64(optarg, 0, INT64_MAX, &o->count))
                return pp_cli_fail("log", 2, "-n wants a count >= 0, got '%s'", optarg);
            o->has_count = 1;
            break;
        case 'b':
            o->from_beginning = 1;
            break;
        case 'f':
            o->follow = 1;
            break;
        case 'v':
            o->value_only = 1;
            break;
        case 'h':
            usage(stdout);
            return -1;
        default: {
            int rc = pp_cli_backend_opt("log", c, optarg, argv[optind - 1], &o->log, NULL);
            if (rc)
                return rc;
            break;
        }
        }
    }
    if (optind < argc)
        return pp_cli_fail("log", 2, "unexpected argument '%s' (see pinpipe log --help)",
                           argv[optind]);
    if (pp_cli_backend_check("log", &o->log))
        return 2;
    if (o->has_offset && o->from_beginning)
        return pp_cli_fail("log", 2, "--offset and --from-beginning exclude each other");
    return 0;
}

int cmd_log(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        usage(stdout);
        return 0;
    }
    if (strcmp(sub, "topics") && strcmp(sub, "offsets") && strcmp(sub, "tail") &&
        strcmp(sub, "append"))
        return pp_cli_fail("log", 2, "unknown subcommand '%s' (topics, offsets, tail or append)",
                           sub);
    struct opts o = {.data_dir = PP_DEFAULT_DATA_DIR, .partition = -1};
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((!strcmp(sub, "tail") || !strcmp(sub, "append")) && !o.topic)
        return pp_cli_fail("log", 2, "%s needs --topic (see pinpipe log --help)", sub);
    if (!strcmp(sub, "append"))
        return do_append(&o);
    int status = 0;
    struct pp_log *log = open_ro("log", &o, &status);
    if (!log)
        return status;
    if (!strcmp(sub, "topics"))
        status = do_topics(log);
    else if (!strcmp(sub, "offsets"))
        status = do_offsets(log, &o);
    else
        status = do_tail(log, &o);
    pp_log_close(log);
    return status;
}
