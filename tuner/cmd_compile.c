/* This file implements `fa-tune compile`. Placeholder until issue #2 lands: it says so plainly
 * and exits 1 rather than pretending to work. */
#include <stdio.h>

#include "fa_cli.h"
#include "fa_commands.h"

int cmd_compile(int argc, char **argv)
{
    if (argc > 1 && fa_cli_is_help(argv[1])) {
        printf("usage: fa-tune compile [options]\n\nnot available yet in this build (issue #2).\n");
        return FA_EXIT_OK;
    }
    fprintf(stderr, "fa-tune compile: not available yet in this build (issue #2 has not landed)\n");
    return FA_EXIT_FAIL;
}
