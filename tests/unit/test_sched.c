/* test_sched.c: cron parsing and next times, DAG checks, runs with retries/backoff/upstream
 * failures on an injected clock, the cross-process lock, real task execution with timeouts,
 * catchup and backfill dates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pp_err.h"
#include "pp_sched.h"
#include "pp_test.h"
#include "pp_util.h"

static int64_t at(const char *s)
{
    int64_t us;
    if (pp_time_parse(s, strlen(s), &us))
        abort();
    return us / 1000000;
}

static void test_cron(void)
{
    struct pp_cron c;
    char err[128];
    PP_CHECK_INT(pp_cron_parse("@daily", &c, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_cron_next(&c, at("2020-08-28 03:52:47")), at("2020-08-29 00:00:00"));
    PP_CHECK_INT(pp_cron_next(&c, at("2020-08-29 00:00:00")), at("2020-08-30 00:00:00"));
    PP_CHECK_INT(pp_cron_parse("*/15 * * * *", &c, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 10:07:00")), at("2021-01-01 10:15:00"));
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 23:59:00")), at("2021-01-02 00:00:00"));
    PP_CHECK_INT(pp_cron_parse("0 9 * * 1-5", &c, err, sizeof(err)), 0); /* weekdays 09:00 */
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-08 10:00:00")), at("2021-01-11 09:00:00"));
    PP_CHECK_INT(pp_cron_parse("0 0 31 * *", &c, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_cron_next(&c, at("2021-02-01 00:00:00")), at("2021-03-31 00:00:00"));
    PP_CHECK_INT(pp_cron_parse("30 2 1,15 * *", &c, err, sizeof(err)), 0);
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 03:00:00")), at("2021-01-15 02:30:00"));
    PP_CHECK_INT(pp_cron_parse("5/20 * * * *", &c, err, sizeof(err)), 0); /* 5, 25, 45 */
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 03:30:00")), at("2021-01-01 03:45:00"));
    PP_CHECK_INT(pp_cron_parse("0 0 * * 7", &c, err, sizeof(err)), 0); /* 7 = Sunday */
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 00:00:00")), at("2021-01-03 00:00:00"));
    PP_CHECK_INT(pp_cron_parse("0 0 30 2 *", &c, err, sizeof(err)), 0); /* never */
    PP_CHECK_INT(pp_cron_next(&c, at("2021-01-01 00:00:00")), -1);
    const char *bad[] = {"60 * * * *", "* * *", "a b c d e", "* * * * * *", "5-1 * * * *",
                         "*/0 * * * *", "@sometimes", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        PP_CHECK_INT(pp_cron_parse(bad[i], &c, err, sizeof(err)), PP_EPARSE);
    PP_CHECK(strstr(err, "bad cron expression") != NULL);
}

/* ---- a fake world: scripted tasks, a clock that only moves when slept ---- */
struct fake {
    int64_t now;
    int64_t slept[16];
    int nslept;
    const char *fail_task; /* fails this many times: */
    int fail_times;
    const char *always_fail;
    int calls[8];
    char order[64];
    int records;
    int lock_busy;
};

static int64_t f_now(void *arg)
{
    return ((struct fake *)arg)->now;
}

static void f_sleep(void *arg, int64_t ms)
{
    struct fake *f = arg;
    if (f->nslept < 16)
        f->slept[f->nslept++] = ms;
    f->now += ms;
}

static int f_exec(void *arg, const struct pp_sched_task *t, const char *date, int64_t timeout,
                  char *err, size_t err_size)
{
    struct fake *f = arg;
    (void)date, (void)timeout;
    strncat(f->order, t->name, sizeof(f->order) - strlen(f->order) - 1);
    f->now += 1000; /* every attempt takes a second */
    if (f->always_fail && !strcmp(t->name, f->always_fail)) {
        snprintf(err, err_size, "%s is broken", t->name);
        return PP_EIO;
    }
    if (f->fail_task && !strcmp(t->name, f->fail_task) && f->fail_times-- > 0) {
        snprintf(err, err_size, "transient");
        return PP_EIO;
    }
    return 0;
}

static int f_record(void *arg, const struct pp_sched_task_run *tr)
{
    (void)tr;
    ((struct fake *)arg)->records++;
    return 0;
}

static int f_lock(void *arg, const char *dag, const char *date)
{
    (void)dag, (void)date;
    return ((struct fake *)arg)->lock_busy ? PP_EBUSY : 0;
}

static struct pp_sched_dag sample_dag(void)
{
    struct pp_sched_dag d = {.name = "daily", .schedule = "@daily", .catchup = 1, .ntasks = 5};
    d.tasks[0] = (struct pp_sched_task){.name = "A", .command = "a"};
    d.tasks[1] = (struct pp_sched_task){.name = "B", .command = "b", .deps = {"A"}, .retries = 3,
                                        .retry_delay_ms = 1000, .backoff = 2};
    d.tasks[2] = (struct pp_sched_task){.name = "C", .command = "c", .deps = {"B"}, .retries = 1,
                                        .retry_delay_ms = 120000};
    d.tasks[3] = (struct pp_sched_task){.name = "D", .command = "d", .deps = {"A"}};
    d.tasks[4] = (struct pp_sched_task){.name = "E", .command = "e", .deps = {"C", "D"}};
    return d;
}

static void test_dag_check(void)
{
    struct pp_sched_dag d = sample_dag();
    int order[PP_SCHED_MAX_TASKS];
    char err[256];
    PP_CHECK_INT(pp_sched_dag_check(&d, order, err, sizeof(err)), 0);
    PP_CHECK(order[0] == 0 && order[4] == 4); /* A first, E last */
    d.tasks[0].deps[0] = "E"; /* A <- E <- C <- B <- A */
    PP_CHECK_INT(pp_sched_dag_check(&d, order, err, sizeof(err)), PP_EINVAL);
    PP_CHECK(strstr(err, "cycle") != NULL);
    d = sample_dag();
    d.tasks[3].deps[0] = "Z";
    PP_CHECK_INT(pp_sched_dag_check(&d, order, err, sizeof(err)), PP_EINVAL);
    PP_CHECK(strstr(err, "unknown task Z") != NULL);
    d = sample_dag();
    d.schedule = "every day";
    PP_CHECK_INT(pp_sched_dag_check(&d, order, err, sizeof(err)), PP_EINVAL);
}

static void test_run(void)
{
    struct pp_sched_dag d = sample_dag();
    struct fake f = {.now = 1000000, .fail_task = "B", .fail_times = 2};
    struct pp_sched_env env = {&f, f_now, f_sleep, f_exec, f_record, f_lock, NULL};
    struct pp_sched_task_run runs[PP_SCHED_MAX_TASKS];
    PP_CHECK_INT(pp_sched_run(&d, "2021-03-04", &env, runs), PP_SCHED_SUCCESS);
    PP_CHECK_STR(f.order, "ABBBCDE");
    PP_CHECK_INT(runs[1].attempts, 3);
    PP_CHECK_INT(runs[1].state, PP_SCHED_SUCCESS);
    PP_CHECK_INT(f.nslept, 2); /* backoff: 1 s, then 2 s */
    PP_CHECK(f.slept[0] == 1000 && f.slept[1] == 2000);
    PP_CHECK_INT(runs[1].end_ms - runs[1].start_ms, 3000 + 3000);
    PP_CHECK(f.records >= 2 * 5);

    /* a task that always fails: retried as configured, then failed; downstream blocked */
    struct fake g = {.now = 0, .always_fail = "C"};
    env.arg = &g;
    PP_CHECK_INT(pp_sched_run(&d, "2021-03-05", &env, runs), PP_SCHED_FAILED);
    PP_CHECK_INT(runs[2].state, PP_SCHED_FAILED);
    PP_CHECK_INT(runs[2].attempts, 2);
    PP_CHECK_STR(runs[2].error, "C is broken");
    PP_CHECK(g.nslept == 1 && g.slept[0] == 120000); /* retry_delay 2 min, as the seeds' DAG */
    PP_CHECK_INT(runs[3].state, PP_SCHED_SUCCESS);   /* D does not depend on C */
    PP_CHECK_INT(runs[4].state, PP_SCHED_UPSTREAM_FAILED);
    PP_CHECK_INT(runs[4].attempts, 0);

    /* capped exponential backoff */
    d.tasks[1].retries = 5;
    d.tasks[1].max_retry_delay_ms = 3000;
    struct fake h = {.fail_task = "B", .fail_times = 5};
    env.arg = &h;
    PP_CHECK_INT(pp_sched_run(&d, "2021-03-06", &env, runs), PP_SCHED_SUCCESS);
    PP_CHECK(h.nslept == 5 && h.slept[0] == 1000 && h.slept[1] == 2000 && h.slept[2] == 3000 &&
             h.slept[4] == 3000);

    /* the run lock is held elsewhere: nothing runs */
    struct fake busy = {.lock_busy = 1};
    env.arg = &busy;
    PP_CHECK_INT(pp_sched_run(&d, "2021-03-07", &env, runs), PP_EBUSY);
    PP_CHECK_STR(busy.order, "");
}

static void test_real_env(void)
{
    char dir[] = "/tmp/pp_test_sched.XXXXXX";
    if (!mkdtemp(dir))
        return;
    struct pp_sched_env env;
    pp_sched_env_real(&env, dir);
    char err[256] = "";
    struct pp_sched_task t = {.name = "t", .command = "test {date} = 2020-01-02"};
    PP_CHECK_INT(env.exec(env.arg, &t, "2020-01-02", 0, err, sizeof(err)), 0);
    PP_CHECK(env.exec(env.arg, &t, "2020-01-03", 0, err, sizeof(err)) < 0);
    t.command = "echo starting; echo 'no lake data for 2020-01-02' >&2; exit 3";
    PP_CHECK_INT(env.exec(env.arg, &t, "2020-01-02", 0, err, sizeof(err)), PP_EIO);
    PP_CHECK_STR(err, "exit status 3: no lake data for 2020-01-02");
    t.command = "sleep 5";
    int64_t t0 = pp_mono_us();
    PP_CHECK_INT(env.exec(env.arg, &t, "2020-01-02", 100, err, sizeof(err)), PP_ETIMEDOUT);
    PP_CHECK(pp_mono_us() - t0 < 4000000); /* killed, not waited for */

    /* the run lock holds across processes */
    int pfd[2];
    if (pipe(pfd))
        return;
    pid_t pid = fork();
    if (pid == 0) {
        struct pp_sched_env cenv;
        pp_sched_env_real(&cenv, dir);
        char c = cenv.lock(cenv.arg, "daily", "2020-01-02") == 0 ? 'y' : 'n';
        if (write(pfd[1], &c, 1) != 1)
            _exit(1);
        sleep(30); /* killed by the parent */
        _exit(0);
    }
    char c = 0;
    PP_CHECK(read(pfd[0], &c, 1) == 1 && c == 'y');
    PP_CHECK_INT(env.lock(env.arg, "daily", "2020-01-02"), PP_EBUSY);
    PP_CHECK_INT(env.lock(env.arg, "daily", "2020-01-03"), 0); /* other dates are free */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    PP_CHECK_INT(env.lock(env.arg, "daily", "2020-01-02"), 0); /* released by its death */
    env.unlock(env.arg, "daily", "2020-01-02");
    env.unlock(env.arg, "daily", "2020-01-03");
    close(pfd[0]);
    close(pfd[1]);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    PP_CHECK_INT(system(cmd), 0);
}

static void test_due(void)
{
    struct pp_sched_dag d = sample_dag();
    char dates[8][11];
    int64_t now = at("2020-01-04 10:00:00") * 1000;
    PP_CHECK_INT(pp_sched_due(&d, "2020-01-01", now, dates, 8), 2);
    PP_CHECK_STR(dates[0], "2020-01-02");
    PP_CHECK_STR(dates[1], "2020-01-03");
    PP_CHECK_INT(pp_sched_due(&d, "2020-01-03", now, dates, 8), 0);
    PP_CHECK_INT(pp_sched_due(&d, NULL, now, dates, 8), 1);
    PP_CHECK_STR(dates[0], "2020-01-03");
    d.catchup = 0;
    PP_CHECK_INT(pp_sched_due(&d, "2019-12-01", now, dates, 8), 1);
    PP_CHECK_STR(dates[0], "2020-01-03");
    PP_CHECK_INT(pp_sched_backfill_dates("2020-02-27", "2020-03-01", dates, 8), 4);
    PP_CHECK_STR(dates[2], "2020-02-29");
    PP_CHECK_STR(dates[3], "2020-03-01");
    PP_CHECK_INT(pp_sched_backfill_dates("2020-03-01", "2020-02-27", dates, 8), PP_EPARSE);
}

int main(void)
{
    pp_diag_set_level(PP_LVL_ERROR);
    test_cron();
    test_dag_check();
    test_run();
    test_real_env();
    test_due();
    PP_TEST_DONE();
}
