/* pp_cli.h: subcommands of the pinpipe binary and what they share. */
#ifndef PP_CLI_H
#define PP_CLI_H

#include <signal.h>
#include <stddef.h>

#include "pp_buf.h"
#include "pp_lake.h"
#include "pp_log.h"
#include "pp_progress.h"

#define PP_DEFAULT_DATA_DIR "pinpipe-data"
#define PP_DEFAULT_LISTEN "127.0.0.1:8080"
/* --max-body's upper bound (serve, run): the JSON tokenizer (jsmn) keeps token offsets in
 * int, and a body is held whole in memory; 256 MiB stays far below both limits. */
#define PP_CLI_MAX_BODY_MAX (256ULL << 20)

/* Each returns the process exit status: 0 ok, 1 failure, 2 usage error. argv[0] is the
 * subcommand name. Every command answers --help. */
int cmd_gen(int argc, char **argv);
int cmd_emulate(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_lake(int argc, char **argv);
int cmd_batch(int argc, char **argv);
int cmd_insights(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_clean(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_quality(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_keys(int argc, char **argv);

/* API keys of serve and run (src/cli/cmd_keys.c): --api-keys FILE, --key-rate R[:B],
 * --insecure. Refuses (2) a listen address that is not loopback without keys or --insecure;
 * opens the keys (*auth: owned, pp_auth_destroy() after the server stopped; NULL without
 * keys) and makes SIGHUP reload them. @returns 0, or 1/2 after a one-line reason. */
struct pp_auth;
int pp_cli_auth_open(const char *cmd, const char *keys, const char *key_rate, const char *listen,
                     int insecure, struct pp_auth **auth);
/* From the main loop: reload the keys after a SIGHUP (which never stops serve/run). auth may
 * be NULL. */
void pp_cli_auth_poll(struct pp_auth *auth);

/* Set by SIGINT/SIGTERM once pp_cli_signals() ran. */
extern volatile sig_atomic_t pp_cli_stop;
void pp_cli_signals(void);
/* From now on SIGHUP never stops the process: it only counts. What reloads on it (TLS files:
 * pp_cli_tls.h; API keys: pp_cli_auth_poll) compares pp_cli_hup_count() with the count it saw
 * last, so every reloader sees every SIGHUP. Idempotent. */
void pp_cli_hup_install(void);
/* SIGHUPs received since the start. @thread any. */
unsigned pp_cli_hup_count(void);

/* Default locations under a data dir: <data>/log, <data>/lake, <data>/warehouse.db.
 * Writes into out (size bytes). */
void pp_cli_path(const char *data_dir, const char *leaf, char *out, size_t size);
/* This executable's absolute path (/proc/self/exe) into out. @returns 0, or -1 (errno set). */
int pp_cli_self_exe(char *out, size_t size);

/* Parse "always" | "interval:<ms>" | "never" into conf. @returns 0 or PP_EPARSE. */
int pp_cli_parse_fsync(const char *s, struct pp_log_conf *conf);

/* Backend options shared by the commands that touch the log and the lake (issue 3):
 * put PP_CLI_LOG_OPTIONS / PP_CLI_LAKE_OPTIONS into a getopt_long table (and "X:" into the
 * short options where the log options are used), PP_CLI_LOG_HELP / PP_CLI_LAKE_HELP into
 * the --help text, and hand unknown option codes to pp_cli_backend_opt(). */
enum { PP_OPT_LOG = 1000, PP_OPT_BROKERS, PP_OPT_S3_ENDPOINT, PP_OPT_S3_REGION,
       PP_OPT_S3_PATH_STYLE };
#define PP_CLI_LOG_OPTIONS                                                                     \
    {"log", 1, 0, PP_OPT_LOG}, {"brokers", 1, 0, PP_OPT_BROKERS}, {"kafka-prop", 1, 0, 'X'}
#define PP_CLI_LAKE_OPTIONS                                                                    \
    {"s3-endpoint", 1, 0, PP_OPT_S3_ENDPOINT}, {"s3-region", 1, 0, PP_OPT_S3_REGION},         \
        {"s3-path-style", 0, 0, PP_OPT_S3_PATH_STYLE}
#define PP_CLI_LOG_HELP                                                                        \
    "  --log embedded|kafka    the log's backend (default embedded: files in DATA_DIR/log)\n"  \
    "  --brokers LIST          kafka: bootstrap brokers host:port,... (or $PINPIPE_BROKERS)\n" \
    "  -X NAME=VALUE           kafka: a librdkafka property, passed through (repeatable;\n"   \
    "                          e.g. -X security.protocol=SASL_SSL)\n"
#define PP_CLI_LAKE_HELP                                                                       \
    "  --s3-endpoint URL       lake s3://bucket/prefix: S3 API endpoint (default\n"          \
    "                          $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL, else AWS)\n"         \
    "  --s3-region REGION      (default $AWS_REGION / $AWS_DEFAULT_REGION, else us-east-1)\n" \
    "  --s3-path-style         path-style bucket addressing (most self-hosted S3 servers;\n"  \
    "                          automatic for an IP literal or localhost endpoint)\n"

/* Bounded first contact (issue 12): every command that opens Kafka, S3 or PostgreSQL takes
 * --connect-timeout SECONDS (config [pinpipe] connect_timeout, $PINPIPE_CONNECT_TIMEOUT):
 * PP_CLI_CONNECT_OPTIONS into the getopt table, PP_CLI_CONNECT_HELP into --help. The option
 * code goes to pp_cli_backend_opt (sets the log's and the lake's connect_timeout_ms) or, for
 * the warehouse, to pp_cli_connect_opt; pass the result to pp_wh_open_timeout(). */
enum { PP_OPT_CONNECT_TIMEOUT = 1300 };
#define PP_CLI_CONNECT_OPTIONS {"connect-timeout", 1, 0, PP_OPT_CONNECT_TIMEOUT}
#define PP_CLI_CONNECT_HELP                                                                    \
    "  --connect-timeout S     fail (exit 1, one line) when Kafka, S3 or PostgreSQL does not\n" \
    "                          answer within S seconds at start (default 10; or\n"             \
    "                          $PINPIPE_CONNECT_TIMEOUT)\n"
/* Parse --connect-timeout (whole seconds 1..3600) into *timeout_ms. @returns 0, 2 with a
 * one-line usage error, -1 for a code that is not PP_OPT_CONNECT_TIMEOUT. */
int pp_cli_connect_opt(const char *cmd, int c, const char *arg, int *timeout_ms);
/* A log that did not open: "pinpipe <cmd>: <err>" for Kafka (err names it), "pinpipe <cmd>:
 * log <log_dir>: <err>" for the embedded log. @returns 1. */
int pp_cli_log_fail(const char *cmd, const struct pp_log_conf *conf, const char *log_dir,
                    const char *err);

/* The default case of a command's getopt loop: apply a backend option (log and/or lake may
 * be NULL when the command has none); anything else is a bad option (opt: its text,
 * argv[optind - 1]). @returns 0 when applied, else 2 with a one-line reason printed. */
/* The ingestion server's limits, on `serve` and `run`: PP_CLI_HTTP_OPTIONS into the getopt
 * table, PP_CLI_HTTP_HELP into --help, option codes to pp_cli_http_opt (@returns 0, 2 with a
 * one-line usage error, -1 for a code that is not one of these). */
enum { PP_OPT_HEADER_TIMEOUT = 1100, PP_OPT_BODY_TIMEOUT, PP_OPT_IDLE_TIMEOUT,
       PP_OPT_MAX_CONNECTIONS, PP_OPT_MAX_CONNS_PER_IP, PP_OPT_MAX_RECORDS,
       PP_OPT_ALLOWED_HOSTS };
#define PP_CLI_HTTP_OPTIONS                                                                    \
    {"header-timeout", 1, 0, PP_OPT_HEADER_TIMEOUT}, {"body-timeout", 1, 0, PP_OPT_BODY_TIMEOUT}, \
        {"idle-timeout", 1, 0, PP_OPT_IDLE_TIMEOUT},                                           \
        {"max-connections", 1, 0, PP_OPT_MAX_CONNECTIONS},                                     \
        {"max-conns-per-ip", 1, 0, PP_OPT_MAX_CONNS_PER_IP},                                   \
        {"max-records", 1, 0, PP_OPT_MAX_RECORDS},                                             \
        {"allowed-hosts", 1, 0, PP_OPT_ALLOWED_HOSTS}
#define PP_CLI_HTTP_HELP                                                                       \
    "  --header-timeout S      request line + headers must arrive within S seconds of the\n"   \
    "                          connection or the previous request (default 10)\n"             \
    "  --body-timeout S        a request body must arrive within S seconds (default 30)\n"    \
    "  --idle-timeout S        close a connection with no traffic for S seconds (default 60)\n"\
    "  --max-connections N     connections at once (default 4096; the open-file limit is\n"   \
    "                          raised to its hard limit, and N lowered to fit it)\n"          \
    "  --max-conns-per-ip N    connections from one client address (default 64; 0 = any)\n"  \
    "  --max-records N         records in one REST Proxy batch (default 10000; Kinesis\n"     \
    "                          PutRecords: 500, as AWS)\n"                                   \
    "  --allowed-hosts LIST    Host names the dashboard, /api/* and /metrics answer, comma-\n" \
    "                          separated ('*' = any; IP literals and localhost always;\n"     \
    "                          default: this machine's hostname); others get 403\n"
struct pp_http_conf;
int pp_cli_http_opt(const char *cmd, int c, const char *arg, struct pp_http_conf *conf);

/* Who may use serve and run, and over what: API keys (cmd_keys.c, pp_cli_auth_open) and TLS
 * (tls_reload.c), the same options on both: PP_CLI_ACCESS_OPTIONS into the getopt table,
 * PP_CLI_ACCESS_HELP into --help, option codes to pp_cli_access_opt (@returns 0, or -1 for a
 * code that is not one of these). */
struct pp_cli_access {
    const char *keys, *key_rate, *tls_cert, *tls_key;
    int insecure;
};
enum { PP_OPT_API_KEYS = 1200, PP_OPT_KEY_RATE, PP_OPT_INSECURE, PP_OPT_TLS_CERT,
       PP_OPT_TLS_KEY };
#define PP_CLI_ACCESS_OPTIONS                                                                  \
    {"api-keys", 1, 0, PP_OPT_API_KEYS}, {"key-rate", 1, 0, PP_OPT_KEY_RATE},                  \
        {"insecure", 0, 0, PP_OPT_INSECURE}, {"tls-cert", 1, 0, PP_OPT_TLS_CERT},              \
        {"tls-key", 1, 0, PP_OPT_TLS_KEY}
#define PP_CLI_ACCESS_HELP                                                                     \
    "  --api-keys FILE         require API keys (pinpipe keys add): x-api-key, Bearer or\n"   \
    "                          Basic; 401/403 by role and topic; reloaded on change\n"        \
    "  --key-rate R[:B]        quota of keys without their own: R requests/s, burst B\n"      \
    "  --insecure              allow a non-loopback --listen without --api-keys\n"            \
    "  --tls-cert FILE         serve HTTPS (TLS 1.2+) with this PEM certificate chain\n"      \
    "                          (server certificate first); needs --tls-key\n"                 \
    "  --tls-key FILE          its PEM private key (unencrypted; keep it mode 600).\n"        \
    "                          SIGHUP re-reads both files: new connections get the new\n"     \
    "                          certificate, open ones keep theirs; a bad file is logged\n"    \
    "                          and the previous certificate stays\n"
int pp_cli_access_opt(int c, const char *arg, struct pp_cli_access *acc);

int pp_cli_backend_opt(const char *cmd, int c, const char *arg, const char *opt,
                       struct pp_log_conf *log, struct pp_lake_conf *lake);
/* After parsing: check the backend settings fit together (e.g. kafka needs brokers).
 * @returns 0 or 2 with a one-line reason printed. */
int pp_cli_backend_check(const char *cmd, struct pp_log_conf *log);

/* Open the log at log_dir read-only with base's backend settings (a consumer process). The
 * embedded log may not exist yet: wait for a writer (`pinpipe serve`) to create it (until
 * a signal), then allow it 2 s to finish. A Kafka log is opened once, without waiting.
 * @returns owned log, or NULL with err filled (also when interrupted: check pp_cli_stop). */
struct pp_log *pp_cli_open_log_wait(const char *module, const char *log_dir,
                                    const struct pp_log_conf *base, char *err, size_t err_size);

/* Metrics collector for a log (arg: struct pp_log *): its counters, the watermarks of every
 * partition and each consumer group's committed offset and lag. For pp_metrics_add(). */
void pp_cli_log_collect(void *arg, struct pp_buf *out);

/* Write DATA_DIR/listen with the "HOST:PORT" a server bound (port actually bound; a wildcard
 * host is written as 127.0.0.1), atomically (temp + rename). @returns 0 or PP_EIO. */
int pp_cli_write_listen(const char *data_dir, const char *listen, int port);

/* Global flags, taken by main() from anywhere on the command line (before a "--"):
 * --quiet (-1: diagnostics from warnings up, no progress, commands print less) and
 * --verbose (1: debug diagnostics too); 0 when neither. */
extern int pp_cli_verbosity;
/* Remove --quiet / --verbose from argv[from..*argc) (stopping at "--"), set pp_cli_verbosity,
 * the diagnostics level and their colour. */
void pp_cli_global_flags(int *argc, char **argv, int from);
/* Colour on fd? Only on a terminal, with NO_COLOR unset or empty (no-color.org) and TERM not
 * "dumb". */
int pp_cli_color(int fd);
/* How long work shows progress on stderr: off with --quiet, a bar on a terminal, plain lines
 * otherwise. */
enum pp_progress_mode pp_cli_progress_mode(void);
/* Start p for stderr in pp_cli_progress_mode(), with colour as pp_cli_color(stderr). */
void pp_cli_progress(struct pp_progress *p, const char *label, const char *unit, int64_t total);

/* Print "pinpipe <cmd>: <msg>" on stderr and return status (for one-line failures). */
int pp_cli_fail(const char *cmd, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
