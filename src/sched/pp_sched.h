/* pp_sched.h: the daily DAG runner: cron schedules, tasks with dependencies, retries with
 * exponential backoff, timeouts, catchup and backfill, one run per day at a time (a lock
 * that holds across processes), and a run history.
 *
 * Semantics follow Airflow's, which the seeds' MWAA DAG used (@daily, retries=1,
 * retry_delay=2 min): a run is identified by its logical date (the day it processes); a task
 * runs once all its upstream tasks succeeded; a failed attempt is retried after
 * retry_delay * backoff^(attempt-1) (capped at max_retry_delay) until retries are used up;
 * then the task is failed and its downstream tasks are upstream_failed; the run is failed if
 * any task failed. Time and task execution are injected (struct pp_sched_env), so the
 * scheduler is tested with a fake clock and scripted tasks. */
#ifndef PP_SCHED_H
#define PP_SCHED_H

#include <stddef.h>
#include <stdint.h>

/* ---- cron ---- */

/* A parsed cron expression: minute hour day-of-month month day-of-week (UTC), with *, lists
 * (1,5), ranges (1-5), steps (*\/15, 0-30/10), or one of @yearly @monthly @weekly @daily
 * @midnight @hourly. Day-of-month and day-of-week combine as in Vixie cron (either matches
 * when both are restricted). */
struct pp_cron {
    uint64_t minute;   /* bit i: minute i (0-59) */
    uint32_t hour;     /* 0-23 */
    uint32_t mday;     /* 1-31 */
    uint16_t month;    /* 1-12 */
    uint8_t wday;      /* 0-6, Sunday = 0 (7 is accepted as Sunday) */
    uint8_t mday_star, wday_star;
};

/* @returns 0, or PP_EPARSE with errstr naming the bad field. */
int pp_cron_parse(const char *expr, struct pp_cron *cron, char *errstr, size_t errstr_size);
/* The first time strictly after t (seconds since the epoch, UTC) that matches, or -1 if none
 * within 5 years. */
int64_t pp_cron_next(const struct pp_cron *cron, int64_t t);

/* ---- DAG ---- */

#define PP_SCHED_MAX_TASKS 32
#define PP_SCHED_MAX_DEPS 8

struct pp_sched_task {
    const char *name;                      /* unique in the DAG */
    const char *command;                   /* what the executor runs ({date} is substituted) */
    const char *deps[PP_SCHED_MAX_DEPS];   /* upstream task names, NULL-terminated */
    int retries;                           /* extra attempts after the first */
    int64_t retry_delay_ms;                /* before the first retry */
    double backoff;                        /* delay multiplier per further retry (1 = fixed) */
    int64_t max_retry_delay_ms;            /* cap on the delay (0 = none) */
    int64_t timeout_ms;                    /* per attempt (0 = none) */
};

struct pp_sched_dag {
    const char *name;
    const char *schedule;                  /* cron expression, e.g. "@daily" */
    int catchup;                           /* run missed days since the last run */
    int ntasks;
    struct pp_sched_task tasks[PP_SCHED_MAX_TASKS];
};

/* Check names, dependencies (all exist, no cycles) and the schedule; fill order[] with a
 * topological order of task indexes. @returns 0 or PP_EINVAL with errstr. */
int pp_sched_dag_check(const struct pp_sched_dag *dag, int *order, char *errstr,
                       size_t errstr_size);

/* ---- running ---- */

enum pp_sched_state { PP_SCHED_NONE, PP_SCHED_RUNNING, PP_SCHED_SUCCESS, PP_SCHED_FAILED,
                      PP_SCHED_UPSTREAM_FAILED, PP_SCHED_SKIPPED };
const char *pp_sched_state_name(enum pp_sched_state state);

/* One task's outcome in a run, as recorded in the history. */
struct pp_sched_task_run {
    const char *dag, *task, *date; /* date: the run's logical date "YYYY-MM-DD" */
    enum pp_sched_state state;
    int attempts;
    int64_t start_ms, end_ms;      /* 0 when it never started */
    char error[256];               /* last attempt's error ("" on success) */
};

/* What the scheduler needs from the world; tests inject fakes. */
struct pp_sched_env {
    void *arg;
    int64_t (*now_ms)(void *arg);
    void (*sleep_ms)(void *arg, int64_t ms);
    /* Run one attempt of task for date with a timeout (0 = none).
     * @returns 0 on success, else <0 with err filled (PP_ETIMEDOUT on timeout). */
    int (*exec)(void *arg, const struct pp_sched_task *task, const char *date,
                int64_t timeout_ms, char *err, size_t err_size);
    /* Record a task's state change (start, each retry, end). @returns 0 or <0. */
    int (*record)(void *arg, const struct pp_sched_task_run *tr);
    /* Take the run lock of (dag, date) across processes; 0 = taken, PP_EBUSY = held
     * elsewhere. unlock releases it. */
    int (*lock)(void *arg, const char *dag, const char *date);
    void (*unlock)(void *arg, const char *dag, const char *date);
};

/* Run dag for one logical date: tasks in dependency order, retries and backoff as
 * configured. @returns PP_SCHED_SUCCESS or PP_SCHED_FAILED, or <0: PP_EBUSY (another
 * process runs that date now), PP_EINVAL (bad DAG). runs (may be NULL) receives each task's
 * final outcome, indexed like dag->tasks. */
int pp_sched_run(const struct pp_sched_dag *dag, const char *date,
                 const struct pp_sched_env *env, struct pp_sched_task_run *runs);

/* Logical dates to run for an @daily-style schedule: every date whose schedule interval has
 * ended after last_done (exclusive; NULL = none yet) up to now_ms. Without catchup only the
 * latest such date. Writes up to max dates ("YYYY-MM-DD", 11 bytes each) into dates.
 * @returns the number of dates. */
int pp_sched_due(const struct pp_sched_dag *dag, const char *last_done, int64_t now_ms,
                 char (*dates)[11], int max);
/* Dates from..to inclusive ("YYYY-MM-DD"), for backfill. @returns count or PP_EPARSE. */
int pp_sched_backfill_dates(const char *from, const char *to, char (*dates)[11], int max);

/* The real world: wall clock, nanosleep, tasks run as `sh -c <command>` (with {date}
 * substituted) in their own process group, killed on timeout, stderr's last line as the
 * error; locks are flock(2) on <lock_dir>/<dag>.<date>.lock (held across processes, released
 * when the process dies). record is left NULL (set it to store the history). */
void pp_sched_env_real(struct pp_sched_env *env, const char *lock_dir);

#endif
