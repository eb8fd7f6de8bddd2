/* auth_file.c: the API keys file: parse, format and crash-safe save of its text lines (only
 * SHA-256 hashes of keys are stored), and key generation from OpenSSL's RAND_bytes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "pp_auth.h"
#include "pp_err.h"
#include "pp_kind.h"
#include "pp_util.h"

static const char *const role_names[] = {"ingest", "read", "admin"};

const char *pp_auth_role_name(enum pp_auth_role role)
{
    return role >= PP_AUTH_INGEST && role <= PP_AUTH_ADMIN ? role_names[role] : "?";
}

int pp_auth_role_parse(const char *s, enum pp_auth_role *role)
{
    for (int r = PP_AUTH_INGEST; r <= PP_AUTH_ADMIN; r++)
        if (!strcmp(s, role_names[r])) {
            *role = (enum pp_auth_role)r;
            return 0;
        }
    return PP_EPARSE;
}

int pp_auth_topics_parse(const char *s, unsigned *topics)
{
    *topics = 0;
    if (!strcmp(s, "*"))
        return 0;
    const char *p = s;
    do {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        int k = PP_KIND_COUNT;
        for (int i = 0; i < PP_KIND_COUNT; i++)
            if (n == strlen(pp_kind_name((enum pp_kind)i)) &&
                !memcmp(p, pp_kind_name((enum pp_kind)i), n))
                k = i;
        if (k == PP_KIND_COUNT)
            return PP_EPARSE;
        *topics |= 1u << k;
        p = end ? end + 1 : NULL;
    } while (p);
    return 0;
}

void pp_auth_topics_format(unsigned topics, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    if (!topics) {
        snprintf(out, size, "*");
        return;
    }
    for (int k = 0; k < PP_KIND_COUNT; k++)
        if (topics & (1u << k) && n < size)
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "," : "",
                                  pp_kind_name((enum pp_kind)k));
}

int pp_auth_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > PP_AUTH_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

void pp_auth_keys_init(struct pp_auth_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
}

void pp_auth_keys_free(struct pp_auth_keys *keys)
{
    if (!keys)
        return;
    /* the hashes are not secrets, but there is no reason to leave them in freed memory */
    if (keys->keys)
        memset(keys->keys, 0, sizeof(*keys->keys) * (size_t)keys->cap);
    free(keys->keys);
    pp_auth_keys_init(keys);
}

int pp_auth_keys_find(const struct pp_auth_keys *keys, const char *name)
{
    for (int i = 0; i < keys->n; i++)
        if (!strcmp(keys->keys[i].name, name))
            return i;
    return -1;
}

int pp_auth_keys_add(struct pp_auth_keys *keys, const struct pp_auth_key *key)
{
    if (pp_auth_keys_find(keys, key->name) >= 0)
        return PP_EINVAL;
    if (keys->n == keys->cap) {
        int cap = keys->cap ? keys->cap * 2 : 16;
        struct pp_auth_key *k = realloc(keys->keys, sizeof(*k) * (size_t)cap);
        if (!k)
            return PP_ENOMEM;
        keys->keys = k;
        keys->cap = cap;
    }
    keys->keys[keys->n++] = *key;
    return 0;
}

int pp_auth_keys_remove(struct pp_auth_keys *keys, const char *name)
{
    int i = pp_auth_keys_find(keys, name);
    if (i < 0)
        return PP_ENOENT;
    memmove(&keys->keys[i], &keys->keys[i + 1], sizeof(keys->keys[0]) * (size_t)(keys->n - i - 1));
    keys->n--;
    return 0;
}

static int hex_val(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_hash(const char *s, unsigned char *out)
{
    if (strlen(s) != 2 * PP_AUTH_HASH_LEN)
        return PP_EPARSE;
    for (int i = 0; i < PP_AUTH_HASH_LEN; i++) {
        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return PP_EPARSE;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* A rate or burst: a finite number in [0, 1e9]. */
static int parse_num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(*v) || *v < 0 || *v > 1e9)
        return PP_EPARSE;
    return 0;
}

/* Apply one "k=v" field of a line to key. @returns 0 or PP_EPARSE. */
static int parse_field(struct pp_auth_key *key, const char *k, const char *v, int *seen)
{
    int64_t us;
    if (!strcmp(k, "name") && pp_auth_name_ok(v)) {
        snprintf(key->name, sizeof(key->name), "%s", v);
        *seen |= 1;
        return 0;
    }
    if (!strcmp(k, "role")) {
        *seen |= 2;
        return pp_auth_role_parse(v, &key->role);
    }
    if (!strcmp(k, "sha256")) {
        *seen |= 4;
        return parse_hash(v, key->hash);
    }
    if (!strcmp(k, "topics"))
        return pp_auth_topics_parse(v, &key->topics);
    if (!strcmp(k, "rate"))
        return parse_num(v, &key->rate);
    if (!strcmp(k, "burst"))
        return parse_num(v, &key->burst);
    if (!strcmp(k, "created") && !pp_time_parse(v, strlen(v), &us)) {
        key->created_ms = us / 1000;
        return 0;
    }
    return PP_EPARSE;
}

/* Parse one line (NUL-terminated, modified in place) into key. @returns 0, 1 (blank or
 * comment), PP_EPARSE with *bad the offending field's name. */
static int parse_line(char *line, struct pp_auth_key *key, const char **bad)
{
    int seen = 0;
    memset(key, 0, sizeof(*key));
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p || *p == '#' || *p == '\r')
        return 1;
    while (*p) {
        char *f = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        while (*p == ' ' || *p == '\t' || *p == '\r')
            *p++ = '\0';
        char *eq = strchr(f, '=');
        *bad = "a field without '='";
        if (!eq)
            return PP_EPARSE;
        *eq = '\0';
        *bad = f; /* the field's name, never its value (a hash) */
        if (parse_field(key, f, eq + 1, &seen))
            return PP_EPARSE;
    }
    *bad = (seen & 1) ? (seen & 2) ? "sha256" : "role" : "name";
    if (seen != 7)
        return PP_EPARSE;
    if (key->rate > 0 && key->burst < 1)
        key->burst = key->rate > 1 ? key->rate : 1;
    return 0;
}

int pp_auth_keys_parse(struct pp_auth_keys *keys, const char *text, size_t len, char *errstr,
                       size_t errstr_size)
{
    int lineno = 0, rc = 0;
    const char *p = text, *end = text + len;
    while (p < end && !rc) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        char *line = strndup(p, n);
        if (!line)
            return PP_ENOMEM;
        struct pp_auth_key key;
        const char *bad = "";
        int lrc = parse_line(line, &key, &bad);
        if (lrc < 0)
            snprintf(errstr, errstr_size, "line %d: bad or missing field '%.40s'", lineno, bad);
        else if (!lrc && (rc = pp_auth_keys_add(keys, &key)) == PP_EINVAL)
            snprintf(errstr, errstr_size, "line %d: name %s given twice", lineno, key.name);
        if (lrc < 0 || rc == PP_EINVAL)
            rc = PP_EPARSE;
        free(line);
        p = nl ? nl + 1 : end;
    }
    return rc;
}

/* "2026-12-07T23:30:00Z" of ms into out (>= 21 bytes). */
static void iso_format(int64_t ms, char *out, size_t size)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pp_auth_keys_format(const struct pp_auth_keys *keys, struct pp_buf *out)
{
    int rc = pp_buf_puts(out, "# pinpipe API keys (pinpipe keys add|revoke|list): only SHA-256 "
                              "hashes of the keys are stored\n");
    for (int i = 0; i < keys->n && !rc; i++) {
        const struct pp_auth_key *key = &keys->keys[i];
        char topics[32], created[32];
        pp_auth_topics_format(key->topics, topics, sizeof(topics));
        iso_format(key->created_ms, created, sizeof(created));
        rc = pp_buf_printf(
            out, "name=%s role=%s topics=%s rate=%.15g burst=%.15g created=%s sha256=", key->name,
            pp_auth_role_name(key->role), topics, key->rate, key->burst, created);
        for (int b = 0; b < PP_AUTH_HASH_LEN && !rc; b++)
            rc = pp_buf_printf(out, "%02x", key->hash[b]);
        if (!rc)
            rc = pp_buf_putc(out, '\n');
    }
    return rc;
}

/* Read a whole file (at most PP_AUTH_FILE_MAX bytes) into out. */
static int read_file(const char *path, struct pp_buf *out, char *errstr, size_t errstr_size)
{
    int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? PP_ENOENT : PP_EIO;
    }
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                rc = PP_EIO;
            }
            break;
        }
        if ((rc = pp_buf_append(out, chunk, (size_t)n))) {
            snprintf(errstr, errstr_size, "%s: larger than %zu bytes", path, PP_AUTH_FILE_MAX);
            break;
        }
    }
    close(fd);
    return rc;
}

int pp_auth_keys_load(struct pp_auth_keys *keys, const char *path, char *errstr, size_t errstr_size)
{
    struct pp_buf text;
    char why[200] = "";
    pp_buf_init(&text, PP_AUTH_FILE_MAX);
    int rc = read_file(path, &text, errstr, errstr_size);
    if (!rc &&
        (rc = pp_auth_keys_parse(keys, text.data ? text.data : "", text.len, why, sizeof(why))))
        snprintf(errstr, errstr_size, "%s: %s", path, rc == PP_ENOMEM ? "out of memory" : why);
    pp_buf_free(&text);
    return rc;
}

/* fsync the folder holding path, so that a rename in it is durable. */
static int fsync_dir_of(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return PP_EIO;
    int rc = fsync(fd) < 0 ? PP_EIO : 0;
    close(fd);
    return rc;
}

/* Write all of buf to fd. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return PP_EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int pp_auth_keys_save(const struct pp_auth_keys *keys, const char *path, char *errstr,
                      size_t errstr_size)
{
    struct pp_buf text;
    char tmp[4200];
    int fd = -1, rc;
    pp_buf_init(&text, PP_AUTH_FILE_MAX);
    snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
    if ((rc = pp_auth_keys_format(keys, &text))) {
        snprintf(errstr, errstr_size, "out of memory");
        goto out;
    }
    rc = PP_EIO;
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    struct stat st;
    if (stat(path, &st) == 0 && fchown(fd, st.st_uid, st.st_gid)) {
        /* not root: the file stays ours, as it was (serve must run as its owner) */
    }
    if (fchmod(fd, 0600) || write_all(fd, text.data, text.len) || fsync(fd) || close(fd) < 0) {
        snprintf(errstr, errstr_size, "%s: %s", tmp, strerror(errno));
        fd = -1;
        unlink(tmp);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        snprintf(errstr, errstr_size, "rename %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if ((rc = fsync_dir_of(path)))
        snprintf(errstr, errstr_size, "fsync the folder of %s: %s", path, strerror(errno));
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    pp_buf_free(&text);
    return rc;
}

void pp_auth_hash(const char *key, size_t len, unsigned char out[PP_AUTH_HASH_LEN])
{
    SHA256((const unsigned char *)key, len, out);
}

int pp_auth_key_generate(char *out, size_t size, unsigned char hash[PP_AUTH_HASH_LEN])
{
    static const char url64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0}; /* 32 random bytes + a zero pad for the last group */
    if (size < 47 || RAND_bytes(raw, 32) != 1)
        return PP_EIO;
    size_t n = (size_t)snprintf(out, size, "pp_");
    for (int i = 0; i < 33; i += 3) { /* 11 groups of 24 bits: 44 chars, the last unused */
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int s = 18; s >= 0 && n < 3 + 43; s -= 6)
            out[n++] = url64[(v >> s) & 63];
    }
    out[n] = '\0';
    memset(raw, 0, sizeof(raw));
    pp_auth_hash(out, n, hash);
    return 0;
}
