/* cmd_keys.c: `pinpipe keys add|revoke|list`: the API keys file of serve and run, and what
 * serve/run do with --api-keys, --key-rate and --insecure (src/http/pp_auth.h). */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pp_auth.h"
#include "pp_cli.h"
#include "pp_err.h"
#include "pp_util.h"

#define CMD "keys"

static void usage(FILE *out, const char *action)
{
    if (!action || !strcmp(action, "add"))
        fprintf(out, "usage: pinpipe keys add NAME --role ingest|read|admin [--topics pin,geo]\n"
                     "                        [--rate R [--burst B]] --keys FILE\n");
    if (!action || !strcmp(action, "revoke"))
        fprintf(out, "usage: pinpipe keys revoke NAME --keys FILE\n");
    if (!action || !strcmp(action, "list"))
        fprintf(out, "usage: pinpipe keys list --keys FILE\n");
    fprintf(out,
            "\n"
            "API keys of `pinpipe serve|run --api-keys FILE`. The file has one key per line\n"
            "(name, role, topics, rate, burst, created, and the key's SHA-256: never the key\n"
            "itself); it is rewritten atomically with mode 0600. serve and run pick up changes\n"
            "within a second (or at SIGHUP), without dropping connections.\n"
            "\n"
            "  add NAME         make a key (\"pp_\" + 43 random base64url characters) and print\n"
            "                   it alone on the last line of stdout: it is not shown again\n"
            "  revoke NAME      remove the key: refused from the next reload (<= ~1 s)\n"
            "  list             names, roles, topics, quotas, creation times\n"
            "\n"
            "  --keys FILE      the keys file (also --api-keys; config [serve] api_keys)\n"
            "  --role ROLE      ingest: POST/PUT the ingestion routes + GET /topics, /streams\n"
            "                   read:   the dashboard (/, /api/...) and /metrics\n"
            "                   admin:  everything\n"
            "  --topics LIST    ingest keys: only these topics (pin,geo,user; default all)\n"
            "  --rate R         quota: R requests per second (default: serve's --key-rate,\n"
            "                   else unlimited); past it 429 + Retry-After\n"
            "  --burst B        requests allowed at once (default max(1, R))\n"
            "  -h, --help       this help\n"
            "\n"
            "exit status: 0 ok, 1 failure, 2 usage error\n");
}

struct keys_opts {
    const char *file, *action, *name, *topics;
    enum pp_auth_role role;
    int has_role;
    double rate, burst;
    int has_rate, has_burst, help;
};

static int parse_rate(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && isfinite(*v) && *v > 0 && *v <= 1e9 ? 0 : PP_EPARSE;
}

/* Options anywhere (the configuration's --api-keys comes before the action). @returns 0,
 * or 2 after a one-line reason. */
static int parse(int argc, char **argv, struct keys_opts *o)
{
    static const struct option opts[] = {
        {"keys", 1, 0, 'k'}, {"api-keys", 1, 0, 'k'}, {"role", 1, 0, 'r'}, {"topics", 1, 0, 't'},
        {"rate", 1, 0, 'R'}, {"burst", 1, 0, 'B'},    {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hk:", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            o->file = optarg;
            break;
        case 'r':
            if (pp_auth_role_parse(optarg, &o->role))
                return pp_cli_fail(CMD, 2, "--role wants ingest|read|admin, got '%s'", optarg);
            o->has_role = 1;
            break;
        case 't':
            o->topics = optarg;
            break;
        case 'R':
            if (parse_rate(optarg, &o->rate))
                return pp_cli_fail(CMD, 2, "--rate wants requests per second > 0, got '%s'",
                                   optarg);
            o->has_rate = 1;
            break;
        case 'B':
            if (parse_rate(optarg, &o->burst) || o->burst < 1)
                return pp_cli_fail(CMD, 2, "--burst wants a number >= 1, got '%s'", optarg);
            o->has_burst = 1;
            break;
        case 'h':
            o->help = 1;
            break;
        default:
            return pp_cli_fail(CMD, 2, "unknown or incomplete option '%s' (see --help)",
                               argv[optind - 1]);
        }
    }
    if (optind < argc)
        o->action = argv[optind++];
    if (optind < argc)
        o->name = argv[optind++];
    if (optind < argc)
        return pp_cli_fail(CMD, 2, "unexpected argument '%s' (see --help)", argv[optind]);
    return 0;
}

/* The checks of each action's arguments. @returns 0 or 2 after a one-line reason. */
static int check(struct keys_opts *o)
{
    int add = !strcmp(o->action, "add"), list = !strcmp(o->action, "list");
    if (!add && !list && strcmp(o->action, "revoke"))
        return pp_cli_fail(CMD, 2, "unknown action '%s' (add, revoke or list)", o->action);
    if (!o->file)
        return pp_cli_fail(CMD, 2, "%s needs --keys FILE", o->action);
    if (list && o->name)
        return pp_cli_fail(CMD, 2, "list takes no NAME");
    if (!list && (!o->name || !pp_auth_name_ok(o->name)))
        return pp_cli_fail(CMD, 2, "%s wants a NAME of 1-64 letters, digits, '.', '_', '-'",
                           o->action);
    if (!add && (o->has_role || o->topics || o->has_rate || o->has_burst))
        return pp_cli_fail(CMD, 2, "--role, --topics, --rate and --burst go with add only");
    if (add && !o->has_role)
        return pp_cli_fail(CMD, 2, "add needs --role ingest|read|admin");
    if (o->has_burst && !o->has_rate)
        return pp_cli_fail(CMD, 2, "--burst needs --rate");
    unsigned topics;
    if (o->topics && (pp_auth_topics_parse(o->topics, &topics) || o->role != PP_AUTH_INGEST))
        return pp_cli_fail(CMD, 2, "--topics wants pin,geo,user (ingest keys only), got '%s'",
                           o->topics);
    return 0;
}

/* Lock the file against other `keys` commands, load it (missing: no keys). @returns the lock
 * fd, or -1 after a one-line failure. */
static int open_locked(const char *file, struct pp_auth_keys *keys)
{
    char lock[4200], err[600];
    snprintf(lock, sizeof(lock), "%s.lock", file);
    int fd = pp_lock_file(lock, 10000, err, sizeof(err));
    if (fd < 0) {
        pp_cli_fail(CMD, 1, "cannot lock %s: %s", lock, err);
        return -1;
    }
    int rc = pp_auth_keys_load(keys, file, err, sizeof(err));
    if (rc && rc != PP_ENOENT) {
        pp_cli_fail(CMD, 1, "%s", err);
        close(fd);
        return -1;
    }
    return fd;
}

static int save(const char *file, const struct pp_auth_keys *keys)
{
    char err[600];
    if (pp_auth_keys_save(keys, file, err, sizeof(err)))
        return pp_cli_fail(CMD, 1, "%s", err);
    return 0;
}

static int keys_add(const struct keys_opts *o, struct pp_auth_keys *keys)
{
    struct pp_auth_key key;
    char secret[64];
    memset(&key, 0, sizeof(key));
    if (pp_auth_keys_find(keys, o->name) >= 0)
        return pp_cli_fail(CMD, 1, "a key named %s exists in %s (revoke it first)", o->name,
                           o->file);
    snprintf(key.name, sizeof(key.name), "%s", o->name);
    key.role = o->role;
    if (o->topics)
        pp_auth_topics_parse(o->topics, &key.topics);
    key.rate = o->has_rate ? o->rate : 0;
    key.burst = o->has_burst ? o->burst : o->has_rate ? (o->rate > 1 ? o->rate : 1) : 0;
    key.created_ms = pp_now_ms();
    if (pp_auth_key_generate(secret, sizeof(secret), key.hash))
        return pp_cli_fail(CMD, 1, "no randomness for a key (RAND_bytes failed)");
    if (pp_auth_keys_add(keys, &key) || save(o->file, keys)) {
        memset(secret, 0, sizeof(secret));
        return pp_cli_fail(CMD, 1, "key %s not added", o->name);
    }
    if (pp_cli_verbosity >= 0)
        fprintf(stderr,
                "pinpipe keys: added %s (role %s) to %s; the key is on the next line "
                "and is not shown again\n",
                o->name, pp_auth_role_name(o->role), o->file);
    printf("%s\n", secret); /* the contract: the key alone on the last line of stdout */
    fflush(stdout);
    memset(secret, 0, sizeof(secret));
    return 0;
}

static void keys_list(const struct pp_auth_keys *keys)
{
    printf("%-24s %-7s %-13s %10s %10s  %s\n", "NAME", "ROLE", "TOPICS", "RATE/S", "BURST",
           "CREATED");
    for (int i = 0; i < keys->n; i++) {
        const struct pp_auth_key *key = &keys->keys[i];
        char topics[32], rate[24] = "default", burst[24] = "-", created[32];
        time_t sec = (time_t)(key->created_ms / 1000);
        struct tm tm;
        pp_auth_topics_format(key->topics, topics, sizeof(topics));
        if (key->rate > 0) {
            snprintf(rate, sizeof(rate), "%g", key->rate);
            snprintf(burst, sizeof(burst), "%g", key->burst);
        }
        gmtime_r(&sec, &tm);
        strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("%-24s %-7s %-13s %10s %10s  %s\n", key->name, pp_auth_role_name(key->role), topics,
               rate, burst, created);
    }
}

int cmd_keys(int argc, char **argv)
{
    struct keys_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse(argc, argv, &o);
    if (rc || o.help) {
        if (o.help)
            usage(stdout, o.action);
        return rc;
    }
    if (!o.action)
        return pp_cli_fail(CMD, 2, "want an action: add, revoke or list (see --help)");
    if ((rc = check(&o)))
        return rc;
    struct pp_auth_keys keys;
    pp_auth_keys_init(&keys);
    int fd = open_locked(o.file, &keys);
    if (fd < 0)
        return 1;
    if (!strcmp(o.action, "add"))
        rc = keys_add(&o, &keys);
    else if (!strcmp(o.action, "list"))
        keys_list(&keys);
    else if (pp_auth_keys_remove(&keys, o.name))
        rc = pp_cli_fail(CMD, 1, "no key named %s in %s", o.name, o.file);
    else if (!(rc = save(o.file, &keys)) && pp_cli_verbosity >= 0)
        fprintf(stderr, "pinpipe keys: revoked %s in %s\n", o.name, o.file);
    close(fd);
    pp_auth_keys_free(&keys);
    return rc;
}

/* ---- serve and run ---------------------------------------------------------------------- */

/* "R" or "R:B" of --key-rate. */
static int parse_key_rate(const char *s, struct pp_auth_conf *conf)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "%s", s);
    char *colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    if (parse_rate(buf, &conf->default_rate))
        return PP_EPARSE;
    if (colon && (parse_rate(colon + 1, &conf->default_burst) || conf->default_burst < 1))
        return PP_EPARSE;
    return 0;
}

int pp_cli_auth_open(const char *cmd, const char *keys, const char *key_rate, const char *listen,
                     int insecure, struct pp_auth **auth)
{
    struct pp_auth_conf conf = {.path = keys};
    char err[700];
    int missing = 0;
    *auth = NULL;
    /* SIGHUP reloads the keys; without keys it does nothing (rather than end the process, its
     * default): `systemctl reload` is safe. One handler for the process (TLS files reload on it
     * too): pp_cli_hup_install. */
    pp_cli_hup_install();
    if (key_rate && (!keys || parse_key_rate(key_rate, &conf)))
        return pp_cli_fail(cmd, 2,
                           "--key-rate wants R or R:BURST (requests/s > 0) with "
                           "--api-keys, got '%s'",
                           key_rate);
    if (!keys && !insecure && !pp_auth_listen_loopback(listen))
        return pp_cli_fail(cmd, 2,
                           "--listen %s is not loopback: give --api-keys FILE (make "
                           "keys with pinpipe keys add) or --insecure to serve it open",
                           listen);
    if (!keys) {
        if (!pp_auth_listen_loopback(listen))
            PP_WARN(cmd,
                    "serving %s without API keys (--insecure): anyone who reaches it can "
                    "post and read",
                    listen);
        return 0;
    }
    if (!(*auth = pp_auth_open(&conf, &missing, err, sizeof(err))))
        return pp_cli_fail(cmd, 1, "api keys: %s", err);
    struct stat st;
    if (missing)
        PP_WARN(cmd,
                "api keys file %s does not exist: every request but /healthz and /readyz "
                "gets 401 until `pinpipe keys add` makes it",
                keys);
    else if (!stat(keys, &st) && (st.st_mode & 077))
        PP_WARN(cmd, "api keys file %s is readable by others (mode %03o): chmod 600 it", keys,
                (unsigned)(st.st_mode & 0777));
    PP_INFO(cmd, "api keys on keys=%d file=%s", pp_auth_count(*auth), keys);
    return 0;
}

void pp_cli_auth_poll(struct pp_auth *auth)
{
    static unsigned seen; /* SIGHUPs handled; only serve's or run's main loop calls this */
    unsigned now = pp_cli_hup_count();
    if (now == seen)
        return;
    seen = now;
    if (auth)
        pp_auth_reload(auth, 1);
}
