/* cmd_clean.c: `pinpipe clean` (placeholder until its stage lands). */
#include "pp_cli.h"

int cmd_clean(int argc, char **argv)
{
    (void)argc;
    return pp_cli_fail(argv[0], 1, "not implemented yet");
}
