/* fuzz_config.c: libFuzzer harness for the INI configuration (src/cli/config.c, compiled into
 * this harness as it is: it belongs to the pinpipe executable, not to a library): the input is
 * a pinpipe.conf; the first byte picks the command whose options are built from it.
 * pp_config_apply must give 0 or 2 (with a reason), and on 0 an argument vector in which every
 * value is preceded by its option and the command's own arguments come last, unchanged;
 * `pinpipe config` must print it (output discarded).
 * Note: config.c keeps its parsed state in function-static variables (it runs once per process
 * in pinpipe), so runs are not independent here: values and [kafka] entries of earlier inputs
 * stay, and past 64 [kafka] entries in all every further one is refused as unknown. Crashes
 * and sanitizer reports stay meaningful; a finding is confirmed by re-running its input alone. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "pp_cli.h"
#include "pp_config.h"

/* config.c's only call into the rest of the CLI (common.c pulls in every module). */
int pp_cli_fail(const char *cmd, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_end(ap);
    (void)cmd;
    return status;
}

static char path[64];

static void rm_conf(void)
{
    unlink(path);
}

static void setup(void)
{
    snprintf(path, sizeof(path), "%s/pp_fuzz_conf.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    int fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    close(fd);
    atexit(rm_conf);
    /* cmd_config prints the configuration: keep it off the fuzzer's output */
    int null = open("/dev/null", O_WRONLY);
    FUZZ_CHECK(null >= 0 && dup2(null, STDOUT_FILENO) >= 0);
    close(null);
    unsetenv("PINPIPE_CONFIG");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cmds[] = {"serve", "run",    "stream", "lake",     "batch",
                                       "log",   "status", "dag",    "schedule", "quality"};
    if (size < 1)
        return 0;
    if (!path[0])
        setup();
    int fd = open(path, O_WRONLY | O_TRUNC);
    FUZZ_CHECK(fd >= 0 && (size == 1 || write(fd, data + 1, size - 1) == (ssize_t)(size - 1)));
    close(fd);

    char cmd[16], opt_config[] = "--config", opt_own[] = "--own-arg", path_arg[64];
    snprintf(cmd, sizeof(cmd), "%s", cmds[data[0] % (sizeof(cmds) / sizeof(cmds[0]))]);
    snprintf(path_arg, sizeof(path_arg), "%s", path);
    char *args[] = {cmd, opt_config, path_arg, opt_own, NULL};
    char **argv = args, err[1024] = "";
    int argc = 4;
    int rc = pp_config_apply(cmd, &argc, &argv, err, sizeof(err));
    FUZZ_CHECK(rc == 0 || rc == 2);
    if (rc) {
        FUZZ_CHECK(err[0] != '\0');
    } else {
        FUZZ_CHECK(argc >= 2 && argv[argc] == NULL && argv[0] == cmd);
        FUZZ_CHECK(argv[argc - 1] == opt_own); /* the command's own arguments come last */
        for (int i = 1; i < argc - 1; i++) {
            FUZZ_CHECK(argv[i] != NULL && argv[i] != opt_config && argv[i] != path_arg);
            FUZZ_CHECK(!strncmp(argv[i], "--", 2) || !strcmp(argv[i], "-X"));
            if (!strcmp(argv[i], "--s3-path-style")) /* the one flag without a value */
                continue;
            FUZZ_CHECK(i + 1 < argc - 1 && argv[i + 1] != NULL);
            i++;
        }
    }
    char cfg[] = "config";
    char *cargs[] = {cfg, opt_config, path_arg, NULL};
    rc = cmd_config(3, cargs);
    FUZZ_CHECK(rc == 0 || rc == 2);
    return 0;
}
