/* cmd_emulate.c: `pinpipe emulate` (placeholder until its stage lands). */
#include "pp_cli.h"

int cmd_emulate(int argc, char **argv)
{
    (void)argc;
    return pp_cli_fail(argv[0], 1, "not implemented yet");
}
