/*
 * This file implements the `fa-tune` command dispatcher: the command table, the top-level
 * --help/--version, and `tune` as the default command (`fa-tune --arch sm80 --headdim 128`
 * means `fa-tune tune --arch sm80 --headdim 128`).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_family.h"
#include "fa_worker.h"

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"tune", cmd_tune, "find and store the fastest correct kernel per problem (default)"},
    {"compile", cmd_compile, "compile-only sweep: registers, shared memory, spills, compile time"},
    {"bench", cmd_bench, "time one variant and the eager baseline on one shape"},
    {"emit", cmd_emit, "write a C dispatch-table header from the stored winners"},
    {"report", cmd_report, "draw speed and memory plots (gnuplot) and an index page"},
    {"db", cmd_db, "list, inspect, export and merge results databases"},
    {"info", cmd_info, "versions of fa-tune, CUDA, NVRTC, the driver, and the GPUs"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: fa-tune [<command>] [options]\n"
                 "\n"
                 "fa-tune autotunes flash-attention kernels, prefill and decode: it JIT-compiles\n"
                 "templated kernels (families");
    for (int i = 0; fa_family_at(i); i++)
        fprintf(out, "%s %s", i ? "," : "", fa_family_at(i)->name);
    fprintf(out, ") across tile sizes and modes\n"
                 "(NVRTC), checks and times every variant on the GPU against an eager reference,\n"
                 "stores winners per GPU arch in SQLite, and emits a dispatch-table C header for\n"
                 "other builds.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n"
                 "examples:\n"
                 "  fa-tune --arch sm90 --headdim 128         tune (the default command)\n"
                 "  fa-tune compile --arch sm80 --headdim 128 compile-only sweep, no GPU needed\n"
                 "  fa-tune emit --arch sm90 -o fa_dispatch_sm90.h\n"
                 "  fa-tune report --arch sm90 -o reports/sm90\n"
                 "\n"
                 "'fa-tune help <command>' or 'fa-tune <command> --help' describes a command.\n"
                 "exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 numerical mismatch,\n"
                 "130 interrupted.\n");
}

/* "unknown command 'complie' (did you mean 'compile'?); commands are: ...": exit 2. */
static int unknown_command(const char *name)
{
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        names[i] = commands[i].name;
    return fa_cli_unknown_name("", "command", name, names, (int)(sizeof names / sizeof names[0]));
}

static int run_command(int argc, char **argv);

/* Data goes to stdout (tables, CSV, headers with -o -). A write that failed there -- a full
 * disk, `>&-`, a closed pipe with SIGPIPE ignored -- must not end in exit 0 with the data cut
 * short, whatever the command: stdio reports it only at a flush, so check once, here. */
static int finish_stdout(int rc)
{
    errno = 0;
    if ((fflush(stdout) == 0 && !ferror(stdout)) || rc != FA_EXIT_OK)
        return rc; /* a command that failed has said why */
    fprintf(stderr, "fa-tune: writing to standard output failed%s%s: the output is incomplete\n",
            errno ? ": " : "", errno ? strerror(errno) : "");
    return FA_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    /* A GPU worker this program started for itself (fa_worker.h): nothing else runs. */
    const int worker_rc = fa_worker_main_hook(argc, argv);
    if (worker_rc >= 0)
        return worker_rc;
    return finish_stdout(run_command(argc, argv));
}

static int run_command(int argc, char **argv)
{
    /* Switches read deep inside (the workers, the engine, error printing): a value that is
     * neither on nor off is refused here rather than read as one of them. */
    static const char *const flags[] = {"FA_PROFILE", "FA_VERBOSE", "FA_NO_PDL", "FA_EAGER_PAD"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        long on;
        if (fa_cli_env_int(flags[i], 0, 1, 0, &on) != 0)
            return FA_EXIT_USAGE;
    }
    /* A write past `ulimit -f` then fails with EFBIG, which every writer reports, instead of
     * killing the process without a word. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        usage(stderr);
        return FA_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (!strcmp(first, "help") && argc > 2) { /* fa-tune help tune: tune's --help */
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            if (!strcmp(argv[2], commands[i].name)) {
                /* fa-tune help db list: db list --help */
                char *help_argv[] = {argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL};
                return commands[i].fn(argc > 3 ? 3 : 2, help_argv);
            }
        return unknown_command(argv[2]);
    }
    if (fa_cli_is_help(first) || !strcmp(first, "help")) {
        usage(stdout);
        return FA_EXIT_OK;
    }
    if (!strcmp(first, "--version") || !strcmp(first, "version")) {
        printf("fa-tune %s\n", FA_TUNE_VERSION_STRING);
        return FA_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(first, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    if (first[0] == '-') {
        /* Options with no command: the default command, tune. argv[0] stands in for its name. */
        argv[0] = "tune";
        return cmd_tune(argc, argv);
    }
    return unknown_command(first);
}
