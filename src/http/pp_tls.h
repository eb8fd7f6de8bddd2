/* pp_tls.h: TLS credentials for the libmicrohttpd servers (serve/run and the workers' metrics
 * endpoints): a PEM certificate chain and key loaded from files, handed to GnuTLS per handshake
 * so that pp_tls_reload() (SIGHUP) swaps them in without dropping any connection. */
#ifndef PP_TLS_H
#define PP_TLS_H

#include <stddef.h>

struct MHD_Connection;
struct MHD_OptionItem;

/* TLS 1.2 and 1.3 only, GnuTLS's NORMAL suites otherwise (gnutls_priority_init syntax). */
#define PP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct pp_tls;

/* Can this libmicrohttpd serve TLS with a certificate callback (built with GnuTLS)?
 * @returns 0, or PP_EINVAL with errstr filled. */
int pp_tls_supported(char *errstr, size_t errstr_size);

/* Load cert_path (PEM: the server certificate first, then its intermediates) and key_path
 * (PEM, unencrypted PKCS#1/PKCS#8) and check that the key is the certificate's. At most 8 live
 * pp_tls per process (one per TLS server).
 * @returns owned: release with pp_tls_destroy() once no daemon uses it. NULL with errstr
 * filled with one line naming the file at fault (unreadable, not PEM, key mismatch). */
struct pp_tls *pp_tls_new(const char *cert_path, const char *key_path, char *errstr,
                          size_t errstr_size);

/* Re-read the same two files. If they load and match, new handshakes use them from now on;
 * connections that got the previous ones keep them (freed when the last such connection
 * closes). Otherwise nothing changes. @returns 0, or PP_EIO/PP_EPARSE/PP_EINVAL with errstr
 * filled. @thread any (one reload at a time per tls is not required). */
int pp_tls_reload(struct pp_tls *tls, char *errstr, size_t errstr_size);

/* "subject=<DN> not_after=<UTC date>" of the certificate in use, for log lines. */
void pp_tls_describe(struct pp_tls *tls, char *out, size_t size);

/* Is the key file readable by its group or others? @returns 1 with why filled (a warning:
 * the key is served anyway), 0 when not (or when it cannot be checked). */
int pp_tls_key_exposed(const struct pp_tls *tls, char *why, size_t why_size);

/* libmicrohttpd glue. The start flags to add (MHD_USE_TLS, or 0 for tls NULL), and the options
 * for MHD_OPTION_ARRAY (certificate callback and PP_TLS_PRIORITIES; just MHD_OPTION_END for
 * tls NULL). @returns borrowed: valid while tls lives. */
unsigned pp_tls_mhd_flags(const struct pp_tls *tls);
const struct MHD_OptionItem *pp_tls_mhd_options(const struct pp_tls *tls);
/* Call from the daemon's MHD_CONNECTION_NOTIFY_CLOSED (libmicrohttpd deinitialises the TLS
 * session before it): the credentials that connection got may be freed now. tls may be NULL.
 * @thread any. */
void pp_tls_conn_closed(struct pp_tls *tls, struct MHD_Connection *conn);

/* Free tls (NULL: no-op). Only after every daemon using it stopped. */
void pp_tls_destroy(struct pp_tls *tls);

#endif
