/* env_real.c: the scheduler's real environment: wall clock, sleeping, tasks as shell
 * commands in their own process group (killed on timeout), flock(2) run locks. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pp_buf.h"
#include "pp_err.h"
#include "pp_sched.h"
#include "pp_util.h"

#define LOCKS_MAX 8

struct real {
    char dir[1024];
    struct {
        char key[128];
        int fd;
    } locks[LOCKS_MAX];
};

static int64_t real_now(void *arg)
{
    (void)arg;
    return pp_now_ms();
}

static void real_sleep(void *arg, int64_t ms)
{
    (void)arg;
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* command with every "{date}" replaced by date. */
static int expand(const char *command, const char *date, struct pp_buf *out)
{
    for (const char *p = command; *p;) {
        const char *q = strstr(p, "{date}");
        if (!q)
            return pp_buf_puts(out, p);
        int rc = pp_buf_append(out, p, (size_t)(q - p));
        if (rc || (rc = pp_buf_puts(out, date)))
            return rc;
        p = q + 6;
    }
    return 0;
}

/* The last non-empty line of s into err. */
static void last_line(const char *s, size_t n, char *err, size_t err_size)
{
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    size_t b = n;
    while (b && s[b - 1] != '\n')
        b--;
    snprintf(err, err_size, "%.*s", (int)(n - b), s + b);
}

static int real_exec(void *arg, const struct pp_sched_task *task, const char *date,
                     int64_t timeout_ms, char *err, size_t err_size)
{
    (void)arg;
    struct pp_buf cmd, errout;
    pp_buf_init(&cmd, 64 * 1024);
    pp_buf_init(&errout, 64 * 1024);
    int pipefd[2], rc = 0;
    if (expand(task->command, date, &cmd) || pipe(pipefd)) {
        snprintf(err, err_size, "cannot start task %s", task->name);
        pp_buf_free(&cmd);
        return PP_EIO;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pipefd[1], STDERR_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO); /* a task's output is diagnostics */
        close(pipefd[0]);
        close(pipefd[1]);
        execl("/bin/sh", "sh", "-c", cmd.data, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        pp_buf_free(&cmd);
        snprintf(err, err_size, "fork failed: %s", strerror(errno));
        return PP_EIO;
    }
    setpgid(pid, pid);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    int64_t deadline = timeout_ms > 0 ? pp_mono_us() + timeout_ms * 1000 : 0;
    int status = 0, timed_out = 0;
    for (;;) {
        char buf[4096];
        ssize_t n;
        while ((n = read(pipefd[0], buf, sizeof(buf))) > 0) {
            if (errout.len + (size_t)n > errout.max - 1) /* keep the tail */
                pp_buf_reset(&errout);
            pp_buf_append(&errout, buf, (size_t)n);
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (deadline && pp_mono_us() > deadline && !timed_out) {
            kill(-pid, SIGKILL);
            timed_out = 1;
        }
        real_sleep(NULL, 10);
    }
    close(pipefd[0]);
    if (timed_out) {
        snprintf(err, err_size, "timed out after %lld ms", (long long)timeout_ms);
        rc = PP_ETIMEDOUT;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[200] = "";
        last_line(errout.data ? errout.data : "", errout.len, line, sizeof(line));
        if (WIFEXITED(status))
            snprintf(err, err_size, "exit status %d%s%s", WEXITSTATUS(status), line[0] ? ": " : "",
                     line);
        else
            snprintf(err, err_size, "killed by signal %d", WTERMSIG(status));
        rc = PP_EIO;
    }
    pp_buf_free(&cmd);
    pp_buf_free(&errout);
    return rc;
}

static int real_lock(void *arg, const char *dag, const char *date)
{
    struct real *r = arg;
    char path[1400];
    mkdir(r->dir, 0755);
    snprintf(path, sizeof(path), "%s/%s.%s.lock", r->dir, dag, date);
    int slot = -1;
    for (int i = 0; i < LOCKS_MAX && slot < 0; i++)
        if (r->locks[i].fd <= 0)
            slot = i;
    if (slot < 0)
        return PP_EBUSY;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return PP_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        close(fd);
        return PP_EBUSY;
    }
    snprintf(r->locks[slot].key, sizeof(r->locks[slot].key), "%s.%s", dag, date);
    r->locks[slot].fd = fd;
    return 0;
}

static void real_unlock(void *arg, const char *dag, const char *date)
{
    struct real *r = arg;
    char key[128];
    snprintf(key, sizeof(key), "%s.%s", dag, date);
    for (int i = 0; i < LOCKS_MAX; i++)
        if (r->locks[i].fd > 0 && !strcmp(r->locks[i].key, key)) {
            close(r->locks[i].fd); /* releases the flock */
            r->locks[i].fd = 0;
        }
}

void pp_sched_env_real(struct pp_sched_env *env, const char *lock_dir)
{
    static struct real r; /* one per process: the locks live as long as it does */
    snprintf(r.dir, sizeof(r.dir), "%s", lock_dir);
    memset(env, 0, sizeof(*env));
    env->arg = &r;
    env->now_ms = real_now;
    env->sleep_ms = real_sleep;
    env->exec = real_exec;
    env->lock = real_lock;
    env->unlock = real_unlock;
}
