/* http_opts.c: the ingestion server's limits, keys and TLS, the same options on `serve` and
 * `run` (PP_CLI_HTTP_OPTIONS, PP_CLI_ACCESS_OPTIONS and their help in pp_cli.h). */
#include <stdint.h>

#include "pp_cli.h"
#include "pp_http.h"
#include "pp_util.h"

/* name, bounds and where the value goes */
static int int_opt(const char *cmd, const char *name, const char *arg, int64_t min, int64_t max,
                   int *out)
{
    int64_t v;
    if (pp_parse_i64(arg, min, max, &v))
        return pp_cli_fail(cmd, 2, "--%s wants a whole number %lld..%lld, got '%s'", name,
                           (long long)min, (long long)max, arg);
    *out = (int)v;
    return 0;
}

int pp_cli_http_opt(const char *cmd, int c, const char *arg, struct pp_http_conf *conf)
{
    switch (c) {
    case PP_OPT_HEADER_TIMEOUT:
        return int_opt(cmd, "header-timeout", arg, 1, 3600, &conf->header_timeout);
    case PP_OPT_BODY_TIMEOUT:
        return int_opt(cmd, "body-timeout", arg, 1, 3600, &conf->body_timeout);
    case PP_OPT_IDLE_TIMEOUT:
        return int_opt(cmd, "idle-timeout", arg, 1, 3600, &conf->idle_timeout);
    case PP_OPT_MAX_CONNECTIONS:
        return int_opt(cmd, "max-connections", arg, 1, 1000000, &conf->max_connections);
    case PP_OPT_MAX_CONNS_PER_IP:
        return int_opt(cmd, "max-conns-per-ip", arg, 0, 1000000, &conf->max_conns_per_ip);
    case PP_OPT_MAX_RECORDS:
        return int_opt(cmd, "max-records", arg, 1, PP_HTTP_MAX_RECORDS_LIMIT,
                       &conf->max_records);
    case PP_OPT_ALLOWED_HOSTS:
        conf->allowed_hosts = arg;
        return 0;
    default:
        return -1;
    }
}

int pp_cli_access_opt(int c, const char *arg, struct pp_cli_access *acc)
{
    switch (c) {
    case PP_OPT_API_KEYS: acc->keys = arg; return 0;
    case PP_OPT_KEY_RATE: acc->key_rate = arg; return 0;
    case PP_OPT_INSECURE: acc->insecure = 1; return 0;
    case PP_OPT_TLS_CERT: acc->tls_cert = arg; return 0;
    case PP_OPT_TLS_KEY: acc->tls_key = arg; return 0;
    default: return -1;
    }
}
