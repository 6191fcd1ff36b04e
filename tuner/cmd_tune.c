/*
 * This file implements `fa-tune tune` (also the default command): build the problem set,
 * pick the devices, run the tuning engine into the database, and print the winners per
 * problem. With no GPU of the requested arch it runs the compile-only sweep and says so.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_compile.h"
#include "fa_db.h"
#include "fa_problem_set.h"
#include "fa_sweep.h"
#include "fa_session.h"
#include "fa_tune.h"

static const char *const CMD = "tune";
static volatile int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(void)
{
    printf("usage: fa-tune [tune] --headdim D [options]\n"
           "\n"
           "Find the fastest correct flash-attention forward kernel for every problem, store\n"
           "every measurement in the database, and print the winner per problem. Each variant is\n"
           "checked against an fp32 reference before it is timed; a wrong variant never wins.\n"
           "Rerunning resumes: what this device already measured with this fa-tune is skipped.\n"
           "With no GPU of the requested arch, the compile-only sweep runs instead.\n"
           "\n"
           "target:\n"
           "  --arch A            sm80, sm86, sm89, sm90, sm90a, or native (default: the GPU's)\n"
           "  --headdim D         32, 64, 96, 128, 192, 256 (required unless --shapes)\n"
           "\n"
           "problems (default: FlashAttention's grid -- seqlens 512..16k, batch*seqlen = 16k\n"
           "tokens, hidden 2048 -- x causal/non-causal x fixed/varlen x gqa 1,4,8 x bf16/fp16):\n"
           "  --dtype T           bf16, fp16 or all (default all)\n"
           "  --causal C          0, 1 or all (default all); causal is bottom-right aligned\n"
           "  --varlen V          0, 1 or all (default all); varlen lengths are uniform in\n"
           "                      [N/2, N], seeded by the problem\n"
           "  --seqlens-file F    varlen lengths from your data instead: integers separated\n"
           "                      by spaces, commas or newlines, '#' comments; each varlen\n"
           "                      problem draws from them (cut at its seqlen N) and packs as\n"
           "                      many as fill --tokens on average\n"
           "  --gqa LIST          query heads per kv head, e.g. 1,4,8 (default 1,4,8)\n"
           "  --seqlens LIST      e.g. 512,1k,2k,4k,8k,16k\n"
           "  --tokens N          batch * seqlen (default 16384)\n"
           "  --hidden N          heads * headdim (default 2048)\n"
           "  --heads N           query heads (overrides --hidden)\n"
           "  --heads-kv N        kv heads (fixes the gqa ratio)\n"
           "  --shapes FILE       your own problems, one a line: key=value fields\n"
           "                      dtype headdim batch heads heads_kv seqlen_q seqlen_k causal\n"
           "                      varlen layout; '#' comments\n"
           "\n"
           "search:\n"
           "  --strategy S        exhaustive (default): every variant on every problem;\n"
           "                      halving: all briefly on 2 problems, the best twelfth on\n"
           "                      all (under a third of the time, winners within 2%%\n"
           "                      on an H100); random: a seeded order, stopped by --budget\n"
           "  --budget B          N timings, or a time: 90s, 10m\n"
           "  --seed N            order of the random strategy (default 24301)\n"
           "  --finalists K       per problem, the best K and every variant within 10%% of\n"
           "                      the best (at most 16) re-timed interleaved (default 3;\n"
           "                      0: none)\n"
           "  --rounds N          interleaved re-timings run at least N rounds, then to a 1%%\n"
           "                      error of the mean (default 10; more separates near-ties)\n"
           "  --race M            stop timing a variant after 1-3 repetitions once it is M\n"
           "                      times slower than the best so far on that problem: it\n"
           "                      cannot win (default 1.2; 0: time every variant fully)\n"
           "  --force             re-measure what the database already holds\n"
           "  --variant NAME      only this variant (repeatable), e.g.\n"
           "                      fwd_sm80_hd128_bf16_m128n64w4s2q\n"
           "\n"
           "where:\n"
           "  --db FILE           results database (default fa-tune.db)\n"
           "  --devices LIST      GPU ordinals, e.g. 0,1, or all (default 0); one worker each\n"
           "  --shard I/N         only shard I of N of the variant space (cluster job arrays);\n"
           "                      fold the shards' databases with 'fa-tune db merge'\n"
           "  -j, --jobs N        compile threads (default: all cores)\n"
           "  --cache-dir DIR     compiled kernel cache (default ~/.cache/fa-tune)\n"
           "  --compile-only      do not time, even with a GPU\n"
           "  -q, --quiet         no progress on stderr\n"
           "\n"
           "TFLOP/s = 4 * batch * heads * seqlen_q * seqlen_k * headdim / time, halved for\n"
           "causal with seqlen_q = seqlen_k. Exit codes: 0 ok, 1 runtime failure, 2 usage,\n"
           "130 interrupted (the database stays consistent; rerun to resume).\n");
}

/* "0", "1" or "all" into a pair of axis values. */
static int parse_mode(const char *opt, const char *val, int *vals, int *n)
{
    if (!strcmp(val, "all")) {
        vals[0] = 0;
        vals[1] = 1;
        *n = 2;
    } else if (!strcmp(val, "0") || !strcmp(val, "1")) {
        vals[0] = val[0] - '0';
        *n = 1;
    } else {
        return fa_cli_usage_error(CMD, "%s '%s': expected 0, 1 or all", opt, val);
    }
    return 0;
}

static int parse_budget(const char *val, fa_tune_opts *o)
{
    char *end = NULL;
    double x = strtod(val, &end);
    if (end == val || x <= 0)
        return fa_cli_usage_error(CMD, "--budget '%s': expected a count (200) or a time (90s, 10m)",
                                  val);
    if (!*end)
        o->budget_count = (int)x;
    else if (!strcmp(end, "s"))
        o->budget_seconds = x;
    else if (!strcmp(end, "m"))
        o->budget_seconds = 60 * x;
    else if (!strcmp(end, "h"))
        o->budget_seconds = 3600 * x;
    else
        return fa_cli_usage_error(CMD, "--budget '%s': expected a count (200) or a time (90s, 10m)",
                                  val);
    return 0;
}

static void command_line(int argc, char **argv, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "fa-tune");
    for (int i = 0; i < argc && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, " %s", argv[i]);
}

int cmd_tune(int argc, char **argv)
{
    enum {
        O_ARCH = 256,
        O_HEADDIM,
        O_DTYPE,
        O_CAUSAL,
        O_VARLEN,
        O_GQA,
        O_SEQLENS,
        O_TOKENS,
        O_HIDDEN,
        O_HEADS,
        O_HEADS_KV,
        O_SHAPES,
        O_SEQLENS_FILE,
        O_STRATEGY,
        O_BUDGET,
        O_SEED,
        O_FINALISTS,
        O_RACE,
        O_ROUNDS,
        O_FORCE,
        O_DB,
        O_DEVICES,
        O_SHARD,
        O_CACHE,
        O_COMPILE_ONLY,
        O_VARIANT
    };
    static const struct option longopts[] = {{"arch", required_argument, 0, O_ARCH},
                                             {"headdim", required_argument, 0, O_HEADDIM},
                                             {"dtype", required_argument, 0, O_DTYPE},
                                             {"causal", required_argument, 0, O_CAUSAL},
                                             {"varlen", required_argument, 0, O_VARLEN},
                                             {"gqa", required_argument, 0, O_GQA},
                                             {"seqlens", required_argument, 0, O_SEQLENS},
                                             {"tokens", required_argument, 0, O_TOKENS},
                                             {"hidden", required_argument, 0, O_HIDDEN},
                                             {"heads", required_argument, 0, O_HEADS},
                                             {"heads-kv", required_argument, 0, O_HEADS_KV},
                                             {"shapes", required_argument, 0, O_SHAPES},
                                             {"seqlens-file", required_argument, 0, O_SEQLENS_FILE},
                                             {"strategy", required_argument, 0, O_STRATEGY},
                                             {"budget", required_argument, 0, O_BUDGET},
                                             {"seed", required_argument, 0, O_SEED},
                                             {"finalists", required_argument, 0, O_FINALISTS},
                                             {"race", required_argument, 0, O_RACE},
                                             {"rounds", required_argument, 0, O_ROUNDS},
                                             {"force", no_argument, 0, O_FORCE},
                                             {"db", required_argument, 0, O_DB},
                                             {"devices", required_argument, 0, O_DEVICES},
                                             {"shard", required_argument, 0, O_SHARD},
                                             {"jobs", required_argument, 0, 'j'},
                                             {"cache-dir", required_argument, 0, O_CACHE},
                                             {"compile-only", no_argument, 0, O_COMPILE_ONLY},
                                             {"variant", required_argument, 0, O_VARIANT},
                                             {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    fa_tune_opts o;
    fa_tune_opts_default(&o);
    fa_problem_axes ax;
    fa_problem_axes_default(128, &ax);
    const char *arch_name = "native", *shapes = NULL, *db_path = FA_DB_DEFAULT_PATH;
    const char *seqlens_file = NULL;
    const char *devices = "0", *cache_dir = NULL;
    int head_dim = 0, compile_only = 0, rc = 0, seed = 0, n_variants = 0;
    fa_variant variants[64];
    fa_dtype dt;
    fa_err err = {0};
    char cmdline[FA_DB_CMDLINE_MAX];
    command_line(argc - 1, argv + 1, cmdline, sizeof cmdline);

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":j:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage();
            return FA_EXIT_OK;
        case O_ARCH:
            arch_name = optarg;
            if (strcmp(optarg, "native") != 0) {
                const fa_arch *a;
                if ((rc = fa_cli_arch(CMD, optarg, &a)))
                    return rc;
            }
            break;
        case O_HEADDIM:
            if ((rc = fa_cli_headdim(CMD, optarg, &head_dim)))
                return rc;
            break;
        case O_DTYPE:
            if (!strcmp(optarg, "all")) {
                ax.n_dtypes = 2;
            } else {
                if ((rc = fa_cli_dtype(CMD, optarg, &dt)))
                    return rc;
                ax.n_dtypes = 1;
                ax.dtypes[0] = dt;
            }
            break;
        case O_CAUSAL:
            if ((rc = parse_mode("--causal", optarg, ax.causal, &ax.n_causal)))
                return rc;
            break;
        case O_VARLEN:
            if ((rc = parse_mode("--varlen", optarg, ax.varlen, &ax.n_varlen)))
                return rc;
            break;
        case O_GQA:
        case O_SEQLENS: {
            int *dst = c == O_GQA ? ax.gqa : ax.seqlens;
            int *n = c == O_GQA ? &ax.n_gqa : &ax.n_seqlens;
            if (fa_parse_int_list(optarg, dst, FA_MAX_AXIS, n, &err) != FA_OK)
                return fa_cli_usage_error(CMD, "%s %s", c == O_GQA ? "--gqa" : "--seqlens",
                                          err.msg);
            break;
        }
        case O_TOKENS:
            if ((rc = fa_cli_int(CMD, "--tokens", optarg, 1, 1 << 26, &ax.tokens)))
                return rc;
            break;
        case O_HIDDEN:
            if ((rc = fa_cli_int(CMD, "--hidden", optarg, 1, 1 << 20, &ax.hidden)))
                return rc;
            break;
        case O_HEADS:
            if ((rc = fa_cli_int(CMD, "--heads", optarg, 1, 4096, &ax.heads)))
                return rc;
            break;
        case O_HEADS_KV:
            if ((rc = fa_cli_int(CMD, "--heads-kv", optarg, 1, 4096, &ax.heads_kv)))
                return rc;
            break;
        case O_SHAPES:
            shapes = optarg;
            break;
        case O_SEQLENS_FILE:
            seqlens_file = optarg;
            break;
        case O_STRATEGY:
            if (fa_strategy_parse(optarg, &o.strategy) != FA_OK)
                return fa_cli_usage_error(CMD,
                                          "unknown --strategy '%s': expected exhaustive, random "
                                          "or halving",
                                          optarg);
            break;
        case O_BUDGET:
            if ((rc = parse_budget(optarg, &o)))
                return rc;
            break;
        case O_SEED:
            if ((rc = fa_cli_int(CMD, "--seed", optarg, 0, 2147483647, &seed)))
                return rc;
            o.seed = (uint64_t)seed;
            break;
        case O_RACE: {
            char *end = NULL;
            double x = strtod(optarg, &end);
            if (end == optarg || *end || !(x == 0 || (x >= 1.05 && x <= 100)))
                return fa_cli_usage_error(CMD,
                                          "--race '%s': expected a margin from 1.05 to 100 "
                                          "(1.2 = 20%% slower than the best), or 0 for off",
                                          optarg);
            o.race_margin = x;
            break;
        }
        case O_FINALISTS:
            if ((rc = fa_cli_int(CMD, "--finalists", optarg, 0, 16, &o.finalists)))
                return rc;
            break;
        case O_ROUNDS:
            if ((rc = fa_cli_int(CMD, "--rounds", optarg, 3, 1000, &o.final_rounds)))
                return rc;
            break;
        case O_FORCE:
            o.force = 1;
            break;
        case O_DB:
            db_path = optarg;
            break;
        case O_DEVICES:
            devices = optarg;
            break;
        case O_SHARD: {
            int i = -1, n = -1;
            char tail;
            if (sscanf(optarg, "%d/%d%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
                return fa_cli_usage_error(CMD, "--shard '%s': expected I/N with 0 <= I < N",
                                          optarg);
            o.shard_index = i;
            o.shard_count = n;
            break;
        }
        case 'j':
            if ((rc = fa_cli_int(CMD, "--jobs", optarg, 1, 1024, &o.jobs)))
                return rc;
            break;
        case O_CACHE:
            cache_dir = optarg;
            break;
        case O_COMPILE_ONLY:
            compile_only = 1;
            break;
        case O_VARIANT:
            if (n_variants == (int)(sizeof variants / sizeof variants[0]))
                return fa_cli_usage_error(CMD, "at most %d --variant options",
                                          (int)(sizeof variants / sizeof variants[0]));
            if (fa_variant_parse(optarg, &variants[n_variants], &err) != FA_OK)
                return fa_cli_usage_error(CMD, "--variant: %s", err.msg);
            n_variants++;
            break;
        case 'q':
            o.progress = 0;
            break;
        case ':':
            return fa_cli_usage_error(CMD, "option '%s' needs a value", argv[optind - 1]);
        default:
            return fa_cli_usage_error(CMD, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fa_cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!head_dim && !shapes)
        return fa_cli_usage_error(CMD, "--headdim is required (supported: %s), or give --shapes",
                                  fa_head_dim_list());

    fa_problem *problems = NULL;
    int n_problems = 0;
    fa_status st;
    fa_varlen_dist lengths;
    if (seqlens_file) {
        int count = 0, lo = 0, hi = 0;
        if (fa_seqlens_file_read(seqlens_file, &lengths, &count, &lo, &hi, &err) != FA_OK)
            return fa_cli_fail(CMD, &err);
        fprintf(stderr,
                "fa-tune: varlen lengths from %s: %d sequences, %d..%d tokens (problems named "
                "_lens%08x)\n",
                seqlens_file, count, lo, hi, (unsigned)lengths.id);
        ax.lengths = &lengths;
    }
    if (shapes) {
        st = fa_problem_set_read(shapes, ax.n_dtypes == 1 ? ax.dtypes[0] : FA_DTYPE_BF16,
                                 head_dim ? head_dim : 128, &problems, &n_problems, &err);
        if (st == FA_OK && seqlens_file)
            fa_problem_set_use_lengths(problems, n_problems, &lengths);
    } else {
        ax.head_dim = head_dim;
        st = fa_problem_set_build(&ax, &problems, &n_problems, &err);
    }
    if (st != FA_OK)
        return fa_cli_fail(CMD, &err);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fa_tune_session s;
    fa_tune_session_opts so = {.arch_name = arch_name,
                               .devices = devices,
                               .db_path = db_path,
                               .cache_dir = cache_dir,
                               .compile_only = compile_only,
                               .command_line = cmdline};
    o.problems = problems;
    o.n_problems = n_problems;
    if (n_variants > 0) {
        o.variants = variants;
        o.n_variants = n_variants;
    }
    st = fa_tune_session_run(&so, &o, &interrupted, &s, &err);
    if (st == FA_OK || st == FA_INTERRUPTED)
        fa_tune_print_summary(&s, &o, stdout);
    if (st != FA_OK)
        rc = fa_cli_fail(CMD, &err);
    fa_tune_session_release(&s);
    free(problems);
    return rc;
}
