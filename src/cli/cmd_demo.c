/* cmd_demo.c: `pinpipe demo`: the whole embedded pipeline on sample data, end to end. */
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_runner.h"
#include "pp_util.h"

#define DEMO_TOP_ROWS 3 /* rows of each insight the demo prints */
#define DEMO_DATA_DIR PP_DEFAULT_DATA_DIR "/demo"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pinpipe demo [options]\n\n"
            "Start the embedded pipeline (as `pinpipe run`), emulate users posting the real\n"
            "sample (../shared/data/aicore_events.jsonl when present, generated rows\n"
            "otherwise), wait until the warehouse has caught up, run the daily batch for\n"
            "today, print the insights and where everything lives.\n\n"
            "options:\n"
            "  --data-dir DIR     demo data dir, emptied first (default %s)\n"
            "  --api SHAPE        fastapi | rest-proxy | kinesis (default fastapi)\n"
            "  --events N         events to emulate when generating rows (default 11154)\n"
            "  --sample FILE      events file to replay (default: found automatically)\n"
            "  --generate         emulate generated rows even when the sample is there\n"
            "  --concurrency C    client connections (default 16)\n"
            "  --fsync POLICY     always | interval:<ms> | never (default interval:5)\n"
            "  -h, --help         this text\n",
            DEMO_DATA_DIR);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Empty a previous demo's data dir; refuse to touch a folder that is not one. */
static int reset_dir(const char *dir)
{
    struct stat st;
    if (stat(dir, &st))
        return 0;
    char probe[PATH_MAX];
    snprintf(probe, sizeof(probe), "%s/log", dir);
    if (stat(probe, &st)) {
        snprintf(probe, sizeof(probe), "%s/warehouse.db", dir);
        if (stat(probe, &st))
            return pp_cli_fail("demo", 1, "%s exists and is not a pinpipe data dir; choose "
                                          "another --data-dir", dir);
    }
    return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) ? pp_cli_fail("demo", 1,
                                                                      "cannot empty %s", dir)
                                                         : 0;
}

/* The real sample: $PP_SHARED/data, ../shared/data beside the repo the binary was built in,
 * or ../shared/data from the current directory. */
static int find_sample(char *out, size_t size)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    const char *env = getenv("PP_SHARED");
    if (env) {
        snprintf(cand, sizeof(cand), "%s/data/aicore_events.jsonl", env);
        if (!access(cand, R_OK))
            return snprintf(out, size, "%s", cand), 1;
    }
    if (!pp_cli_self_exe(exe, sizeof(exe))) {
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = '\0';
            snprintf(cand, sizeof(cand), "%s/../shared/data/aicore_events.jsonl", exe);
            if (!access(cand, R_OK))
                return snprintf(out, size, "%s", cand), 1;
        }
    }
    snprintf(cand, sizeof(cand), "../shared/data/aicore_events.jsonl");
    if (!access(cand, R_OK))
        return snprintf(out, size, "%s", cand), 1;
    return 0;
}

struct demo_opts {
    const char *data_dir, *api, *events, *sample, *concurrency, *fsync;
    int generate;
};

static int parse(int argc, char **argv, struct demo_opts *o)
{
    static const struct option opts[] = {
        {"data-dir", 1, 0, 'd'}, {"api", 1, 0, 'a'},         {"events", 1, 0, 'n'},
        {"sample", 1, 0, 's'},   {"concurrency", 1, 0, 'c'}, {"fsync", 1, 0, 'f'},
        {"generate", 0, 0, 'g'}, {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': o->data_dir = optarg; break;
        case 'a': o->api = optarg; break;
        case 'n': o->events = optarg; break;
        case 's': o->sample = optarg; break;
        case 'c': o->concurrency = optarg; break;
        case 'f': o->fsync = optarg; break;
        case 'g': o->generate = 1; break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc)
        return pp_cli_fail("demo", 2, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

static int run_cmd(int (*fn)(int, char **), char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    optind = 0;
    return fn(argc, argv);
}

static int wait_caught_up(struct pp_runner *run, int timeout_s)
{
    int64_t deadline = pp_mono_us() + (int64_t)timeout_s * 1000000;
    while (!pp_runner_caught_up(run)) {
        if (pp_mono_us() > deadline || pp_cli_stop)
            return PP_ETIMEDOUT;
        usleep(10 * 1000);
    }
    return 0;
}

/* Step 3's report: the first rows of each insight (the whole tables are one command away). */
static void print_top_insights(const char *wh_path, int rows)
{
    char err[256], *text = NULL;
    size_t len = 0;
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    FILE *mem = wh ? open_memstream(&text, &len) : NULL;
    int rc = mem ? pp_wh_insights_print(wh, PP_WH_TABLE, mem) : PP_EIO;
    if (mem)
        fclose(mem);
    pp_wh_close(wh);
    if (rc || !text) {
        PP_WARN("demo", "cannot print the insights: %s", wh ? "query failed" : err);
        free(text);
        return;
    }
    /* a title line per insight, two header lines, its rows, a blank line */
    long seen = 0, shown = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == ' ') { /* header or row */
            if (seen++ < rows + 2)
                printf("%s\n", line), shown++;
            continue;
        }
        if (seen > shown)
            printf("  ... %ld more\n", seen - shown);
        seen = shown = 0;
        if (line[0] || next)
            printf("%s\n", line);
    }
    printf("(the first %d rows of each; all of them: pinpipe insights --warehouse %s)\n", rows,
           wh_path);
    free(text);
}

/* Step 2's report: rows per warehouse table and the stream's latency. */
static void print_loaded(const char *wh_path, const struct pp_stream_stats *stats)
{
    char err[256];
    int64_t n[PP_KIND_COUNT] = {0};
    struct pp_wh *wh = pp_wh_open(wh_path, err, sizeof(err));
    for (int k = 0; wh && k < PP_KIND_COUNT; k++)
        pp_wh_count(wh, (enum pp_kind)k, &n[k]);
    pp_wh_close(wh);
    printf("\n== 2. stream: the warehouse caught up with the log ==\n"
           "records    %lld consumed, %lld rejected\n"
           "rows       pin %lld, geo %lld, user %lld (deduplicated by id)\n"
           "latency    ingest -> warehouse row p50 %.1f ms, p99 %.1f ms\n",
           (long long)stats->records, (long long)stats->rejected, (long long)n[PP_KIND_PIN],
           (long long)n[PP_KIND_GEO], (long long)n[PP_KIND_USER], pp_stream_latency_ms(stats, 0.5),
           pp_stream_latency_ms(stats, 0.99));
    fflush(stdout);
}

int cmd_demo(int argc, char **argv)
{
    struct demo_opts o = {DEMO_DATA_DIR, "fastapi", "11154", NULL, "16", "interval:5", 0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    char sample[PATH_MAX + 64];
    int real = o.generate  ? 0
               : o.sample ? (snprintf(sample, sizeof(sample), "%s", o.sample), 1)
                          : find_sample(sample, sizeof(sample));
    char resolved[PATH_MAX];
    if (real && realpath(sample, resolved))
        snprintf(sample, sizeof(sample), "%s", resolved);
    if ((rc = reset_dir(o.data_dir)))
        return rc;
    pp_cli_signals();

    struct pp_runner_conf conf;
    pp_runner_conf_defaults(&conf);
    conf.data_dir = o.data_dir;
    conf.http.listen = "127.0.0.1:0";
    if (pp_cli_parse_fsync(o.fsync, &conf.log))
        return pp_cli_fail("demo", 2, "bad --fsync '%s'", o.fsync);
    static struct pp_runner run;
    char err[512] = "", url[64];
    if (pp_runner_start(&run, &conf, err, sizeof(err)))
        return pp_cli_fail("demo", 1, "%s", err);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", pp_http_port(run.http));
    printf("== 1. ingest: users posting to %s (%s API), from %s ==\n"
           "   (live dashboard while it runs: %s/)\n",
           url, o.api, real ? sample : "generated rows", url);
    fflush(stdout);

    char *emu_replay[] = {"emulate", "--url", url, "--api", (char *)o.api, "--replay", sample,
                          "--concurrency", (char *)o.concurrency, NULL};
    char *emu_gen[] = {"emulate", "--url", url, "--api", (char *)o.api, "--events",
                       (char *)o.events, "--concurrency", (char *)o.concurrency, NULL};
    int erc = run_cmd(cmd_emulate, real ? emu_replay : emu_gen);
    if (erc) {
        pp_runner_stop(&run);
        return pp_cli_fail("demo", 1, "the emulator reported failures (see above)");
    }
    if (wait_caught_up(&run, 120)) {
        pp_runner_stop(&run);
        return pp_cli_fail("demo", 1, "the warehouse did not catch up with the log in 120 s");
    }
    struct pp_stream_stats stats = run.stream_stats;
    pp_runner_stop(&run);
    print_loaded(run.wh_path, &stats);

    char today[16];
    pp_date_format(pp_now_ms(), today, sizeof(today));
    printf("\n== 3. batch for %s: lake -> clean -> reconcile into the warehouse -> insights ==\n",
           today);
    fflush(stdout);
    char *batch[] = {"batch", "--date", today, "--data-dir", (char *)o.data_dir, "--quiet", NULL};
    if (run_cmd(cmd_batch, batch))
        return pp_cli_fail("demo", 1, "the batch run for %s failed", today);
    print_top_insights(run.wh_path, DEMO_TOP_ROWS);

    printf("\n== where everything lives (data dir %s) ==\n"
           "  log        %s   (pinpipe log topics --data-dir %s)\n"
           "  lake       %s   (topic=<t>/dt=%s/*.jsonl)\n"
           "  warehouse  %s   (pinpipe insights --warehouse %s --format json)\n"
           "  dashboard  pinpipe run --data-dir %s, then open http://%s/\n",
           o.data_dir, run.log_dir, o.data_dir, run.lake_path, today, run.wh_path, run.wh_path,
           o.data_dir, PP_DEFAULT_LISTEN);
    return 0;
}
