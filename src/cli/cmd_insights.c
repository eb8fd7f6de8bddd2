/* cmd_insights.c: `pinpipe insights` (placeholder until its stage lands). */
#include "pp_cli.h"

int cmd_insights(int argc, char **argv)
{
    (void)argc;
    return pp_cli_fail(argv[0], 1, "not implemented yet");
}
