/* This file implements `fa-tune emit`. Placeholder until issue #7 lands: it says so plainly
 * and exits 1 rather than pretending to work. */
#include <stdio.h>

#include "fa_cli.h"
#include "fa_commands.h"

int cmd_emit(int argc, char **argv)
{
    if (argc > 1 && fa_cli_is_help(argv[1])) {
        printf("usage: fa-tune emit [options]\n\nnot available yet in this build (issue #7).\n");
        return FA_EXIT_OK;
    }
    fprintf(stderr, "fa-tune emit: not available yet in this build (issue #7 has not landed)\n");
    return FA_EXIT_FAIL;
}
