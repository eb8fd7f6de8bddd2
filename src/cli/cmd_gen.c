/* cmd_gen.c: `pinpipe gen`: realistic pin/geo/user source tables, as JSON lines or in the
 * seeds' MySQL/MariaDB tables. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pp_cli.h"
#include "pp_err.h"
#include "pp_gen.h"
#include "pp_mysql.h"
#include "pp_util.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: pinpipe gen [--rows N] [--seed S] [--out DIR]\n"
           "       pinpipe gen --mysql URL [--truncate] [--rows N] [--seed S]\n"
           "\n"
           "Write DIR/pin.jsonl, DIR/geo.jsonl and DIR/user.jsonl: N rows (ids 0..N-1,\n"
           "aligned by line) shaped like the real Pinterest source tables: the 13 categories,\n"
           "placeholders (\"User Info Error\", \"Image src error.\", ...) at their real rates,\n"
           "follower counts like \"437\"/\"124k\"/\"2M\", UTF-8 text with accents, CJK and emoji.\n"
           "The same seed gives byte-identical files.\n"
           "\n"
           "  --rows N   rows to write (default 11154, the size of the real pin table)\n"
           "  --seed S   generator seed (default 100)\n"
           "  --out DIR  output directory, created if missing (default .)\n"
           "  --mysql URL\n"
           "             instead of files, fill the seeds' MySQL/MariaDB source tables\n"
           "             pinterest_data, geolocation_data and user_data (created if missing,\n"
           "             primary key on index/ind) with the same rows, in multi-row INSERTs\n"
           "             in one transaction. URL: mysql://user[:password]@host[:port]/db\n"
           "             (or mariadb://; ?socket=PATH for a Unix socket; %%-escapes allowed).\n"
           "             Without a password in the URL, MYSQL_PWD is used. A port means TCP,\n"
           "             also for localhost. `pinpipe emulate --source URL` reads them back.\n"
           "  --truncate with --mysql: empty the three tables first (else rows with the same\n"
           "             ids are an error)\n"
           "\n"
           "Exit status: 0 ok, 1 I/O or database failure, 2 usage error.\n");
}

static int gen_mysql(const char *prog, const char *url, int out_given, int truncate, int64_t rows,
                     uint64_t seed)
{
    struct pp_mysql_url u;
    struct pp_mysql_fill_stats st;
    char err[1024] = "", shown[512];
    if (!url)
        return pp_cli_fail(prog, 2, "--truncate goes with --mysql URL");
    if (out_given)
        return pp_cli_fail(prog, 2, "--out and --mysql exclude each other");
    if (pp_mysql_url_parse(url, &u, err, sizeof(err)))
        return pp_cli_fail(prog, 2, "%s", err);
    pp_mysql_url_show(&u, shown, sizeof(shown));
    pp_mysql_url_free(&u);
    int rc = pp_mysql_fill(url, rows, seed, truncate, &st, err, sizeof(err));
    if (rc)
        return pp_cli_fail(prog, 1, "%s", err[0] ? err : pp_err_str(rc));
    fprintf(stderr,
            "pinpipe gen: %lld rows into %s (pinterest_data, geolocation_data, user_data) "
            "in %.2f s (%.0f rows/s, %lld INSERTs)\n",
            (long long)st.rows, shown, st.elapsed_s,
            st.elapsed_s > 0 ? (double)st.rows / st.elapsed_s : 0.0, (long long)st.statements);
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"rows", required_argument, NULL, 'r'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"mysql", required_argument, NULL, 'm'},
                                         {"truncate", no_argument, NULL, 'T'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int64_t rows = 11154, seed = 100;
    const char *out = ".", *mysql = NULL;
    int c, truncate = 0, out_given = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:s:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (pp_parse_i64(optarg, 0, INT64_MAX / 2, &rows))
                return pp_cli_fail(argv[0], 2, "--rows wants a count >= 0, got '%s'", optarg);
            break;
        case 's':
            if (pp_parse_i64(optarg, INT64_MIN, INT64_MAX, &seed))
                return pp_cli_fail(argv[0], 2, "--seed wants an integer, got '%s'", optarg);
            break;
        case 'o':
            out = optarg, out_given = 1;
            break;
        case 'm':
            mysql = optarg;
            break;
        case 'T':
            truncate = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc)
        return pp_cli_fail(argv[0], 2, "unexpected argument '%s' (see --help)", argv[optind]);
    if (mysql || truncate)
        return gen_mysql(argv[0], mysql, out_given, truncate, rows, (uint64_t)seed);
    if (mkdir(out, 0777) && errno != EEXIST)
        return pp_cli_fail(argv[0], 1, "cannot create %s: %s", out, strerror(errno));
    char err[512] = "";
    int64_t t0 = pp_mono_us();
    int rc = pp_gen_write(out, rows, (uint64_t)seed, err, sizeof(err));
    if (rc)
        return pp_cli_fail(argv[0], 1, "%s", err[0] ? err : pp_err_str(rc));
    double s = (double)(pp_mono_us() - t0) / 1e6;
    fprintf(stderr, "pinpipe gen: %lld rows to %s/{pin,geo,user}.jsonl in %.2f s (%.0f rows/s)\n",
            (long long)rows, out, s, s > 0 ? (double)rows / s : 0.0);
    return 0;
}
