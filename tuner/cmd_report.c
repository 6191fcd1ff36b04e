/* This file implements `fa-tune report`. Placeholder until issue #8 lands: it says so plainly
 * and exits 1 rather than pretending to work. */
#include <stdio.h>

#include "fa_cli.h"
#include "fa_commands.h"

int cmd_report(int argc, char **argv)
{
    if (argc > 1 && fa_cli_is_help(argv[1])) {
        printf("usage: fa-tune report [options]\n\nnot available yet in this build (issue #8).\n");
        return FA_EXIT_OK;
    }
    fprintf(stderr, "fa-tune report: not available yet in this build (issue #8 has not landed)\n");
    return FA_EXIT_FAIL;
}
