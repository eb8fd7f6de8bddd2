/* sched.c: DAG checks, one run of a DAG for a date (dependencies, retries, backoff), due
 * dates for catchup and backfill. */
#include <stdio.h>
#include <string.h>

#include "pp_err.h"
#include "pp_sched.h"
#include "pp_util.h"

const char *pp_sched_state_name(enum pp_sched_state state)
{
    static const char *const names[] = {"none",    "running",         "success",
                                        "failed",  "upstream_failed", "skipped"};
    return state >= 0 && state <= PP_SCHED_SKIPPED ? names[state] : "unknown";
}

static int task_index(const struct pp_sched_dag *dag, const char *name)
{
    for (int i = 0; i < dag->ntasks; i++)
        if (!strcmp(dag->tasks[i].name, name))
            return i;
    return -1;
}

int pp_sched_dag_check(const struct pp_sched_dag *dag, int *order, char *errstr,
                       size_t errstr_size)
{
    struct pp_cron cron;
    if (dag->ntasks < 1 || dag->ntasks > PP_SCHED_MAX_TASKS) {
        snprintf(errstr, errstr_size, "DAG %s: 1..%d tasks expected", dag->name,
                 PP_SCHED_MAX_TASKS);
        return PP_EINVAL;
    }
    if (pp_cron_parse(dag->schedule, &cron, errstr, errstr_size))
        return PP_EINVAL;
    int indeg[PP_SCHED_MAX_TASKS] = {0};
    for (int i = 0; i < dag->ntasks; i++) {
        const struct pp_sched_task *t = &dag->tasks[i];
        if (!t->name || !*t->name || task_index(dag, t->name) != i) {
            snprintf(errstr, errstr_size, "DAG %s: task %d has no or a duplicate name",
                     dag->name, i);
            return PP_EINVAL;
        }
        for (int d = 0; d < PP_SCHED_MAX_DEPS && t->deps[d]; d++) {
            if (task_index(dag, t->deps[d]) < 0) {
                snprintf(errstr, errstr_size, "DAG %s: task %s depends on unknown task %s",
                         dag->name, t->name, t->deps[d]);
                return PP_EINVAL;
            }
            indeg[i]++;
        }
    }
    /* Kahn's algorithm; the order is stable (declaration order among ready tasks). */
    int n = 0, done[PP_SCHED_MAX_TASKS] = {0};
    while (n < dag->ntasks) {
        int pick = -1;
        for (int i = 0; i < dag->ntasks && pick < 0; i++)
            if (!done[i] && indeg[i] == 0)
                pick = i;
        if (pick < 0) {
            snprintf(errstr, errstr_size, "DAG %s: dependency cycle", dag->name);
            return PP_EINVAL;
        }
        done[pick] = 1;
        order[n++] = pick;
        for (int i = 0; i < dag->ntasks; i++)
            for (int d = 0; d < PP_SCHED_MAX_DEPS && dag->tasks[i].deps[d]; d++)
                if (!strcmp(dag->tasks[i].deps[d], dag->tasks[pick].name))
                    indeg[i]--;
    }
    return 0;
}

/* The delay before retry number `retry` (1 = the first retry). */
static int64_t retry_delay(const struct pp_sched_task *t, int retry)
{
    double d = (double)t->retry_delay_ms;
    for (int i = 1; i < retry; i++)
        d *= t->backoff > 0 ? t->backoff : 1;
    if (t->max_retry_delay_ms > 0 && d > (double)t->max_retry_delay_ms)
        d = (double)t->max_retry_delay_ms;
    return (int64_t)d;
}

static void record(const struct pp_sched_env *env, const struct pp_sched_task_run *tr)
{
    if (env->record)
        env->record(env->arg, tr);
}

/* Run one task to its end: attempts, retries with backoff. */
static void run_task(const struct pp_sched_dag *dag, const struct pp_sched_task *t,
                     const char *date, const struct pp_sched_env *env,
                     struct pp_sched_task_run *tr)
{
    tr->start_ms = env->now_ms(env->arg);
    for (;;) {
        tr->attempts++;
        tr->state = PP_SCHED_RUNNING;
        tr->error[0] = '\0';
        record(env, tr);
        int rc = env->exec(env->arg, t, date, t->timeout_ms, tr->error, sizeof(tr->error));
        if (rc == 0) {
            tr->state = PP_SCHED_SUCCESS;
            tr->error[0] = '\0';
            break;
        }
        if (!tr->error[0])
            snprintf(tr->error, sizeof(tr->error), "%s", pp_err_str(rc));
        if (tr->attempts > t->retries) {
            tr->state = PP_SCHED_FAILED;
            break;
        }
        int64_t delay = retry_delay(t, tr->attempts);
        PP_WARN("sched", "task failed, retrying dag=%s task=%s date=%s attempt=%d delay_ms=%lld "
                "error=\"%s\"", dag->name, t->name, date, tr->attempts, (long long)delay,
                tr->error);
        tr->state = PP_SCHED_NONE; /* up_for_retry */
        record(env, tr);
        env->sleep_ms(env->arg, delay);
    }
    tr->end_ms = env->now_ms(env->arg);
    record(env, tr);
}

int pp_sched_run(const struct pp_sched_dag *dag, const char *date,
                 const struct pp_sched_env *env, struct pp_sched_task_run *runs)
{
    int order[PP_SCHED_MAX_TASKS];
    char err[256];
    if (pp_sched_dag_check(dag, order, err, sizeof(err)))
        return PP_EINVAL;
    if (env->lock && env->lock(env->arg, dag->name, date))
        return PP_EBUSY;
    struct pp_sched_task_run local[PP_SCHED_MAX_TASKS];
    if (!runs)
        runs = local;
    memset(runs, 0, sizeof(*runs) * (size_t)dag->ntasks);
    int failed = 0;
    for (int k = 0; k < dag->ntasks; k++) {
        int i = order[k];
        const struct pp_sched_task *t = &dag->tasks[i];
        struct pp_sched_task_run *tr = &runs[i];
        tr->dag = dag->name;
        tr->task = t->name;
        tr->date = date;
        int blocked = 0;
        for (int d = 0; d < PP_SCHED_MAX_DEPS && t->deps[d]; d++)
            blocked |= runs[task_index(dag, t->deps[d])].state != PP_SCHED_SUCCESS;
        if (blocked) {
            tr->state = PP_SCHED_UPSTREAM_FAILED;
            snprintf(tr->error, sizeof(tr->error), "an upstream task failed");
            record(env, tr);
            continue;
        }
        run_task(dag, t, date, env, tr);
        failed |= tr->state != PP_SCHED_SUCCESS;
    }
    if (env->unlock)
        env->unlock(env->arg, dag->name, date);
    return failed ? PP_SCHED_FAILED : PP_SCHED_SUCCESS;
}

static void date_of(int64_t sec, char *out)
{
    pp_date_format(sec * 1000, out, 11);
}

int pp_sched_due(const struct pp_sched_dag *dag, const char *last_done, int64_t now_ms,
                 char (*dates)[11], int max)
{
    struct pp_cron cron;
    char err[128];
    if (pp_cron_parse(dag->schedule, &cron, err, sizeof(err)) || max < 1)
        return 0;
    int64_t now = now_ms / 1000, start;
    if (last_done) {
        int64_t ms;
        if (pp_date_parse(last_done, &ms))
            return 0;
        start = ms / 1000; /* the interval of last_done begins at its midnight */
    } else {
        start = now - 40 * 86400; /* nothing done yet: only the latest finished interval */
    }
    /* Airflow semantics: the run for an interval [t0, t1) is due at t1, logical date t0. */
    int n = 0;
    int64_t t0 = pp_cron_next(&cron, start - 1);
    if (last_done && t0 >= 0)
        t0 = pp_cron_next(&cron, t0); /* last_done itself is done */
    while (t0 >= 0) {
        int64_t t1 = pp_cron_next(&cron, t0);
        if (t1 < 0 || t1 > now)
            break;
        if (n == max) {
            memmove(dates[0], dates[1], sizeof(dates[0]) * (size_t)(max - 1));
            n--;
        }
        date_of(t0, dates[n++]);
        t0 = t1;
    }
    if ((!dag->catchup || !last_done) && n > 1) {
        memmove(dates[0], dates[n - 1], sizeof(dates[0]));
        n = 1;
    }
    return n;
}

int pp_sched_backfill_dates(const char *from, const char *to, char (*dates)[11], int max)
{
    int64_t a, b;
    if (pp_date_parse(from, &a) || pp_date_parse(to, &b) || a > b)
        return PP_EPARSE;
    int n = 0;
    for (int64_t t = a; t <= b && n < max; t += 86400000)
        date_of(t / 1000, dates[n++]);
    return n;
}
