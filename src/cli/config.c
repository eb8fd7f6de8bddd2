/* config.c: pinpipe.conf (INI via Debian's inih), PINPIPE_* environment variables, and their
 * translation into each command's options. */
#include <ctype.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp_cli.h"
#include "pp_config.h"

#define CONF_DEFAULT_FILE "pinpipe.conf"
#define CONF_MAX_KAFKA 64
#define CONF_LINE_MAX 1024

/* One configuration key and the option it stands for. */
struct conf_key {
    const char *section, *key;
    const char *option;   /* long option, e.g. "--listen" */
    const char *commands; /* space-separated commands that take it */
    const char *def;      /* default as shown by `pinpipe config` */
    const char *help;
    int flag;             /* boolean: "true" gives the bare option, "false" nothing */
};

static const struct conf_key keys[] = {
    {"pinpipe", "data_dir", "--data-dir",
     "serve run stream lake batch insights log status quality dag schedule",
     PP_DEFAULT_DATA_DIR, "where the log, lake and warehouse live", 0},
    {"pinpipe", "connect_timeout", "--connect-timeout",
     "serve run stream lake batch insights log status quality dag schedule", "10",
     "seconds Kafka, S3 and PostgreSQL get to answer at start before the command fails", 0},
    {"serve", "listen", "--listen", "serve run", PP_DEFAULT_LISTEN, "HOST:PORT to serve on", 0},
    {"serve", "max_body", "--max-body", "serve run", "8M",
     "largest request body (bytes, at most 256M)", 0},
    {"serve", "threads", "--threads", "serve run", "cores", "HTTP worker threads", 0},
    {"serve", "api_keys", "--api-keys", "serve run keys", "",
     "API keys file (pinpipe keys add): requests need a key; unset = no authentication", 0},
    {"serve", "key_rate", "--key-rate", "serve run", "",
     "quota of keys without their own: requests/s, or R:BURST (unset = unlimited)", 0},
    {"serve", "insecure", "--insecure", "serve run", "false",
     "allow a non-loopback listen address without api_keys", 1},
    {"serve", "header_timeout", "--header-timeout", "serve run", "10",
     "seconds for a request line + headers to arrive", 0},
    {"serve", "body_timeout", "--body-timeout", "serve run", "30",
     "seconds for a request body to arrive", 0},
    {"serve", "idle_timeout", "--idle-timeout", "serve run", "60",
     "seconds a connection may move no byte", 0},
    {"serve", "max_connections", "--max-connections", "serve run", "4096",
     "connections at once (fitted to the open-file limit)", 0},
    {"serve", "max_conns_per_ip", "--max-conns-per-ip", "serve run", "64",
     "connections from one client address (0 = no limit)", 0},
    {"serve", "max_records", "--max-records", "serve run", "10000",
     "records in one REST Proxy batch", 0},
    {"serve", "allowed_hosts", "--allowed-hosts", "serve run", "hostname",
     "Host names the dashboard and /metrics answer ('*' = any)", 0},
    {"serve", "tls_cert", "--tls-cert", "serve run", "",
     "PEM certificate chain (server certificate first): serve HTTPS, TLS 1.2+ (with tls_key)", 0},
    {"serve", "tls_key", "--tls-key", "serve run", "",
     "PEM private key of tls_cert (unencrypted, mode 600; SIGHUP re-reads both)", 0},
    {"serve", "rejects_topic", "--rejects-topic", "serve quality", "pinpipe.rejected",
     "dead-letter topic for records refused with a 4xx ('' = off)", 0},
    {"log", "backend", "--log", "serve run stream lake log status quality", "embedded", "embedded | kafka", 0},
    {"log", "fsync", "--fsync", "serve run", "interval:5",
     "always | interval:<ms> | never: when an appended record is acknowledged", 0},
    {"log", "partitions", "--partitions", "serve run", "2", "partitions of new topics", 0},
    {"log", "segment_bytes", "--segment-bytes", "serve run", "64M", "log segment size", 0},
    {"log", "retention_bytes", "--retention-bytes", "serve run", "0",
     "log kept per partition (0 = all)", 0},
    {"log", "retention_age", "--retention-age", "serve run", "0",
     "delete log segments older than this (0 = never; e.g. 7d)", 0},
    {"log", "brokers", "--brokers", "serve run stream lake log status quality", "",
     "kafka: bootstrap brokers host:port,...", 0},
    {"lake", "url", "--lake", "run lake batch quality dag schedule", "DATA_DIR/lake",
     "lake folder, or s3://bucket/prefix", 0},
    {"lake", "roll_bytes", "--roll-bytes", "run lake", "64M", "lake file size limit", 0},
    {"lake", "roll_age", "--roll-age", "run lake", "60s", "lake file age limit (also idle)", 0},
    {"lake", "close_grace", "--close-grace", "run lake dag schedule", "5m",
     "a day closes (its _SUCCESS markers) no earlier than its end plus this", 0},
    {"lake", "s3_endpoint", "--s3-endpoint", "run lake batch quality", "",
     "S3 endpoint URL (default $AWS_ENDPOINT_URL_S3 / $AWS_ENDPOINT_URL / AWS)", 0},
    {"lake", "s3_region", "--s3-region", "run lake batch quality", "us-east-1", "S3 region", 0},
    {"lake", "s3_path_style", "--s3-path-style", "run lake batch quality", "false",
     "path-style bucket addressing (automatic for an IP literal or localhost endpoint)", 1},
    {"lake", "metrics_listen", "--metrics-listen", "lake", "",
     "HOST:PORT for the lake worker's GET /metrics, /healthz, /readyz (port 0 = any)", 0},
    {"lake", "metrics_tls_cert", "--metrics-tls-cert", "lake", "",
     "PEM certificate chain: serve the lake worker's metrics endpoint over HTTPS (with metrics_tls_key)", 0},
    {"lake", "metrics_tls_key", "--metrics-tls-key", "lake", "",
     "PEM private key of metrics_tls_cert (mode 600; SIGHUP re-reads both)", 0},
    {"warehouse", "url", "--warehouse",
     "serve run stream batch insights status quality dag schedule",
     "DATA_DIR/warehouse.db",
     "SQLite file, or postgresql://... connection URI", 0},
    {"stream", "batch", "--batch", "stream", "20000", "records per warehouse transaction at most",
     0},
    {"stream", "linger", "--linger", "stream", "1", "ms to wait to fill a transaction", 0},
    {"stream", "metrics_listen", "--metrics-listen", "stream", "",
     "HOST:PORT for the stream worker's GET /metrics, /healthz, /readyz (port 0 = any)", 0},
    {"stream", "metrics_tls_cert", "--metrics-tls-cert", "stream", "",
     "PEM certificate chain: serve the stream worker's metrics endpoint over HTTPS (with metrics_tls_key)", 0},
    {"stream", "metrics_tls_key", "--metrics-tls-key", "stream", "",
     "PEM private key of metrics_tls_cert (mode 600; SIGHUP re-reads both)", 0},
    {"schedule", "metrics_listen", "--metrics-listen", "schedule", "",
     "HOST:PORT for the scheduler's GET /metrics, /healthz, /readyz (port 0 = any)", 0},
    {"schedule", "metrics_tls_cert", "--metrics-tls-cert", "schedule", "",
     "PEM certificate chain: serve the scheduler's metrics endpoint over HTTPS (with metrics_tls_key)", 0},
    {"schedule", "metrics_tls_key", "--metrics-tls-key", "schedule", "",
     "PEM private key of metrics_tls_cert (mode 600; SIGHUP re-reads both)", 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct conf_state {
    const char *path;
    char *val[NKEYS];               /* from the file */
    char *kafka[CONF_MAX_KAFKA];    /* [kafka] name=value lines, as "name=value" */
    int nkafka;
    char err[CONF_LINE_MAX];
};

static int takes(const struct conf_key *k, const char *cmd)
{
    size_t n = strlen(cmd);
    for (const char *p = k->commands; (p = strstr(p, cmd)); p += n)
        if ((p == k->commands || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int is_secret(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, "jaas") ||
           strstr(name, "token");
}

/* The value without an inline comment: from a '#' or ';' that follows whitespace to the end
 * of the line, as INI users write them ("data_dir = /srv  # why"); Debian's inih strips only
 * ';' comments. A value that must hold " #" comes from the environment or a flag. */
static void strip_comment(const char *value, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = value; *p && n + 1 < size; p++) {
        if ((*p == '#' || *p == ';') && p > value && (p[-1] == ' ' || p[-1] == '\t'))
            break;
        out[n++] = *p;
    }
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
}

/* Does any key live in [section]? ([kafka] takes librdkafka's properties.) */
static int section_known(const char *section)
{
    if (!strcmp(section, "kafka"))
        return 1;
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].section, section))
            return 1;
    return 0;
}

static int on_entry(void *user, const char *section, const char *name, const char *raw)
{
    struct conf_state *st = user;
    char value[CONF_LINE_MAX];
    strip_comment(raw, value, sizeof(value));
    if (!strcmp(section, "kafka")) {
        if (st->nkafka >= CONF_MAX_KAFKA)
            goto bad;
        size_t n = strlen(name) + strlen(value) + 2;
        if (!(st->kafka[st->nkafka] = malloc(n)))
            goto bad;
        snprintf(st->kafka[st->nkafka++], n, "%s=%s", name, value);
        return 1;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (strcmp(keys[i].section, section) || strcmp(keys[i].key, name))
            continue;
        free(st->val[i]);
        st->val[i] = strdup(value);
        return st->val[i] != NULL;
    }
bad:
    if (strpbrk(name, " \t")) /* inih split "listen 127.0.0.1:8080" at its ':' */
        snprintf(st->err, sizeof(st->err), "in [%s]: a line without '=' (write KEY = VALUE)",
                 section);
    else if (!section_known(section))
        snprintf(st->err, sizeof(st->err), "unknown section [%s] (see pinpipe config)", section);
    else
        snprintf(st->err, sizeof(st->err), "unknown key '%s' in [%s] (see pinpipe config)", name,
                 section);
    return 0;
}

/* Read the file, if any. @returns 0 or 2 with errstr filled. */
static int conf_load(struct conf_state *st, const char *path, char *errstr, size_t errstr_size)
{
    st->path = path;
    if (!path)
        return 0;
    struct stat sb;
    if (!stat(path, &sb) && S_ISDIR(sb.st_mode)) { /* fopen takes it, reads nothing: say so */
        snprintf(errstr, errstr_size, "%s is a directory, not a configuration file", path);
        return 2;
    }
    int line = ini_parse(path, on_entry, st);
    if (line == 0)
        return 0;
    if (st->err[0])
        snprintf(errstr, errstr_size, "%s:%d: %s", path, line, st->err);
    else if (line < 0)
        snprintf(errstr, errstr_size, "cannot read configuration file %s", path);
    else
        snprintf(errstr, errstr_size, "%s:%d: syntax error", path, line);
    return 2;
}

/* PINPIPE_<SECTION>_<KEY> of a key (dots and dashes become underscores); keys of the
 * [pinpipe] section are PINPIPE_<KEY> (PINPIPE_DATA_DIR). */
static const char *env_of(const char *section, const char *key)
{
    char name[160];
    int n = strcmp(section, "pinpipe") ? snprintf(name, sizeof(name), "PINPIPE_%s_%s", section, key)
                                       : snprintf(name, sizeof(name), "PINPIPE_%s", key);
    for (int i = 0; i < n && i < (int)sizeof(name); i++)
        name[i] = name[i] == '.' || name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    return getenv(name);
}

/* PINPIPE_KAFKA_<NAME>=value variables as [kafka] entries: name lower-cased, '_' -> '.'
 * (PINPIPE_KAFKA_SASL_PASSWORD -> sasl.password). */
static void env_kafka(struct conf_state *st)
{
    extern char **environ;
    for (char **e = environ; *e && st->nkafka < CONF_MAX_KAFKA; e++) {
        if (strncmp(*e, "PINPIPE_KAFKA_", 14) || !strchr(*e, '='))
            continue;
        char *s = strdup(*e + 14);
        if (!s)
            return;
        for (char *p = s; *p && *p != '='; p++)
            *p = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        st->kafka[st->nkafka++] = s;
    }
}

/* Which file: --config FILE (removed from argv), $PINPIPE_CONFIG, ./pinpipe.conf. */
static const char *conf_path(int *argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        int drop = 0;
        if (!strcmp(argv[i], "--config") && i + 1 < *argc)
            v = argv[i + 1], drop = 2;
        else if (!strncmp(argv[i], "--config=", 9))
            v = argv[i] + 9, drop = 1;
        if (!drop)
            continue;
        path = v;
        memmove(&argv[i], &argv[i + drop], sizeof(char *) * (size_t)(*argc - i - drop + 1));
        *argc -= drop;
        i--;
    }
    if (!path)
        path = getenv("PINPIPE_CONFIG");
    if (!path && access(CONF_DEFAULT_FILE, R_OK) == 0)
        path = CONF_DEFAULT_FILE;
    return path;
}

static int is_true(const char *v)
{
    return !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1");
}

int pp_config_apply(const char *cmd, int *argc, char ***argv, char *errstr, size_t errstr_size)
{
    static struct conf_state st;
    const char *path = conf_path(argc, *argv);
    int rc = conf_load(&st, path, errstr, errstr_size);
    if (rc)
        return rc;
    int takes_log = 0; /* commands with the log's options take -X too */
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].option, "--log"))
            takes_log = takes(&keys[i], cmd);
    env_kafka(&st);
    static char **out; /* lives until exit, like argv */
    size_t cap = (size_t)*argc + 2 * NKEYS + 2 * CONF_MAX_KAFKA + 1;
    free(out);
    out = calloc(cap, sizeof(char *));
    if (!out) {
        snprintf(errstr, errstr_size, "out of memory");
        return 2;
    }
    int n = 0;
    out[n++] = (*argv)[0];
    for (size_t i = 0; i < NKEYS; i++) {
        if (!takes(&keys[i], cmd))
            continue;
        const char *v = env_of(keys[i].section, keys[i].key);
        if (!v)
            v = st.val[i];
        if (!v || !*v)
            continue;
        if (keys[i].flag) {
            if (is_true(v))
                out[n++] = (char *)keys[i].option;
            continue;
        }
        out[n++] = (char *)keys[i].option;
        out[n++] = (char *)v;
    }
    for (int i = 0; takes_log && i < st.nkafka; i++) {
        out[n++] = "-X";
        out[n++] = st.kafka[i];
    }
    for (int i = 1; i < *argc; i++)
        out[n++] = (*argv)[i];
    out[n] = NULL;
    *argc = n;
    *argv = out;
    return 0;
}

static void print_value(const char *v, int secret)
{
    printf("%s\n", secret && *v ? "****" : v);
}

int cmd_config(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pinpipe config [--config FILE]\n\n"
               "Print the effective configuration as an INI file: every key with its help, its\n"
               "default and where its value comes from. Secrets are masked.\n\n"
               "Where settings come from, highest first: a command-line flag; the environment\n"
               "variable PINPIPE_<SECTION>_<KEY> (e.g. PINPIPE_SERVE_LISTEN); the file given\n"
               "with --config FILE, else $PINPIPE_CONFIG, else ./pinpipe.conf; the default.\n"
               "Any key in [kafka] is a librdkafka property passed through as -X name=value.\n");
        return 0;
    }
    static struct conf_state st;
    char err[CONF_LINE_MAX];
    const char *path = conf_path(&argc, argv);
    if (argc > 1)
        return pp_cli_fail("config", 2, "unexpected argument '%s' (see --help)", argv[1]);
    if (conf_load(&st, path, err, sizeof(err)))
        return pp_cli_fail("config", 2, "%s", err);
    env_kafka(&st);
    printf("# pinpipe effective configuration (file: %s)\n", path ? path : "none");
    const char *section = "";
    for (size_t i = 0; i < NKEYS; i++) {
        const struct conf_key *k = &keys[i];
        if (strcmp(section, k->section))
            printf("\n[%s]\n", section = k->section);
        const char *env = env_of(k->section, k->key), *v = env ? env : st.val[i];
        printf("# %s (%s; default %s; used by: %s)\n", k->help, k->option,
               *k->def ? k->def : "none", k->commands);
        printf("%s%s = ", v ? "" : "# ", k->key);
        print_value(v ? v : k->def, 0);
        if (v)
            printf("#   from %s\n", env ? "the environment" : path);
    }
    printf("\n[kafka]\n# librdkafka properties, passed through as -X name=value\n");
    for (int i = 0; i < st.nkafka; i++) {
        char *eq = strchr(st.kafka[i], '=');
        printf("%.*s = ", (int)(eq - st.kafka[i]), st.kafka[i]);
        *eq = '\0';
        print_value(eq + 1, is_secret(st.kafka[i]));
        *eq = '=';
    }
    return 0;
}
