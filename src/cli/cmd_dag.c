/* cmd_dag.c: `pinpipe dag list|show|run|backfill|history`: the daily DAG on the built-in
 * scheduler (src/sched), its tasks run as pinpipe commands, its history in the warehouse. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_sched.h"
#include "pp_util.h"
#include "pp_wh.h"
#include "pp_workers.h"

#define DAG_NAME "pinpipe_daily"
#define DAG_MAX_DATES 400

/* The first task waits up to this long for the day to close (pinpipe lake --close-day
 * --wait), inside the task's 10 minute timeout. */
#define DAY_CLOSED_WAIT "9m"

struct dag_opts {
    const char *sub, *data_dir, *wh_path, *lake, *date, *from, *to, *metrics_listen;
    const char *close_grace; /* --close-grace for the day_closed task, or NULL */
    struct pp_worker_tls tls; /* --metrics-tls-cert/--metrics-tls-key */
    int retries, limit, catchup, allow_empty;
    int64_t retry_delay_ms;
};

#define DAG_NTASKS 4

struct dag_ctx {
    struct pp_sched_dag dag;
    char cmd[DAG_NTASKS][8192];
    struct pp_wh *wh;
    struct pp_sched_env real;
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: pinpipe dag list|show|run|backfill|history|schedule [options]\n\n"
        "The daily DAG '" DAG_NAME "' on pinpipe's own scheduler:\n"
        "  day_closed      the day is closed in the lake: every record of it is in committed,\n"
        "                  published lake files, and its _SUCCESS markers are written\n"
        "                  (pinpipe lake --close-day DATE --wait " DAY_CLOSED_WAIT ")\n"
        "  load            the day's lake files -> clean -> reconcile pin/geo/user into the\n"
        "                  warehouse (pinpipe batch --step load)\n"
        "  insights        the insights snapshot of the date (pinpipe batch --step insights)\n"
        "  quality         data-quality checks, stored with the run (pinpipe quality)\n"
        "each after the one before. Tasks run as pinpipe commands; a failed task is\n"
        "retried after --retry-delay (x2 per further retry), then the run is failed and\n"
        "later days still run. One run per date at a time, also across processes. Every\n"
        "task's state, attempts, start/end and error are kept in the warehouse (pp_dag_runs).\n\n"
        "  list                         the DAGs and their schedules\n"
        "  show                         tasks, dependencies, commands, retries\n"
        "  run --date YYYY-MM-DD        one run (default: yesterday, UTC)\n"
        "  backfill --from D --to D     a run for every date, oldest first (progress on\n"
        "                               stderr: a bar on a terminal, else a line every 5 s)\n"
        "  history [--limit N]          the newest task runs\n"
        "  schedule [--catchup]         run due dates as they come (@daily, after midnight\n"
        "                               UTC) until SIGTERM; with --catchup also every day\n"
        "                               missed since the last success\n"
        "    [--metrics-listen HOST:PORT]  GET /metrics (runs and task states counted),\n"
        "                               /healthz, /readyz (503 when the run history cannot\n"
        "                               be read or written) on HOST:PORT (port 0 = any free;\n"
        "                               the address goes to DIR/workers/schedule-<pid>/listen)\n"
        "    [--metrics-tls-cert FILE --metrics-tls-key FILE]  that endpoint over HTTPS (TLS\n"
        "                               1.2+, PEM chain and key; SIGHUP re-reads them)\n"
        "    [--allow-empty]            a day without lake data loads 0 records instead of\n"
        "                               failing the run (pinpipe run starts it so)\n"
        "    [--close-grace DURATION]   given to day_closed: a day closes no earlier than\n"
        "                               its end plus this (default 5m; run passes its own)\n\n"
        "options:\n"
        "  --data-dir DIR               (default %s)\n"
        "  --warehouse SPEC             SQLite file or postgresql:// URI\n"
        "  --lake DIR|s3://...          the lake the batch reads\n"
        "  --retries N                  retries of a failed task (default 1)\n"
        "  --retry-delay DURATION       before the first retry (default 2m, as the seeds' DAG)\n"
        "  -h, --help                   this help\n\n"
        "exit status: 0 every run succeeded, 1 a run failed or is running elsewhere,\n"
        "2 usage error\n",
        PP_DEFAULT_DATA_DIR);
}

/* Append s single-quoted for sh. */
static void shq(char *out, size_t size, const char *s)
{
    size_t n = strlen(out);
    if (n + 2 >= size)
        return;
    out[n++] = '\'';
    for (; *s && n + 5 < size; s++) {
        if (*s == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else {
            out[n++] = *s;
        }
    }
    out[n++] = '\'';
    out[n] = '\0';
}

static void append(char *out, size_t size, const char *s)
{
    size_t n = strlen(out);
    snprintf(out + n, size - n, "%s", s);
}

/* "<exe> <sub> --date {date} --data-dir D [--warehouse W] [--lake L]" into out. */
static void day_command(char *out, size_t size, const char *exe, const char *sub,
                        const struct dag_opts *o)
{
    out[0] = '\0';
    shq(out, size, exe);
    append(out, size, " ");
    append(out, size, sub);
    append(out, size, " --date {date} --data-dir ");
    shq(out, size, o->data_dir);
    if (o->wh_path) {
        append(out, size, " --warehouse ");
        shq(out, size, o->wh_path);
    }
    if (o->lake) {
        append(out, size, " --lake ");
        shq(out, size, o->lake);
    }
}

static void build_dag(struct dag_ctx *c, const struct dag_opts *o)
{
    char exe[PATH_MAX];
    if (pp_cli_self_exe(exe, sizeof(exe)))
        snprintf(exe, sizeof(exe), "pinpipe"); /* from PATH, then */
    static const struct {
        const char *name, *after, *sub;
        int64_t timeout_ms;
    } tasks[DAG_NTASKS] = {
        {"day_closed", NULL, NULL, 600000},
        {"load", "day_closed", "batch --step load --quiet", 3600000},
        {"insights", "load", "batch --step insights --quiet", 3600000},
        /* its table is in the warehouse; the scheduler keeps stderr's last line */
        {"quality", "insights", "quality", 3600000},
    };
    /* day_closed: wait for the day's markers (pinpipe lake --close-day) */
    char *st = c->cmd[0];
    st[0] = '\0';
    shq(st, sizeof(c->cmd[0]), exe);
    append(st, sizeof(c->cmd[0]), " lake --close-day {date} --wait " DAY_CLOSED_WAIT " --data-dir ");
    shq(st, sizeof(c->cmd[0]), o->data_dir);
    if (o->lake) {
        append(st, sizeof(c->cmd[0]), " --lake ");
        shq(st, sizeof(c->cmd[0]), o->lake);
    }
    if (o->close_grace) {
        append(st, sizeof(c->cmd[0]), " --close-grace ");
        shq(st, sizeof(c->cmd[0]), o->close_grace);
    }
    append(st, sizeof(c->cmd[0]), " >/dev/null");
    memset(&c->dag, 0, sizeof(c->dag));
    c->dag.name = DAG_NAME;
    c->dag.schedule = "@daily";
    c->dag.catchup = 1;
    c->dag.ntasks = DAG_NTASKS;
    for (int i = 0; i < DAG_NTASKS; i++) {
        if (tasks[i].sub) {
            day_command(c->cmd[i], sizeof(c->cmd[i]), exe, tasks[i].sub, o);
            if (o->allow_empty && !strcmp(tasks[i].name, "load"))
                append(c->cmd[i], sizeof(c->cmd[i]), " --allow-empty");
            append(c->cmd[i], sizeof(c->cmd[i]), " >/dev/null");
        }
        c->dag.tasks[i] = (struct pp_sched_task){.name = tasks[i].name,
                                                 .command = c->cmd[i],
                                                 .deps = {tasks[i].after},
                                                 .retries = o->retries,
                                                 .retry_delay_ms = o->retry_delay_ms,
                                                 .backoff = 2,
                                                 .timeout_ms = tasks[i].timeout_ms};
    }
}

/* pp_sched_env.record: every state change goes to the warehouse's history. */
static int record(void *arg, const struct pp_sched_task_run *tr)
{
    struct dag_ctx *c = arg;
    struct pp_wh_dag_task t = {
        tr->dag,      tr->date,
        tr->task,     tr->state == PP_SCHED_NONE ? "up_for_retry" : pp_sched_state_name(tr->state),
        tr->attempts, tr->start_ms,
        tr->end_ms,   tr->error};
    int rc = pp_wh_dag_record(c->wh, &t);
    pp_workers_dag_task(t.state, rc == 0);
    if (rc)
        PP_WARN("dag", "cannot record the task's state in the warehouse task=%s error=%s", tr->task,
                pp_wh_errmsg(c->wh));
    return rc;
}

/* Forwarders from the context to the real environment (record is ours). */
static int64_t now_ms(void *arg)
{
    return ((struct dag_ctx *)arg)->real.now_ms(((struct dag_ctx *)arg)->real.arg);
}
static void sleep_ms(void *arg, int64_t ms)
{
    ((struct dag_ctx *)arg)->real.sleep_ms(((struct dag_ctx *)arg)->real.arg, ms);
}
static int exec_task(void *arg, const struct pp_sched_task *t, const char *date, int64_t timeout,
                     char *err, size_t n)
{
    struct dag_ctx *c = arg;
    return c->real.exec(c->real.arg, t, date, timeout, err, n);
}
static int lock(void *arg, const char *dag, const char *date)
{
    return ((struct dag_ctx *)arg)->real.lock(((struct dag_ctx *)arg)->real.arg, dag, date);
}
static void unlock(void *arg, const char *dag, const char *date)
{
    ((struct dag_ctx *)arg)->real.unlock(((struct dag_ctx *)arg)->real.arg, dag, date);
}

static int run_dates(struct dag_ctx *c, const struct dag_opts *o, char (*dates)[11], int n)
{
    char lock_dir[4200];
    pp_cli_path(o->data_dir, "sched", lock_dir, sizeof(lock_dir));
    pp_sched_env_real(&c->real, lock_dir);
    struct pp_sched_env env = {c, now_ms, sleep_ms, exec_task, record, lock, unlock};
    int failed = 0, nfailed = 0;
    struct pp_progress prog; /* over the dates of a backfill */
    pp_cli_progress(&prog, "backfill", "days", n);
    if (n < 2)
        prog.mode = PP_PROGRESS_OFF;
    for (int i = 0; i < n && !pp_cli_stop; i++) {
        struct pp_sched_task_run runs[PP_SCHED_MAX_TASKS];
        char detail[64];
        snprintf(detail, sizeof(detail), "running %s, %d failed", dates[i], nfailed);
        pp_progress_update(&prog, pp_mono_us(), i, detail);
        PP_DEBUG("dag", "run dag=%s date=%s", DAG_NAME, dates[i]);
        int rc = pp_sched_run(&c->dag, dates[i], &env, runs);
        pp_progress_clear(&prog); /* the run's lines below, then the bar again */
        nfailed += rc != PP_SCHED_SUCCESS;
        if (rc == PP_EBUSY) {
            fprintf(stderr, "pinpipe dag: %s %s is running in another process\n", DAG_NAME,
                    dates[i]);
            failed = 1;
            continue;
        }
        printf("%s %s %s\n", DAG_NAME, dates[i], pp_sched_state_name(rc));
        pp_workers_dag_run(pp_sched_state_name(rc));
        for (int t = 0; t < c->dag.ntasks; t++)
            printf("  %-15s %-16s attempts=%d%s%s\n", runs[t].task,
                   pp_sched_state_name(runs[t].state), runs[t].attempts,
                   runs[t].error[0] ? " error=" : "", runs[t].error);
        fflush(stdout);
        failed |= rc != PP_SCHED_SUCCESS;
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "%d failed", nfailed);
    pp_progress_finish(&prog, pp_mono_us(), n, detail);
    return failed ? 1 : 0;
}

/* The newest run date whose load succeeded (history callback; "batch" is the task's name
 * in histories from before the load/insights split). */
static void last_success(void *arg, const struct pp_wh_dag_task *t)
{
    char *best = arg;
    if ((!strcmp(t->task, "load") || !strcmp(t->task, "batch")) && !strcmp(t->state, "success") &&
        strcmp(t->run_date, best) > 0)
        snprintf(best, 11, "%s", t->run_date);
}

/* /readyz of `schedule --metrics-listen`: the run history (warehouse) was reachable last. */
static int sched_ready(void *arg, char *why, size_t why_size)
{
    (void)arg;
    if (pp_workers_dag_wh_ok())
        return 1;
    snprintf(why, why_size, "warehouse: the run history cannot be read or written");
    return 0;
}

/* `pinpipe dag schedule`: run what is due, then sleep until the schedule's next time. */
static int schedule(struct dag_ctx *c, struct dag_opts *o)
{
    struct pp_cron cron;
    char err[160];
    if (pp_cron_parse(c->dag.schedule, &cron, err, sizeof(err)))
        return pp_cli_fail("dag", 1, "%s", err);
    c->dag.catchup = o->catchup;
    int failed = 0;
    PP_INFO("dag", "scheduling dag=%s schedule=%s catchup=%d", c->dag.name, c->dag.schedule,
            o->catchup);
    struct pp_worker_http *mh = NULL;
    if (o->metrics_listen &&
        !(mh = pp_worker_http_start("schedule", o->data_dir, o->metrics_listen, &o->tls,
                                    pp_collect_dag,
                                    NULL, sched_ready, NULL, err, sizeof(err))))
        return pp_cli_fail("dag", 1, "%s", err);
    while (!pp_cli_stop) {
        static char dates[DAG_MAX_DATES][11];
        char last[11] = "";
        int hrc = pp_wh_dag_history(c->wh, DAG_NAME, 100000, last_success, last);
        pp_workers_dag_wh_set(hrc >= 0);
        if (hrc < 0)
            PP_WARN("dag", "cannot read the run history: %s", pp_wh_errmsg(c->wh));
        int n = pp_sched_due(&c->dag, last[0] ? last : NULL, pp_now_ms(), dates, DAG_MAX_DATES);
        if (n > 0)
            failed |= run_dates(c, o, dates, n);
        int64_t next = pp_cron_next(&cron, pp_now_ms() / 1000);
        /* sleep in short steps so SIGTERM stops it promptly */
        while (!pp_cli_stop && next > 0 && pp_now_ms() / 1000 < next)
            usleep(200 * 1000);
    }
    pp_worker_http_stop(mh);
    return failed;
}

static void print_history(void *arg, const struct pp_wh_dag_task *t)
{
    (void)arg;
    char start[24] = "-", end[24] = "-";
    if (t->start_ms)
        pp_time_format(t->start_ms / 1000, start, sizeof(start));
    if (t->end_ms)
        pp_time_format(t->end_ms / 1000, end, sizeof(end));
    printf("%-14s %-10s %-15s %-16s %8d  %-19s  %-19s  %s\n", t->dag, t->run_date, t->task,
           t->state, t->attempts, start, end, t->error ? t->error : "");
}

static int parse(int argc, char **argv, struct dag_opts *o)
{
    static const struct option opts[] = {
        {"data-dir", 1, 0, 'd'}, {"warehouse", 1, 0, 'w'},   {"lake", 1, 0, 'l'},
        {"date", 1, 0, 'D'},     {"from", 1, 0, 'F'},        {"to", 1, 0, 'T'},
        {"retries", 1, 0, 'r'},  {"retry-delay", 1, 0, 'R'}, {"limit", 1, 0, 'n'},
        {"catchup", 0, 0, 'c'},  {"help", 0, 0, 'h'},        {"metrics-listen", 1, 0, 'M'},
        {"allow-empty", 0, 0, 'E'},   {"metrics-tls-cert", 1, 0, 'C'},
        {"metrics-tls-key", 1, 0, 'K'}, {"close-grace", 1, 0, 'G'},
        {0, 0, 0, 0}};
    int c;
    int64_t v, ms;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->data_dir = optarg;
            break;
        case 'w':
            o->wh_path = optarg;
            break;
        case 'l':
            o->lake = optarg;
            break;
        case 'D':
        case 'F':
        case 'T':
            if (pp_date_parse(optarg, &ms))
                return pp_cli_fail("dag", 2, "dates are YYYY-MM-DD, got '%s'", optarg);
            *(c == 'D' ? &o->date : c == 'F' ? &o->from : &o->to) = optarg;
            break;
        case 'r':
            if (pp_parse_i64(optarg, 0, 20, &v))
                return pp_cli_fail("dag", 2, "--retries wants 0..20, got '%s'", optarg);
            o->retries = (int)v;
            break;
        case 'R':
            if (pp_parse_duration_ms(optarg, &o->retry_delay_ms))
                return pp_cli_fail("dag", 2, "--retry-delay wants a duration, got '%s'", optarg);
            break;
        case 'n':
            if (pp_parse_i64(optarg, 1, 1000000, &v))
                return pp_cli_fail("dag", 2, "--limit wants 1..1000000, got '%s'", optarg);
            o->limit = (int)v;
            break;
        case 'c':
            o->catchup = 1;
            break;
        case 'E':
            o->allow_empty = 1;
            break;
        case 'G':
            if (pp_parse_duration_ms(optarg, &ms) || ms < 0)
                return pp_cli_fail("dag", 2, "--close-grace wants a duration (e.g. 5m), got '%s'",
                                   optarg);
            o->close_grace = optarg;
            break;
        case 'C':
            o->tls.cert = optarg;
            break;
        case 'K':
            o->tls.key = optarg;
            break;
        case 'M': {
            char host[256];
            int port;
            if (pp_parse_hostport(optarg, host, sizeof(host), &port))
                return pp_cli_fail("dag", 2, "--metrics-listen wants HOST:PORT, got '%s'", optarg);
            o->metrics_listen = optarg;
            break;
        }
        case 'h':
            usage(stdout);
            return -1;
        default:
            return pp_cli_fail("dag", 2, "bad option '%s' (see pinpipe dag --help)",
                               argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return pp_cli_fail("dag", 2, "which: list, show, run, backfill or history?");
    o->sub = argv[optind];
    if (optind + 1 < argc)
        return pp_cli_fail("dag", 2, "unexpected argument '%s'", argv[optind + 1]);
    return pp_worker_tls_check("dag", o->metrics_listen, &o->tls);
}

int cmd_dag(int argc, char **argv)
{
    struct dag_opts o = {
        .data_dir = PP_DEFAULT_DATA_DIR, .retries = 1, .retry_delay_ms = 120000, .limit = 50};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    static struct dag_ctx c;
    build_dag(&c, &o);
    if (!strcmp(o.sub, "list")) {
        printf("%-14s %-9s %s\n%-14s %-9s %s\n", "dag", "schedule", "tasks", DAG_NAME, "@daily",
               "day_closed -> load -> insights -> quality");
        return 0;
    }
    if (!strcmp(o.sub, "show")) {
        for (int i = 0; i < c.dag.ntasks; i++) {
            const struct pp_sched_task *t = &c.dag.tasks[i];
            printf("task %s\n  after    %s\n  retries  %d (first after %lld ms, x2 after that)\n"
                   "  timeout  %lld ms\n  command  %s\n",
                   t->name, t->deps[0] ? t->deps[0] : "-", t->retries, (long long)t->retry_delay_ms,
                   (long long)t->timeout_ms, t->command);
        }
        return 0;
    }
    char dates[DAG_MAX_DATES][11];
    int n = 0;
    if (!strcmp(o.sub, "run")) {
        if (o.date)
            snprintf(dates[0], sizeof(dates[0]), "%s", o.date);
        else
            pp_date_format(pp_now_ms() - 86400000, dates[0], sizeof(dates[0]));
        n = 1;
    } else if (!strcmp(o.sub, "backfill")) {
        if (!o.from || !o.to)
            return pp_cli_fail("dag", 2, "backfill needs --from and --to");
        n = pp_sched_backfill_dates(o.from, o.to, dates, DAG_MAX_DATES);
        if (n < 0)
            return pp_cli_fail("dag", 2, "--from %s is after --to %s", o.from, o.to);
    } else if (strcmp(o.sub, "history") && strcmp(o.sub, "schedule")) {
        return pp_cli_fail("dag", 2,
                           "unknown subcommand '%s' (list, show, run, backfill, schedule, "
                           "history)",
                           o.sub);
    }
    char wh_default[4200], err[512];
    pp_cli_path(o.data_dir, "warehouse.db", wh_default, sizeof(wh_default));
    if (!o.wh_path && strcmp(o.sub, "history"))
        mkdir(o.data_dir, 0755); /* a fresh install: the default warehouse lives there */
    c.wh = pp_wh_open(o.wh_path ? o.wh_path : wh_default, err, sizeof(err));
    if (!c.wh)
        return pp_cli_fail("dag", 1, "warehouse: %s", err);
    if (!strcmp(o.sub, "history")) {
        printf("%-14s %-10s %-15s %-16s %8s  %-19s  %-19s  %s\n", "dag", "run_date", "task",
               "state", "attempts", "start", "end", "error");
        rc = pp_wh_dag_history(c.wh, NULL, o.limit, print_history, NULL);
        pp_wh_close(c.wh);
        return rc < 0 ? pp_cli_fail("dag", 1, "history: %s", pp_err_str(rc)) : 0;
    }
    pp_cli_signals();
    rc = !strcmp(o.sub, "schedule") ? schedule(&c, &o) : run_dates(&c, &o, dates, n);
    pp_wh_close(c.wh);
    return rc;
}

int cmd_schedule(int argc, char **argv)
{
    /* `pinpipe schedule [options]` is `pinpipe dag schedule [options]` */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: pinpipe schedule [--catchup] [options]   (= pinpipe dag schedule)\n\n");
            usage(stdout);
            return 0;
        }
    static char *args[256];
    if (argc + 2 > (int)(sizeof(args) / sizeof(args[0])))
        return pp_cli_fail("schedule", 2, "too many arguments");
    args[0] = "dag";
    for (int i = 1; i < argc; i++)
        args[i] = argv[i];
    args[argc] = "schedule";
    args[argc + 1] = NULL;
    return cmd_dag(argc + 1, args);
}
