/* kafka_mock.c: pp_kafka_mock, librdkafka's mock Kafka cluster (real protocol on loopback) as a
 * program for the script tests: prints its bootstrap servers and runs until SIGTERM/SIGINT.
 *
 * usage: pp_kafka_mock [--brokers N] [--partitions N] [--topics a,b,c] [--control FILE]
 *   --topics        topics to create (default pin,geo,user,pinpipe.rejected)
 *   --control FILE  polled every 50 ms; when it exists its lines are applied, then it is
 *                   deleted (write it elsewhere and rename it into place):
 *                     errors <api-key> <error-code> <count>  next <count> requests of that
 *                                                          API fail with that code (Produce=0)
 *                     down <broker-id> | up <broker-id>    take a broker down or up
 *                     rtt <broker-id> <ms>                 add round-trip latency
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int num(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void apply(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *tok[5];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && n < 5;
         t = strtok_r(NULL, " \t\r\n", &save))
        tok[n++] = t;
    long a = 0, b = 0, c = 0;
    if (n == 4 && !strcmp(tok[0], "errors") && !num(tok[1], 0, 100, &a) &&
        !num(tok[2], -200, 200, &b) && !num(tok[3], 1, 1000000, &c)) {
        rd_kafka_resp_err_t *errs = malloc(sizeof(*errs) * (size_t)c);
        if (!errs)
            return;
        for (long i = 0; i < c; i++)
            errs[i] = (rd_kafka_resp_err_t)b;
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)c, errs);
        free(errs);
        fprintf(stderr, "pp_kafka_mock: next %ld requests of api %ld fail with %s\n", c, a,
                rd_kafka_err2name((rd_kafka_resp_err_t)b));
    } else if (n == 2 && !strcmp(tok[0], "down") && !num(tok[1], 1, 100, &a)) {
        rd_kafka_mock_broker_set_down(mc, (int32_t)a);
    } else if (n == 2 && !strcmp(tok[0], "up") && !num(tok[1], 1, 100, &a)) {
        rd_kafka_mock_broker_set_up(mc, (int32_t)a);
    } else if (n == 3 && !strcmp(tok[0], "rtt") && !num(tok[1], 1, 100, &a) &&
               !num(tok[2], 0, 60000, &b)) {
        rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
    } else if (n) {
        fprintf(stderr, "pp_kafka_mock: bad control line ignored\n");
    }
}

static void poll_control(rd_kafka_mock_cluster_t *mc, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof(line), f))
        apply(mc, line);
    fclose(f);
    unlink(path);
}

int main(int argc, char **argv)
{
    long brokers = 3, partitions = 6;
    const char *topics = "pin,geo,user,pinpipe.rejected", *control = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--brokers") && v && !num(v, 1, 32, &brokers))
            i++;
        else if (!strcmp(argv[i], "--partitions") && v && !num(v, 1, 1000, &partitions))
            i++;
        else if (!strcmp(argv[i], "--topics") && v)
            topics = argv[++i];
        else if (!strcmp(argv[i], "--control") && v)
            control = argv[++i];
        else {
            fprintf(stderr, "usage: pp_kafka_mock [--brokers N] [--partitions N] "
                            "[--topics a,b,c] [--control FILE]\n");
            return 2;
        }
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "pp_kafka_mock: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (!mc) {
        fprintf(stderr, "pp_kafka_mock: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    char list[1024];
    snprintf(list, sizeof(list), "%s", topics);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        rd_kafka_resp_err_t err =
            rd_kafka_mock_topic_create(mc, t, (int)partitions, (int)(brokers < 3 ? brokers : 3));
        if (err) {
            fprintf(stderr, "pp_kafka_mock: topic %s: %s\n", t, rd_kafka_err2str(err));
            return 1;
        }
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    while (!stop) {
        if (control)
            poll_control(mc, control);
        usleep(50 * 1000);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
