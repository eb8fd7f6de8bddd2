/* cmd_emulate.c: `pinpipe emulate`: users posting pin/geo/user records to an ingestion API. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_gen.h"
#include "pp_mysql.h"
#include "pp_util.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: pinpipe emulate --url URL [--api fastapi|rest-proxy|kinesis]\n"
        "                       [--source DIR | --source URL [--source-mode M] |\n"
        "                        --replay FILE] [--rows N]\n"
        "                       [--events N | -n N] [--rate R] [--concurrency C]\n"
        "                       [--seed S] [--topic-prefix P] [--quiet] [--json]\n"
        "\n"
        "Emulate users posting to Pinterest, as the seeds' user_posting_emulation.py does: each\n"
        "event picks a random row (with replacement, so rows are resent) and sends its pin, geo\n"
        "and user records, which share one id, in that order.\n"
        "\n"
        "  --url URL            base URL of the ingestion API (required)\n"
        "  --api SHAPE          fastapi (POST URL/pin/), rest-proxy (POST URL/topics/P.pin,\n"
        "                       Kafka REST Proxy v2 JSON) or kinesis (PUT\n"
        "                       URL/streams/streaming-P-pin/record); default fastapi\n"
        "  --source DIR         rows from DIR's pin/geo/user tables: pin.jsonl, geo.jsonl,\n"
        "                       user.jsonl as `pinpipe gen` writes them, or any *pin*.jsonl,\n"
        "                       *geo*.jsonl, *user*.jsonl (aicore_sample_pin.jsonl ...);\n"
        "                       records are sent byte for byte as in the files\n"
        "  --source URL         rows from the seeds' MySQL/MariaDB source tables\n"
        "                       pinterest_data, geolocation_data and user_data, URL\n"
        "                       mysql://user[:password]@host[:port]/db (or mariadb://;\n"
        "                       ?socket=PATH; %%-escapes allowed; without a password in the\n"
        "                       URL, MYSQL_PWD is used; a port means TCP, also for\n"
        "                       localhost). Each row becomes the JSON record the file\n"
        "                       sources carry: columns in table order, DATETIME as\n"
        "                       \"YYYY-MM-DD HH:MM:SS\", NULL as null. `pinpipe gen --mysql`\n"
        "                       creates and fills these tables.\n"
        "  --source-mode M      how a MySQL source is read:\n"
        "                       random  (default) as the seeds' emulator: per event a random\n"
        "                               offset n and `SELECT * FROM <table> LIMIT n,1` of\n"
        "                               each table with that same n\n"
        "                       index   a random pin row by LIMIT n,1, its geo and user rows\n"
        "                               by `WHERE ind = <its index>`\n"
        "                       stream  each table read once, whole, in id order (streamed,\n"
        "                               not held in memory), joined by id: every row sent\n"
        "                               once (ids missing from a table are skipped);\n"
        "                               --events defaults to all of them\n"
        "  --replay FILE        replay an events file in order, one\n"
        "                       {\"pin\":{..},\"geo\":{..},\"user\":{..}} per line\n"
        "                       (aicore_events.jsonl); every event is sent once\n"
        "  --rows N             without --source/--replay: generated rows (as `pinpipe gen\n"
        "                       --seed S`) with ids 0..N-1 to pick from (default 11154)\n"
        "  --events N, -n N     events to send (an event = 3 requests). Default 1000; with\n"
        "                       --replay or --source-mode stream, all rows; 0 = until\n"
        "                       interrupted (or the end of the stream).\n"
        "                       (--events takes the count, as the original issue asked; the\n"
        "                       events *file* is given with --replay.)\n"
        "  --events-count N     same as --events N\n"
        "  --rate R             events per second (0 = as fast as possible, the default)\n"
        "  --concurrency C      parallel HTTP/1.1 keep-alive connections (default 4)\n"
        "  --seed S             random seed for row picks and generated rows (default 100)\n"
        "  --topic-prefix P     id before the kind in topic/stream names (default 0a1b2c3d4e5f)\n"
        "  --attempts N         tries per request, the first included (default 8); with no\n"
        "                       HTTP answer at all for 30 s (connections refused) it gives up\n"
        "  --quiet, -q          no progress output (--verbose: debug diagnostics)\n"
        "  --json               print the summary as one JSON object\n"
        "\n"
        "With $PINPIPE_API_KEY set (serve --api-keys), requests carry that key as each API's\n"
        "clients send it: FastAPI Authorization: Bearer, REST proxy Basic, Kinesis x-api-key.\n"
        "\n"
        "503, 5xx, 408, 429 and connection errors are retried with exponential backoff and\n"
        "jitter, honouring Retry-After. Other 4xx responses are rejections: counted, and the\n"
        "first few printed on stderr with the response body. Progress goes to stderr (a bar on\n"
        "a terminal, a line every 5 s otherwise); the summary to stdout.\n"
        "\n"
        "Exit status: 0 all requests acknowledged, 1 some request was rejected or finally\n"
        "failed (or setup failed), 2 usage error.\n");
}

static int parse_api(const char *s)
{
    if (!strcmp(s, "fastapi"))
        return PP_EMU_FASTAPI;
    if (!strcmp(s, "rest-proxy") || !strcmp(s, "restproxy") || !strcmp(s, "kafka-rest"))
        return PP_EMU_RESTPROXY;
    if (!strcmp(s, "kinesis"))
        return PP_EMU_KINESIS;
    return -1;
}

static void summary(const struct pp_emu_stats *st, int json)
{
    double rps = st->elapsed_s > 0 ? (double)st->sent / st->elapsed_s : 0;
    if (json) {
        printf("{\"events\":%lld,\"sent\":%lld,\"acked\":%lld,\"rejected\":%lld,"
               "\"retried\":%lld,\"failed\":%lld,\"elapsed_s\":%.3f,\"req_per_s\":%.1f,"
               "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f}\n",
               (long long)st->events, (long long)st->sent, (long long)st->acked,
               (long long)st->rejected, (long long)st->retried, (long long)st->failed,
               st->elapsed_s, rps, st->p50_ms, st->p99_ms);
        return;
    }
    printf("events     %lld\n"
           "sent       %lld\n"
           "acked      %lld\n"
           "rejected   %lld\n"
           "retried    %lld\n"
           "failed     %lld\n"
           "elapsed    %.3f s\n"
           "rate       %.1f req/s\n"
           "latency    p50 %.3f ms, p99 %.3f ms\n",
           (long long)st->events, (long long)st->sent, (long long)st->acked,
           (long long)st->rejected, (long long)st->retried, (long long)st->failed, st->elapsed_s,
           rps, st->p50_ms, st->p99_ms);
}

int cmd_emulate(int argc, char **argv)
{
    enum { O_COUNT = 256, O_PREFIX, O_ATTEMPTS, O_JSON, O_MODE };
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"api", required_argument, NULL, 'a'},
                                         {"source", required_argument, NULL, 's'},
                                         {"replay", required_argument, NULL, 'f'},
                                         {"source-mode", required_argument, NULL, O_MODE},
                                         {"rows", required_argument, NULL, 'r'},
                                         {"events", required_argument, NULL, 'n'},
                                         {"events-count", required_argument, NULL, 'n'},
                                         {"rate", required_argument, NULL, 'R'},
                                         {"concurrency", required_argument, NULL, 'c'},
                                         {"seed", required_argument, NULL, 'S'},
                                         {"topic-prefix", required_argument, NULL, O_PREFIX},
                                         {"attempts", required_argument, NULL, O_ATTEMPTS},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"json", no_argument, NULL, O_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct pp_emu_conf conf = {.api = PP_EMU_FASTAPI,
                               .prefix = "0a1b2c3d4e5f",
                               .rows = 11154,
                               .events = -1,
                               .concurrency = 4,
                               .seed = 100,
                               .max_attempts = 8,
                               .api_key = getenv("PINPIPE_API_KEY")};
    int quiet = 0, json = 0, c, mode = -1;
    int64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "u:a:n:c:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            conf.url = optarg;
            break;
        case 'a':
            if ((conf.api = parse_api(optarg)) < 0)
                return pp_cli_fail(argv[0], 2, "--api wants fastapi, rest-proxy or kinesis");
            break;
        case 's':
            conf.source_dir = optarg;
            break;
        case 'f':
            conf.replay_file = optarg;
            break;
        case O_MODE:
            mode = !strcmp(optarg, "random")   ? PP_MYSQL_RANDOM
                   : !strcmp(optarg, "index")  ? PP_MYSQL_INDEX
                   : !strcmp(optarg, "stream") ? PP_MYSQL_STREAM
                                               : -2;
            if (mode == -2)
                return pp_cli_fail(argv[0], 2, "--source-mode wants random, index or stream");
            break;
        case 'r':
            if (pp_parse_i64(optarg, 1, INT64_MAX / 2, &conf.rows))
                return pp_cli_fail(argv[0], 2, "--rows wants a count >= 1");
            break;
        case 'n':
            if (pp_parse_i64(optarg, 0, INT64_MAX / 2, &conf.events))
                return pp_cli_fail(argv[0], 2,
                                   "--events wants a count (the events file is --replay FILE)");
            break;
        case 'R': {
            char *end;
            conf.rate = strtod(optarg, &end);
            if (end == optarg || (*end && strcmp(end, "/s")) || conf.rate < 0)
                return pp_cli_fail(argv[0], 2, "--rate wants events per second >= 0");
            break;
        }
        case 'c':
            if (pp_parse_i64(optarg, 1, 4096, &v))
                return pp_cli_fail(argv[0], 2, "--concurrency wants 1..4096");
            conf.concurrency = (int)v;
            break;
        case 'S':
            if (pp_parse_i64(optarg, INT64_MIN, INT64_MAX, &v))
                return pp_cli_fail(argv[0], 2, "--seed wants an integer");
            conf.seed = (uint64_t)v;
            break;
        case O_PREFIX:
            conf.prefix = optarg;
            break;
        case O_ATTEMPTS:
            if (pp_parse_i64(optarg, 1, 100, &v))
                return pp_cli_fail(argv[0], 2, "--attempts wants 1..100");
            conf.max_attempts = (int)v;
            break;
        case 'q':
            quiet = 1;
            break;
        case O_JSON:
            json = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return pp_cli_fail(argv[0], 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!conf.url)
        return pp_cli_fail(argv[0], 2, "--url is required (see --help)");
    if (conf.source_dir && conf.replay_file)
        return pp_cli_fail(argv[0], 2, "--source and --replay exclude each other");
    if (conf.source_dir && (!strncasecmp(conf.source_dir, "mysql:", 6) ||
                            !strncasecmp(conf.source_dir, "mariadb:", 8))) {
        struct pp_mysql_url u;
        char uerr[512];
        if (pp_mysql_url_parse(conf.source_dir, &u, uerr, sizeof(uerr)))
            return pp_cli_fail(argv[0], 2, "--source: %s", uerr);
        pp_mysql_url_free(&u);
        conf.source_url = conf.source_dir, conf.source_dir = NULL;
        conf.source_mode = mode >= 0 ? mode : PP_MYSQL_RANDOM;
    } else if (mode >= 0) {
        return pp_cli_fail(argv[0], 2, "--source-mode goes with --source mysql://...");
    }
    if (conf.events < 0)
        conf.events = conf.replay_file || (conf.source_url && mode == PP_MYSQL_STREAM) ? 0 : 1000;
    /* --quiet (global) or -q: none; a bar on a terminal; plain lines otherwise */
    enum pp_progress_mode pm = quiet ? PP_PROGRESS_OFF : pp_cli_progress_mode();
    conf.progress = pm == PP_PROGRESS_BAR ? 2 : pm == PP_PROGRESS_LINES ? 1 : 0;
    conf.stop = &pp_cli_stop;
    pp_cli_signals();
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        return pp_cli_fail(argv[0], 1, "curl_global_init failed");
    struct pp_emu_stats st;
    char err[512] = "";
    int rc = pp_emu_run(&conf, &st, err, sizeof(err));
    curl_global_cleanup();
    if (rc)
        return pp_cli_fail(argv[0], 1, "%s", err[0] ? err : pp_err_str(rc));
    summary(&st, json);
    return st.rejected || st.failed ? 1 : 0;
}
