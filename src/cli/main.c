/* main.c: the pinpipe binary: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "pp_cli.h"
#include "pp_config.h"

#ifndef PP_VERSION
#define PP_VERSION "0.1.0"
#endif

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"demo", cmd_demo, "run the whole pipeline on sample data and print the insights"},
    {"run", cmd_run, "serve + stream + lake in one process (the embedded default)"},
    {"serve", cmd_serve, "HTTP ingestion server (FastAPI, REST Proxy v2, Kinesis shapes)"},
    {"stream", cmd_stream, "consumer group 'stream': log -> clean -> warehouse, exactly once"},
    {"lake", cmd_lake, "consumer group 'lake': log -> raw JSON lines in the lake"},
    {"batch", cmd_batch, "one day of the lake -> clean -> warehouse -> insights snapshot"},
    {"insights", cmd_insights, "print the insights from the warehouse"},
    {"clean", cmd_clean, "clean JSONL source records with the cleaning rules (to JSONL)"},
    {"gen", cmd_gen, "write generated source tables pin/geo/user.jsonl"},
    {"emulate", cmd_emulate, "emulate users posting to an ingestion URL"},
    {"log", cmd_log, "look inside the log: topics, offsets, tail"},
    {"dag", cmd_dag, "the daily DAG: list, show, run, backfill, history, schedule"},
    {"schedule", cmd_schedule, "run the daily DAG as its schedule comes due (= dag schedule)"},
    {"quality", cmd_quality, "data-quality checks of a lake day against the warehouse"},
    {"status", cmd_status, "one screen: log watermarks, consumer lag, warehouse rows"},
    {"keys", cmd_keys, "API keys of serve/run: add, revoke, list (roles, topics, quotas)"},
    {"config", cmd_config, "print the effective configuration (file, environment, defaults)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: pinpipe <command> [options]   (pinpipe <command> --help)\n\n"
                 "Pinterest-style event pipeline: HTTP ingest -> log -> stream to warehouse,\n"
                 "lake -> daily batch -> insights.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nsettings: flags > PINPIPE_<SECTION>_<KEY> environment > --config FILE |\n"
                 "$PINPIPE_CONFIG | ./pinpipe.conf > defaults (see pinpipe config --help)\n"
                 "exit status: 0 ok, 1 failure (one-line reason on stderr), 2 usage error\n\n"
                 "global options (before or after the command):\n"
                 "  --quiet     only warnings and errors on stderr, no progress; commands\n"
                 "              print less (batch: not the insights)\n"
                 "  --verbose   debug diagnostics too\n"
                 "progress (emulate, batch, dag backfill) is a bar when stderr is a terminal,\n"
                 "a plain line every 5 s otherwise. Colour only on a terminal, never with\n"
                 "NO_COLOR set (https://no-color.org).\n");
}

int main(int argc, char **argv)
{
    /* global flags before the command: `pinpipe --quiet batch ...` */
    while (argc > 1 && (!strcmp(argv[1], "--quiet") || !strcmp(argv[1], "--verbose"))) {
        pp_cli_verbosity = !strcmp(argv[1], "--quiet") ? -1 : 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    pp_cli_global_flags(&argc, argv, argc); /* sets the diagnostics level and colour */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("pinpipe %s\n", PP_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name))
            continue;
        int cargc = argc - 1;
        char **cargv = argv + 1, err[1100];
        if (commands[i].fn != cmd_config && pp_config_apply(name, &cargc, &cargv, err, sizeof(err)))
            return pp_cli_fail(name, 2, "%s", err);
        pp_cli_global_flags(&cargc, cargv, 1);
        return commands[i].fn(cargc, cargv);
    }
    fprintf(stderr, "pinpipe: unknown command '%s' (see pinpipe --help)\n", name);
    return 2;
}
