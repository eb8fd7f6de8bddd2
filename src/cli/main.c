/* main.c: the pinpipe binary: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "pp_cli.h"

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
};

static void usage(FILE *out)
{
    fprintf(out, "usage: pinpipe <command> [options]   (pinpipe <command> --help)\n\n"
                 "Pinterest-style event pipeline: HTTP ingest -> log -> stream to warehouse,\n"
                 "lake -> daily batch -> insights.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nexit status: 0 ok, 1 failure (one-line reason on stderr), 2 usage error\n");
}

int main(int argc, char **argv)
{
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
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "pinpipe: unknown command '%s' (see pinpipe --help)\n", name);
    return 2;
}
