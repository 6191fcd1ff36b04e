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
#include "fa_worker.h"

static const char *const cmd = "bench";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fa-tune bench (--variant NAME | [--family F] --param KEY=VALUE... |\n"
            "                      --eager-only) [shape] [options]\n"
            "\n"
            "Compiles one variant (NVRTC), checks it against the fp32 reference on fresh random\n"
            "inputs (FlashAttention's criterion: max|O - O_ref32| <= 2 x the eager baseline's\n"
            "error + 1e-5, LSE likewise, no NaN/Inf, every output element written), then times\n"
            "it and the eager baseline (cuBLAS QK^T, masked softmax, cuBLAS PV) with CUDA\n"
            "events, L2 flushed between repetitions, until the relative standard error is\n"
            "under 1%% or a cap. GPU work runs in a worker process: a crashing kernel is\n"
            "reported, not fatal.\n"
            "\n"
            "the kernel:\n"
            "  --variant NAME       e.g. fwd_sm80_hd128_bf16_causal_m128n64w4s2q; its dtype,\n"
            "                       head dim, causal and varlen set the shape's defaults\n"
            "  --param KEY=VALUE    one tunable of the family (repeat for each of its axes;\n"
            "                       sm80: block_m, block_n, warps, stages, q_in_regs), with\n"
            "                       the mode from the shape options\n"
            "  --family F           the kernel family of --param (default sm80)\n"
            "  --eager-only         no variant: check and time the eager baseline alone\n"
            "\n"
            "shape (defaults: FlashAttention's benchmark point, batch*seqlen = 16k, hidden 2048):\n"
            "  --batch B            8\n"
            "  --heads H            16 (query heads)\n"
            "  --heads-kv H         = --heads (GQA/MQA: heads must be a multiple)\n"
            "  --seqlen-q N         2048\n"
            "  --seqlen-k N         = --seqlen-q\n"
            "  --headdim D          128 (%s)\n"
            "  --dtype fp16|bf16    bf16\n"
            "  --causal             causal mask, bottom-right aligned (query i sees key j iff\n"
            "                       j <= i + seqlen_k - seqlen_q)\n"
            "  --varlen             packed sequences, lengths uniform in [N/2, N] from --seed\n"
            "  --layout bshd|bhsd   bshd (FlashAttention's) or bhsd (PyTorch's)\n"
            "  --scale S            softmax scale (default 1/sqrt(headdim))\n"
            "  --seed N             the problem seed: varlen lengths (default 1)\n"
            "  --check-seed N       input values (default: fresh; printed, to replay a failure)\n"
            "\n"
            "options:\n"
            "  --no-eager           do not time the eager baseline (it still runs once: its\n"
            "                       error is the criterion's yardstick)\n"
            "  --repeat N           time the subject N times in one worker and print the CV of\n"
            "                       the medians (timing noise)\n"
            "  --min-reps N         10      --max-reps N     1000\n"
            "  --max-seconds S      5 (per timing)          --rse X     0.01\n"
            "  --no-flush           do not flush L2 between repetitions\n"
            "  --device N           GPU ordinal (default 0)\n"
            "  --timeout S          watchdog per job in seconds (default 300)\n"
            "  --cache-dir DIR      cubin cache directory; --no-cache to bypass it\n"
            "  --json               one JSON object per line on stdout instead of the table\n"
            "\n"
            "TFLOP/s = 4*B*Hq*Nq*Nk*D / time, halved for causal when Nq == Nk (varlen: summed\n"
            "over sequences), from the median time.\n"
            "\n"
            "exit codes: 0 ok, 1 runtime failure (no GPU, compile error, kernel fault),\n"
            "2 usage error, 3 numerical mismatch.\n",
            fa_head_dim_list());
}

typedef struct bench_args {
    int have_name, have_tiles, eager_only, no_eager, json, repeat, device, no_cache;
    const char *variant_name, *cache_dir;
    const fa_family *family; /* of --param */
    int params[FA_MAX_PARAMS];
    int set_headdim, set_dtype, set_causal, set_varlen;
    fa_problem p;
    double timeout;
    uint64_t check_seed;
    fa_timing_opts timing;
} bench_args;

/* Returns -1 to go on, else the exit code (help printed, or a usage error). */
static int parse(int argc, char **argv, bench_args *a)
{
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
    int heads_kv = 0, seqlen_k = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0, used = 1; /* options that take a value consume it */
        double x = 0;
        if (fa_cli_is_help(o)) {
            usage(stdout);
            return FA_EXIT_OK;
        } else if (!strcmp(o, "--variant")) {
            if (!val)
                return fa_cli_usage_error(cmd, "--variant needs a variant name");
            a->variant_name = val;
            a->have_name = 1;
        } else if (!strcmp(o, "--family")) {
            if (!val || !(a->family = fa_family_find(val)))
                return fa_cli_usage_error(cmd, "unknown --family '%s'", val ? val : "");
        } else if (!strcmp(o, "--param")) {
            const char *eq = val ? strchr(val, '=') : NULL;
            char key[64];
            if (!eq || eq == val || (size_t)(eq - val) >= sizeof key)
                return fa_cli_usage_error(cmd, "--param '%s': expected KEY=VALUE", val ? val : "");
            snprintf(key, sizeof key, "%.*s", (int)(eq - val), val);
            int ax = fa_family_axis(a->family ? a->family : fa_family_sm80(), key);
            if (ax < 0)
                return fa_cli_usage_error(cmd, "--param '%s': no parameter '%s' in family %s", val,
                                          key, (a->family ? a->family : fa_family_sm80())->name);
            rc = fa_cli_int(cmd, o, eq + 1, 0, 4096, &a->params[ax]);
            a->have_tiles |= 1 << ax;
        } else if (!strcmp(o, "--eager-only")) {
            a->eager_only = 1;
            used = 0;
        } else if (!strcmp(o, "--batch")) {
            rc = fa_cli_int(cmd, o, val, 1, 65535, &a->p.batch);
        } else if (!strcmp(o, "--heads")) {
            rc = fa_cli_int(cmd, o, val, 1, 65535, &a->p.heads_q);
        } else if (!strcmp(o, "--heads-kv")) {
            rc = fa_cli_int(cmd, o, val, 1, 65535, &heads_kv);
        } else if (!strcmp(o, "--seqlen-q")) {
            rc = fa_cli_int(cmd, o, val, 1, 1 << 24, &a->p.seqlen_q);
        } else if (!strcmp(o, "--seqlen-k")) {
            rc = fa_cli_int(cmd, o, val, 1, 1 << 24, &seqlen_k);
        } else if (!strcmp(o, "--headdim")) {
            rc = fa_cli_headdim(cmd, val, &a->p.head_dim);
            a->set_headdim = 1;
        } else if (!strcmp(o, "--dtype")) {
            rc = fa_cli_dtype(cmd, val, &a->p.dtype);
            a->set_dtype = 1;
        } else if (!strcmp(o, "--causal")) {
            a->p.causal = 1;
            a->set_causal = 1;
            used = 0;
        } else if (!strcmp(o, "--varlen")) {
            a->p.varlen = 1;
            a->set_varlen = 1;
            used = 0;
        } else if (!strcmp(o, "--layout")) {
            if (val && !strcmp(val, "bshd"))
                a->p.layout = FA_LAYOUT_BSHD;
            else if (val && !strcmp(val, "bhsd"))
                a->p.layout = FA_LAYOUT_BHSD;
            else
                rc =
                    fa_cli_usage_error(cmd, "--layout '%s': expected bshd or bhsd", val ? val : "");
        } else if (!strcmp(o, "--scale")) {
            rc = fa_cli_double(cmd, o, val, 1e-6, 1e6, &x);
            a->p.softmax_scale = (float)x;
        } else if (!strcmp(o, "--seed")) {
            rc = fa_cli_u64(cmd, o, val, &a->p.seed);
        } else if (!strcmp(o, "--check-seed")) {
            rc = fa_cli_u64(cmd, o, val, &a->check_seed);
        } else if (!strcmp(o, "--no-eager")) {
            a->no_eager = 1;
            used = 0;
        } else if (!strcmp(o, "--repeat")) {
            rc = fa_cli_int(cmd, o, val, 1, 1000, &a->repeat);
        } else if (!strcmp(o, "--min-reps")) {
            rc = fa_cli_int(cmd, o, val, 1, 100000, &a->timing.min_reps);
        } else if (!strcmp(o, "--max-reps")) {
            rc = fa_cli_int(cmd, o, val, 1, 100000, &a->timing.max_reps);
        } else if (!strcmp(o, "--max-seconds")) {
            rc = fa_cli_double(cmd, o, val, 0.001, 3600, &a->timing.max_seconds);
        } else if (!strcmp(o, "--rse")) {
            rc = fa_cli_double(cmd, o, val, 0, 1, &a->timing.target_rse);
        } else if (!strcmp(o, "--no-flush")) {
            a->timing.no_flush = 1;
            used = 0;
        } else if (!strcmp(o, "--device")) {
            rc = fa_cli_int(cmd, o, val, 0, 1023, &a->device);
        } else if (!strcmp(o, "--timeout")) {
            rc = fa_cli_double(cmd, o, val, 1, 86400, &a->timeout);
        } else if (!strcmp(o, "--cache-dir")) {
            if (!val || !*val)
                return fa_cli_usage_error(cmd, "--cache-dir needs a directory");
            a->cache_dir = val;
        } else if (!strcmp(o, "--no-cache")) {
            a->no_cache = 1;
            used = 0;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            used = 0;
        } else {
            return fa_cli_usage_error(cmd, "unknown option '%s'", o);
        }
        if (rc)
            return rc;
        i += used;
    }

    int kinds = (a->have_name != 0) + (a->have_tiles != 0) + (a->eager_only != 0);
    if (!a->family)
        a->family = fa_family_sm80();
    if (kinds == 0)
        return fa_cli_usage_error(cmd, "say what to time: --variant NAME, the family's "
                                       "parameters (--param KEY=VALUE), or --eager-only");
    if (kinds > 1)
        return fa_cli_usage_error(cmd, "--variant, --param and --eager-only exclude "
                                       "each other");
    if (a->have_tiles && a->have_tiles != (1 << a->family->naxes) - 1) {
        char keys[256];
        size_t used = 0;
        keys[0] = 0;
        for (int i = 0; i < a->family->naxes && used < sizeof keys; i++)
            used += (size_t)snprintf(keys + used, sizeof keys - used, "%s%s", i ? ", " : "",
                                     a->family->axes[i].key);
        return fa_cli_usage_error(cmd, "--param: family %s needs all of %s", a->family->name, keys);
    }
    if (a->have_name) {
        fa_variant v;
        fa_err err;
        fa_err_clear(&err);
        if (fa_variant_parse(a->variant_name, &v, &err) != FA_OK)
            return fa_cli_usage_error(cmd, "%s", err.msg);
        /* The variant fixes the mode; shape options may repeat it but not contradict it. */
        if ((a->set_headdim && a->p.head_dim != v.head_dim) ||
            (a->set_dtype && a->p.dtype != v.dtype) || (a->set_causal && !v.causal) ||
            (a->set_varlen && !v.varlen))
            return fa_cli_usage_error(cmd, "the shape options contradict variant '%s'",
                                      a->variant_name);
        a->p.head_dim = v.head_dim;
        a->p.dtype = v.dtype;
        a->p.causal = v.causal;
        a->p.varlen = v.varlen;
    }
    a->p.heads_kv = heads_kv ? heads_kv : a->p.heads_q;
    a->p.seqlen_k = seqlen_k ? seqlen_k : a->p.seqlen_q;
    if (a->timing.min_reps > a->timing.max_reps)
        return fa_cli_usage_error(cmd, "--min-reps %d exceeds --max-reps %d", a->timing.min_reps,
                                  a->timing.max_reps);
    fa_err err;
    fa_err_clear(&err);
    if (fa_problem_check(&a->p, &err) != FA_OK)
        return fa_cli_usage_error(cmd, "%s", err.msg);
    return -1;
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

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int rc = parse(argc, argv, &a);
    if (rc >= 0)
        return rc;

    fa_err err;
    fa_err_clear(&err);
    fa_compiler *comp = NULL;
    fa_worker *w = NULL;
    fa_compile_output out;
    memset(&out, 0, sizeof out);
    fa_variant v;
    memset(&v, 0, sizeof v);
    char vname[FA_VARIANT_NAME_MAX] = "eager", pname[FA_PROBLEM_NAME_MAX];
    fa_problem_name(&a.p, pname, sizeof pname);
    rc = FA_EXIT_OK;

    fa_compiler_opts copts;
    memset(&copts, 0, sizeof copts);
    copts.cache_dir = a.cache_dir;
    copts.no_cache = a.no_cache;
    if (fa_compiler_new(&copts, &comp, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto done;
    }
    /* The worker forks before this process touches CUDA (it never does). */
    fa_worker_opts wopts;
    fa_worker_opts_default(&wopts);
    wopts.compiler = comp;
    wopts.job_timeout_s = a.timeout;
    if (fa_worker_start(a.device, &wopts, &w, &err) != FA_OK) {
        if (err.status == FA_NO_DEVICE)
            fprintf(stderr, "fa-tune %s: no GPU to run on: %s\n", cmd, err.msg);
        else
            fa_cli_fail(cmd, &err);
        rc = FA_EXIT_FAIL;
        goto done;
    }
    const fa_device_info *dev = fa_worker_device(w);

    if (!a.eager_only) {
        if (a.have_name) {
            fa_variant_parse(a.variant_name, &v, &err);
        } else {
            v.family = a.family;
            v.op = FA_OP_FWD;
            v.dtype = a.p.dtype;
            v.head_dim = a.p.head_dim;
            memcpy(v.params, a.params, sizeof v.params);
            v.causal = a.p.causal;
            v.varlen = a.p.varlen;
        }
        fa_variant_name(&v, vname, sizeof vname);
        const fa_arch *arch = fa_arch_from_cc(dev->cc);
        if (!arch) {
            fprintf(stderr,
                    "fa-tune %s: %s is sm_%d, which no fa-tune kernel family targets (%s)\n", cmd,
                    dev->name, dev->cc, fa_arch_list());
            rc = FA_EXIT_FAIL;
            goto done;
        }
        const char *target = fa_family_nvrtc_arch(v.family, arch);
        fprintf(stderr, "fa-tune %s: compiling %s for %s\n", cmd, vname,
                target ? target : arch->nvrtc_arch);
        if (fa_compile_variant(comp, &v, arch, &out, &err) != FA_OK) {
            rc = fa_cli_fail(cmd, &err);
            goto done;
        }
        if (out.status == FA_UNSUPPORTED) {
            fprintf(stderr, "fa-tune %s: %s cannot run on %s: %s\n", cmd, vname, arch->name,
                    out.log ? out.log : "rejected by the legality model");
            rc = FA_EXIT_FAIL;
            goto done;
        }
        if (out.status != FA_OK) {
            const char *log = out.log ? out.log : "";
            size_t len = strlen(log);
            fprintf(stderr, "fa-tune %s: %s does not compile:\n%s\n", cmd, vname,
                    len > 4000 ? log + len - 4000 : log);
            rc = FA_EXIT_FAIL;
            goto done;
        }
    }

    fa_job job;
    memset(&job, 0, sizeof job);
    job.problem = a.p;
    job.variant = v;
    job.cubin = a.eager_only ? NULL : out.cubin;
    job.cubin_size = out.cubin_size;
    job.symbol = out.lowered_name;
    job.build = out.build;
    job.what = FA_JOB_CHECK | FA_JOB_TIME | (a.no_eager || a.eager_only ? 0 : FA_JOB_EAGER_TIME);
    job.check_seed = a.check_seed;
    job.timing = a.timing;

    double *medians = calloc((size_t)a.repeat, sizeof *medians);
    if (!medians) {
        fprintf(stderr, "fa-tune %s: out of memory\n", cmd);
        rc = FA_EXIT_FAIL;
        goto done;
    }
    fa_measurement m, first;
    fa_harness_detail d, first_d;
    fprintf(stderr, "fa-tune %s: checking and timing on %s (device %d)\n", cmd, dev->name,
            dev->ordinal);
    for (int r = 0; r < a.repeat; r++) {
        if (fa_worker_check_and_time(w, &job, &m, &d, &err) != FA_OK) {
            rc = fa_cli_fail(cmd, &err);
            free(medians);
            goto done;
        }
        if (r == 0) {
            first = m;
            first_d = d;
            /* Later rounds only time: the check has been made. */
            job.what = FA_JOB_TIME;
            job.check_seed = m.check_seed;
        }
        medians[r] = m.median_ms;
        if (a.json && a.repeat > 1)
            json_line(vname, pname, dev, &m, &d, a.eager_only, r);
        if (m.status != FA_OK)
            break;
    }
    m = first;
    d = first_d;

    if (a.json && a.repeat == 1) {
        json_line(vname, pname, dev, &m, &d, 0, -1);
        if (!a.eager_only && m.eager_median_ms > 0)
            json_line("eager", pname, dev, &m, &d, 1, -1);
    } else if (!a.json) {
        char eager_label[64];
        snprintf(eager_label, sizeof eager_label, "eager (cuBLAS + softmax, %d head%s/chunk)",
                 d.eager_heads_per_chunk, d.eager_heads_per_chunk == 1 ? "" : "s");
        printf("%s on %s (sm_%d)\n", pname, dev->name, dev->cc);
        printf("FLOP convention: 4*B*Hq*Nq*Nk*D, halved for causal when Nq == Nk: %.2f GFLOP\n\n",
               d.flops / 1e9);
        printf("%-44s %10s %10s %6s %6s %9s  %s\n", "method", "median ms", "min ms", "CV", "reps",
               "TFLOP/s", "extra memory");
        if (a.eager_only) {
            row(eager_label, m.median_ms, m.min_ms, m.cv, m.reps, m.tflops, m.peak_extra_bytes);
        } else {
            row(vname, m.median_ms, m.min_ms, m.cv, m.reps, m.tflops, m.peak_extra_bytes);
            if (m.eager_median_ms > 0 || m.eager_peak_extra_bytes >= 0)
                row(eager_label, m.eager_median_ms, d.eager_min_ms, d.eager_cv, d.eager_reps,
                    d.eager_tflops, m.eager_peak_extra_bytes);
            if (m.median_ms > 0 && m.eager_median_ms > 0)
                printf("speedup over eager: %.2fx", m.eager_median_ms / m.median_ms);
            if (m.peak_extra_bytes > 0 && m.eager_peak_extra_bytes > 0)
                printf("%seager needs %.0fx the extra memory",
                       m.median_ms > 0 && m.eager_median_ms > 0 ? "; " : "",
                       (double)m.eager_peak_extra_bytes / (double)m.peak_extra_bytes);
            printf("\n");
        }
        print_check(&m, &d, a.eager_only, a.p.dtype);
        if (a.repeat > 1 && m.status == FA_OK) {
            fa_time_stats s;
            fa_stats_compute(medians, a.repeat, &s);
            double hi = medians[0];
            for (int r = 1; r < a.repeat; r++)
                hi = medians[r] > hi ? medians[r] : hi;
            printf("\nrepeat: %d timings in one worker: median of medians %.4f ms, CV of the "
                   "medians %.2f%% (min %.4f, max %.4f ms)\n",
                   a.repeat, s.median_ms, 100 * s.cv, s.min_ms, hi);
        }
    }
    if (a.json && a.repeat > 1 && m.status == FA_OK) {
        fa_time_stats s;
        fa_stats_compute(medians, a.repeat, &s);
        printf("{\"method\":");
        json_str(vname);
        printf(",\"problem\":");
        json_str(pname);
        printf(",\"repeats\":%d", a.repeat);
        json_num("median_of_medians_ms", s.median_ms);
        json_num("cv_of_medians", s.cv);
        printf("}\n");
    }
    free(medians);
    if (m.status != FA_OK && m.status != FA_MISMATCH)
        fprintf(stderr, "fa-tune %s: %s: %s: %s\n", cmd, vname, fa_status_str(m.status), m.message);
    if (fa_worker_restarts(w) > 0)
        fprintf(stderr, "fa-tune %s: the GPU worker was restarted %d time(s)\n", cmd,
                fa_worker_restarts(w));
    rc = exit_for(&m);

done:
    fa_worker_stop(w);
    fa_compile_output_release(&out);
    fa_compiler_free(comp);
    return rc;
}
