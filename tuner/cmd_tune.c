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
#include "fa_gpu_backend.h"
#include "fa_parse.h"
#include "fa_problem_set.h"
#include "fa_sweep.h"
#include "fa_session.h"
#include "fa_tune.h"

static const char *const CMD = "tune";

#define FA_BUDGET_COUNT_MAX 1000000000
#define FA_BUDGET_SECONDS_MAX (365.0 * 86400)
#define FA_SHARD_MAX 65536
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

/* A count of timings (200) or a time (90s, 10m, 1.5h): a count is whole, a time finite. */
static int parse_budget(const char *val, fa_tune_opts *o)
{
    static const struct {
        char unit;
        double seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}};
    char shown[FA_CLI_SHOWN_MAX], num[64];
    int64_t count;
    size_t len = strlen(val);
    if (fa_parse_int64(val, 1, FA_BUDGET_COUNT_MAX, 0, &count) == 0) {
        o->budget_count = (int)count;
        return 0;
    }
    for (size_t i = 0; len > 1 && len < sizeof num && i < sizeof units / sizeof units[0]; i++) {
        double x;
        if (val[len - 1] != units[i].unit)
            continue;
        memcpy(num, val, len - 1);
        num[len - 1] = '\0';
        if (fa_parse_double(num, 0, FA_BUDGET_SECONDS_MAX / units[i].seconds, &x) != 0 || x <= 0)
            break;
        o->budget_seconds = x * units[i].seconds;
        return 0;
    }
    return fa_cli_usage_error(CMD,
                              "--budget '%s': expected a count of timings in [1, %d] (200) or a "
                              "time above 0 and up to %d days (90s, 10m, 2h)",
                              fa_printable(val, shown, sizeof shown), FA_BUDGET_COUNT_MAX,
                              (int)(FA_BUDGET_SECONDS_MAX / 86400));
}

/* --shard I/N with 0 <= I < N. */
static int parse_shard(const char *val, fa_tune_opts *o)
{
    char shown[FA_CLI_SHOWN_MAX], part[32];
    const char *slash = strchr(val, '/');
    int64_t i = -1, n = -1;
    size_t k = slash ? (size_t)(slash - val) : 0;
    if (slash && k < sizeof part) {
        memcpy(part, val, k);
        part[k] = '\0';
        if (fa_parse_int64(slash + 1, 1, FA_SHARD_MAX, 0, &n) != 0 ||
            fa_parse_int64(part, 0, n - 1, 0, &i) != 0)
            i = -1;
    }
    if (i < 0)
        return fa_cli_usage_error(CMD, "--shard '%s': expected I/N with 0 <= I < N <= %d",
                                  fa_printable(val, shown, sizeof shown), FA_SHARD_MAX);
    o->shard_index = (int)i;
    o->shard_count = (int)n;
    return 0;
}

/* --tokens and --hidden against the seqlens and the head dim they divide. The default token
 * count may fall short of a long seqlen (batch 1 then); a --tokens the user gave may not. */
static int check_axes(const fa_problem_axes *ax, int head_dim, int tokens_given)
{
    int longest = 0;
    for (int i = 0; i < ax->n_seqlens; i++)
        longest = ax->seqlens[i] > longest ? ax->seqlens[i] : longest;
    if (tokens_given && ax->tokens < longest)
        return fa_cli_usage_error(CMD,
                                  "--tokens %d is less than seqlen %d: batch = tokens / seqlen "
                                  "would be 0; give --tokens of at least %d or shorter --seqlens",
                                  ax->tokens, longest, longest);
    if (ax->heads == 0 && ax->hidden < head_dim)
        return fa_cli_usage_error(CMD,
                                  "--hidden %d is less than --headdim %d: heads = hidden / "
                                  "headdim would be 0; give --hidden of at least %d or --heads",
                                  ax->hidden, head_dim, head_dim);
    if (ax->heads_kv > 0) {
        int heads = ax->heads > 0 ? ax->heads : ax->hidden / head_dim;
        if (ax->heads_kv > heads || heads % ax->heads_kv != 0)
            return fa_cli_usage_error(CMD, "--heads-kv %d does not divide the %d query heads (%s)",
                                      ax->heads_kv, heads,
                                      ax->heads > 0 ? "--heads" : "--hidden / --headdim");
    }
    return 0;
}

/* Every --variant must fit some problem, else the run would measure nothing and exit 0. */
static int check_variants(const fa_variant *vs, int nv, const fa_problem *ps, int np)
{
    for (int i = 0; i < nv; i++) {
        int fits = 0;
        for (int k = 0; k < np && !fits; k++)
            fits = fa_variant_matches(&vs[i], &ps[k]);
        if (fits)
            continue;
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        return fa_cli_usage_error(
            CMD,
            "--variant '%s' (head dim %d, %s, %s, %s) fits none of the %d "
            "problems the other options ask for (e.g. head dim %d, %s, %s, "
            "%s): nothing would run",
            name, vs[i].head_dim, fa_dtype_name(vs[i].dtype),
            vs[i].causal ? "causal" : "non-causal", vs[i].varlen ? "varlen" : "fixed-length", np,
            ps[0].head_dim, fa_dtype_name(ps[0].dtype), ps[0].causal ? "causal" : "non-causal",
            ps[0].varlen ? "varlen" : "fixed-length");
    }
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
    int head_dim = 0, compile_only = 0, rc = 0, seed = 0, n_variants = 0, tokens_given = 0;
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
            tokens_given = 1;
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
            if (!*optarg)
                return fa_cli_usage_error(CMD, "--shapes '': expected a file");
            shapes = optarg;
            break;
        case O_SEQLENS_FILE:
            if (!*optarg)
                return fa_cli_usage_error(CMD, "--seqlens-file '': expected a file");
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
            double x = -1;
            if (fa_parse_double(optarg, 0, 100, &x) != 0 || (x != 0 && x < 1.05)) {
                char shown[FA_CLI_SHOWN_MAX];
                return fa_cli_usage_error(CMD,
                                          "--race '%s': expected a margin from 1.05 to 100 "
                                          "(1.2 = 20%% slower than the best), or 0 for off",
                                          fa_printable(optarg, shown, sizeof shown));
            }
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
            if (!*optarg)
                return fa_cli_usage_error(CMD, "--db '': expected a database file");
            db_path = optarg;
            break;
        case O_DEVICES: {
            int ords[64], n = 0;
            if (fa_devices_parse(optarg, ords, 64, &n, &err) != FA_OK)
                return fa_cli_usage_error(CMD, "%s", err.msg);
            devices = optarg;
            break;
        }
        case O_SHARD:
            if ((rc = parse_shard(optarg, &o)))
                return rc;
            break;
        case 'j':
            if ((rc = fa_cli_int(CMD, "--jobs", optarg, 1, 1024, &o.jobs)))
                return rc;
            break;
        case O_CACHE:
            if (!*optarg)
                return fa_cli_usage_error(CMD, "--cache-dir '': expected a directory (leave the "
                                               "option out for the default)");
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

    if (!shapes && (rc = check_axes(&ax, head_dim, tokens_given)))
        return rc;

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
    if ((rc = check_variants(variants, n_variants, problems, n_problems))) {
        free(problems);
        return rc;
    }

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
