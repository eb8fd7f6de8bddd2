/* pp_cli.h: subcommands of the pinpipe binary and what they share. */
#ifndef PP_CLI_H
#define PP_CLI_H

#include <signal.h>
#include <stddef.h>

#include "pp_log.h"

#define PP_DEFAULT_DATA_DIR "pinpipe-data"
#define PP_DEFAULT_LISTEN "127.0.0.1:8080"

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

/* Set by SIGINT/SIGTERM once pp_cli_signals() ran. */
extern volatile sig_atomic_t pp_cli_stop;
void pp_cli_signals(void);

/* Default locations under a data dir: <data>/log, <data>/lake, <data>/warehouse.db.
 * Writes into out (size bytes). */
void pp_cli_path(const char *data_dir, const char *leaf, char *out, size_t size);

/* Parse "always" | "interval:<ms>" | "never" into conf. @returns 0 or PP_EPARSE. */
int pp_cli_parse_fsync(const char *s, struct pp_log_conf *conf);

/* Write DATA_DIR/listen with the "HOST:PORT" a server bound (port actually bound; a wildcard
 * host is written as 127.0.0.1), atomically (temp + rename). @returns 0 or PP_EIO. */
int pp_cli_write_listen(const char *data_dir, const char *listen, int port);

/* Print "pinpipe <cmd>: <msg>" on stderr and return status (for one-line failures). */
int pp_cli_fail(const char *cmd, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
