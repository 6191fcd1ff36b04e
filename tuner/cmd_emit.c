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

static const char *const cmd = "emit";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fa-tune emit --arch ARCH [--arch ARCH ...] [options]\n"
            "\n"
            "Write a self-contained C99 dispatch header (it also compiles as C++ and with nvcc)\n"
            "from the winners stored in the results database: a table keyed by (dtype, head\n"
            "dim, causal, varlen, gqa, seqlen bucket) -> tiles, threads, shared memory, variant\n"
            "name and measured TFLOP/s per arch, a lookup that never fails for a supported\n"
            "head dim (exact -> nearest bucket -> nearest gqa -> same head dim -> default), the\n"
            "fa_fwd_params struct, and FA_DISPATCH_FOR_EACH_VARIANT(X) listing the winning\n"
            "template instances for builds that instantiate them with nvcc. Its banner names\n"
            "the database runs, GPUs and versions it came from; the same database gives a\n"
            "byte-identical header.\n"
            "\n"
            "required:\n"
            "  --arch ARCH        one of %s; repeatable: several archs in\n"
            "                     one header, chosen at run time by the device's compute\n"
            "                     capability\n"
            "\n"
            "options:\n"
            "  --db FILE          results database (default %s), opened read-only\n"
            "  -o FILE            output header (default %s; '-' writes to stdout);\n"
            "                     written to a temporary file and renamed, so a failure\n"
            "                     leaves the old file; a symlink's target is replaced (the\n"
            "                     link stays); a read-only file or the database is refused\n"
            "  --embed-cubin      also embed every winner's cubin (compiled with NVRTC for its\n"
            "                     arch, through the cache) and a plain C launch API over the\n"
            "                     CUDA Driver API: the consumer needs only cuda.h and libcuda\n"
            "  --prefix NAME      identifier prefix (default %s; macros in upper case),\n"
            "                     so headers with different prefixes can share a file\n"
            "  --cache-dir DIR    cubin cache for --embed-cubin (default: $FA_TUNE_CACHE_DIR,\n"
            "                     else $XDG_CACHE_HOME/fa-tune, else ~/.cache/fa-tune)\n"
            "  --no-cache         neither read nor write the cache\n"
            "\n"
            "examples:\n"
            "  fa-tune emit --arch sm90 -o fa_dispatch_sm90.h\n"
            "  fa-tune emit --arch sm80 --arch sm90 --embed-cubin -o fa_dispatch.h\n"
            "\n"
            "exit codes: 0 written, 1 no winners for an arch (tune it first: 'fa-tune --arch\n"
            "sm90 --headdim 128'), an unreadable database or a failed compile (nothing is\n"
            "written), 2 usage error (an unknown arch lists the supported ones).\n",
            fa_arch_list(), FA_DB_DEFAULT_PATH, FA_EMIT_DEFAULT_OUTPUT, FA_EMIT_DEFAULT_PREFIX);
}

/* The value of option argv[*i], advancing *i; NULL (after a usage message) if missing. */
static const char *value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fa_cli_usage_error(cmd, "%s needs a value", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cmd_emit(int argc, char **argv)
{
    const fa_arch *archs[16];
    int n_archs = 0, embed = 0, no_cache = 0, rc = FA_EXIT_OK;
    const char *db_path = FA_DB_DEFAULT_PATH, *out_path = FA_EMIT_DEFAULT_OUTPUT;
    const char *prefix = FA_EMIT_DEFAULT_PREFIX, *cache_dir = NULL;
    fa_db *db = NULL;
    fa_compiler *compiler = NULL;
    fa_err err;
    fa_err_clear(&err);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (fa_cli_is_help(a)) {
            usage(stdout);
            return FA_EXIT_OK;
        } else if (!strcmp(a, "--arch")) {
            if (!(v = value(argc, argv, &i)))
                return FA_EXIT_USAGE;
            const fa_arch *arch = fa_arch_find(v);
            if (!arch)
                return fa_cli_usage_error(cmd, "unknown --arch '%s': supported archs are %s", v,
                                          fa_arch_list());
            if (n_archs == (int)(sizeof archs / sizeof archs[0]))
                return fa_cli_usage_error(cmd, "too many --arch options");
            archs[n_archs++] = arch;
        } else if (!strcmp(a, "--db")) {
            if (!(db_path = value(argc, argv, &i)))
                return FA_EXIT_USAGE;
            if (!*db_path)
                return fa_cli_usage_error(cmd, "--db needs a file name");
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!(out_path = value(argc, argv, &i)))
                return FA_EXIT_USAGE;
        } else if (!strcmp(a, "--prefix")) {
            if (!(prefix = value(argc, argv, &i)))
                return FA_EXIT_USAGE;
            if (!fa_emit_prefix_valid(prefix))
                return fa_cli_usage_error(cmd,
                                          "bad --prefix '%s': expected a C identifier of at most "
                                          "%d characters, not starting with '_' and without '__'",
                                          prefix, FA_EMIT_PREFIX_MAX);
        } else if (!strcmp(a, "--cache-dir")) {
            if (!(cache_dir = value(argc, argv, &i)))
                return FA_EXIT_USAGE;
            if (!*cache_dir)
                return fa_cli_usage_error(cmd, "--cache-dir needs a directory");
        } else if (!strcmp(a, "--embed-cubin")) {
            embed = 1;
        } else if (!strcmp(a, "--no-cache")) {
            no_cache = 1;
        } else {
            return fa_cli_usage_error(cmd, "unknown option '%s'", a);
        }
    }
    if (n_archs == 0)
        return fa_cli_usage_error(cmd, "--arch is required (supported archs are %s)",
                                  fa_arch_list());
    if (!out_path[0])
        return fa_cli_usage_error(cmd, "-o needs a file name");

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
    if (embed) {
        fa_compiler_opts co = {0};
        co.cache_dir = cache_dir;
        co.no_cache = no_cache;
        st = fa_compiler_new(&co, &compiler, &err);
        if (st != FA_OK) {
            rc = fa_cli_fail(cmd, &err);
            goto cleanup;
        }
    }

    fa_emit_opts opts = {0};
    opts.archs = archs;
    opts.n_archs = n_archs;
    opts.prefix = prefix;
    opts.embed_cubin = embed;
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
            embed ? " with cubins" : "", info.runs, info.bytes);

cleanup:
    fa_compiler_free(compiler);
    fa_db_close(db);
    return rc;
}
