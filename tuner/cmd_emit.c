/* This file implements `fa-tune emit`: it parses options, opens the results database read-only
 * and hands the work to fa_emit_write (reports/fa_emit.h); a summary goes to stderr. The
 * header is written whole or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_compile.h"
#include "fa_db.h"
#include "fa_output.h"
#include "fa_emit.h"
#include "fa_options.h"
#include "fa_parse.h"

static const char *const cmd = "emit";

/* What `emit` reads from its command line. */
typedef struct emit_cli {
    const fa_arch *archs[16];
    int n_archs, embed, no_cache;
    const char *db_path, *out_path, *prefix, *cache_dir;
} emit_cli;

static int opt_arch(const char *name, const fa_option *opt, const char *val)
{
    emit_cli *e = opt->dst;
    const fa_arch *arch = fa_arch_find(val);
    char shown[FA_CLI_SHOWN_MAX];
    if (!arch)
        return fa_cli_usage_error(name, "unknown --arch '%s': supported archs are %s",
                                  fa_printable(val, shown, sizeof shown), fa_arch_list());
    if (e->n_archs == (int)(sizeof e->archs / sizeof e->archs[0]))
        return fa_cli_usage_error(name, "too many --arch options");
    e->archs[e->n_archs++] = arch;
    return 0;
}

static int opt_prefix(const char *name, const fa_option *opt, const char *val)
{
    emit_cli *e = opt->dst;
    char shown[FA_CLI_SHOWN_MAX];
    if (!fa_emit_prefix_valid(val))
        return fa_cli_usage_error(name,
                                  "bad --prefix '%s': expected a C identifier of at most %d "
                                  "characters, not starting with '_' and without '__'",
                                  fa_printable(val, shown, sizeof shown), FA_EMIT_PREFIX_MAX);
    e->prefix = val;
    return 0;
}

/* Read the command line into e. Returns -1 to go on, else the exit code. */
static int parse_options(emit_cli *e, int argc, char **argv)
{
    char arch_help[192], db_help[96], out_help[400], prefix_help[160];
    snprintf(arch_help, sizeof arch_help,
             "one of %s; repeatable: several archs in\none header, chosen at run time by the "
             "device's compute\ncapability",
             fa_arch_list());
    snprintf(db_help, sizeof db_help, "results database (default %s), opened read-only",
             FA_DB_DEFAULT_PATH);
    snprintf(out_help, sizeof out_help,
             "output header (default %s; '-' writes to stdout);\nwritten to a temporary file and "
             "renamed, so a failure\nleaves the old file; a symlink's target is replaced (the\n"
             "link stays); a read-only file or the database is refused",
             FA_EMIT_DEFAULT_OUTPUT);
    snprintf(prefix_help, sizeof prefix_help,
             "identifier prefix (default %s; macros in upper case),\nso headers with different "
             "prefixes can share a file",
             FA_EMIT_DEFAULT_PREFIX);
    const fa_option opts[] = {
        {.kind = FA_OPT_GROUP, .help = "required"},
        {.kind = FA_OPT_CALLBACK,
         .name = "arch",
         .cb = opt_arch,
         .dst = e,
         .takes_value = 1,
         .metavar = "ARCH",
         .help = arch_help},
        {.kind = FA_OPT_GROUP, .help = "options"},
        {.kind = FA_OPT_STRING,
         .name = "db",
         .dst = &e->db_path,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file name",
         .metavar = "FILE",
         .help = db_help},
        {.kind = FA_OPT_STRING,
         .name = "output",
         .short_name = 'o',
         .dst = &e->out_path,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file name",
         .metavar = "FILE",
         .help = out_help},
        {.kind = FA_OPT_FLAG,
         .name = "embed-cubin",
         .dst = &e->embed,
         .help = "also embed every winner's cubin (compiled with NVRTC for its\narch, through "
                 "the cache) and a plain C launch API over the\nCUDA Driver API: the consumer "
                 "needs only cuda.h and libcuda;\nits launches can be captured into CUDA "
                 "graphs"},
        {.kind = FA_OPT_CALLBACK,
         .name = "prefix",
         .cb = opt_prefix,
         .dst = e,
         .takes_value = 1,
         .metavar = "NAME",
         .help = prefix_help},
        {.kind = FA_OPT_STRING,
         .name = "cache-dir",
         .dst = &e->cache_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a directory",
         .metavar = "DIR",
         .help = "cubin cache for --embed-cubin (default: $FA_TUNE_CACHE_DIR,\nelse "
                 "$XDG_CACHE_HOME/fa-tune, else ~/.cache/fa-tune)"},
        {.kind = FA_OPT_FLAG,
         .name = "no-cache",
         .dst = &e->no_cache,
         .help = "neither read nor write the cache"},
        {.kind = FA_OPT_END}};
    const fa_opt_cmd c = {
        .name = cmd,
        .usage = "usage: fa-tune emit --arch ARCH [--arch ARCH ...] [options]\n",
        .intro = "Write a self-contained C99 dispatch header (it also compiles as C++ and with "
                 "nvcc)\nfrom the winners stored in the results database: a table keyed by "
                 "(dtype, head\ndim, causal, varlen, gqa, seqlen bucket) -> tiles, threads, "
                 "shared memory, variant\nname and measured TFLOP/s per arch, a lookup that "
                 "never fails for a supported\nhead dim (exact -> nearest bucket -> nearest gqa "
                 "-> same head dim -> default), the\nfa_fwd_params struct, and "
                 "FA_DISPATCH_FOR_EACH_VARIANT(X) listing the winning\ntemplate instances for "
                 "builds that instantiate them with nvcc. Its banner names\nthe database runs, "
                 "GPUs and versions it came from; the same database gives a\nbyte-identical "
                 "header.\n",
        .outro = "examples:\n"
                 "  fa-tune emit --arch sm90 -o fa_dispatch_sm90.h\n"
                 "  fa-tune emit --arch sm80 --arch sm90 --embed-cubin -o fa_dispatch.h\n"
                 "\n"
                 "exit codes: 0 written, 1 no winners for an arch (tune it first: 'fa-tune "
                 "--arch\nsm90 --headdim 128'), an unreadable database or a failed compile "
                 "(nothing is\nwritten), 2 usage error (an unknown arch lists the supported "
                 "ones).\n",
        .opts = opts};
    int rc = fa_opt_parse(&c, argc, argv);
    if (rc >= 0)
        return rc;
    if (e->n_archs == 0)
        return fa_cli_usage_error(cmd, "--arch is required (supported archs are %s)",
                                  fa_arch_list());
    return -1;
}

int cmd_emit(int argc, char **argv)
{
    emit_cli e = {.db_path = FA_DB_DEFAULT_PATH,
                  .out_path = FA_EMIT_DEFAULT_OUTPUT,
                  .prefix = FA_EMIT_DEFAULT_PREFIX};
    int rc = parse_options(&e, argc, argv);
    if (rc >= 0)
        return rc;
    rc = FA_EXIT_OK;
    const fa_arch *const *archs = e.archs;
    const int n_archs = e.n_archs;
    const char *db_path = e.db_path, *out_path = e.out_path;
    fa_db *db = NULL;
    fa_compiler *compiler = NULL;
    fa_err err;
    fa_err_clear(&err);

    /* Before the database is opened: an output that is the database (or its -wal/-shm) is a
     * usage error, and nothing is read or written. */
    if (strcmp(out_path, "-") != 0 && fa_output_not_db(out_path, db_path, &err) != FA_OK)
        return fa_cli_fail(cmd, &err);
    fa_status st = fa_db_open(db_path, FA_DB_READONLY, &db, &err);
    if (st == FA_NOT_FOUND) {
        fprintf(stderr,
                "fa-tune emit: no results database '%s': tune first, e.g. 'fa-tune --arch %s "
                "--headdim 128%s%s'\n",
                db_path, archs[0]->name, strcmp(db_path, FA_DB_DEFAULT_PATH) ? " --db " : "",
                strcmp(db_path, FA_DB_DEFAULT_PATH) ? db_path : "");
        return FA_EXIT_FAIL;
    }
    if (st != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }
    if (e.embed) {
        fa_compiler_opts co = {0};
        co.cache_dir = e.cache_dir;
        co.no_cache = e.no_cache;
        st = fa_compiler_new(&co, &compiler, &err);
        if (st != FA_OK) {
            rc = fa_cli_fail(cmd, &err);
            goto cleanup;
        }
    }

    fa_emit_opts opts = {0};
    opts.archs = archs;
    opts.n_archs = n_archs;
    opts.prefix = e.prefix;
    opts.embed_cubin = e.embed;
    if (compiler)
        fa_compiler_service(compiler, &opts.compiler);
    fa_emit_info info;
    st = fa_emit_write(db, &opts, out_path, &info, &err);
    if (st != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        if (rc == FA_EXIT_USAGE)
            rc = FA_EXIT_FAIL; /* options were checked above: what is left is the data */
        goto cleanup;
    }
    if (info.stale_source)
        fprintf(stderr, "fa-tune emit: warning: the templates compiled into the cubins differ from "
                        "the source the winners were measured with (see the header's banner)\n");
    fprintf(stderr,
            "fa-tune emit: wrote %s: %d entries, %d kernels (%d variants)%s, %d runs, "
            "%zu bytes\n",
            strcmp(out_path, "-") ? out_path : "stdout", info.entries, info.kernels, info.variants,
            e.embed ? " with cubins" : "", info.runs, info.bytes);

cleanup:
    fa_compiler_free(compiler);
    fa_db_close(db);
    return rc;
}
