/*
 * This file implements the harness's GPU tests (ctest label gpu; exit 77 = skipped when there
 * is no driver or no GPU). Usage: test_harness_gpu <name>:
 *   reference  the fp32 GPU reference equals the CPU reference (double) on small shapes that
 *              cover every mode: causal with sq > sk (fully masked rows) and sq < sk, varlen,
 *              GQA/MQA, BHSD, fp16/bf16, every head dim. In-process (no worker).
 *   eager      the eager baseline passes against the fp32 reference (sanity bound) on shapes
 *              that reach every softmax instance, GQA, varlen, BHSD, sq != sk; and is timed
 *   poison     a kernel that skips a tile, one that writes a NaN and one that is 5% off are
 *              mismatches; a correct one passes the criterion
 *   fault      an illegal-address kernel is reported as fault and the next job runs in the
 *              restarted worker; a hung kernel is killed by the watchdog, same outcome
 *   retime     interleaved re-timing of [good, faulting, good] times the good ones and
 *              reports the faulting one; with racing, a 2x slower kernel stops early and is
 *              stored at about twice the fast one's time, the fast ones run to the end
 *   timing     the timing protocol converges (reps, CV) and ten timings of one kernel agree;
 *              timing-only jobs of one problem share inputs while a check draws fresh ones;
 *              racing stops a timing past its bound within 3 repetitions and leaves one
 *              under it alone; a GPU idle before each repetition (gap_us) costs wall time
 *              but stays outside the events
 * Every failure prints the figures it saw; every case prints its numbers as it goes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_compile.h"
#include "fa_cpu_reference.h"
#include "fa_runner.h"
#include "fa_test_kernels.h"
#include "fa_util.h"
#include "fa_worker.h"

#define SKIP 77

static fa_problem problem(fa_dtype t, int d, int causal, int varlen, int b, int hq, int hk, int sq,
                          int sk, fa_layout layout)
{
    fa_problem p;
    memset(&p, 0, sizeof p);
    p.dtype = t;
    p.head_dim = d;
    p.causal = causal;
    p.varlen = varlen;
    p.batch = b;
    p.heads_q = hq;
    p.heads_kv = hk;
    p.seqlen_q = sq;
    p.seqlen_k = sk;
    p.layout = layout;
    p.seed = 7;
    return p;
}

/* A varlen problem whose sequences draw their lengths from `lens` (a user's distribution, as
 * --seqlens-file gives one; capped at seqlen_q / seqlen_k): one-row sequences, and sequences
 * with more query rows than keys (under causal masking their first rows see no key). */
static fa_problem with_lengths(fa_problem p, const int *lens, int n)
{
    p.lengths.id = 0x5eed1e75u;
    for (int i = 0; i < FA_VARLEN_QUANTILES; i++)
        p.lengths.q[i] = lens[i % n];
    return p;
}

/* Whether a varlen layout has a one-row sequence on both sides and a sequence with more query
 * rows than keys: what the cases built with with_lengths are for. */
static int has_short_sequences(const fa_tensors *t)
{
    int q1 = 0, k1 = 0, more_q = 0;
    for (int b = 0; b < t->batch; b++) {
        q1 |= t->lens_q[b] == 1;
        k1 |= t->lens_k[b] == 1;
        more_q |= t->lens_q[b] > t->lens_k[b];
    }
    return q1 && k1 && more_q;
}

static void print_m(const char *what, const fa_measurement *m, const fa_harness_detail *d)
{
    printf("  %-28s %-12s max|O-ref| %.3g (eager %.3g) relL2 %.3g  LSE err %.3g (eager %.3g)  "
           "nonfinite %lld unwritten %lld  %.4f ms cv %.2f%% reps %d  %s\n",
           what, fa_status_token(m->status), m->max_abs_err, m->eager_max_abs_err, m->rel_l2_err,
           m->lse_max_err, d ? d->eager_lse_max_err : -1, (long long)m->nonfinite,
           (long long)m->unwritten, m->median_ms, 100 * m->cv, m->reps, m->message);
}

static fa_compiler *new_compiler(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_compiler *c = NULL;
    if (fa_compiler_new(NULL, &c, &err) != FA_OK) {
        printf("FAIL: no compiler: %s\n", err.msg);
        exit(1);
    }
    return c;
}

/* A worker on device 0, or exit 77 when there is no GPU. */
static fa_worker *start_worker(fa_compiler *c, double timeout_s)
{
    fa_err err;
    fa_err_clear(&err);
    fa_worker_opts o;
    fa_worker_opts_default(&o);
    fa_compiler_service(c, &o.compiler);
    if (timeout_s > 0)
        o.job_timeout_s = timeout_s;
    fa_worker *w = NULL;
    fa_status st = fa_worker_start(0, &o, &w, &err);
    if (st == FA_NO_DEVICE) {
        printf("skipped: %s\n", err.msg);
        fa_compiler_free(c);
        exit(SKIP);
    }
    if (st != FA_OK) {
        printf("FAIL: worker did not start: %s\n", err.msg);
        exit(1);
    }
    printf("device: %s (%s)\n", fa_worker_device(w)->name, fa_worker_nvrtc_arch(w));
    return w;
}

/* ---- reference: GPU fp32 vs CPU double ---------------------------------------------------- */

static void compare_to_cpu(const char *name, const fa_problem *p, const fa_runner_dump *dm)
{
    fa_err err;
    fa_err_clear(&err);
    const fa_tensors *t = &dm->t;
    float *o = malloc((size_t)t->q_elems * sizeof *o), *lse = malloc((size_t)t->lse_elems * 4);
    fa_fwd_params a;
    fa_tensors_params(t, p, (uintptr_t)dm->q, (uintptr_t)dm->k, (uintptr_t)dm->v, (uintptr_t)o,
                      (uintptr_t)lse, (uintptr_t)t->cu_q, (uintptr_t)t->cu_k, &a);
    CHECK_MSG(fa_cpu_reference(&a, p->causal, &err) == FA_OK, "%s", err.msg);
    double o_err = 0, l_err = 0, e_err = 0, el_err = 0, ref_max = 0;
    int64_t bad_inf = 0, empty_rows = 0, worst = -1, e_bad = 0, el_bad = 0;
    for (int64_t i = 0; i < t->q_elems; i++) {
        double d = fabs((double)dm->o_ref[i] - o[i]);
        if (!(d <= o_err)) {
            o_err = d;
            worst = i;
        }
        ref_max = fabs(o[i]) > ref_max ? fabs(o[i]) : ref_max;
        if (dm->o_eager) { /* an unwritten (poisoned) eager element reads as NaN */
            const double de = fabs((double)dm->o_eager[i] - o[i]);
            e_bad += !isfinite(de);
            e_err = isfinite(de) ? fmax(e_err, de) : e_err;
        }
    }
    for (int64_t i = 0; i < t->lse_elems; i++) {
        if (dm->lse_eager) { /* the eager LSE: -inf exactly where the CPU's is */
            const float x = dm->lse_eager[i];
            if (isinf(lse[i]) || isinf(x))
                el_bad += x != lse[i];
            else if (isfinite(x))
                el_err = fmax(el_err, fabs((double)x - lse[i]));
            else
                el_bad++;
        }
        if (isinf(lse[i]) || isinf(dm->lse_ref[i])) {
            bad_inf += lse[i] != dm->lse_ref[i];
            empty_rows += isinf(lse[i]) != 0;
            continue;
        }
        l_err = fmax(l_err, fabs((double)dm->lse_ref[i] - lse[i]));
    }
    printf("  %-44s GPU fp32 vs CPU: max|dO| %.2e (|O| <= %.2f) max|dLSE| %.2e; rows with no "
           "key %lld; eager vs CPU max|dO| %.2e max|dLSE| %.2e\n",
           name, o_err, ref_max, l_err, (long long)empty_rows, e_err, el_err);
    CHECK_MSG(o_err <= 2e-5 * (1 + ref_max),
              "%s: O differs by %.3g at element %lld (GPU %.7g, CPU "
              "%.7g)",
              name, o_err, (long long)worst, worst >= 0 ? dm->o_ref[worst] : 0,
              worst >= 0 ? o[worst] : 0);
    CHECK_MSG(l_err <= 1e-4, "%s: LSE differs by %.3g", name, l_err);
    CHECK_MSG(bad_inf == 0, "%s: %lld rows disagree on -inf LSE", name, (long long)bad_inf);
    if (dm->o_eager) {
        CHECK_MSG(e_err <= 0.05 * (1 + ref_max), "%s: eager is %.3g off the CPU reference", name,
                  e_err);
        CHECK_MSG(e_bad == 0, "%s: %lld eager O elements unwritten or not finite", name,
                  (long long)e_bad);
    }
    if (dm->lse_eager) {
        CHECK_MSG(el_err <= fa_harness_eager_lse_tolerance(p->dtype),
                  "%s: eager LSE is %.3g off the CPU reference", name, el_err);
        CHECK_MSG(el_bad == 0, "%s: %lld eager LSE rows disagree on -inf or are not finite", name,
                  (long long)el_bad);
    }
    free(o);
    free(lse);
}

static int test_reference(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_runner *r = NULL;
    fa_status st = fa_runner_new(0, NULL, &r, &err);
    if (st == FA_NO_DEVICE) {
        printf("skipped: %s\n", err.msg);
        return SKIP;
    }
    CHECK_MSG(st == FA_OK, "runner: %s", err.msg);
    if (st != FA_OK)
        return 1;
    const fa_device_info *dev = fa_runner_device(r);
    char arch[16];
    fa_device_nvrtc_arch(dev, arch, sizeof arch);
    printf("device: %s (%s)\n", dev->name, arch);
    fa_compiler *c = new_compiler();
    static const int short_lens[] = {2, 1, 57, 1, 3};
    struct {
        const char *name;
        fa_problem p;
    } cases[] = {
        {"causal sq>sk (masked rows) GQA bf16 d64",
         problem(FA_DTYPE_BF16, 64, 1, 0, 2, 4, 2, 100, 77, FA_LAYOUT_BSHD)},
        {"causal sq<sk fp16 d128",
         problem(FA_DTYPE_FP16, 128, 1, 0, 2, 2, 2, 64, 200, FA_LAYOUT_BSHD)},
        {"varlen causal MQA bf16 d32",
         problem(FA_DTYPE_BF16, 32, 1, 1, 3, 4, 1, 150, 150, FA_LAYOUT_BSHD)},
        {"varlen sq!=sk fp16 d64",
         problem(FA_DTYPE_FP16, 64, 1, 1, 3, 2, 2, 90, 130, FA_LAYOUT_BSHD)},
        {"bhsd non-causal fp16 d256",
         problem(FA_DTYPE_FP16, 256, 0, 0, 1, 3, 3, 130, 130, FA_LAYOUT_BHSD)},
        {"bhsd causal GQA bf16 d96",
         problem(FA_DTYPE_BF16, 96, 1, 0, 2, 6, 2, 33, 65, FA_LAYOUT_BHSD)},
        {"non-causal bf16 d192 scale 0.3",
         problem(FA_DTYPE_BF16, 192, 0, 0, 1, 2, 1, 70, 45, FA_LAYOUT_BSHD)},
        /* the varlen eager: one-row sequences, and rows that see no key (causal, lq > lk) */
        {"varlen short seqs causal GQA bf16 d128",
         with_lengths(problem(FA_DTYPE_BF16, 128, 1, 1, 12, 6, 2, 90, 130, FA_LAYOUT_BSHD),
                      short_lens, 5)},
        {"varlen short seqs fp16 d64",
         with_lengths(problem(FA_DTYPE_FP16, 64, 0, 1, 12, 4, 4, 130, 90, FA_LAYOUT_BSHD),
                      short_lens, 5)},
    };
    cases[6].p.softmax_scale = 0.3f;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fa_problem *p = &cases[i].p;
        if (!fa_runner_has_helpers(r, p->dtype, p->head_dim)) {
            fa_compile_output out;
            memset(&out, 0, sizeof out);
            fa_compile_service cs;
            fa_compiler_service(c, &cs);
            st = fa_harness_compile_helpers(&cs, p->dtype, p->head_dim, arch, &out, &err);
            CHECK_MSG(st == FA_OK && out.status == FA_OK, "helpers: %s %s", err.msg,
                      out.log ? out.log : "");
            if (st == FA_OK && out.status == FA_OK) {
                st = fa_runner_load_helpers(r, p->dtype, p->head_dim, out.cubin, out.cubin_size,
                                            &err);
                CHECK_MSG(st == FA_OK, "load helpers: %s", err.msg);
            }
            fa_compile_output_release(&out);
            if (st != FA_OK)
                continue;
        }
        /* Varlen: the eager's loop over sequences (the default), then padded (FA_EAGER_PAD). */
        for (int pad = 0; pad <= p->varlen; pad++) {
            char what[96];
            snprintf(what, sizeof what, "%s%s", cases[i].name, pad ? " (eager padded)" : "");
            if (pad)
                setenv("FA_EAGER_PAD", "1", 1);
            fa_runner_dump dm;
            st = fa_runner_dump_references(r, p, 1000 + i, 1, &dm, &err);
            unsetenv("FA_EAGER_PAD");
            CHECK_MSG(st == FA_OK, "%s: %s", what, err.msg);
            if (st != FA_OK)
                continue;
            compare_to_cpu(what, p, &dm);
            /* such a case is only worth its name if the draw gave those lengths */
            if (p->lengths.id)
                CHECK_MSG(has_short_sequences(&dm.t),
                          "%s: no one-row sequences or none with more query rows than keys", what);
            fa_runner_dump_release(&dm);
        }
    }
    fa_runner_free(r);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

/* ---- eager --------------------------------------------------------------------------------- */

static int test_eager(void)
{
    fa_compiler *c = new_compiler();
    fa_worker *w = start_worker(c, 0);
    fa_err err;
    fa_err_clear(&err);
    if (fa_worker_eager_unavailable(w)) {
        CHECK_MSG(0, "eager baseline unavailable: %s", fa_worker_eager_unavailable(w));
        return 1;
    }
    static const int lens[] = {1, 3000, 640, 17, 2};
    struct {
        const char *name;
        fa_problem p;
    } cases[] = {
        {"b2 h8 N1024 d128 bf16 causal",
         problem(FA_DTYPE_BF16, 128, 1, 0, 2, 8, 8, 1024, 1024, FA_LAYOUT_BSHD)},
        {"b1 h8 kv2 N4096 d64 fp16 (GQA)",
         problem(FA_DTYPE_FP16, 64, 0, 0, 1, 8, 2, 4096, 4096, FA_LAYOUT_BSHD)},
        {"b4 h8 N2048 d128 bf16 varlen causal",
         problem(FA_DTYPE_BF16, 128, 1, 1, 4, 8, 8, 2048, 2048, FA_LAYOUT_BSHD)},
        {"b2 h4 q300 k1000 d256 fp16 bhsd causal",
         problem(FA_DTYPE_FP16, 256, 1, 0, 2, 4, 4, 300, 1000, FA_LAYOUT_BHSD)},
        {"b2 h2 q1000 k300 d64 bf16 causal",
         problem(FA_DTYPE_BF16, 64, 1, 0, 2, 2, 2, 1000, 300, FA_LAYOUT_BSHD)},
        {"b1 h2 q256 k20000 d64 bf16 (8 vec)",
         problem(FA_DTYPE_BF16, 64, 0, 0, 1, 2, 2, 256, 20000, FA_LAYOUT_BSHD)},
        {"b1 h1 q128 k40000 d64 bf16 (stream)",
         problem(FA_DTYPE_BF16, 64, 1, 0, 1, 1, 1, 128, 40000, FA_LAYOUT_BSHD)},
        {"b2 h4 N100 d32 bf16 (warp/row)",
         problem(FA_DTYPE_BF16, 32, 0, 0, 2, 4, 4, 100, 100, FA_LAYOUT_BSHD)},
        {"b16 h8 kv2 q<=1000 k<=3000 d64 bf16 varlen causal (short seqs)",
         with_lengths(problem(FA_DTYPE_BF16, 64, 1, 1, 16, 8, 2, 1000, 3000, FA_LAYOUT_BSHD), lens,
                      5)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fa_job job;
        memset(&job, 0, sizeof job);
        job.problem = cases[i].p;
        job.what = FA_JOB_CHECK | FA_JOB_TIME;
        job.timing.max_reps = 200;
        job.timing.min_reps = 5;
        job.timing.max_seconds = 2;
        job.timing.target_rse = 0.01;
        job.timing.warmup_reps = 2;
        job.timing.warmup_ms = 10;
        fa_measurement m;
        fa_harness_detail d;
        fa_status st = fa_worker_check_and_time(w, &job, &m, &d, &err);
        CHECK_MSG(st == FA_OK, "%s: %s", cases[i].name, err.msg);
        if (st != FA_OK)
            continue;
        print_m(cases[i].name, &m, &d);
        printf("  %-28s %.1f TFLOP/s, extra %.1f MiB (tracked %.1f, measured %.1f), %d "
               "heads or pairs/chunk\n",
               "", m.tflops, m.eager_peak_extra_bytes / 1048576.0,
               d.eager_tracked_bytes / 1048576.0, d.eager_measured_bytes / 1048576.0,
               d.eager_heads_per_chunk);
        CHECK_MSG(m.status == FA_OK, "%s: %s: %s", cases[i].name, fa_status_str(m.status),
                  m.message);
        CHECK_MSG(m.unwritten == 0 && m.nonfinite == 0, "%s: unwritten %lld nonfinite %lld",
                  cases[i].name, (long long)m.unwritten, (long long)m.nonfinite);
        CHECK_MSG(m.rel_l2_err <= fa_harness_eager_tolerance(cases[i].p.dtype), "%s: rel L2 %.3g",
                  cases[i].name, m.rel_l2_err);
        CHECK_MSG(m.median_ms > 0 && m.reps >= 3 && m.tflops > 0, "%s: timing %.4f ms %d reps",
                  cases[i].name, m.median_ms, m.reps);
        CHECK_MSG(m.eager_peak_extra_bytes >= d.eager_tracked_bytes, "%s: memory below tracked",
                  cases[i].name);
    }
    fa_worker_stop(w);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

/* ---- planted kernels ------------------------------------------------------------------------ */

typedef struct planted {
    fa_compile_output out;
    fa_variant v;
    fa_problem p;
} planted;

static void planted_compile(fa_compiler *c, fa_worker *w, const fa_problem *p, planted *k)
{
    fa_err err;
    fa_err_clear(&err);
    char src[8192];
    memset(k, 0, sizeof *k);
    k->p = *p;
    k->v = fa_test_variant(p->dtype, p->head_dim, p->causal, p->varlen);
    fa_test_kernel_source(src, sizeof src, p->dtype, p->head_dim, p->causal);
    fa_status st =
        fa_compile_source(c, src, "fa_test_good", fa_worker_nvrtc_arch(w), NULL, 0, &k->out, &err);
    if (st != FA_OK || k->out.status != FA_OK) {
        printf("FAIL: planted kernels do not compile: %s %s\n", err.msg,
               k->out.log ? k->out.log : "");
        exit(1);
    }
}

static fa_job planted_job(const planted *k, const char *symbol, unsigned what)
{
    fa_job job;
    memset(&job, 0, sizeof job);
    job.problem = k->p;
    job.variant = k->v;
    job.cubin = k->out.cubin;
    job.cubin_size = k->out.cubin_size;
    job.symbol = symbol;
    job.build = k->out.build;
    job.what = what;
    job.timing.max_reps = 100;
    job.timing.min_reps = 5;
    job.timing.max_seconds = 1;
    job.timing.target_rse = 0.01;
    job.timing.warmup_reps = 2;
    job.timing.warmup_ms = 5;
    return job;
}

static fa_measurement run(fa_worker *w, const fa_job *job, const char *what)
{
    fa_err err;
    fa_err_clear(&err);
    fa_measurement m;
    fa_harness_detail d;
    fa_status st = fa_worker_check_and_time(w, job, &m, &d, &err);
    CHECK_MSG(st == FA_OK, "%s: harness failed: %s", what, err.msg);
    if (st != FA_OK)
        fa_measurement_init(&m), m.status = st;
    print_m(what, &m, &d);
    return m;
}

static int test_poison(void)
{
    fa_compiler *c = new_compiler();
    fa_worker *w = start_worker(c, 0);
    const fa_problem probs[] = {
        problem(FA_DTYPE_BF16, 64, 1, 0, 2, 4, 2, 300, 300, FA_LAYOUT_BSHD),
        problem(FA_DTYPE_FP16, 64, 0, 1, 3, 4, 4, 200, 200, FA_LAYOUT_BSHD),
        problem(FA_DTYPE_BF16, 128, 1, 0, 1, 4, 4, 130, 260, FA_LAYOUT_BHSD),
    };
    for (size_t i = 0; i < sizeof probs / sizeof probs[0]; i++) {
        char pn[FA_PROBLEM_NAME_MAX];
        fa_problem_name(&probs[i], pn, sizeof pn);
        printf("%s\n", pn);
        planted k;
        planted_compile(c, w, &probs[i], &k);
        fa_job job = planted_job(&k, "fa_test_good", FA_JOB_CHECK | FA_JOB_TIME);
        fa_measurement m = run(w, &job, "correct kernel");
        CHECK_MSG(m.status == FA_OK, "correct kernel: %s: %s", fa_status_str(m.status), m.message);
        /* Informational: fp32 accumulation should beat eager's bf16 S and P, but the
         * criterion (2x eager + 1e-5) is what the status above already enforced. */
        printf("  fp32-accumulating kernel vs eager max error: %.3g vs %.3g\n", m.max_abs_err,
               m.eager_max_abs_err);
        CHECK_MSG(m.median_ms > 0 && m.peak_extra_bytes > 0, "timed %.4f ms, %lld extra bytes",
                  m.median_ms, (long long)m.peak_extra_bytes);

        /* Checks alone keep their problem's check set: checking again reuses its inputs (the
         * same seed); a failure on the kept set is confirmed on fresh inputs (another seed)
         * and the set is forgotten, so the next check draws afresh. */
        job = planted_job(&k, "fa_test_good", FA_JOB_CHECK);
        const fa_measurement c1 = run(w, &job, "check alone");
        const fa_measurement c2 = run(w, &job, "check alone, again");
        CHECK_MSG(c1.status == FA_OK && c2.status == FA_OK && c1.check_seed == c2.check_seed &&
                      c2.eager_max_abs_err == c1.eager_max_abs_err,
                  "kept check set: %s/%s, seeds %llx/%llx", fa_status_str(c1.status),
                  fa_status_str(c2.status), (unsigned long long)c1.check_seed,
                  (unsigned long long)c2.check_seed);
        job = planted_job(&k, "fa_test_wrong", FA_JOB_CHECK);
        m = run(w, &job, "wrong, on the kept set");
        CHECK_MSG(m.status == FA_MISMATCH && m.check_seed != c1.check_seed,
                  "a failure confirmed on fresh inputs: %s, seed %llx", fa_status_str(m.status),
                  (unsigned long long)m.check_seed);
        job = planted_job(&k, "fa_test_good", FA_JOB_CHECK);
        m = run(w, &job, "check alone after a failure");
        CHECK_MSG(m.status == FA_OK && m.check_seed != c1.check_seed, "after a failure: %s",
                  fa_status_str(m.status));

        job = planted_job(&k, "fa_test_skip_tile", FA_JOB_CHECK | FA_JOB_TIME);
        m = run(w, &job, "skips a tile");
        CHECK_MSG(m.status == FA_MISMATCH && m.unwritten > 0,
                  "a skipped tile must be a mismatch with unwritten elements: %s, %lld unwritten",
                  fa_status_str(m.status), (long long)m.unwritten);
        CHECK_MSG(m.median_ms < 0, "a mismatching kernel must not be timed");

        job = planted_job(&k, "fa_test_nan", FA_JOB_CHECK);
        m = run(w, &job, "writes a NaN");
        CHECK_MSG(m.status == FA_MISMATCH && m.nonfinite >= 1, "NaN: %s, %lld nonfinite",
                  fa_status_str(m.status), (long long)m.nonfinite);

        job = planted_job(&k, "fa_test_wrong", FA_JOB_CHECK);
        m = run(w, &job, "scale 5% off");
        CHECK_MSG(m.status == FA_MISMATCH && m.unwritten == 0 && m.nonfinite == 0,
                  "a wrong but complete output must fail on the error figures: %s",
                  fa_status_str(m.status));
        fa_compile_output_release(&k.out);
    }
    fa_worker_stop(w);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

static int test_fault(void)
{
    fa_compiler *c = new_compiler();
    fa_worker *w = start_worker(c, 20); /* a short watchdog for the hang case */
    const fa_problem p = problem(FA_DTYPE_BF16, 64, 0, 0, 2, 4, 4, 256, 256, FA_LAYOUT_BSHD);
    planted k;
    planted_compile(c, w, &p, &k);

    fa_job good = planted_job(&k, "fa_test_good", FA_JOB_CHECK | FA_JOB_TIME);
    fa_measurement m = run(w, &good, "correct kernel");
    CHECK_MSG(m.status == FA_OK, "before faults: %s: %s", fa_status_str(m.status), m.message);

    fa_job bad = planted_job(&k, "fa_test_fault", FA_JOB_CHECK | FA_JOB_TIME);
    bad.check_seed = 0xfeedull;
    m = run(w, &bad, "illegal address");
    CHECK_MSG(m.status == FA_FAULT, "illegal address must be a fault: %s: %s",
              fa_status_str(m.status), m.message);
    CHECK_MSG(strstr(m.message, "ILLEGAL_ADDRESS") || strstr(m.message, "illegal"),
              "the reason should name the illegal address: '%s'", m.message);
    CHECK_MSG(m.check_seed == 0xfeedull, "the seed of a faulting job is kept");

    m = run(w, &good, "next job, restarted worker");
    CHECK_MSG(m.status == FA_OK, "after a fault: %s: %s", fa_status_str(m.status), m.message);
    CHECK_MSG(fa_worker_restarts(w) == 1, "restarts %d, want 1", fa_worker_restarts(w));

    fa_job hang = planted_job(&k, "fa_test_hang", FA_JOB_TIME);
    m = run(w, &hang, "hangs (20 s watchdog)");
    CHECK_MSG(m.status == FA_FAULT && strstr(m.message, "no answer"), "hang: %s: %s",
              fa_status_str(m.status), m.message);

    m = run(w, &good, "next job after the hang");
    CHECK_MSG(m.status == FA_OK, "after a hang: %s: %s", fa_status_str(m.status), m.message);
    CHECK_MSG(fa_worker_restarts(w) == 2, "restarts %d, want 2", fa_worker_restarts(w));

    fa_compile_output_release(&k.out);
    fa_worker_stop(w);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

static int test_retime(void)
{
    fa_compiler *c = new_compiler();
    fa_worker *w = start_worker(c, 60);
    fa_err err;
    fa_err_clear(&err);
    const fa_problem p = problem(FA_DTYPE_FP16, 64, 1, 0, 2, 8, 8, 512, 512, FA_LAYOUT_BSHD);
    planted k;
    planted_compile(c, w, &p, &k);
    fa_job jobs[3] = {planted_job(&k, "fa_test_good", FA_JOB_TIME),
                      planted_job(&k, "fa_test_fault", FA_JOB_TIME),
                      planted_job(&k, "fa_test_good", FA_JOB_TIME)};
    fa_measurement ms[3];
    fa_status st = fa_worker_retime_interleaved(w, jobs, 2, ms, &err);
    CHECK_MSG(st == FA_OK, "retime: %s", err.msg);
    print_m("interleaved good", &ms[0], NULL);
    print_m("interleaved fault (alone 2nd)", &ms[1], NULL);
    CHECK_MSG(ms[0].status == FA_OK && ms[0].median_ms > 0, "good finalist: %s: %s",
              fa_status_str(ms[0].status), ms[0].message);
    CHECK_MSG(ms[1].status == FA_FAULT, "faulting finalist: %s", fa_status_str(ms[1].status));

    st = fa_worker_retime_interleaved(w, jobs, 3, ms, &err);
    CHECK_MSG(st == FA_OK, "retime: %s", err.msg);
    for (int i = 0; i < 3; i++)
        print_m(i == 1 ? "interleaved fault" : "interleaved good", &ms[i], NULL);
    CHECK_MSG(ms[0].status == FA_OK && ms[2].status == FA_OK, "good finalists: %s / %s",
              fa_status_str(ms[0].status), fa_status_str(ms[2].status));
    CHECK_MSG(ms[1].status == FA_FAULT, "faulting finalist: %s", fa_status_str(ms[1].status));
    /* Two launches of one kernel, interleaved, should agree closely. */
    if (ms[0].median_ms > 0 && ms[2].median_ms > 0)
        CHECK_MSG(fabs(ms[0].median_ms / ms[2].median_ms - 1) < 0.10,
                  "the same kernel twice: %.4f vs %.4f ms", ms[0].median_ms, ms[2].median_ms);
    /* Racing inside the group: the slow kernel (2x) stops after its first round, its median
     * scaled to the fastest's final one by their ratio in that round. */
    fa_job race[3] = {planted_job(&k, "fa_test_good", FA_JOB_TIME),
                      planted_job(&k, "fa_test_slow", FA_JOB_TIME),
                      planted_job(&k, "fa_test_good", FA_JOB_TIME)};
    race[0].timing.interleave_margin = 1.05;
    st = fa_worker_retime_interleaved(w, race, 3, ms, &err);
    CHECK_MSG(st == FA_OK, "retime: %s", err.msg);
    for (int i = 0; i < 3; i++)
        print_m(i == 1 ? "raced slow" : "raced good", &ms[i], NULL);
    CHECK_MSG(ms[1].status == FA_OK && ms[1].raced && ms[1].reps == 1, "slow: raced %d, %d reps",
              ms[1].raced, ms[1].reps);
    CHECK_MSG(!ms[0].raced && !ms[2].raced && ms[0].reps >= 5 && ms[2].reps >= 5,
              "good: raced %d/%d, %d/%d reps", ms[0].raced, ms[2].raced, ms[0].reps, ms[2].reps);
    if (ms[0].median_ms > 0 && ms[1].median_ms > 0)
        CHECK_MSG(ms[1].median_ms > 1.6 * ms[0].median_ms &&
                      ms[1].median_ms < 2.5 * ms[0].median_ms,
                  "slow %.4f ms vs good %.4f ms", ms[1].median_ms, ms[0].median_ms);
    printf("restarts: %d\n", fa_worker_restarts(w));
    fa_compile_output_release(&k.out);
    fa_worker_stop(w);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

static int test_timing(void)
{
    fa_compiler *c = new_compiler();
    fa_worker *w = start_worker(c, 0);
    const fa_problem p = problem(FA_DTYPE_BF16, 64, 0, 0, 4, 8, 8, 1024, 1024, FA_LAYOUT_BSHD);
    planted k;
    planted_compile(c, w, &p, &k);
    fa_job job = planted_job(&k, "fa_test_good", FA_JOB_CHECK | FA_JOB_TIME | FA_JOB_EAGER_TIME);
    fa_timing_opts_default(&job.timing);
    fa_measurement m = run(w, &job, "checked and timed");
    CHECK_MSG(m.status == FA_OK, "%s: %s", fa_status_str(m.status), m.message);
    CHECK_MSG(m.reps >= 10 && m.cv < 0.2, "reps %d, cv %.3f", m.reps, m.cv);
    CHECK_MSG(m.eager_median_ms > 0, "eager timed: %.4f ms", m.eager_median_ms);
    job.what = FA_JOB_TIME;
    double med[10];
    for (int i = 0; i < 10; i++) {
        m = run(w, &job, "timed again");
        med[i] = m.median_ms;
    }
    fa_time_stats s;
    fa_stats_compute(med, 10, &s);
    printf("ten timings of one kernel: median %.4f ms, CV of the medians %.2f%%\n", s.median_ms,
           100 * s.cv);
    CHECK_MSG(s.cv < 0.03, "CV of the medians %.2f%% (the bench's target is 1%%)", 100 * s.cv);

    fa_measurement a = run(w, &job, "shared inputs 1"), b = run(w, &job, "shared inputs 2");
    CHECK_MSG(a.check_seed == b.check_seed, "timing-only jobs of one problem: seeds %llx, %llx",
              (unsigned long long)a.check_seed, (unsigned long long)b.check_seed);
    job.what = FA_JOB_CHECK | FA_JOB_TIME;
    fa_measurement c1 = run(w, &job, "checked: fresh inputs");
    CHECK_MSG(c1.status == FA_OK && c1.check_seed != a.check_seed, "%s, seed %llx",
              fa_status_str(c1.status), (unsigned long long)c1.check_seed);

    job.what = FA_JOB_TIME;
    job.timing.abandon_ms = 0.5 * s.median_ms;
    m = run(w, &job, "raced (bound 0.5x)");
    CHECK_MSG(m.status == FA_OK && m.raced && m.reps <= 3 && !strncmp(m.message, "raced out", 9),
              "raced %d after %d reps: %s", m.raced, m.reps, m.message);
    job.timing.abandon_ms = 3 * s.median_ms;
    m = run(w, &job, "not raced (bound 3x)");
    CHECK_MSG(m.status == FA_OK && !m.raced && m.reps >= 10 && !m.message[0],
              "raced %d after %d reps: %s", m.raced, m.reps, m.message);

    /* gap_us: 20 repetitions with 2 ms of GPU idle before each take >= 40 ms more than
     * without, and the idle is not in the repetitions' times. */
    job.timing.abandon_ms = 0;
    job.timing.min_reps = job.timing.max_reps = 20;
    job.timing.target_rse = 0;
    const double gap_us = 2000;
    double wall[2], med_g[2];
    for (int g = 0; g < 2; g++) {
        job.timing.gap_us = g ? gap_us : 0;
        const double t0 = fa_now_s();
        m = run(w, &job, g ? "timed with a 2 ms gap" : "timed without a gap");
        wall[g] = fa_now_s() - t0;
        med_g[g] = m.median_ms;
        CHECK_MSG(m.status == FA_OK && m.reps == 20, "gap %g us: %s, %d reps", job.timing.gap_us,
                  fa_status_str(m.status), m.reps);
    }
    printf("gap 0 / 2000 us: median %.4f / %.4f ms, wall %.1f / %.1f ms\n", med_g[0], med_g[1],
           1e3 * wall[0], 1e3 * wall[1]);
    CHECK_MSG(wall[1] - wall[0] > 0.75 * 20 * gap_us * 1e-6,
              "20 gaps of 2 ms added only %.1f ms of wall time", 1e3 * (wall[1] - wall[0]));
    CHECK_MSG(med_g[1] < med_g[0] + 0.25 * gap_us * 1e-3,
              "the gap is inside the events: median %.4f ms against %.4f ms without", med_g[1],
              med_g[0]);
    fa_compile_output_release(&k.out);
    fa_worker_stop(w);
    fa_compiler_free(c);
    return fa_check_failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    /* The workers are this program, exec'd (fa_worker.h). */
    const int worker_rc = fa_worker_main_hook(argc, argv);
    if (worker_rc >= 0)
        return worker_rc;
    const char *t = argc > 1 ? argv[1] : "";
    int rc;
    if (!strcmp(t, "reference"))
        rc = test_reference();
    else if (!strcmp(t, "eager"))
        rc = test_eager();
    else if (!strcmp(t, "poison"))
        rc = test_poison();
    else if (!strcmp(t, "fault"))
        rc = test_fault();
    else if (!strcmp(t, "retime"))
        rc = test_retime();
    else if (!strcmp(t, "timing"))
        rc = test_timing();
    else {
        fprintf(stderr, "usage: test_harness_gpu reference|eager|poison|fault|retime|timing\n");
        return 2;
    }
    if (rc != SKIP)
        printf("%s: %d failure(s)\n", t, fa_check_failures);
    return rc;
}
