/* This file implements `fa-tune bench`: check and time one variant (by name or by tile
 * parameters) and the eager baseline on one shape, in a GPU worker process, and print the
 * times, TFLOP/s, speedup, extra memory and error figures. Options are validated before any
 * GPU work so usage errors exit 2 on any machine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_family.h"
#include "fa_commands.h"
#include "fa_compile.h"
#include "fa_harness.h"
#include "fa_options.h"
#include "fa_parse.h"
#include "fa_worker.h"

static const char *const cmd = "bench";

typedef struct bench_args {
    int eager_only, no_eager, json, repeat, device, no_cache;
    const char *variant_name, *cache_dir;
    int set_headdim, set_dtype, set_causal, set_varlen, set_page_size, set_cache_lens, set_seqlen_q;
    int heads_kv, seqlen_k; /* 0: = heads, = seqlen_q */
    /* --family F --param KEY=VALUE...: a variant named by its family's parameters, in the
     * mode of the shape options (instead of --variant). */
    const fa_family *family;
    int params[FA_MAX_PARAMS];
    unsigned have_params; /* bit per axis given */
    fa_problem p;
    double timeout, scale;
    uint64_t check_seed;
    fa_timing_opts timing;
} bench_args;

static int have_tiles(const bench_args *a)
{
    return a->have_params != 0;
}

/* The --param checks: every axis of the family, once each. Returns -1 to go on, else the
 * exit code. */
static int check_tiles(bench_args *a)
{
    if (!a->family)
        a->family = fa_family_sm80();
    if (have_tiles(a) && a->have_params != (1u << a->family->naxes) - 1) {
        char keys[256];
        size_t used = 0;
        keys[0] = 0;
        for (int i = 0; i < a->family->naxes && used < sizeof keys; i++)
            used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%s", i ? ", " : "",
                                     a->family->axes[i].key);
        return fa_cli_usage_error(cmd, "--param: family %s needs all of %s", a->family->name, keys);
    }
    return -1;
}

/* The variant --family/--param name, in the mode of the shape. */
static void tiles_variant(const bench_args *a, fa_variant *v)
{
    memset(v, 0, sizeof *v);
    v->family = a->family ? a->family : fa_family_sm80();
    v->op = a->p.op;
    v->dtype = a->p.dtype;
    v->head_dim = a->p.head_dim;
    memcpy(v->params, a->params, sizeof v->params);
    v->causal = a->p.causal;
    v->varlen = a->p.varlen;
}

/* --family F: the family whose parameters --param names (default sm80). */
static int read_family(const char *c, const fa_option *opt, const char *value)
{
    bench_args *a = opt->dst;
    if (!(a->family = fa_family_find(value)))
        return fa_cli_usage_error(c, "unknown --family '%s'", value);
    return 0;
}

/* --param KEY=VALUE: one tunable of the family (given before or after --family). */
static int read_param(const char *c, const fa_option *opt, const char *value)
{
    bench_args *a = opt->dst;
    const fa_family *f = a->family ? a->family : fa_family_sm80();
    const char *eq = strchr(value, '=');
    char key[64];
    if (!eq || eq == value || (size_t)(eq - value) >= sizeof key)
        return fa_cli_usage_error(c, "--param '%s': expected KEY=VALUE", value);
    snprintf(key, sizeof key, "%.*s", (int)(eq - value), value);
    int ax = fa_family_axis(f, key);
    if (ax < 0)
        return fa_cli_usage_error(c, "--param '%s': no parameter '%s' in family %s", value, key,
                                  f->name);
    if (a->have_params & (1u << ax))
        return fa_cli_usage_error(c, "--param '%s': '%s' given twice", value, key);
    int rc = fa_cli_int(c, "--param", eq + 1, 0, 4096, &a->params[ax]);
    a->have_params |= 1u << ax;
    return rc;
}

/* --cache-lens fixed|uniform (decode variants: fa_problem.cache_lens). */
static int opt_cache_lens(const char *name, const fa_option *opt, const char *val)
{
    bench_args *a = opt->dst;
    int c;
    char shown[FA_CLI_SHOWN_MAX];
    if (fa_cache_lens_parse(val, &c) != FA_OK)
        return fa_cli_usage_error(name, "--cache-lens '%s': expected fixed or uniform",
                                  fa_printable(val, shown, sizeof shown));
    a->p.cache_lens = c;
    a->set_cache_lens = 1;
    return 0;
}

static int opt_layout(const char *name, const fa_option *opt, const char *val)
{
    fa_problem *p = opt->dst;
    if (!strcmp(val, "bshd"))
        p->layout = FA_LAYOUT_BSHD;
    else if (!strcmp(val, "bhsd"))
        p->layout = FA_LAYOUT_BHSD;
    else {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(name, "--layout '%s': expected bshd or bhsd",
                                  fa_printable(val, shown, sizeof shown));
    }
    return 0;
}

/* --help's "the kernel": a variant by name, the tile flags, or the eager baseline alone */
static int kernel_options(bench_args *a, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP, .help = "the kernel"},
        {.kind = FA_OPT_STRING,
         .name = "variant",
         .dst = &a->variant_name,
         .what = "a variant name",
         .metavar = "NAME",
         .help = "e.g. fwd_sm80_hd128_bf16_causal_m128n64w4s2q; its dtype,\nhead dim, causal and "
                 "varlen set the shape's defaults"},
        {.kind = FA_OPT_FLAG,
         .name = "eager-only",
         .dst = &a->eager_only,
         .help = "no variant: check and time the eager baseline alone"},
        {.kind = FA_OPT_GROUP,
         .help = "the kernel by its family's parameters (instead of --variant)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "param",
         .dst = a,
         .cb = read_param,
         .takes_value = 1,
         .metavar = "KEY=VALUE",
         .help = "one tunable of the family (repeat for each of its axes;\nsm80: block_m, "
                 "block_n, warps, stages, q_in_regs), with\nthe mode from the shape options"},
        {.kind = FA_OPT_CALLBACK,
         .name = "family",
         .dst = a,
         .cb = read_family,
         .takes_value = 1,
         .metavar = "F",
         .help = "the kernel family of --param (default sm80)"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* --help's "shape": the problem (headdim_help lists the head dims) */
static int shape_options(bench_args *a, const char *headdim_help, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP,
         .help = "shape (defaults: FlashAttention's benchmark point, batch*seqlen = 16k, hidden "
                 "2048)"},
        {.kind = FA_OPT_INT,
         .name = "batch",
         .dst = &a->p.batch,
         .lo = 1,
         .hi = 65535,
         .metavar = "B",
         .help = "8"},
        {.kind = FA_OPT_INT,
         .name = "heads",
         .dst = &a->p.heads_q,
         .lo = 1,
         .hi = 65535,
         .metavar = "H",
         .help = "16 (query heads)"},
        {.kind = FA_OPT_INT,
         .name = "heads-kv",
         .dst = &a->heads_kv,
         .lo = 1,
         .hi = 65535,
         .metavar = "H",
         .help = "= --heads (GQA/MQA: heads must be a multiple)"},
        {.kind = FA_OPT_INT,
         .name = "seqlen-q",
         .seen = &a->set_seqlen_q,
         .dst = &a->p.seqlen_q,
         .lo = 1,
         .hi = 1 << 24,
         .metavar = "N",
         .help = "2048 (decode variants: 1, new tokens per sequence)"},
        {.kind = FA_OPT_INT,
         .name = "seqlen-k",
         .dst = &a->seqlen_k,
         .lo = 1,
         .hi = 1 << 24,
         .metavar = "N",
         .help = "= --seqlen-q (decode variants: 2048, the cache)"},
        {.kind = FA_OPT_INT,
         .name = "page-size",
         .dst = &a->p.page_size,
         .seen = &a->set_page_size,
         .lo = 0,
         .hi = FA_PAGE_SIZE_MAX,
         .metavar = "N",
         .help = "decode variants: K/V cache rows per page, 16..256 (pages\nshuffled through a "
                 "block table); 0: contiguous (default)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "cache-lens",
         .cb = opt_cache_lens,
         .dst = a,
         .takes_value = 1,
         .metavar = "L",
         .help = "decode variants: fixed (default), every cache holds\n--seqlen-k rows; uniform, "
                 "each sequence's length uniform in\n[N/2, N] from --seed"},
        {.kind = FA_OPT_HEADDIM,
         .name = "headdim",
         .dst = &a->p.head_dim,
         .seen = &a->set_headdim,
         .metavar = "D",
         .help = headdim_help},
        {.kind = FA_OPT_DTYPE,
         .name = "dtype",
         .dst = &a->p.dtype,
         .seen = &a->set_dtype,
         .metavar = "fp16|bf16",
         .help = "bf16"},
        {.kind = FA_OPT_FLAG,
         .name = "causal",
         .dst = &a->p.causal,
         .seen = &a->set_causal,
         .help = "causal mask, bottom-right aligned (query i sees key j iff\nj <= i + seqlen_k - "
                 "seqlen_q)"},
        {.kind = FA_OPT_FLAG,
         .name = "varlen",
         .dst = &a->p.varlen,
         .seen = &a->set_varlen,
         .help = "packed sequences, lengths uniform in [N/2, N] from --seed"},
        {.kind = FA_OPT_CALLBACK,
         .name = "layout",
         .cb = opt_layout,
         .dst = &a->p,
         .takes_value = 1,
         .metavar = "bshd|bhsd",
         .help = "bshd (FlashAttention's) or bhsd (PyTorch's)"},
        {.kind = FA_OPT_DOUBLE,
         .name = "scale",
         .dst = &a->scale,
         .lo = 1e-6,
         .hi = 1e6,
         .metavar = "S",
         .help = "softmax scale (default 1/sqrt(headdim))"},
        {.kind = FA_OPT_U64,
         .name = "seed",
         .dst = &a->p.seed,
         .metavar = "N",
         .help = "the problem seed: varlen and uniform cache lengths (default 1)"},
        {.kind = FA_OPT_U64,
         .name = "check-seed",
         .dst = &a->check_seed,
         .metavar = "N",
         .help = "input values (default: fresh; printed, to replay a failure)"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* --help's "options": the timing, the device, the cache and the output */
static int run_options(bench_args *a, fa_option *out)
{
    const fa_option rows[] = {
        {.kind = FA_OPT_GROUP, .help = "options"},
        {.kind = FA_OPT_FLAG,
         .name = "no-eager",
         .dst = &a->no_eager,
         .help = "do not time the eager baseline (it still runs once: its\nerror is the "
                 "criterion's yardstick)"},
        {.kind = FA_OPT_INT,
         .name = "repeat",
         .dst = &a->repeat,
         .lo = 1,
         .hi = 1000,
         .metavar = "N",
         .help = "time the subject N times in one worker and print the CV of\nthe medians "
                 "(timing noise)"},
        {.kind = FA_OPT_INT,
         .name = "min-reps",
         .dst = &a->timing.min_reps,
         .lo = 1,
         .hi = 100000,
         .metavar = "N",
         .help = "10"},
        {.kind = FA_OPT_INT,
         .name = "max-reps",
         .dst = &a->timing.max_reps,
         .lo = 1,
         .hi = 100000,
         .metavar = "N",
         .help = "1000"},
        {.kind = FA_OPT_DOUBLE,
         .name = "max-seconds",
         .dst = &a->timing.max_seconds,
         .lo = 0.001,
         .hi = 3600,
         .metavar = "S",
         .help = "5 (per timing)"},
        {.kind = FA_OPT_DOUBLE,
         .name = "rse",
         .dst = &a->timing.target_rse,
         .lo = 0,
         .hi = 1,
         .metavar = "X",
         .help = "0.01"},
        {.kind = FA_OPT_FLAG,
         .name = "no-flush",
         .dst = &a->timing.no_flush,
         .help = "do not flush L2 between repetitions"},
        {.kind = FA_OPT_DOUBLE,
         .name = "gap-us",
         .dst = &a->timing.gap_us,
         .lo = 0,
         .hi = 100000,
         .metavar = "US",
         .help = "let the GPU idle US microseconds before each repetition,\noutside its events "
                 "(default 0), as bench/peers.py does"},
        {.kind = FA_OPT_INT,
         .name = "device",
         .dst = &a->device,
         .lo = 0,
         .hi = 1023,
         .metavar = "N",
         .help = "GPU ordinal (default 0)"},
        {.kind = FA_OPT_DOUBLE,
         .name = "timeout",
         .dst = &a->timeout,
         .lo = 1,
         .hi = 86400,
         .metavar = "S",
         .help = "watchdog per job in seconds (default 300)"},
        {.kind = FA_OPT_STRING,
         .name = "cache-dir",
         .dst = &a->cache_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a directory",
         .metavar = "DIR",
         .help = "cubin cache directory"},
        {.kind = FA_OPT_FLAG,
         .name = "no-cache",
         .dst = &a->no_cache,
         .help = "bypass the cubin cache"},
        {.kind = FA_OPT_FLAG,
         .name = "json",
         .dst = &a->json,
         .help = "one JSON object per line on stdout instead of the table"}};
    memcpy(out, rows, sizeof rows);
    return (int)(sizeof rows / sizeof rows[0]);
}

/* Read the command line into a (its defaults set first). Returns -1 to go on, else the exit
 * code. */
static int parse_options(bench_args *a, int argc, char **argv)
{
    char headdim_help[96];
    snprintf(headdim_help, sizeof headdim_help, "128 (%s)", fa_head_dim_list());
    fa_option opts[64]; /* room for every group below and the end row */
    int n = kernel_options(a, opts);
    n += shape_options(a, headdim_help, opts + n);
    n += run_options(a, opts + n);
    opts[n] = (fa_option){.kind = FA_OPT_END};
    const fa_opt_cmd c = {
        .name = cmd,
        .usage = "usage: fa-tune bench (--variant NAME | [--family F] --param KEY=VALUE... |\n"
                 "                      --eager-only) [shape] [options]\n",
        .intro = "Compiles one variant (NVRTC), checks it against the fp32 reference on fresh "
                 "random\ninputs (FlashAttention's criterion: max|O - O_ref32| <= 2 x the eager "
                 "baseline's\nerror + 1e-5, LSE likewise, no NaN/Inf, every output element "
                 "written), then times\nit and the eager baseline (cuBLAS QK^T, masked softmax, "
                 "cuBLAS PV) with CUDA\nevents, L2 flushed between repetitions, until the "
                 "relative standard error is\nunder 1% or a cap. GPU work runs in a worker "
                 "process: a crashing kernel is\nreported, not fatal.\n",
        .outro = "TFLOP/s = 4*B*Hq*Nq*Nk*D / time, halved for causal when Nq == Nk (varlen: "
                 "summed\nover sequences), from the median time. A decode variant (e.g.\n"
                 "decode_splitkv_hd128_bf16_m16n64w4s3k0 --batch 1 --heads 32 --heads-kv 8\n"
                 "--seqlen-q 1 --seqlen-k 131072) reports TB/s: K/V cache bytes read / time\n"
                 "(in --json, its tflops and gflop keys hold TB/s and GB).\n\n"
                 "exit codes: 0 ok, 1 runtime failure (no GPU, compile error, kernel fault),\n"
                 "2 usage error, 3 numerical mismatch.\n",
        .opts = opts};
    memset(a, 0, sizeof *a);
    fa_timing_opts_default(&a->timing);
    a->p.dtype = FA_DTYPE_BF16;
    a->p.head_dim = 128;
    a->p.batch = 8;
    a->p.heads_q = 16;
    a->p.seqlen_q = 2048;
    a->p.layout = FA_LAYOUT_BSHD;
    a->p.seed = 1;
    a->repeat = 1;
    a->timeout = 300;
    int rc = fa_opt_parse(&c, argc, argv);
    a->p.softmax_scale = (float)a->scale;
    return rc;
}

/* --page-size and --cache-lens belong to decode problems. Returns -1 to go on, else the exit
 * code. */
static int check_decode_options(const bench_args *a)
{
    if ((a->set_page_size || a->set_cache_lens) && a->p.op != FA_OP_DECODE)
        return fa_cli_usage_error(cmd, "%s is for decode variants (decode_...)",
                                  a->set_page_size ? "--page-size" : "--cache-lens");
    return -1;
}

/* What to time: exactly one of a named variant, the tile flags and the eager baseline; a
 * named variant fixes the mode the shape options may repeat but not contradict. Returns -1
 * to go on, else the exit code. */
static int check_subject(bench_args *a)
{
    int kinds = (a->variant_name != NULL) + have_tiles(a) + (a->eager_only != 0);
    if (kinds == 0)
        return fa_cli_usage_error(cmd, "say what to time: --variant NAME, the family's "
                                       "parameters (--param KEY=VALUE), or --eager-only");
    if (kinds > 1)
        return fa_cli_usage_error(cmd, "--variant, --param and --eager-only exclude "
                                       "each other");
    int rc = check_tiles(a);
    if (rc >= 0)
        return rc;
    if (have_tiles(a)) /* a family that serves only decode (splitkv) names decode variants */
        a->p.op = a->family->ops == (1u << FA_OP_DECODE) ? FA_OP_DECODE : FA_OP_FWD;
    if (!a->variant_name)
        return check_decode_options(a);
    fa_variant v;
    fa_err err;
    fa_err_clear(&err);
    if (fa_variant_parse(a->variant_name, &v, &err) != FA_OK)
        return fa_cli_usage_error(cmd, "%s", err.msg);
    const char *clash = a->set_headdim && a->p.head_dim != v.head_dim ? "--headdim"
                        : a->set_dtype && a->p.dtype != v.dtype       ? "--dtype"
                        : a->set_causal && !v.causal                  ? "--causal"
                        : a->set_varlen && !v.varlen                  ? "--varlen"
                                                                      : NULL;
    if (clash)
        return fa_cli_usage_error(cmd,
                                  "%s contradicts variant '%s' (the variant fixes it: leave %s "
                                  "out)",
                                  clash, a->variant_name, clash);
    a->p.head_dim = v.head_dim;
    a->p.dtype = v.dtype;
    a->p.causal = v.causal;
    a->p.varlen = v.varlen;
    a->p.op = v.op;
    return check_decode_options(a);
}

/* The shape's derived fields and its checks. Returns -1 to go on, else the exit code. */
static int check_shape(bench_args *a)
{
    a->p.heads_kv = a->heads_kv ? a->heads_kv : a->p.heads_q;
    if (a->p.op == FA_OP_DECODE && !a->set_seqlen_q) {
        /* a decode shape by default: one new token against a cache of the forward length */
        if (!a->seqlen_k)
            a->seqlen_k = a->p.seqlen_q;
        a->p.seqlen_q = 1;
    }
    a->p.seqlen_k = a->seqlen_k ? a->seqlen_k : a->p.seqlen_q;
    if (a->timing.min_reps > a->timing.max_reps)
        return fa_cli_usage_error(cmd, "--min-reps %d exceeds --max-reps %d", a->timing.min_reps,
                                  a->timing.max_reps);
    fa_err err;
    fa_err_clear(&err);
    if (fa_problem_check(&a->p, &err) != FA_OK)
        return fa_cli_usage_error(cmd, "%s", err.msg);
    return -1;
}

/* Returns -1 to go on, else the exit code (help printed, or a usage error). */
static int parse(int argc, char **argv, bench_args *a)
{
    int rc = parse_options(a, argc, argv);
    if (rc < 0)
        rc = check_subject(a);
    if (rc < 0)
        rc = check_shape(a);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------- */

static void human_bytes(int64_t b, char *buf, size_t n)
{
    if (b < 0)
        snprintf(buf, n, "-");
    else if (b >= (int64_t)1 << 30)
        snprintf(buf, n, "%.2f GiB", (double)b / (1 << 30));
    else if (b >= (int64_t)1 << 20)
        snprintf(buf, n, "%.1f MiB", (double)b / (1 << 20));
    else
        snprintf(buf, n, "%.1f KiB", (double)b / 1024);
}

static void row(const char *method, double median, double min, double cv, int reps, double tflops,
                int64_t bytes)
{
    char mem[32];
    human_bytes(bytes, mem, sizeof mem);
    if (median < 0) {
        printf("%-44s %10s %10s %6s %6s %9s  %s\n", method, "-", "-", "-", "-", "-", mem);
        return;
    }
    printf("%-44s %10.4f %10.4f %5.1f%% %6d %9.1f  %s\n", method, median, min, 100 * cv, reps,
           tflops, mem);
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void json_num(const char *key, double x)
{
    printf(",\"%s\":", key);
    if (isfinite(x))
        printf("%.6g", x);
    else
        printf("null");
}

static void json_line(const char *method, const char *problem, const fa_device_info *dev,
                      const fa_measurement *m, const fa_harness_detail *d, int eager, int repeat)
{
    printf("{\"method\":");
    json_str(method);
    printf(",\"problem\":");
    json_str(problem);
    printf(",\"device\":");
    json_str(dev->name);
    printf(",\"status\":");
    json_str(fa_status_token(m->status));
    if (repeat >= 0)
        printf(",\"repeat\":%d", repeat);
    if (eager) {
        json_num("median_ms", m->eager_median_ms);
        json_num("min_ms", d->eager_min_ms);
        json_num("cv", d->eager_cv);
        printf(",\"reps\":%d", d->eager_reps);
        json_num("tflops", d->eager_tflops);
        printf(",\"extra_bytes\":%lld", (long long)m->eager_peak_extra_bytes);
        json_num("max_abs_err", m->eager_max_abs_err);
        json_num("rel_l2_err", d->eager_rel_l2_err);
        json_num("lse_max_err", d->eager_lse_max_err);
        printf(",\"heads_per_chunk\":%d", d->eager_heads_per_chunk);
    } else {
        json_num("median_ms", m->median_ms);
        json_num("min_ms", m->min_ms);
        json_num("cv", m->cv);
        printf(",\"reps\":%d", m->reps);
        json_num("tflops", m->tflops);
        printf(",\"extra_bytes\":%lld", (long long)m->peak_extra_bytes);
        json_num("max_abs_err", m->max_abs_err);
        json_num("rel_l2_err", m->rel_l2_err);
        json_num("lse_max_err", m->lse_max_err);
        json_num("eager_max_abs_err", m->eager_max_abs_err);
        json_num("eager_lse_max_err", d->eager_lse_max_err);
        printf(",\"nonfinite\":%lld,\"unwritten\":%lld", (long long)m->nonfinite,
               (long long)m->unwritten);
        printf(",\"registers\":%d,\"spill_bytes\":%d", m->build.registers,
               m->build.spill_stores > 0 ? m->build.spill_stores : 0);
    }
    json_num("gflop", d->flops / 1e9);
    printf(",\"check_seed\":\"0x%016llx\"", (unsigned long long)m->check_seed);
    printf(",\"message\":");
    json_str(m->message);
    printf("}\n");
}

static void print_check(const fa_measurement *m, const fa_harness_detail *d, int eager_only,
                        fa_dtype dtype)
{
    printf("\ncheck (inputs from --check-seed 0x%016llx): %s%s%s\n",
           (unsigned long long)m->check_seed,
           m->status == FA_OK         ? "pass"
           : m->status == FA_MISMATCH ? "MISMATCH"
                                      : "not completed",
           m->message[0] ? ": " : "", m->message);
    if (m->max_abs_err < 0)
        return;
    if (eager_only) {
        printf("  max|O_eager - O_ref32|   %.3e\n", m->max_abs_err);
        printf("  rel L2 (O_eager)         %.3e  (sanity bound %.3e)\n", m->rel_l2_err,
               fa_harness_eager_tolerance(dtype));
        printf("  max|LSE_eager - LSE_ref| %.3e\n", m->lse_max_err);
    } else {
        printf("  max|O - O_ref32|         %.3e  (limit 2 x eager %.3e + 1e-5 = %.3e)\n",
               m->max_abs_err, m->eager_max_abs_err, 2 * m->eager_max_abs_err + 1e-5);
        printf("  rel L2 (O)               %.3e  (eager %.3e)\n", m->rel_l2_err,
               d->eager_rel_l2_err);
        printf("  max|LSE - LSE_ref32|     %.3e  (limit 2 x eager %.3e + 1e-5 = %.3e)\n",
               m->lse_max_err, d->eager_lse_max_err, 2 * d->eager_lse_max_err + 1e-5);
    }
    printf("  NaN/Inf %lld, unwritten (poison) %lld, LSE -inf disagreements %lld; check took "
           "%.0f ms\n",
           (long long)m->nonfinite, (long long)m->unwritten, (long long)d->lse_mask_errors,
           d->check_ms);
}

/* ---- the command ----------------------------------------------------------------------- */

static int exit_for(const fa_measurement *m)
{
    switch (m->status) {
    case FA_OK:
        return FA_EXIT_OK;
    case FA_MISMATCH:
        return FA_EXIT_MISMATCH;
    default:
        return FA_EXIT_FAIL;
    }
}

/* What the phases of one bench share: the engine, the worker, the compiled variant and the
 * measurements. */
typedef struct bench_run {
    const bench_args *a;
    fa_err err;
    fa_compiler *comp;
    fa_worker *w;
    const fa_device_info *dev;
    fa_compile_output out;
    fa_variant v;
    char vname[FA_VARIANT_NAME_MAX], pname[FA_PROBLEM_NAME_MAX];
    double *medians; /* one per --repeat */
    fa_measurement m;
    fa_harness_detail d;
} bench_run;

/* The compiler and the GPU worker. Returns -1 to go on, else the exit code. */
static int start_worker(bench_run *b)
{
    fa_compiler_opts copts;
    memset(&copts, 0, sizeof copts);
    copts.cache_dir = b->a->cache_dir;
    copts.no_cache = b->a->no_cache;
    if (fa_compiler_new(&copts, &b->comp, &b->err) != FA_OK)
        return fa_cli_fail(cmd, &b->err);
    /* The worker forks before this process touches CUDA (it never does). */
    fa_worker_opts wopts;
    fa_worker_opts_default(&wopts);
    fa_compiler_service(b->comp, &wopts.compiler);
    wopts.job_timeout_s = b->a->timeout;
    if (fa_worker_start(b->a->device, &wopts, &b->w, &b->err) != FA_OK) {
        if (b->err.status == FA_NO_DEVICE)
            fprintf(stderr, "fa-tune %s: no GPU to run on: %s\n", cmd, b->err.msg);
        else
            fa_cli_fail(cmd, &b->err);
        return FA_EXIT_FAIL;
    }
    b->dev = fa_worker_device(b->w);
    return -1;
}

/* The variant (by name or by the tile flags), compiled for the device's arch. Returns -1 to
 * go on, else the exit code. */
static int compile_subject(bench_run *b)
{
    if (b->a->variant_name)
        fa_variant_parse(b->a->variant_name, &b->v, &b->err);
    else
        tiles_variant(b->a, &b->v);
    fa_variant_name(&b->v, b->vname, sizeof b->vname);
    const fa_arch *arch = fa_arch_from_cc(b->dev->cc);
    if (!arch) {
        fprintf(stderr, "fa-tune %s: %s is sm_%d, which no fa-tune kernel family targets (%s)\n",
                cmd, b->dev->name, b->dev->cc, fa_arch_list());
        return FA_EXIT_FAIL;
    }
    const char *target = fa_family_nvrtc_arch(b->v.family, arch);
    fprintf(stderr, "fa-tune %s: compiling %s for %s\n", cmd, b->vname,
            target ? target : arch->nvrtc_arch);
    if (fa_compile_variant(b->comp, &b->v, arch, &b->out, &b->err) != FA_OK)
        return fa_cli_fail(cmd, &b->err);
    if (b->out.status == FA_UNSUPPORTED) {
        fprintf(stderr, "fa-tune %s: %s cannot run on %s: %s\n", cmd, b->vname, arch->name,
                b->out.log ? b->out.log : "rejected by the legality model");
        return FA_EXIT_FAIL;
    }
    if (b->out.status != FA_OK) {
        const char *log = b->out.log ? b->out.log : "";
        size_t len = strlen(log);
        fprintf(stderr, "fa-tune %s: %s does not compile:\n%s\n", cmd, b->vname,
                len > 4000 ? log + len - 4000 : log);
        return FA_EXIT_FAIL;
    }
    return -1;
}

/* Check once, then time --repeat times in the worker; b->m and b->d keep the first round's
 * figures, b->medians every round's median. Returns -1 to go on, else the exit code. */
static int time_subject(bench_run *b)
{
    const bench_args *a = b->a;
    fa_job job;
    memset(&job, 0, sizeof job);
    job.problem = a->p;
    job.variant = b->v;
    job.cubin = a->eager_only ? NULL : b->out.cubin;
    job.cubin_size = b->out.cubin_size;
    job.cubin_hash = b->out.cubin_hash;
    job.symbol = b->out.lowered_name;
    job.build = b->out.build;
    job.what = FA_JOB_CHECK | FA_JOB_TIME | (a->no_eager || a->eager_only ? 0 : FA_JOB_EAGER_TIME);
    job.check_seed = a->check_seed;
    job.timing = a->timing;

    b->medians = calloc((size_t)a->repeat, sizeof *b->medians);
    if (!b->medians) {
        fprintf(stderr, "fa-tune %s: out of memory\n", cmd);
        return FA_EXIT_FAIL;
    }
    fa_measurement m, first;
    fa_harness_detail d, first_d;
    fprintf(stderr, "fa-tune %s: checking and timing on %s (device %d)\n", cmd, b->dev->name,
            b->dev->ordinal);
    for (int r = 0; r < a->repeat; r++) {
        if (fa_worker_check_and_time(b->w, &job, &m, &d, &b->err) != FA_OK)
            return fa_cli_fail(cmd, &b->err);
        if (r == 0) {
            first = m;
            first_d = d;
            /* Later rounds only time: the check has been made. */
            job.what = FA_JOB_TIME;
            job.check_seed = m.check_seed;
        }
        b->medians[r] = m.median_ms;
        if (a->json && a->repeat > 1)
            json_line(b->vname, b->pname, b->dev, &m, &d, a->eager_only, r);
        if (m.status != FA_OK)
            break;
    }
    b->m = first;
    b->d = first_d;
    return -1;
}

/* The table, the check and the repeat summary on stdout. */
static void print_table(const bench_run *b)
{
    const bench_args *a = b->a;
    const fa_measurement *m = &b->m;
    const fa_harness_detail *d = &b->d;
    char eager_label[64];
    snprintf(eager_label, sizeof eager_label, "eager (cuBLAS + softmax, %d head%s/chunk)",
             d->eager_heads_per_chunk, d->eager_heads_per_chunk == 1 ? "" : "s");
    printf("%s on %s (sm_%d)\n", b->pname, b->dev->name, b->dev->cc);
    if (a->p.op == FA_OP_DECODE)
        printf("work: the K/V cache bytes read, %.1f MB (TB/s = bytes / time)\n\n", d->flops / 1e6);
    else
        printf("FLOP convention: 4*B*Hq*Nq*Nk*D, halved for causal when Nq == Nk: %.2f GFLOP\n\n",
               d->flops / 1e9);
    printf("%-44s %10s %10s %6s %6s %9s  %s\n", "method", "median ms", "min ms", "CV", "reps",
           a->p.op == FA_OP_DECODE ? "TB/s" : "TFLOP/s", "extra memory");
    if (a->eager_only) {
        row(eager_label, m->median_ms, m->min_ms, m->cv, m->reps, m->tflops, m->peak_extra_bytes);
    } else {
        row(b->vname, m->median_ms, m->min_ms, m->cv, m->reps, m->tflops, m->peak_extra_bytes);
        if (m->eager_median_ms > 0 || m->eager_peak_extra_bytes >= 0)
            row(eager_label, m->eager_median_ms, d->eager_min_ms, d->eager_cv, d->eager_reps,
                d->eager_tflops, m->eager_peak_extra_bytes);
        if (m->median_ms > 0 && m->eager_median_ms > 0)
            printf("speedup over eager: %.2fx", m->eager_median_ms / m->median_ms);
        if (m->peak_extra_bytes > 0 && m->eager_peak_extra_bytes > 0)
            printf("%seager needs %.0fx the extra memory",
                   m->median_ms > 0 && m->eager_median_ms > 0 ? "; " : "",
                   (double)m->eager_peak_extra_bytes / (double)m->peak_extra_bytes);
        printf("\n");
    }
    print_check(m, d, a->eager_only, a->p.dtype);
    if (a->repeat > 1 && m->status == FA_OK) {
        fa_time_stats s;
        fa_stats_compute(b->medians, a->repeat, &s);
        double hi = b->medians[0];
        for (int r = 1; r < a->repeat; r++)
            hi = b->medians[r] > hi ? b->medians[r] : hi;
        printf("\nrepeat: %d timings in one worker: median of medians %.4f ms, CV of the "
               "medians %.2f%% (min %.4f, max %.4f ms)\n",
               a->repeat, s.median_ms, 100 * s.cv, s.min_ms, hi);
    }
}

/* The results as JSON lines (one per method; with --repeat, one per round and a summary). */
static void print_json(const bench_run *b)
{
    const bench_args *a = b->a;
    const fa_measurement *m = &b->m;
    if (a->repeat == 1) {
        json_line(b->vname, b->pname, b->dev, m, &b->d, 0, -1);
        if (!a->eager_only && m->eager_median_ms > 0)
            json_line("eager", b->pname, b->dev, m, &b->d, 1, -1);
    } else if (m->status == FA_OK) {
        fa_time_stats s;
        fa_stats_compute(b->medians, a->repeat, &s);
        printf("{\"method\":");
        json_str(b->vname);
        printf(",\"problem\":");
        json_str(b->pname);
        printf(",\"repeats\":%d", a->repeat);
        json_num("median_of_medians_ms", s.median_ms);
        json_num("cv_of_medians", s.cv);
        printf("}\n");
    }
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0)
        return rc;

    bench_run b;
    memset(&b, 0, sizeof b);
    b.a = &a;
    fa_err_clear(&b.err);
    snprintf(b.vname, sizeof b.vname, "eager");
    fa_problem_name(&a.p, b.pname, sizeof b.pname);

    rc = start_worker(&b);
    if (rc < 0 && !a.eager_only)
        rc = compile_subject(&b);
    if (rc < 0)
        rc = time_subject(&b);
    if (rc < 0) {
        if (a.json)
            print_json(&b);
        else
            print_table(&b);
        if (b.m.status != FA_OK && b.m.status != FA_MISMATCH)
            fprintf(stderr, "fa-tune %s: %s: %s: %s\n", cmd, b.vname, fa_status_str(b.m.status),
                    b.m.message);
        if (fa_worker_restarts(b.w) > 0)
            fprintf(stderr, "fa-tune %s: the GPU worker was restarted %d time(s)\n", cmd,
                    fa_worker_restarts(b.w));
        rc = exit_for(&b.m);
    }
    free(b.medians);
    fa_worker_stop(b.w);
    fa_compile_output_release(&b.out);
    fa_compiler_free(b.comp);
    return rc;
}
