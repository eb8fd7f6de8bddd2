/* cmd_log.c: `pinpipe log` (placeholder until its stage lands). */
#include "pp_cli.h"

int cmd_log(int argc, char **argv)
{
    (void)argc;
    return pp_cli_fail(argv[0], 1, "not implemented yet");
}
