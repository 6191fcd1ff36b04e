/*
 * This file implements `fa-tune tune` (also the default command): build the problem set,
 * pick the devices, run the tuning engine into the database, and print the winners per
 * problem. With no GPU of the requested arch it runs the compile-only sweep and says so.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_compile.h"
#include "fa_db.h"
#include "fa_gpu_backend.h"
#include "fa_options.h"
#include "fa_parse.h"
#include "fa_problem_set.h"
#include "fa_sweep.h"
#include "fa_session.h"
#include "fa_tune.h"
#include "fa_util.h"

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
static int check_axes(fa_problem_axes *ax, int head_dim, int tokens_given, int gqa_given)
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
        /* --heads-kv fixes the ratio: it replaces the gqa axis (the default 1,4,8 too), and a
           --gqa the user gave must name that ratio alone, not silently lose the others. */
        int g = heads / ax->heads_kv;
        if (gqa_given && (ax->n_gqa != 1 || ax->gqa[0] != g))
            return fa_cli_usage_error(CMD,
                                      "--heads-kv %d fixes the gqa ratio at %d (%d query heads / "
                                      "%d), but --gqa asks for others: drop --gqa or give --gqa %d",
                                      ax->heads_kv, g, heads, ax->heads_kv, g);
        ax->n_gqa = 1;
        ax->gqa[0] = g;
    }
    return 0;
}

/* Every --variant must fit some problem, else the run would measure nothing and exit 0. */
static int check_variants(const fa_variant *vs, int nv, const fa_problem *ps, int np,
                          const fa_family *family)
{
    for (int i = 0; i < nv; i++) {
        int fits = 0;
        if (family && vs[i].family != family) {
            char name[FA_VARIANT_NAME_MAX];
            fa_variant_name(&vs[i], name, sizeof name);
            return fa_cli_usage_error(CMD, "--family %s contradicts --variant '%s'", family->name,
                                      name);
        }
        int same_op = 0;
        for (int k = 0; k < np && !fits; k++) {
            fits = fa_variant_matches(&vs[i], &ps[k]);
            same_op = same_op || ps[k].op == vs[i].op;
        }
        if (fits)
            continue;
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        if (!same_op) /* the mode would read the same on both sides: name what differs */
            return fa_cli_usage_error(
                CMD, "--variant '%s' is a %s variant, and none of the %d problems is a %s one: %s",
                name, fa_op_name(vs[i].op), np, fa_op_name(vs[i].op),
                vs[i].op == FA_OP_DECODE
                    ? "add --op decode (or write op=decode on the --shapes lines)"
                    : "drop --op decode (or give --shapes lines without op=decode)");
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

/* Everything `tune` reads from its command line, and what the phases after it share. */
typedef struct tune_cli {
    fa_tune_opts o;
    fa_problem_axes ax;
    const char *arch_name, *shapes, *db_path, *seqlens_file, *devices, *cache_dir;
    int head_dim, compile_only, quiet, seed, seed_given, n_variants, tokens_given, explore_given,
        gate_given, stage_gate_given;
    unsigned dtypes, causal, varlen; /* sets from FA_OPT_DTYPES / FA_OPT_MODE; 0: not given */
    /* --op and the decode axes; *_given: the option appeared (decode keeps its defaults else) */
    fa_op op;
    int op_given, gqa_given, seqlens_given, hidden_given, heads_given, heads_kv_given;
    int n_seqlens_q, seqlens_q[FA_MAX_AXIS], n_page_sizes, page_sizes[FA_MAX_AXIS];
    unsigned cache_lens;      /* bit i: fa_cache_lens i; 0: not given */
    fa_variant variants[512]; /* --variant: a recheck names every winner of two runs */
    fa_varlen_dist lengths;
    fa_problem *problems;
    int n_problems;
} tune_cli;

/* ---- options: the callbacks of the table ------------------------------------------------ */

static int opt_arch(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    /* tune alone takes "native" (the GPU it runs on), so it words the refusal itself */
    if (strcmp(val, "native") != 0 && !fa_arch_find(val))
        return fa_cli_usage_error(cmd, "unsupported --arch '%s': supported archs are %s, native",
                                  val, fa_arch_list());
    t->arch_name = val;
    return 0;
}

static int opt_list(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    int gqa = !strcmp(opt->name, "gqa");
    fa_err err = {0};
    if (fa_parse_int_list(val, gqa ? t->ax.gqa : t->ax.seqlens, FA_MAX_AXIS,
                          gqa ? &t->ax.n_gqa : &t->ax.n_seqlens, &err) != FA_OK)
        return fa_cli_usage_error(cmd, "--%s %s", opt->name, err.msg);
    *(gqa ? &t->gqa_given : &t->seqlens_given) = 1;
    return 0;
}

static int opt_op(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    char shown[FA_CLI_SHOWN_MAX];
    if (fa_op_parse(val, &t->op) != FA_OK)
        return fa_cli_usage_error(cmd, "--op '%s': expected fwd or decode",
                                  fa_printable(val, shown, sizeof shown));
    t->op_given = 1;
    return 0;
}

/* A comma list of integers in [lo, hi] ("0,64"), at most FA_MAX_AXIS of them. */
static int read_range_list(const char *cmd, const char *opt, const char *val, int lo, int hi,
                           int *out, int *n)
{
    char shown[FA_CLI_SHOWN_MAX], item[32], bad[FA_CLI_SHOWN_MAX];
    const char *p = val;
    int k = 0;
    fa_printable(val, shown, sizeof shown);
    for (;;) {
        size_t len = strcspn(p, ",");
        int64_t x = 0;
        if (k == FA_MAX_AXIS)
            return fa_cli_usage_error(cmd, "--%s '%s': at most %d values", opt, shown, FA_MAX_AXIS);
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        if (len == 0 || len >= sizeof item || fa_parse_int64(item, lo, hi, 0, &x) != 0)
            return fa_cli_usage_error(cmd, "--%s '%s': '%s' is not an integer in [%d, %d]", opt,
                                      shown, fa_printable(item, bad, sizeof bad), lo, hi);
        out[k++] = (int)x;
        p += len;
        if (!*p)
            break;
        p++;
    }
    *n = k;
    return 0;
}

static int opt_seqlens_q(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    return read_range_list(cmd, opt->name, val, 1, FA_DECODE_SEQLEN_Q_MAX, t->seqlens_q,
                           &t->n_seqlens_q);
}

static int opt_page_size(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    int rc =
        read_range_list(cmd, opt->name, val, 0, FA_PAGE_SIZE_MAX, t->page_sizes, &t->n_page_sizes);
    for (int i = 0; rc == 0 && i < t->n_page_sizes; i++)
        if (t->page_sizes[i] && t->page_sizes[i] < FA_PAGE_SIZE_MIN)
            rc = fa_cli_usage_error(cmd, "--page-size %d: expected 0 (contiguous) or %d..%d rows",
                                    t->page_sizes[i], FA_PAGE_SIZE_MIN, FA_PAGE_SIZE_MAX);
    return rc;
}

static int opt_cache_lens(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    int c;
    char shown[FA_CLI_SHOWN_MAX];
    if (!strcmp(val, "all"))
        t->cache_lens = (1u << FA_CACHE_FIXED) | (1u << FA_CACHE_UNIFORM);
    else if (fa_cache_lens_parse(val, &c) == FA_OK)
        t->cache_lens = 1u << c;
    else
        return fa_cli_usage_error(cmd, "--cache-lens '%s': expected fixed, uniform or all",
                                  fa_printable(val, shown, sizeof shown));
    return 0;
}

static int opt_strategy(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    if (fa_strategy_parse(val, &t->o.strategy) != FA_OK)
        return fa_cli_usage_error(cmd,
                                  "unknown --strategy '%s': expected exhaustive, random or "
                                  "halving",
                                  val);
    return 0;
}

static int opt_budget(const char *cmd, const fa_option *opt, const char *val)
{
    (void)cmd;
    return parse_budget(val, &((tune_cli *)opt->dst)->o);
}

static int opt_shard(const char *cmd, const fa_option *opt, const char *val)
{
    (void)cmd;
    return parse_shard(val, &((tune_cli *)opt->dst)->o);
}

/* --NAME VAL as a number in [lo, hi] (and not in the open interval (0, gap) when gap > 0: a
 * margin of 0 means off, one just above 0 is a typo); else a usage error that says what fits. */
static int number_option(const char *cmd, const char *name, const char *val, double lo, double hi,
                         double gap, const char *expected, double *out)
{
    double x = -1;
    if (fa_parse_double(val, lo, hi, &x) != 0 || (gap > 0 && x != 0 && x < gap)) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "--%s '%s': expected %s", name,
                                  fa_printable(val, shown, sizeof shown), expected);
    }
    *out = x;
    return 0;
}

static int opt_race(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    return number_option(cmd, "race", val, 0, 100, 1.05,
                         "a margin from 1.05 to 100 (1.2 = 20% slower than the best), or 0 for off",
                         &t->o.race_margin);
}

static int opt_explore(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    t->explore_given = 1;
    return number_option(cmd, "explore", val, 0.01, 1, 0,
                         "a part of the space from 0.01 to 1 (1 = compile every variant)",
                         &t->o.explore);
}

static int opt_family_gate(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    t->gate_given = 1;
    return number_option(cmd, "family-gate", val, 0, 100, 1,
                         "a factor from 1 to 100 (1.25 = within 25% of the best), or 0 for no gate",
                         &t->o.family_gate);
}

static int opt_stage_gate(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    t->stage_gate_given = 1;
    return number_option(cmd, "stage-gate", val, 0, 100, 1,
                         "a factor from 1 to 100 (1.10 = within 10% of the best), or 0 for no gate",
                         &t->o.stage_gate);
}

static int opt_devices(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    int ords[64], n = 0;
    fa_err err = {0};
    if (fa_devices_parse(val, ords, 64, &n, &err) != FA_OK)
        return fa_cli_usage_error(cmd, "%s", err.msg);
    t->devices = val;
    return 0;
}

static int opt_family(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    return fa_cli_family(cmd, val, &t->o.family);
}

static int opt_variant(const char *cmd, const fa_option *opt, const char *val)
{
    tune_cli *t = opt->dst;
    const int max = (int)(sizeof t->variants / sizeof t->variants[0]);
    fa_err err = {0};
    if (t->n_variants == max)
        return fa_cli_usage_error(cmd, "at most %d --variant options", max);
    if (fa_variant_parse(val, &t->variants[t->n_variants], &err) != FA_OK)
        return fa_cli_usage_error(cmd, "--variant: %s", err.msg);
    for (int i = 0; i < t->n_variants; i++)
        if (fa_variant_equal(&t->variants[i], &t->variants[t->n_variants]))
            return fa_cli_usage_error(cmd, "--variant '%s' given twice", val);
    t->n_variants++;
    return 0;
}

/* ---- phases ----------------------------------------------------------------------------- */

/* A set of modes (1 off, 2 on, 3 both) into the axis values 0 and 1. */
static void mode_axis(unsigned set, int *vals, int *n)
{
    *n = 0;
    if (set & 1u)
        vals[(*n)++] = 0;
    if (set & 2u)
        vals[(*n)++] = 1;
}

/* --help's "target" and "problems": the arch, the head dim and the problem grid */
static int target_options(tune_cli *t, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP, .help = "target"},
        {.kind = FA_OPT_CALLBACK,
         .name = "arch",
         .cb = opt_arch,
         .dst = t,
         .takes_value = 1,
         .metavar = "A",
         .help = "sm80, sm86, sm89, sm90, sm90a, or native (default: the GPU's)"},
        {.kind = FA_OPT_HEADDIM,
         .name = "headdim",
         .dst = &t->head_dim,
         .metavar = "D",
         .help = "32, 64, 96, 128, 192, 256 (required unless --shapes)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "op",
         .cb = opt_op,
         .dst = t,
         .takes_value = 1,
         .metavar = "OP",
         .help = "fwd (default): forward prefill; decode: a few new tokens\nper sequence against "
                 "a KV cache (the decode grid below)"},
        {.kind = FA_OPT_GROUP,
         .help = "problems (default: FlashAttention's grid -- seqlens 512..16k, batch*seqlen = "
                 "16k\ntokens, hidden 2048 -- x causal/non-causal x fixed/varlen x gqa 1,4,8 x "
                 "bf16/fp16)"},
        {.kind = FA_OPT_DTYPES,
         .name = "dtype",
         .dst = &t->dtypes,
         .metavar = "T",
         .help = "bf16, fp16 or all (default all)"},
        {.kind = FA_OPT_MODE,
         .name = "causal",
         .dst = &t->causal,
         .metavar = "C",
         .help = "0, 1 or all (default all); causal is bottom-right aligned"},
        {.kind = FA_OPT_MODE,
         .name = "varlen",
         .dst = &t->varlen,
         .metavar = "V",
         .help = "0, 1 or all (default all); varlen lengths are uniform in\n[N/2, N], seeded by "
                 "the problem"},
        {.kind = FA_OPT_STRING,
         .name = "seqlens-file",
         .dst = &t->seqlens_file,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file",
         .metavar = "F",
         .help = "varlen lengths from your data instead: integers separated\nby spaces, commas "
                 "or newlines, '#' comments; each varlen\nproblem draws from them (cut at its "
                 "seqlen N) and packs as\nmany as fill --tokens on average; decode problems "
                 "draw\ntheir cache lengths from them (0 allowed)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "gqa",
         .cb = opt_list,
         .dst = t,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "query heads per kv head, e.g. 1,4,8 (default 1,4,8)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "seqlens",
         .cb = opt_list,
         .dst = t,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "e.g. 512,1k,2k,4k,8k,16k"},
        {.kind = FA_OPT_INT,
         .name = "tokens",
         .dst = &t->ax.tokens,
         .lo = 1,
         .hi = 1 << 26,
         .seen = &t->tokens_given,
         .metavar = "N",
         .help = "batch * seqlen (default 16384)"},
        {.kind = FA_OPT_INT,
         .name = "hidden",
         .seen = &t->hidden_given,
         .dst = &t->ax.hidden,
         .lo = 1,
         .hi = 1 << 20,
         .metavar = "N",
         .help = "heads * headdim (default 2048)"},
        {.kind = FA_OPT_INT,
         .name = "heads",
         .seen = &t->heads_given,
         .dst = &t->ax.heads,
         .lo = 1,
         .hi = 4096,
         .metavar = "N",
         .help = "query heads (overrides --hidden)"},
        {.kind = FA_OPT_INT,
         .name = "heads-kv",
         .seen = &t->heads_kv_given,
         .dst = &t->ax.heads_kv,
         .lo = 1,
         .hi = 4096,
         .metavar = "N",
         .help = "kv heads (fixes the gqa ratio)"},
        {.kind = FA_OPT_STRING,
         .name = "shapes",
         .dst = &t->shapes,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file",
         .metavar = "FILE",
         .help = "your own problems, one a line: key=value fields\ndtype headdim batch heads "
                 "heads_kv seqlen_q seqlen_k causal\nvarlen layout op page_size cache_lens; '#' "
                 "comments\n(op=decode lines need seqlen_k, the longest cache); the grid\n"
                 "options do not apply, --dtype and --headdim are the\nlines' defaults"},
        {.kind = FA_OPT_GROUP,
         .help = "decode problems (--op decode; default grid: bf16, causal, seqlen_q 1,4, heads\n"
                 "32/8, 64/8, 16/16, 32/1 at headdim 128 (query heads scaled by 128/D), cache\n"
                 "--seqlens 1k,4k,16k,64k,128k each at batch 1 and at tokens/cache (--tokens\n"
                 "256k, batch <= 128), contiguous and 64-row pages; --gqa keeps the pairs of\n"
                 "those ratios, --heads/--heads-kv replace them, --seqlens-file gives the\n"
                 "cache lengths)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "seqlens-q",
         .cb = opt_seqlens_q,
         .dst = t,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "new tokens per sequence, 1..16 (default 1,4)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "page-size",
         .cb = opt_page_size,
         .dst = t,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "rows per K/V page, 16..256, or 0 for contiguous caches\n(default 0,64); pages "
                 "are shuffled in the block table"},
        {.kind = FA_OPT_CALLBACK,
         .name = "cache-lens",
         .cb = opt_cache_lens,
         .dst = t,
         .takes_value = 1,
         .metavar = "L",
         .help = "fixed (default): every cache holds seqlen_k rows; uniform:\neach sequence's "
                 "length uniform in [N/2, N], seeded; or all"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* --help's "search": strategy, budget, finalists, racing and the variants */
static int search_options(tune_cli *t, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP, .help = "search"},
        {.kind = FA_OPT_CALLBACK,
         .name = "strategy",
         .cb = opt_strategy,
         .dst = t,
         .takes_value = 1,
         .metavar = "S",
         .help = "exhaustive (default): every variant on every problem\n(sm80 beside sm90a: behind "
                 "--family-gate; sm90a's\n3 and 4 stages and pingpong: behind "
                 "--stage-gate);\nhalving: what "
                 "--explore reaches briefly on up to 6\nproblems (the shortest, the longest of at "
                 "most 4096\nkeys, the longest, and each larger GQA ratio's longest\nof at most "
                 "4096 keys), the best twelfth of each on the\nproblems near it (under half of "
                 "exhaustive's time);\nrandom: a seeded order, stopped by --budget"},
        {.kind = FA_OPT_CALLBACK,
         .name = "budget",
         .cb = opt_budget,
         .dst = t,
         .takes_value = 1,
         .metavar = "B",
         .help = "N timings, or a time: 90s, 10m"},
        {.kind = FA_OPT_CALLBACK,
         .name = "explore",
         .cb = opt_explore,
         .dst = t,
         .takes_value = 1,
         .metavar = "F",
         .help = "halving: rank the first F of each family's variants (by\nits prior) on rung 0, "
                 "then the neighbours of the 3 best,\nfor up to 3 rounds; the rest are never "
                 "compiled\n(default 0.25; 1: every variant); beside sm90a,\nsm80 gets its "
                 "first 8 and the rest only if one is\nwithin --family-gate of the best"},
        {.kind = FA_OPT_CALLBACK,
         .name = "family-gate",
         .cb = opt_family_gate,
         .dst = t,
         .takes_value = 1,
         .metavar = "G",
         .help = "exhaustive and halving, where sm90a runs beside sm80\n(--arch sm90): sm80 "
                 "compiles its 8 best by prior first,\nthe rest only if one comes within G x "
                 "the best of its\nclass on some problem (default 1.25; 0: no gate)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "stage-gate",
         .cb = opt_stage_gate,
         .dst = t,
         .takes_value = 1,
         .metavar = "G",
         .help = "exhaustive: a tile's 3- and 4-stage and pingpong sm90a\nversions are "
                 "compiled once the rest is timed, only if\nits version with 2 stages (without "
                 "pingpong) comes\nwithin G x the best of its class on some problem\n(default "
                 "1.10; 0: no gate)"},
        {.kind = FA_OPT_INT,
         .name = "seed",
         .dst = &t->seed,
         .lo = 0,
         .hi = 2147483647,
         .seen = &t->seed_given,
         .metavar = "N",
         .help = "order of the random strategy (default 24301)"},
        {.kind = FA_OPT_INT,
         .name = "finalists",
         .dst = &t->o.finalists,
         .lo = 0,
         .hi = 16,
         .metavar = "K",
         .help = "per problem, the best K and every variant within 10% of\nthe best (at most "
                 "16) re-timed interleaved (default 3;\n0: none)"},
        {.kind = FA_OPT_INT,
         .name = "rounds",
         .dst = &t->o.final_rounds,
         .lo = 3,
         .hi = 1000,
         .metavar = "N",
         .help = "interleaved re-timings run at least N rounds, then to a 1%\nerror of the mean "
                 "(default 10; more separates near-ties);\nwith racing, a group stops from round "
                 "5 once no variant\ncan be over 1% ahead of its fastest"},
        {.kind = FA_OPT_CALLBACK,
         .name = "race",
         .cb = opt_race,
         .dst = t,
         .takes_value = 1,
         .metavar = "M",
         .help = "stop timing a variant after 1-3 repetitions once it is M\ntimes slower than "
                 "the best so far on that problem: it\ncannot win (default 1.2; 0: time every "
                 "variant fully)"},
        {.kind = FA_OPT_DOUBLE,
         .name = "gap-us",
         .dst = &t->o.timing.gap_us,
         .lo = 0,
         .hi = 100000,
         .metavar = "US",
         .help = "let the GPU idle US microseconds before each timed\nrepetition, outside its "
                 "events (default 0), as\nbench/peers.py does; not recorded in the database"},
        {.kind = FA_OPT_FLAG,
         .name = "force",
         .dst = &t->o.force,
         .help = "re-measure what the database already holds"},
        {.kind = FA_OPT_CALLBACK,
         .name = "family",
         .cb = opt_family,
         .dst = t,
         .takes_value = 1,
         .metavar = "F",
         .help = "only this kernel family (sm80, sm90a for forward problems,\nsplitkv for "
                 "decode; default: every family that runs on the\narch and serves the op; --arch "
                 "sm90a is the sm90a family alone)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "variant",
         .cb = opt_variant,
         .dst = t,
         .takes_value = 1,
         .metavar = "NAME",
         .help = "only this variant (repeatable), e.g.\nfwd_sm80_hd128_bf16_m128n64w4s2q"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* --help's "where": database, devices, shards, threads, cache and output */
static int where_options(tune_cli *t, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP, .help = "where"},
        {.kind = FA_OPT_STRING,
         .name = "db",
         .dst = &t->db_path,
         .flags = FA_OPT_NONEMPTY,
         .what = "a database file",
         .metavar = "FILE",
         .help = "results database (default fa-tune.db)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "devices",
         .cb = opt_devices,
         .dst = t,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "GPU ordinals, e.g. 0,1, or all (default 0); one worker each"},
        {.kind = FA_OPT_CALLBACK,
         .name = "shard",
         .cb = opt_shard,
         .dst = t,
         .takes_value = 1,
         .metavar = "I/N",
         .help = "only shard I of N of the variant space (cluster job arrays);\nfold the "
                 "shards' databases with 'fa-tune db merge'"},
        {.kind = FA_OPT_INT,
         .name = "jobs",
         .short_name = 'j',
         .dst = &t->o.jobs,
         .lo = 1,
         .hi = 1024,
         .metavar = "N",
         .help = "compile threads (default: all cores)"},
        {.kind = FA_OPT_STRING,
         .name = "cache-dir",
         .dst = &t->cache_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a directory (leave the option out for the default)",
         .metavar = "DIR",
         .help = "compiled kernel cache (default ~/.cache/fa-tune)"},
        {.kind = FA_OPT_FLAG,
         .name = "compile-only",
         .dst = &t->compile_only,
         .help = "do not time, even with a GPU"},
        {.kind = FA_OPT_FLAG,
         .name = "quiet",
         .short_name = 'q',
         .dst = &t->quiet,
         .help = "no progress on stderr"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* The decode options against --op: decode-only options need --op decode, forward-only ones
 * are refused with it, and the decode grid's axes replace the forward ones (keeping what the
 * command line gave). Returns 0 or the exit code. */
static int decode_options(tune_cli *t)
{
    const char *only = t->n_seqlens_q    ? "--seqlens-q"
                       : t->n_page_sizes ? "--page-size"
                       : t->cache_lens   ? "--cache-lens"
                                         : NULL;
    if (t->op != FA_OP_DECODE) {
        if (only)
            return fa_cli_usage_error(CMD, "%s applies to decode problems: add --op decode", only);
        return 0;
    }
    if (t->shapes)
        return fa_cli_usage_error(CMD,
                                  "--op decode builds the decode grid: a shapes file names each "
                                  "line's op instead (op=decode)");
    if (t->varlen & 2u)
        return fa_cli_usage_error(CMD, "--varlen 1: decode problems are not varlen (their cache "
                                       "lengths vary instead: --cache-lens uniform)");
    if (t->hidden_given)
        return fa_cli_usage_error(CMD, "--hidden applies to the forward grid: give --heads (and "
                                       "--heads-kv) with --op decode");
    if (t->heads_kv_given && !t->heads_given)
        return fa_cli_usage_error(CMD, "--heads-kv needs --heads with --op decode");
    if (t->heads_kv_given && (t->ax.heads_kv > t->ax.heads || t->ax.heads % t->ax.heads_kv))
        return fa_cli_usage_error(CMD, "--heads-kv %d does not divide the %d query heads (--heads)",
                                  t->ax.heads_kv, t->ax.heads);
    fa_problem_axes d;
    fa_problem_axes_decode(t->head_dim ? t->head_dim : 128, &d);
    if (t->dtypes) {
        d.n_dtypes = t->ax.n_dtypes;
        memcpy(d.dtypes, t->ax.dtypes, sizeof d.dtypes);
    }
    if (t->causal)
        mode_axis(t->causal, d.causal, &d.n_causal);
    if (t->seqlens_given) {
        d.n_seqlens = t->ax.n_seqlens;
        memcpy(d.seqlens, t->ax.seqlens, sizeof d.seqlens);
    }
    if (t->gqa_given) {
        d.n_gqa = t->ax.n_gqa;
        memcpy(d.gqa, t->ax.gqa, sizeof d.gqa);
    }
    if (t->tokens_given)
        d.tokens = t->ax.tokens;
    d.heads = t->heads_given ? t->ax.heads : 0;
    d.heads_kv = t->heads_kv_given ? t->ax.heads_kv : 0;
    if (t->n_seqlens_q) {
        d.n_seqlens_q = t->n_seqlens_q;
        memcpy(d.seqlens_q, t->seqlens_q, sizeof d.seqlens_q);
    }
    if (t->n_page_sizes) {
        d.n_page_sizes = t->n_page_sizes;
        memcpy(d.page_sizes, t->page_sizes, sizeof d.page_sizes);
    }
    if (t->cache_lens) {
        d.n_cache_lens = 0;
        for (int c = FA_CACHE_FIXED; c <= FA_CACHE_UNIFORM; c++)
            if (t->cache_lens & (1u << c))
                d.cache_lens[d.n_cache_lens++] = c;
    }
    t->ax = d;
    return 0;
}

/* A shapes file names each problem whole, so the default grid's axes would go unused without a
 * word: refuse them. --dtype and --headdim stay, as the lines' defaults. */
static int shapes_conflict(const tune_cli *t)
{
    const char *grid = t->causal           ? "--causal"
                       : t->varlen         ? "--varlen"
                       : t->gqa_given      ? "--gqa"
                       : t->seqlens_given  ? "--seqlens"
                       : t->tokens_given   ? "--tokens"
                       : t->hidden_given   ? "--hidden"
                       : t->heads_given    ? "--heads"
                       : t->heads_kv_given ? "--heads-kv"
                                           : NULL;
    if (!t->shapes || !grid)
        return 0;
    return fa_cli_usage_error(CMD,
                              "%s shapes the default grid, which --shapes replaces: write it on "
                              "the file's lines instead (causal=, varlen=, heads=, heads_kv=, "
                              "seqlen_q=, seqlen_k=, batch=)",
                              grid);
}

/* Read the command line into t. Returns -1 to go on, else the exit code. */
static int parse_options(tune_cli *t, int argc, char **argv)
{
    fa_option opts[64]; /* room for every group below and the end row */
    int n = target_options(t, opts);
    n += search_options(t, opts + n);
    n += where_options(t, opts + n);
    opts[n] = (fa_option){.kind = FA_OPT_END};
    const fa_opt_cmd cmd = {
        .name = CMD,
        .usage = "usage: fa-tune [tune] --headdim D [options]\n",
        .intro = "Find the fastest correct flash-attention forward kernel for every problem, "
                 "store\nevery measurement in the database, and print the winner per problem. "
                 "Each variant is\nchecked against an fp32 reference before it is timed; a wrong "
                 "variant never wins.\nRerunning resumes: what this device already measured with "
                 "this fa-tune is skipped.\nWith no GPU of the requested arch, the compile-only "
                 "sweep runs instead.\n",
        .outro = "TFLOP/s = 4 * batch * heads * seqlen_q * seqlen_k * headdim / time, halved "
                 "for\ncausal with seqlen_q = seqlen_k. Decode is rated in TB/s of K/V read: the "
                 "sum\nover sequences of 2 * cache length * kv heads * headdim * 2 bytes / time.\n"
                 "Exit codes: 0 ok, 1 runtime failure, 2 usage, 130 interrupted (the database\n"
                 "stays consistent; rerun to resume).\n",
        .opts = opts};
    int rc = fa_opt_parse(&cmd, argc, argv);
    if (rc >= 0)
        return rc;
    if (t->seed_given)
        t->o.seed = (uint64_t)t->seed;
    if (t->explore_given && t->o.strategy != FA_STRATEGY_HALVING)
        return fa_cli_usage_error(CMD, "--explore applies to --strategy halving only");
    if (t->gate_given && t->o.strategy == FA_STRATEGY_RANDOM)
        return fa_cli_usage_error(CMD, "--family-gate applies to --strategy exhaustive and "
                                       "halving (random's order is its strategy)");
    if (t->stage_gate_given && t->o.strategy != FA_STRATEGY_EXHAUSTIVE)
        return fa_cli_usage_error(CMD, "--stage-gate applies to --strategy exhaustive only "
                                       "(halving's exploration reaches deeper pipelines itself)");
    if (t->compile_only && !strcmp(t->arch_name, "native"))
        return fa_cli_usage_error(CMD,
                                  "--compile-only compiles for a named arch: give --arch "
                                  "(%s); native needs the GPU, which --compile-only leaves "
                                  "alone",
                                  fa_arch_list());
    if (t->quiet)
        t->o.progress = 0;
    if (t->dtypes == (1u << FA_DTYPE_FP16 | 1u << FA_DTYPE_BF16)) {
        t->ax.n_dtypes = 2;
    } else if (t->dtypes) {
        t->ax.n_dtypes = 1;
        t->ax.dtypes[0] = t->dtypes & (1u << FA_DTYPE_BF16) ? FA_DTYPE_BF16 : FA_DTYPE_FP16;
    }
    if (t->causal)
        mode_axis(t->causal, t->ax.causal, &t->ax.n_causal);
    if (t->varlen)
        mode_axis(t->varlen, t->ax.varlen, &t->ax.n_varlen);
    if (!t->head_dim && !t->shapes)
        return fa_cli_usage_error(CMD, "--headdim is required (supported: %s), or give --shapes",
                                  fa_head_dim_list());
    if ((rc = decode_options(t)) || (rc = shapes_conflict(t)))
        return rc;
    if (!t->shapes && t->op == FA_OP_FWD &&
        (rc = check_axes(&t->ax, t->head_dim, t->tokens_given, t->gqa_given)))
        return rc;
    return -1;
}

/* The problems: a shapes file or the grid of the axes, with a seqlens file's lengths. Returns
 * -1 to go on (t->problems set, the caller frees it), else the exit code. */
static int build_problems(tune_cli *t)
{
    fa_err err = {0};
    fa_status st;
    if (t->seqlens_file) {
        int count = 0, lo = 0, hi = 0;
        if (fa_seqlens_file_read(t->seqlens_file, &t->lengths, &count, &lo, &hi, &err) != FA_OK)
            return fa_cli_fail(CMD, &err);
        if (lo == 0 && !t->shapes && t->op == FA_OP_FWD)
            return fa_cli_usage_error(CMD,
                                      "--seqlens-file '%s' holds a length of 0: only decode "
                                      "cache lengths may be 0 (--op decode)",
                                      t->seqlens_file);
        fprintf(stderr,
                "fa-tune: %s lengths from %s: %d sequences, %d..%d tokens (problems named "
                "_lens%08x)\n",
                t->op == FA_OP_DECODE ? "cache" : "varlen", t->seqlens_file, count, lo, hi,
                (unsigned)t->lengths.id);
        t->ax.lengths = &t->lengths;
    }
    if (t->shapes) {
        st = fa_problem_set_read(t->shapes, t->ax.n_dtypes == 1 ? t->ax.dtypes[0] : FA_DTYPE_BF16,
                                 t->head_dim ? t->head_dim : 128, &t->problems, &t->n_problems,
                                 &err);
        if (st == FA_OK && t->seqlens_file)
            fa_problem_set_use_lengths(t->problems, t->n_problems, &t->lengths);
        for (int i = 0; st == FA_OK && t->seqlens_file && i < t->n_problems; i++)
            if (fa_problem_check(&t->problems[i], &err) != FA_OK) {
                free(t->problems);
                t->problems = NULL;
                return fa_cli_usage_error(CMD, "--seqlens-file '%s': %s", t->seqlens_file, err.msg);
            }
    } else {
        t->ax.head_dim = t->head_dim;
        st = fa_problem_set_build(&t->ax, &t->problems, &t->n_problems, &err);
    }
    if (st != FA_OK)
        return fa_cli_fail(CMD, &err);
    return -1;
}

/* Tune the problems into the database and print the winners; returns the exit code. */
static int run_session(tune_cli *t, const char *cmdline)
{
    fa_err err = {0};
    int rc = FA_EXIT_OK;
    fa_cli_on_interrupt(on_signal);
    fa_tune_session s;
    fa_tune_session_opts so = {.arch_name = t->arch_name,
                               .devices = t->devices,
                               .db_path = t->db_path,
                               .cache_dir = t->cache_dir,
                               .compile_only = t->compile_only,
                               .command_line = cmdline};
    t->o.problems = t->problems;
    t->o.n_problems = t->n_problems;
    if (t->n_variants > 0) {
        t->o.variants = t->variants;
        t->o.n_variants = t->n_variants;
    }
    const double t0 = fa_now_s();
    fa_status st = fa_tune_session_run(&so, &t->o, &interrupted, &s, &err);
    const double t1 = fa_now_s();
    if (st == FA_OK || st == FA_INTERRUPTED)
        fa_tune_print_summary(&s, &t->o, stdout);
    if (st != FA_OK)
        rc = fa_cli_fail(CMD, &err);
    const double t2 = fa_now_s();
    fa_tune_session_release(&s);
    if (fa_profile_on()) {
        /* Peak resident memory of this process (the engine; a GPU worker is a child of its
         * own): Linux reports ru_maxrss in KiB. */
        struct rusage ru;
        const double peak_mb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : -1;
        fprintf(stderr,
                "fa-tune profile (session): run %.1f s (compiler %.1f s, GPU workers %.1f s, "
                "database %.1f s), summary %.1f s, release %.1f s, peak memory %.0f MB\n",
                t1 - t0, s.compiler_s, s.backend_s, s.db_s, t2 - t1, fa_now_s() - t2, peak_mb);
    }
    return rc;
}

int cmd_tune(int argc, char **argv)
{
    tune_cli t;
    memset(&t, 0, sizeof t);
    fa_tune_opts_default(&t.o);
    fa_problem_axes_default(128, &t.ax);
    t.arch_name = "native";
    t.db_path = FA_DB_DEFAULT_PATH;
    t.devices = "0";
    char cmdline[FA_DB_CMDLINE_MAX];
    command_line(argc - 1, argv + 1, cmdline, sizeof cmdline);

    int rc = parse_options(&t, argc, argv);
    if (rc >= 0)
        return rc;
    if ((rc = build_problems(&t)) >= 0)
        return rc;
    rc = check_variants(t.variants, t.n_variants, t.problems, t.n_problems, t.o.family);
    if (rc == 0)
        rc = run_session(&t, cmdline);
    free(t.problems);
    return rc;
}
