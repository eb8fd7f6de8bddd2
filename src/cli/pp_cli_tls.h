/* pp_cli_tls.h: the commands' side of TLS (serve/run --tls-cert/--tls-key, the workers'
 * --metrics-tls-cert/--metrics-tls-key): flag checks, loading, and reloading on SIGHUP. */
#ifndef PP_CLI_TLS_H
#define PP_CLI_TLS_H

#include <stddef.h>

#include "pp_tls.h"

/* Both or neither: cert and key are the values given (NULL = not given) of the options named
 * by prefix ("tls" -> --tls-cert/--tls-key, "metrics-tls" -> --metrics-tls-cert/-key).
 * @returns 0, or 2 with a one-line usage error printed as "pinpipe <cmd>: ...". */
int pp_cli_tls_check(const char *cmd, const char *prefix, const char *cert, const char *key);

struct pp_cli_tls;

/* Load cert + key (pp_tls_new; a key readable by group or others is a warning) and start a
 * thread that reloads them on each SIGHUP (pp_cli_hup_install() is called): a reload that
 * fails keeps the credentials in use and logs one warning. stage names the log lines.
 * @returns owned: release with pp_cli_tls_stop() after the server using it stopped. NULL with
 * errstr filled (one line naming the file). */
struct pp_cli_tls *pp_cli_tls_start(const char *stage, const char *cert, const char *key,
                                    char *errstr, size_t errstr_size);
/* The credentials for pp_http_conf.tls / pp_metrics_http_conf.tls. ct may be NULL (-> NULL).
 * @returns borrowed: valid until pp_cli_tls_stop(). */
struct pp_tls *pp_cli_tls_get(struct pp_cli_tls *ct);
/* "http" or "https", for "serving on ..." lines. */
const char *pp_cli_tls_scheme(const struct pp_cli_tls *ct);
/* Stop reloading and free (NULL: no-op). */
void pp_cli_tls_stop(struct pp_cli_tls *ct);

#endif
