/*
 * This file implements the harness's CPU tests (no GPU needed; `compile` needs NVRTC):
 *   reference  the CPU reference against hand-computed cases: causal with seqlen_q > seqlen_k
 *              (fully masked rows) and seqlen_q < seqlen_k, varlen boundaries, GQA mapping,
 *              BSHD and BHSD giving the same answer
 *   layout     strides, sizes and varlen lengths of fa_tensors; FLOPs
 *   stats      timing statistics; an interleaved group's raced jobs resolved along chains
 *              of references, when its racing puts a job out, how many rounds a lone job
 *              needs and when a job lets the group stop early (fa_retime_settled); host
 *              16-bit conversions
 *   compile    the helper module and the GPU tests' planted kernels compile (NVRTC, sm_80 and
 *              sm_90) -- device code checked without a device
 *   driver     libcuda is loaded at run time: a missing or stub library is FA_NO_DEVICE with a
 *              one-line reason; cuBLAS (the eager baseline's) loads where the toolkit is
 *   worker     the worker process starts and reports its device, or says there is none in
 *              one line (FA_NO_DEVICE) -- the fork/exec/handshake path on any machine
 *   worker_exec  workers are exec'd, not just forked: one started after the parent ran NVRTC
 *              (which initialises the CUDA driver in the parent) still starts, and its greeting
 *              comes from the exec'd program (FA_TUNE_WORKER_EXE pointed at a wrapper that
 *              records its arguments); a missing or hook-less FA_TUNE_WORKER_EXE is a clear
 *              error; fa_worker_main_hook tells worker invocations from others
 *   decode     a decode problem's layout (pages, a seeded shuffled block table, strides), its
 *              params' decode fields, the CPU reference on a paged cache equal bit for bit to
 *              the same contiguous cache with cache lengths 0, 1, 17 (page 16 does not divide
 *              it) and 40, an empty cache's zeros and -inf, per-sequence lengths honoured, bad
 *              tables refused, and the worker's wire keeping the decode fields
 * Usage: test_harness_cpu <name>. Each failure prints what differed and where.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_compile.h"
#include "fa_cpu_reference.h"
#include "fa_driver.h"
#include "fa_harness.h"
#include "fa_retime_trace.h"
#include "fa_runner_internal.h"
#include "fa_test_variant.h"
#include "fa_test_kernels.h"
#include "fa_worker.h"

static void near(const char *what, double got, double want, double tol)
{
    int ok = (isinf(want) && got == want) || fabs(got - want) <= tol;
    CHECK_MSG(ok, "%s = %.9g, want %.9g (tol %g)", what, got, want, tol);
}

/* A single-head, fixed-length params struct over host float arrays with D = 1 or 2. */
static fa_fwd_params params1(float *q, float *k, float *v, float *o, float *lse, int sq, int sk,
                             int d, float scale)
{
    fa_fwd_params p;
    memset(&p, 0, sizeof p);
    p.q = (uintptr_t)q;
    p.k = (uintptr_t)k;
    p.v = (uintptr_t)v;
    p.o = (uintptr_t)o;
    p.lse = (uintptr_t)lse;
    p.q_row_stride = p.o_row_stride = d;
    p.k_row_stride = p.v_row_stride = d;
    p.q_batch_stride = p.o_batch_stride = (int64_t)sq * d;
    p.k_batch_stride = p.v_batch_stride = (int64_t)sk * d;
    p.lse_batch_stride = sq;
    p.lse_head_stride = sq;
    p.batch = 1;
    p.heads_q = p.heads_kv = 1;
    p.seqlen_q = sq;
    p.seqlen_k = sk;
    p.head_dim = d;
    p.softmax_scale = scale;
    return p;
}

static void test_reference(void)
{
    fa_err err;
    fa_err_clear(&err);

    /* Causal, sq = 3 > sk = 2: query i sees keys j <= i - 1. Row 0 sees nothing (O = 0,
     * LSE = -inf), row 1 sees key 0 only, row 2 sees both:
     *   s = q_i k_j with q = (1, 2, 3), k = (1, 0), v = (10, 20), scale 1
     *   row 1: LSE = 2, O = 10
     *   row 2: s = (3, 0), LSE = log(e^3 + 1), O = 10 p0 + 20 p1 with p0 = e^3 / (e^3 + 1). */
    {
        float q[3] = {1, 2, 3}, k[2] = {1, 0}, v[2] = {10, 20}, o[3] = {-1, -1, -1},
              lse[3] = {-1, -1, -1};
        fa_fwd_params p = params1(q, k, v, o, lse, 3, 2, 1, 1.0f);
        CHECK_MSG(fa_cpu_reference(&p, 1, &err) == FA_OK, "%s", err.msg);
        const double e3 = exp(3.0), p0 = e3 / (e3 + 1), p1 = 1 / (e3 + 1);
        near("causal 3x2 row 0 O (fully masked)", o[0], 0, 0);
        near("causal 3x2 row 0 LSE (fully masked)", lse[0], -INFINITY, 0);
        near("causal 3x2 row 1 O", o[1], 10, 1e-6);
        near("causal 3x2 row 1 LSE", lse[1], 2, 1e-6);
        near("causal 3x2 row 2 O", o[2], 10 * p0 + 20 * p1, 1e-5);
        near("causal 3x2 row 2 LSE", lse[2], log(e3 + 1), 1e-6);
        /* Non-causal: every row sees both keys. */
        CHECK_MSG(fa_cpu_reference(&p, 0, &err) == FA_OK, "%s", err.msg);
        near("non-causal 3x2 row 0 LSE", lse[0], log(exp(1.0) + 1), 1e-6);
        near("non-causal 3x2 row 0 O", o[0], (10 * exp(1.0) + 20) / (exp(1.0) + 1), 1e-5);
    }
    /* Causal, sq = 2 < sk = 4: bottom-right alignment gives row 0 keys 0..2 and row 1 all
     * four (top-left alignment would give 1 and 2). Zero queries make the softmax uniform. */
    {
        float q[2] = {0, 0}, k[4] = {1, 2, 3, 4}, v[4] = {1, 2, 3, 4}, o[2], lse[2];
        fa_fwd_params p = params1(q, k, v, o, lse, 2, 4, 1, 0.5f);
        CHECK_MSG(fa_cpu_reference(&p, 1, &err) == FA_OK, "%s", err.msg);
        near("causal 2x4 row 0 O (keys 0..2)", o[0], 2.0, 1e-6);
        near("causal 2x4 row 0 LSE", lse[0], log(3.0), 1e-6);
        near("causal 2x4 row 1 O (keys 0..3)", o[1], 2.5, 1e-6);
        near("causal 2x4 row 1 LSE", lse[1], log(4.0), 1e-6);
    }
    /* GQA: 4 query heads on 2 kv heads (g = 2), BSHD, D = 2. Query head h must read kv head
     * h / 2: kv head 0 holds V = 1, kv head 1 holds V = 2, so O is 1, 1, 2, 2 per head. */
    {
        enum { SQ = 2, SK = 3, HQ = 4, HK = 2, D = 2 };
        float q[SQ * HQ * D] = {0}, k[SK * HK * D], v[SK * HK * D], o[SQ * HQ * D], lse[HQ * SQ];
        for (int j = 0; j < SK; j++)
            for (int h = 0; h < HK; h++)
                for (int d = 0; d < D; d++) {
                    k[(j * HK + h) * D + d] = (float)(j + 1);
                    v[(j * HK + h) * D + d] = (float)(h + 1);
                }
        fa_fwd_params p = params1(q, k, v, o, lse, SQ, SK, D, 1.0f);
        p.heads_q = HQ;
        p.heads_kv = HK;
        p.q_row_stride = p.o_row_stride = HQ * D;
        p.q_head_stride = p.o_head_stride = D;
        p.k_row_stride = p.v_row_stride = HK * D;
        p.k_head_stride = p.v_head_stride = D;
        p.lse_head_stride = SQ;
        p.lse_batch_stride = HQ * SQ;
        CHECK_MSG(fa_cpu_reference(&p, 0, &err) == FA_OK, "%s", err.msg);
        for (int i = 0; i < SQ; i++)
            for (int h = 0; h < HQ; h++) {
                char what[64];
                snprintf(what, sizeof what, "GQA row %d head %d O", i, h);
                near(what, o[(i * HQ + h) * D + 1], h / 2 + 1, 1e-6);
                snprintf(what, sizeof what, "GQA row %d head %d LSE", i, h);
                near(what, lse[h * SQ + i], log(3.0), 1e-6);
            }
    }
    /* Varlen, causal: sequence 0 has sq 2, sk 3; sequence 1 has sq 3, sk 1. Packed V row r
     * holds r + 1, so an O that averages the wrong rows shows. Sequence 1's first two rows
     * see no key (2 - 3 + i < 0); its last row sees its one key (packed row 3, V = 4). LSE is
     * (heads, total_q) for varlen. */
    {
        float q[5] = {0}, k[4] = {0}, v[4] = {1, 2, 3, 4}, o[5], lse[5];
        int32_t cu_q[3] = {0, 2, 5}, cu_k[3] = {0, 3, 4};
        fa_fwd_params p = params1(q, k, v, o, lse, 3, 3, 1, 1.0f);
        p.batch = 2;
        p.cu_seqlens_q = (uintptr_t)cu_q;
        p.cu_seqlens_k = (uintptr_t)cu_k;
        p.lse_head_stride = 5;
        p.lse_batch_stride = 0;
        CHECK_MSG(fa_cpu_reference(&p, 1, &err) == FA_OK, "%s", err.msg);
        const double want_o[5] = {1.5, 2.0, 0, 0, 4};
        const double want_l[5] = {log(2.0), log(3.0), -INFINITY, -INFINITY, 0};
        for (int r = 0; r < 5; r++) {
            char what[64];
            snprintf(what, sizeof what, "varlen packed row %d O", r);
            near(what, o[r], want_o[r], 1e-6);
            snprintf(what, sizeof what, "varlen packed row %d LSE", r);
            near(what, lse[r], want_l[r], 1e-6);
        }
    }
    /* BSHD and BHSD through fa_tensors strides must give identical results. */
    {
        fa_problem pr;
        memset(&pr, 0, sizeof pr);
        pr.dtype = FA_DTYPE_BF16;
        pr.head_dim = 32;
        pr.causal = 1;
        pr.batch = 2;
        pr.heads_q = 4;
        pr.heads_kv = 2;
        pr.seqlen_q = 5;
        pr.seqlen_k = 7;
        fa_tensors a, b;
        pr.layout = FA_LAYOUT_BSHD;
        CHECK_MSG(fa_tensors_init(&a, &pr, &err) == FA_OK, "%s", err.msg);
        pr.layout = FA_LAYOUT_BHSD;
        CHECK_MSG(fa_tensors_init(&b, &pr, &err) == FA_OK, "%s", err.msg);
        float *qa = malloc(a.q_elems * sizeof(float)), *qb = malloc(a.q_elems * sizeof(float));
        float *ka = malloc(a.k_elems * sizeof(float)), *kb = malloc(a.k_elems * sizeof(float));
        float *va = malloc(a.k_elems * sizeof(float)), *vb = malloc(a.k_elems * sizeof(float));
        float *oa = malloc(a.q_elems * sizeof(float)), *ob = malloc(a.q_elems * sizeof(float));
        float *la = malloc(a.lse_elems * sizeof(float)), *lb = malloc(a.lse_elems * sizeof(float));
        unsigned s = 12345;
        for (int bi = 0; bi < pr.batch; bi++)
            for (int h = 0; h < pr.heads_q; h++)
                for (int i = 0; i < pr.seqlen_q; i++)
                    for (int d = 0; d < pr.head_dim; d++) {
                        s = s * 1103515245u + 12345u;
                        float x = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
                        qa[bi * a.q_batch + h * a.q_head + i * a.q_row + d] = x;
                        qb[bi * b.q_batch + h * b.q_head + i * b.q_row + d] = x;
                    }
        for (int bi = 0; bi < pr.batch; bi++)
            for (int h = 0; h < pr.heads_kv; h++)
                for (int j = 0; j < pr.seqlen_k; j++)
                    for (int d = 0; d < pr.head_dim; d++) {
                        s = s * 1103515245u + 12345u;
                        float x = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
                        s = s * 1103515245u + 12345u;
                        float y = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
                        ka[bi * a.k_batch + h * a.k_head + j * a.k_row + d] = x;
                        kb[bi * b.k_batch + h * b.k_head + j * b.k_row + d] = x;
                        va[bi * a.k_batch + h * a.k_head + j * a.k_row + d] = y;
                        vb[bi * b.k_batch + h * b.k_head + j * b.k_row + d] = y;
                    }
        fa_fwd_params pa, pb;
        pr.layout = FA_LAYOUT_BSHD;
        fa_tensors_params(&a, &pr, (uintptr_t)qa, (uintptr_t)ka, (uintptr_t)va, (uintptr_t)oa,
                          (uintptr_t)la, 0, 0, &pa);
        pr.layout = FA_LAYOUT_BHSD;
        fa_tensors_params(&b, &pr, (uintptr_t)qb, (uintptr_t)kb, (uintptr_t)vb, (uintptr_t)ob,
                          (uintptr_t)lb, 0, 0, &pb);
        CHECK_MSG(fa_cpu_reference(&pa, 1, &err) == FA_OK, "%s", err.msg);
        CHECK_MSG(fa_cpu_reference(&pb, 1, &err) == FA_OK, "%s", err.msg);
        int diff = 0;
        for (int bi = 0; bi < pr.batch; bi++)
            for (int h = 0; h < pr.heads_q; h++)
                for (int i = 0; i < pr.seqlen_q; i++) {
                    for (int d = 0; d < pr.head_dim; d++)
                        diff += oa[bi * a.q_batch + h * a.q_head + i * a.q_row + d] !=
                                ob[bi * b.q_batch + h * b.q_head + i * b.q_row + d];
                    diff += la[bi * a.lse_batch + h * a.lse_head + i] !=
                            lb[bi * b.lse_batch + h * b.lse_head + i];
                }
        CHECK_MSG(diff == 0, "BSHD and BHSD differ in %d elements", diff);
        free(qa), free(qb), free(ka), free(kb), free(va), free(vb), free(oa), free(ob);
        free(la), free(lb);
        fa_tensors_release(&a);
        fa_tensors_release(&b);
    }
    /* Inconsistent input is refused, not computed. */
    {
        float x[1];
        fa_fwd_params p = params1(x, x, x, x, x, 1, 1, 1, 1.0f);
        p.heads_q = 3;
        p.heads_kv = 2;
        CHECK_MSG(fa_cpu_reference(&p, 0, &err) == FA_INVALID, "heads 3 on kv 2 accepted");
    }
}

static void test_layout(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_problem p;
    memset(&p, 0, sizeof p);
    p.dtype = FA_DTYPE_FP16;
    p.head_dim = 64;
    p.batch = 3;
    p.heads_q = 8;
    p.heads_kv = 2;
    p.seqlen_q = 100;
    p.seqlen_k = 300;
    p.layout = FA_LAYOUT_BSHD;
    fa_tensors t;
    CHECK_MSG(fa_tensors_init(&t, &p, &err) == FA_OK, "%s", err.msg);
    CHECK_MSG(t.q_row == 8 * 64 && t.q_head == 64 && t.q_batch == 100 * 8 * 64,
              "BSHD q strides %lld %lld %lld", (long long)t.q_batch, (long long)t.q_row,
              (long long)t.q_head);
    CHECK_MSG(t.k_row == 2 * 64 && t.k_head == 64 && t.k_batch == 300 * 2 * 64, "BSHD k strides");
    CHECK_MSG(t.q_elems == 3LL * 100 * 8 * 64 && t.k_elems == 3LL * 300 * 2 * 64, "BSHD sizes");
    CHECK_MSG(t.lse_elems == 3 * 8 * 100 && t.lse_head == 100 && t.lse_batch == 800, "LSE layout");
    fa_tensors_release(&t);
    p.layout = FA_LAYOUT_BHSD;
    CHECK_MSG(fa_tensors_init(&t, &p, &err) == FA_OK, "%s", err.msg);
    CHECK_MSG(t.q_row == 64 && t.q_head == 100 * 64 && t.q_batch == 8 * 100 * 64, "BHSD q strides");
    CHECK_MSG(t.k_row == 64 && t.k_head == 300 * 64 && t.k_batch == 2 * 300 * 64, "BHSD k strides");
    fa_tensors_release(&t);

    p.layout = FA_LAYOUT_BSHD;
    p.varlen = 1;
    p.seed = 42;
    CHECK_MSG(fa_tensors_init(&t, &p, &err) == FA_OK, "%s", err.msg);
    int lq[3], lk[3];
    fa_harness_varlen_lengths(&p, lq, lk);
    int64_t tq = 0, tk = 0;
    for (int b = 0; b < 3; b++) {
        CHECK_MSG(t.lens_q[b] == lq[b] && t.lens_k[b] == lk[b], "lengths differ at %d", b);
        CHECK_MSG(lq[b] >= 50 && lq[b] <= 100, "q length %d outside [N/2, N]", lq[b]);
        CHECK_MSG(lk[b] >= 150 && lk[b] <= 300, "k length %d outside [N/2, N]", lk[b]);
        CHECK_MSG(t.cu_q[b] == tq && t.cu_k[b] == tk, "cu_seqlens wrong at %d", b);
        tq += lq[b];
        tk += lk[b];
        CHECK_MSG(t.max_q >= lq[b] && t.max_k >= lk[b], "max below a length");
    }
    CHECK_MSG(t.rows_q == tq && t.rows_k == tk && t.cu_q[3] == tq, "varlen totals");
    CHECK_MSG(t.lse_head == tq && t.lse_elems == tq * 8, "varlen LSE is (heads, total_q)");
    CHECK_MSG(fabs(fa_tensors_flops(&t, &p) - fa_problem_flops(&p, lq, lk)) < 1, "flops");
    fa_tensors_release(&t);
    /* Self-attention varlen: k lengths equal q lengths. */
    p.seqlen_k = 100;
    fa_harness_varlen_lengths(&p, lq, lk);
    CHECK_MSG(!memcmp(lq, lk, sizeof lq), "self-attention varlen lengths differ");

    /* Params: the fields the kernels read. */
    p.varlen = 0;
    p.causal = 1;
    CHECK_MSG(fa_tensors_init(&t, &p, &err) == FA_OK, "%s", err.msg);
    fa_fwd_params a;
    fa_tensors_params(&t, &p, 1, 2, 3, 4, 5, 6, 7, &a);
    CHECK_MSG(a.cu_seqlens_q == 0 && a.cu_seqlens_k == 0, "fixed length with cu_seqlens");
    CHECK_MSG(a.o_row_stride == a.q_row_stride && a.v_head_stride == a.k_head_stride, "strides");
    near("softmax scale", a.softmax_scale, 0.125, 1e-9);
    near("softmax scale log2", a.softmax_scale_log2, 0.125 * 1.4426950408889634, 1e-6);
    fa_tensors_release(&t);
}

static void test_stats(void)
{
    double x[4] = {4, 1, 3, 2};
    fa_time_stats s;
    fa_stats_compute(x, 4, &s);
    near("median of 1..4", s.median_ms, 2.5, 1e-12);
    near("min", s.min_ms, 1, 0);
    near("mean", s.mean_ms, 2.5, 1e-12);
    near("cv", s.cv, sqrt(5.0 / 3.0) / 2.5, 1e-12);
    near("rse", s.rse, sqrt(5.0 / 3.0) / 2 / 2.5, 1e-12);
    CHECK_MSG(x[0] == 4 && x[1] == 1, "input reordered");
    double one = 7;
    fa_stats_compute(&one, 1, &s);
    CHECK_MSG(isinf(s.rse) && s.median_ms == 7, "one sample must not look converged");

    /* Interleaved racing: job 0 is the leader (2.0 ms over all rounds); job 1 was raced at
     * 1.5x job 2, which was later raced at 1.1x job 0; job 3 at 1.2x job 0; job 4 at 1.3x
     * job 5, which was lost to a fault (no median), so job 4 keeps its own. Own medians of
     * raced jobs are their early, faster rounds -- never what is stored otherwise. */
    int raced[6] = {0, 1, 1, 1, 1, 0}, ref[6] = {-1, 2, 0, 0, 5, -1};
    double ratio[6] = {0, 1.5, 1.1, 1.2, 1.3, 0}, ms[6] = {2.0, 2.5, 2.1, 2.2, 9.0, -1};
    fa_retime_resolve_raced(6, raced, ref, ratio, ms);
    near("leader", ms[0], 2.0, 0);
    near("raced against a job raced later", ms[1], 1.5 * 1.1 * 2.0, 1e-12);
    near("raced against the leader", ms[2], 1.1 * 2.0, 1e-12);
    near("raced against the leader (2)", ms[3], 1.2 * 2.0, 1e-12);
    near("reference lost: own median", ms[4], 9.0, 0);

    /* Interleaved racing's rule (margin 1.05): a job 3% behind in every round is out after 4
     * rounds (before, it ran all ten; 3 rounds are not enough); one whose rounds scatter
     * around 3% within the noise stays, as does one 1.5% behind, however steady; past the
     * margin after 3 rounds or 1.05x it after 1, as before. */
    {
        static const double steady[] = {1.03, 1.031, 1.029, 1.030, 1.032};
        static const double noisy[] = {1.00, 1.065, 0.99, 1.07};
        static const double close[] = {1.015, 1.016, 1.014, 1.015, 1.015, 1.016};
        static const double far3[] = {1.06, 1.07, 1.055};
        fa_time_stats r;
        fa_stats_compute(steady, 3, &r);
        CHECK_MSG(!fa_retime_out(&r, 3, 1.05), "3%% behind out after 3 rounds");
        fa_stats_compute(steady, 4, &r);
        CHECK_MSG(fa_retime_out(&r, 4, 1.05), "3%% behind, steady, still in after 4 rounds");
        CHECK_MSG(!fa_retime_out(&r, 4, 0), "raced with racing off");
        fa_stats_compute(noisy, 4, &r);
        CHECK_MSG(!fa_retime_out(&r, 4, 1.05), "3%% behind within the noise raced out");
        fa_stats_compute(close, 6, &r);
        CHECK_MSG(!fa_retime_out(&r, 6, 1.05), "1.5%% behind raced out");
        fa_stats_compute(far3, 3, &r);
        CHECK_MSG(fa_retime_out(&r, 3, 1.05), "6%% behind in after 3 rounds");
        fa_stats_compute(far3, 1, &r);
        CHECK_MSG(!fa_retime_out(&r, 1, 1.05), "6%% behind out after one round");
        /* After 2 rounds: over the margin in both is out (replayed on the recorded rounds of
         * three full hd128 halving runs, bench/results/2026-12-07_session29, it took 0.5 s
         * of kernel time off rung 1's 11 s and picked the same winners); over it in one
         * round only is not, even when their median is. */
        static const double both[] = {1.06, 1.07}, one[] = {1.0, 1.12};
        fa_stats_compute(both, 2, &r);
        CHECK_MSG(fa_retime_out(&r, 2, 1.05), "over the margin in both of 2 rounds, still in");
        fa_stats_compute(one, 2, &r);
        CHECK_MSG(!fa_retime_out(&r, 2, 1.05), "over the margin in one of 2 rounds, out");
        static const double far1 = 1.11;
        fa_stats_compute(&far1, 1, &r);
        CHECK_MSG(fa_retime_out(&r, 1, 1.05), "11%% behind in after one round");
        /* Rounds before the RSE rule: all of min_reps while two are left, five for one. */
        CHECK(fa_retime_min_rounds(10, 2) == 10 && fa_retime_min_rounds(10, 1) == 5);
        CHECK(fa_retime_min_rounds(3, 1) == 3);
        /* The launch order turns by one job a round: round 0 in order, and over n rounds
           every job takes every place once. */
        enum { N = 5 };
        int seen[N][N] = {{0}};
        for (int round = 0; round < N; round++) {
            int used[N] = {0};
            for (int k = 0; k < N; k++) {
                const int i = fa_retime_slot(N, round, k);
                CHECK(i >= 0 && i < N && !used[i]);
                used[i] = 1;
                seen[i][k]++;
                if (round == 0)
                    CHECK(i == k);
            }
        }
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++)
                CHECK(seen[i][k] == 1);
        CHECK(fa_retime_slot(1, 7, 0) == 0);
    }

    /* The indifference-zone stop (fa_retime_settled, zone 1%): a job tied at 0.3% whose rounds
     * barely move settles the group at round 5, not 4 and not with racing off (before, every
     * such group ran all min_reps rounds); so does one steadily 1.5% behind (the fastest beats
     * it; fa_retime_out keeps it, above) or 0.6% ahead. A gap of 1.5% whose rounds scatter by
     * 2%, a tie scattered by 1.6%, a job steadily 1.5% ahead (the fastest may be worse than the
     * zone) and one stored as ahead (median below 1) whose spread reaches 1.4% behind do not. */
    {
        static const double tie[] = {1.003, 1.002, 1.004, 1.003, 1.003};
        static const double close[] = {1.015, 1.016, 1.014, 1.015, 1.015, 1.016};
        static const double ahead_in[] = {0.994, 0.993, 0.995, 0.994, 0.994};
        static const double wide[] = {1.00, 1.04, 0.99, 1.03, 1.01};
        static const double noisy_tie[] = {1.00, 1.02, 0.98, 1.01, 0.99};
        static const double ahead[] = {0.985, 0.984, 0.986, 0.985, 0.985};
        static const double skewed[] = {0.998, 0.998, 0.999, 1.015, 1.016};
        static const double tied_reach[] = {1.000, 1.000, 0.978, 1.001, 0.994};
        fa_time_stats r;
        fa_stats_compute(tie, 5, &r);
        CHECK_MSG(fa_retime_settled(&r, 5, 1.05), "a 0.3%% tie not settled after 5 rounds");
        CHECK_MSG(!fa_retime_settled(&r, 4, 1.05), "settled after 4 rounds");
        CHECK_MSG(!fa_retime_settled(&r, 5, 0), "settled with racing off");
        fa_stats_compute(tie, 4, &r);
        CHECK_MSG(!fa_retime_settled(&r, 4, 1.05), "a 4-round tie settled");
        fa_stats_compute(close, 6, &r);
        CHECK_MSG(fa_retime_settled(&r, 6, 1.05) && !fa_retime_out(&r, 6, 1.05),
                  "1.5%% behind, steady: settled %d, out %d", fa_retime_settled(&r, 6, 1.05),
                  fa_retime_out(&r, 6, 1.05));
        fa_stats_compute(ahead_in, 5, &r);
        CHECK_MSG(fa_retime_settled(&r, 5, 1.05), "0.6%% ahead, steady, not settled");
        fa_stats_compute(wide, 5, &r);
        CHECK_MSG(!fa_retime_settled(&r, 5, 1.05) && !fa_retime_out(&r, 5, 1.05),
                  "1.5%% behind within 2%% noise: settled %d, out %d",
                  fa_retime_settled(&r, 5, 1.05), fa_retime_out(&r, 5, 1.05));
        fa_stats_compute(noisy_tie, 5, &r);
        CHECK_MSG(!fa_retime_settled(&r, 5, 1.05), "a tie within 1.6%% noise settled");
        fa_stats_compute(ahead, 5, &r);
        CHECK_MSG(!fa_retime_settled(&r, 5, 1.05), "1.5%% ahead settled");
        fa_stats_compute(skewed, 5, &r);
        CHECK_MSG(!fa_retime_settled(&r, 5, 1.05), "stored ahead, up to 1.4%% behind, settled");
        /* Stored tied (median 1.000), but the interval reaches 1.4% ahead of the fastest (mean
           0.995 - 2 SE 0.0087): the fastest may be worse than the zone, so not settled. */
        fa_stats_compute(tied_reach, 5, &r);
        CHECK_MSG(!fa_retime_settled(&r, 5, 1.05), "stored tied, up to 1.4%% ahead, settled");
    }

    struct {
        float f;
        uint16_t bf, hf;
        int exact; /* representable in both: must round-trip */
    } cases[] = {
        {1.0f, 0x3F80, 0x3C00, 1},
        {-2.0f, 0xC000, 0xC000, 1},
        {65504.0f, 0x4780, 0x7BFF, 0},               /* fp16's largest; bf16 rounds up to 65536 */
        {5.9604644775390625e-8f, 0x3380, 0x0001, 1}, /* 2^-24: fp16's smallest subnormal */
        {0.0f, 0x0000, 0x0000, 1},
        {1.00390625f, 0x3F80, 0x3C04, 0}, /* 1 + 2^-8: bf16 ties to even, down */
        {1.01171875f, 0x3F82, 0x3C0C, 0}, /* 1 + 3 * 2^-8: bf16 ties to even, up */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t b = fa_float_to_half(cases[i].f, FA_DTYPE_BF16);
        uint16_t h = fa_float_to_half(cases[i].f, FA_DTYPE_FP16);
        CHECK_MSG(b == cases[i].bf, "bf16(%g) = 0x%04x, want 0x%04x", cases[i].f, b, cases[i].bf);
        CHECK_MSG(h == cases[i].hf, "fp16(%g) = 0x%04x, want 0x%04x", cases[i].f, h, cases[i].hf);
        near("fp16 round trip", fa_half_to_float(h, FA_DTYPE_FP16), cases[i].f,
             cases[i].exact || cases[i].f != 65504.0f ? 0 : 1e-9);
        if (cases[i].exact)
            near("bf16 round trip", fa_half_to_float(b, FA_DTYPE_BF16), cases[i].f, 0);
    }
    CHECK_MSG(isnan(fa_half_to_float(0xFFFF, FA_DTYPE_FP16)) &&
                  isnan(fa_half_to_float(0xFFFF, FA_DTYPE_BF16)),
              "the poison pattern must read as NaN");
}

static void test_compile(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_compiler *c = NULL;
    if (fa_compiler_new(NULL, &c, &err) != FA_OK) {
        CHECK_MSG(0, "no compiler: %s", err.msg);
        return;
    }
    struct {
        fa_dtype t;
        int d;
        const char *arch;
    } mods[] = {
        {FA_DTYPE_BF16, 64, "sm_90"}, {FA_DTYPE_BF16, 128, "sm_90"}, {FA_DTYPE_FP16, 256, "sm_90"},
        {FA_DTYPE_FP16, 96, "sm_80"}, {FA_DTYPE_BF16, 32, "sm_80"},  {FA_DTYPE_FP16, 192, "sm_86"},
    };
    fa_compile_service cs;
    fa_compiler_service(c, &cs);
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        fa_compile_output out;
        memset(&out, 0, sizeof out);
        fa_status st =
            fa_harness_compile_helpers(&cs, mods[i].t, mods[i].d, mods[i].arch, &out, &err);
        CHECK_MSG(st == FA_OK && out.status == FA_OK && out.cubin && out.cubin_size > 0,
                  "helpers %s hd %d %s: %s %s", fa_dtype_name(mods[i].t), mods[i].d, mods[i].arch,
                  st != FA_OK ? err.msg : fa_status_str(out.status), out.log ? out.log : "");
        if (st == FA_OK && out.status == FA_OK)
            printf("helpers %s hd%-3d %s: %zu bytes, %.0f ms%s, reference %d registers\n",
                   fa_dtype_name(mods[i].t), mods[i].d, mods[i].arch, out.cubin_size,
                   out.build.compile_ms, out.build.cache_hit ? " (cached)" : "",
                   out.build.registers);
        fa_compile_output_release(&out);
    }
    char src[8192];
    fa_test_kernel_source(src, sizeof src, FA_DTYPE_BF16, 64, 1);
    fa_compile_output out;
    memset(&out, 0, sizeof out);
    fa_status st = fa_compile_source(c, src, "fa_test_good", "sm_90", NULL, 0, &out, &err);
    CHECK_MSG(st == FA_OK && out.status == FA_OK, "planted test kernels: %s %s",
              st != FA_OK ? err.msg : fa_status_str(out.status), out.log ? out.log : "");
    CHECK_MSG(!strcmp(out.lowered_name, "fa_test_good"), "lowered name '%s'", out.lowered_name);
    fa_compile_output_release(&out);
    fa_compiler_free(c);
}

static void test_driver(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_cuda *cu = NULL;
    setenv("FA_TUNE_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
    fa_status st = fa_cuda_load(&cu, &err);
    CHECK_MSG(st == FA_NO_DEVICE && strstr(err.msg, "no CUDA driver") && !strchr(err.msg, '\n'),
              "missing driver: %s: '%s'", fa_status_str(st), err.msg);
    const char *stub = FA_CUDA_STUB;
    FILE *f = fopen(stub, "rb");
    if (f) {
        fclose(f);
        setenv("FA_TUNE_LIBCUDA", stub, 1);
        fa_err_clear(&err);
        st = fa_cuda_load(&cu, &err);
        CHECK_MSG(st == FA_NO_DEVICE && strstr(err.msg, "stub"), "stub driver: %s: '%s'",
                  fa_status_str(st), err.msg);
        printf("stub: %s\n", err.msg);
    }
    unsetenv("FA_TUNE_LIBCUDA");
    fa_cublas *bl = NULL;
    fa_err_clear(&err);
    st = fa_cublas_load(&bl, &err);
    CHECK_MSG(st == FA_OK, "cuBLAS does not load: %s", err.msg);
    fa_cublas_free(bl);
}

static void test_worker(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_compiler *c = NULL;
    if (fa_compiler_new(NULL, &c, &err) != FA_OK) {
        CHECK_MSG(0, "no compiler: %s", err.msg);
        return;
    }
    fa_worker_opts o;
    fa_worker_opts_default(&o);
    fa_compiler_service(c, &o.compiler);
    fa_worker *w = NULL;
    fa_status st = fa_worker_start(0, &o, &w, &err);
    if (st == FA_OK) {
        printf("worker on device 0: %s (%s), eager %s\n", fa_worker_device(w)->name,
               fa_worker_nvrtc_arch(w),
               fa_worker_eager_unavailable(w) ? fa_worker_eager_unavailable(w) : "available");
        CHECK_MSG(fa_worker_device(w)->name[0] && fa_worker_device(w)->cc >= 50, "device facts");
        fa_worker_stop(w);
        w = NULL;
        /* A device that does not exist is FA_NO_DEVICE with the range in the message. */
        st = fa_worker_start(4095, &o, &w, &err);
        CHECK_MSG(st == FA_NO_DEVICE && strstr(err.msg, "4095"), "device 4095: %s (%s)",
                  fa_status_str(st), err.msg);
        fa_worker_stop(w);
    } else {
        printf("no device: %s\n", err.msg);
        CHECK_MSG(st == FA_NO_DEVICE, "status %s: %s", fa_status_str(st), err.msg);
        CHECK_MSG(err.msg[0] && !strchr(err.msg, '\n'), "reason must be one line: '%s'", err.msg);
    }
    fa_compiler_free(c);
}

/* An executable shell script at dir/name with the given body. */
static int write_script(char *path, size_t n, const char *dir, const char *name, const char *body)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "#!/bin/sh\n%s", body);
    if (fclose(f) != 0)
        return -1;
    return chmod(path, 0755);
}

static void test_worker_exec(void)
{
    fa_err err;
    fa_err_clear(&err);
    fa_compiler *c = NULL;
    if (fa_compiler_new(NULL, &c, &err) != FA_OK) {
        CHECK_MSG(0, "no compiler: %s", err.msg);
        return;
    }
    fa_worker_opts o;
    fa_worker_opts_default(&o);
    fa_compiler_service(c, &o.compiler);
    o.start_timeout_s = 60;

    /* The parent runs NVRTC first: libnvrtc loads libcuda and calls cuInit here, which a
     * merely forked child inherited in a state its own cuInit refused
     * (CUDA_ERROR_NOT_INITIALIZED) -- the H100 regression this test guards. */
    char src[8192];
    fa_test_kernel_source(src, sizeof src, FA_DTYPE_FP16, 64, 0);
    fa_compile_output out;
    memset(&out, 0, sizeof out);
    fa_status st = fa_compile_source(c, src, "fa_test_good", "sm_90", NULL, 0, &out, &err);
    CHECK_MSG(st == FA_OK && out.status == FA_OK, "NVRTC in the parent: %s",
              st != FA_OK ? err.msg : fa_status_str(out.status));
    fa_compile_output_release(&out);

    /* On a GPU machine this is the regression itself; without one, the child's reason. */
    fa_worker *w = NULL;
    fa_err_clear(&err);
    st = fa_worker_start(0, &o, &w, &err);
    if (st == FA_OK) {
        printf("worker after NVRTC: %s (%s)\n", fa_worker_device(w)->name, fa_worker_nvrtc_arch(w));
        fa_worker_stop(w);
        w = NULL;
    } else {
        printf("worker after NVRTC: no device: %s\n", err.msg);
        CHECK_MSG(st == FA_NO_DEVICE, "status %s: %s", fa_status_str(st), err.msg);
        CHECK_MSG(!strstr(err.msg, "NOT_INITIALIZED"),
                  "the child inherited the parent's driver: %s", err.msg);
        CHECK_MSG(!strstr(err.msg, "start"), "the worker did not start: %s", err.msg);
        CHECK_MSG(err.msg[0] && !strchr(err.msg, '\n'), "reason must be one line: '%s'", err.msg);
    }

    /* The greeting comes through the exec'd program: a wrapper records how it was run and
     * execs this test binary, whose main() calls the hook. No driver is forced (the child's
     * environment is the parent's) so the answer is the child's own one-line reason. */
    char self[4096], dir[] = "/tmp/fa_worker_exec_XXXXXX", wrap[4200], mark[4200], mute[4200];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK_MSG(k > 0, "readlink /proc/self/exe: %s", strerror(errno));
    if (k <= 0 || !mkdtemp(dir)) {
        CHECK_MSG(0, "no temporary directory: %s", strerror(errno));
        fa_compiler_free(c);
        return;
    }
    self[k] = 0;
    snprintf(mark, sizeof mark, "%s/argv", dir);
    char body[9000];
    snprintf(body, sizeof body, "echo \"$@\" > '%s'\nexec '%s' \"$@\"\n", mark, self);
    CHECK_MSG(write_script(wrap, sizeof wrap, dir, "wrap.sh", body) == 0, "cannot write %s", wrap);
    CHECK_MSG(write_script(mute, sizeof mute, dir, "mute.sh", "exit 0\n") == 0, "cannot write %s",
              mute);

    setenv("FA_TUNE_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
    setenv("FA_TUNE_WORKER_EXE", wrap, 1);
    fa_err_clear(&err);
    w = NULL;
    st = fa_worker_start(0, &o, &w, &err);
    printf("through %s: %s: %s\n", wrap, fa_status_str(st), err.msg);
    CHECK_MSG(st == FA_NO_DEVICE && strstr(err.msg, "no CUDA driver") &&
                  strstr(err.msg, "/nonexistent/libcuda.so.1") && !strchr(err.msg, '\n'),
              "the exec'd child's no-driver reason: %s: '%s'", fa_status_str(st), err.msg);
    char args[512] = "";
    FILE *f = fopen(mark, "r");
    if (f) {
        if (!fgets(args, sizeof args, f))
            args[0] = 0;
        fclose(f);
    }
    printf("the worker ran as: %s", args[0] ? args : "(nothing recorded)\n");
    CHECK_MSG(!strncmp(args, "--fa-tune-worker ", 17),
              "the wrapper was not exec'd as the worker: '%s'", args);
    fa_worker_stop(w); /* NULL unless a device appeared, which the check above reported */

    /* Without the override, the default (this binary) gives the same answer. */
    unsetenv("FA_TUNE_WORKER_EXE");
    fa_err_clear(&err);
    w = NULL;
    st = fa_worker_start(0, &o, &w, &err);
    CHECK_MSG(st == FA_NO_DEVICE && strstr(err.msg, "no CUDA driver"),
              "default executable, no driver: %s: '%s'", fa_status_str(st), err.msg);
    fa_worker_stop(w);
    unsetenv("FA_TUNE_LIBCUDA");

    /* A program that cannot be exec'd, and one that runs but is not a worker. */
    setenv("FA_TUNE_WORKER_EXE", "/nonexistent", 1);
    fa_err_clear(&err);
    w = NULL;
    st = fa_worker_start(0, &o, &w, &err);
    printf("FA_TUNE_WORKER_EXE=/nonexistent: %s: %s\n", fa_status_str(st), err.msg);
    char want[256];
    snprintf(want, sizeof want, "cannot start the GPU worker '/nonexistent': %s", strerror(ENOENT));
    CHECK_MSG(st == FA_ERROR && !strcmp(err.msg, want), "%s: '%s', want '%s'", fa_status_str(st),
              err.msg, want);
    fa_worker_stop(w);

    setenv("FA_TUNE_WORKER_EXE", mute, 1);
    fa_err_clear(&err);
    w = NULL;
    st = fa_worker_start(0, &o, &w, &err);
    printf("FA_TUNE_WORKER_EXE=%s: %s: %s\n", mute, fa_status_str(st), err.msg);
    CHECK_MSG(st == FA_ERROR && strstr(err.msg, "fa_worker_main_hook") && strstr(err.msg, mute) &&
                  !strchr(err.msg, '\n'),
              "a program without the hook: %s: '%s'", fa_status_str(st), err.msg);
    fa_worker_stop(w);
    unsetenv("FA_TUNE_WORKER_EXE");

    /* The hook: -1 for anything else; 2 for a malformed worker invocation or a non-socket fd
     * (never a worker run here: that would end this process); a socket from another build is
     * answered with START_FAILED before the hook returns 2. */
    char a0[] = "test", a1[] = "worker", flag[] = "--fa-tune-worker", bad[] = "x", one[] = "1",
         zero[] = "0", pid[24], fdarg[24];
    char *plain[] = {a0, a1, NULL}, *none[] = {a0, NULL}, *short_[] = {a0, flag, bad, NULL};
    CHECK_MSG(fa_worker_main_hook(2, plain) == -1, "'test worker' is not a worker invocation");
    CHECK_MSG(fa_worker_main_hook(1, none) == -1, "no arguments is not a worker invocation");
    CHECK_MSG(fa_worker_main_hook(3, short_) == 2,
              "a malformed worker invocation is exit status 2");
    snprintf(pid, sizeof pid, "%ld", (long)getppid());
    int pfd[2];
    if (pipe(pfd) == 0) {
        snprintf(fdarg, sizeof fdarg, "%d", pfd[1]);
        char *notsock[] = {a0, flag, fdarg, zero, zero, pid, one, NULL};
        CHECK_MSG(fa_worker_main_hook(7, notsock) == 2, "a pipe is not a worker's socket");
        close(pfd[0]);
        close(pfd[1]);
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
        char *other[] = {a0, flag, fdarg, zero, zero, pid, zero, NULL}; /* abi 0: no build's */
        CHECK_MSG(fa_worker_main_hook(7, other) == 2, "another build's worker is exit status 2");
        unsigned char hdr[16];
        ssize_t got = read(sv[0], hdr, sizeof hdr);
        CHECK_MSG(got == (ssize_t)sizeof hdr, "another build's worker says so before exiting (%zd)",
                  got);
        close(sv[0]); /* the hook closed sv[1] */
    }

    unlink(wrap);
    unlink(mute);
    unlink(mark);
    rmdir(dir);
    fa_compiler_free(c);
}

/* A value in [-1, 1) from a counter (no RNG state to share). */
static float val(uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ull;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    return (float)((double)(x >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static void test_decode(void)
{
    fa_err err = {0};
    /* Causal, GQA 2, three new tokens, a 40-row cache in pages of 16 (the last page cut). */
    const fa_problem p = {.op = FA_OP_DECODE,
                          .dtype = FA_DTYPE_BF16,
                          .head_dim = 32,
                          .causal = 1,
                          .batch = 4,
                          .heads_q = 4,
                          .heads_kv = 2,
                          .seqlen_q = 3,
                          .seqlen_k = 40,
                          .page_size = 16,
                          .seed = 7};
    const int B = 4, Hq = 4, Hk = 2, D = 32, SQ = 3, SK = 40, PS = 16;
    fa_tensors t, t2, tc;
    CHECK_MSG(fa_tensors_init(&t, &p, &err) == FA_OK, "%s", err.msg);
    CHECK_MSG(fa_tensors_init(&t2, &p, &err) == FA_OK, "%s", err.msg);
    fa_problem pc = p;
    pc.page_size = 0;
    CHECK_MSG(fa_tensors_init(&tc, &pc, &err) == FA_OK, "%s", err.msg);
    if (fa_check_failures)
        return;

    /* Layout: pages of (16, Hk, D) with the page stride as batch stride; every sequence owns
     * ceil(40 / 16) = 3 pages; the block table is a seeded shuffle of all 12. */
    CHECK_MSG(t.page_size == PS && t.max_pages == 3 && t.num_pages == 12, "pages %d %d %lld",
              t.page_size, t.max_pages, (long long)t.num_pages);
    CHECK_MSG(t.k_batch == (int64_t)PS * Hk * D && t.k_row == Hk * D && t.k_head == D,
              "paged strides %lld %lld %lld", (long long)t.k_batch, (long long)t.k_row,
              (long long)t.k_head);
    CHECK_MSG(t.k_elems == 12LL * PS * Hk * D, "paged k_elems %lld", (long long)t.k_elems);
    CHECK_MSG(t.kc_batch == (int64_t)SK * Hk * D && tc.k_batch == t.kc_batch,
              "contiguous batch stride %lld", (long long)t.kc_batch);
    CHECK_MSG(t.q_elems == (int64_t)B * SQ * Hq * D && t.lse_elems == B * Hq * SQ &&
                  t.lse_batch == Hq * SQ && t.lse_head == SQ,
              "decode Q/LSE layout");
    CHECK_MSG(tc.block_table == NULL && tc.page_size == 0, "a contiguous cache has no pages");
    int seen[12] = {0}, identity = 1;
    for (int i = 0; i < 12; i++) {
        if (t.block_table[i] >= 0 && t.block_table[i] < 12)
            seen[t.block_table[i]]++;
        identity &= t.block_table[i] == i;
        CHECK_MSG(t.block_table[i] == t2.block_table[i], "the block table is not reproducible");
    }
    for (int i = 0; i < 12; i++)
        CHECK_MSG(seen[i] == 1, "page %d appears %d times in the block table", i, seen[i]);
    CHECK_MSG(!identity, "the pages are not shuffled");
    for (int b = 0; b < B; b++)
        CHECK_MSG(t.cache_lens[b] == SK, "fixed cache length %d", t.cache_lens[b]);

    /* The params' decode fields; none for a forward problem. */
    fa_fwd_params a;
    fa_tensors_params(&t, &p, 1, 2, 3, 4, 5, 0, 0, &a);
    fa_tensors_decode_params(&t, 6, 7, &a);
    CHECK_MSG(a.seqused_k == 6 && a.block_table == 7 && a.block_table_stride == 3 &&
                  a.page_size == PS && a.k_batch_stride == t.k_batch && a.seqlen_k == SK,
              "paged decode params");
    fa_tensors_params(&tc, &pc, 1, 2, 3, 4, 5, 0, 0, &a);
    fa_tensors_decode_params(&tc, 6, 7, &a);
    CHECK_MSG(a.seqused_k == 6 && a.block_table == 0 && a.page_size == 0, "contiguous params");
    fa_problem fw = pc;
    fw.op = FA_OP_FWD;
    fw.page_size = 0;
    fw.seqlen_q = 40;
    fa_tensors tf;
    CHECK_MSG(fa_tensors_init(&tf, &fw, &err) == FA_OK, "%s", err.msg);
    fa_tensors_params(&tf, &fw, 1, 2, 3, 4, 5, 0, 0, &a);
    fa_tensors_decode_params(&tf, 6, 7, &a);
    CHECK_MSG(a.seqused_k == 0 && a.block_table == 0 && a.page_size == 0 && !tf.cache_lens,
              "a forward problem has no decode fields");
    fa_tensors_release(&tf);

    /* Per-sequence lengths 0, 1, 17 (page 16 does not divide it) and 40. */
    const int lens[4] = {0, 1, 17, 40};
    for (int b = 0; b < B; b++)
        t.cache_lens[b] = tc.cache_lens[b] = lens[b];
    near("decode work (K/V bytes)", fa_tensors_flops(&t, &p), (0 + 1 + 17 + 40) * 2.0 * Hk * D * 2,
         0);

    /* The same logical cache contiguous and scattered into the shuffled pages. */
    const size_t nq = (size_t)t.q_elems, nkc = (size_t)tc.k_elems, nkp = (size_t)t.k_elems;
    float *q = malloc(nq * 4), *kc = malloc(nkc * 4), *vc = malloc(nkc * 4);
    float *kp = calloc(nkp, 4), *vp = calloc(nkp, 4);
    float *oc = malloc(nq * 4), *op = malloc(nq * 4), *lc = malloc((size_t)t.lse_elems * 4),
          *lp = malloc((size_t)t.lse_elems * 4);
    CHECK(q && kc && vc && kp && vp && oc && op && lc && lp);
    if (fa_check_failures)
        return;
    for (size_t i = 0; i < nq; i++)
        q[i] = val(i);
    for (size_t i = 0; i < nkc; i++) {
        kc[i] = val(1000003 + i);
        vc[i] = val(2000003 + i);
    }
    for (int b = 0; b < B; b++)
        for (int j = 0; j < SK; j++) {
            const int64_t page = t.block_table[b * t.max_pages + j / PS];
            const int64_t dst = page * t.k_batch + (int64_t)(j % PS) * t.k_row;
            const int64_t src = b * tc.k_batch + (int64_t)j * tc.k_row;
            memcpy(kp + dst, kc + src, (size_t)Hk * D * 4);
            memcpy(vp + dst, vc + src, (size_t)Hk * D * 4);
        }
    int32_t used[4], bt[12];
    for (int b = 0; b < B; b++)
        used[b] = lens[b];
    memcpy(bt, t.block_table, sizeof bt);
    fa_fwd_params pa, ca;
    fa_tensors_params(&t, &p, (uintptr_t)q, (uintptr_t)kp, (uintptr_t)vp, (uintptr_t)op,
                      (uintptr_t)lp, 0, 0, &pa);
    fa_tensors_decode_params(&t, (uintptr_t)used, (uintptr_t)bt, &pa);
    fa_tensors_params(&tc, &pc, (uintptr_t)q, (uintptr_t)kc, (uintptr_t)vc, (uintptr_t)oc,
                      (uintptr_t)lc, 0, 0, &ca);
    fa_tensors_decode_params(&tc, (uintptr_t)used, 0, &ca);
    CHECK_MSG(fa_cpu_reference(&pa, 1, &err) == FA_OK, "paged: %s", err.msg);
    CHECK_MSG(fa_cpu_reference(&ca, 1, &err) == FA_OK, "contiguous: %s", err.msg);
    CHECK_MSG(!memcmp(op, oc, nq * 4), "paged and contiguous O differ");
    CHECK_MSG(!memcmp(lp, lc, (size_t)t.lse_elems * 4), "paged and contiguous LSE differ");

    /* Length 0: zeros and -inf. Length 1 with 3 new tokens (bottom-right): rows 0 and 1 see no
     * key, row 2 sees key 0 alone, so O = V[0] and LSE = its score. */
    for (int h = 0; h < Hq; h++)
        for (int i = 0; i < SQ; i++) {
            CHECK_MSG(isinf(lp[0 * t.lse_batch + h * SQ + i]) &&
                          lp[0 * t.lse_batch + h * SQ + i] < 0,
                      "an empty cache's LSE is not -inf");
            for (int d = 0; d < D; d++)
                CHECK_MSG(op[0 * t.q_batch + i * t.q_row + h * D + d] == 0.0f,
                          "an empty cache's O is not 0");
            const float l1 = lp[1 * t.lse_batch + h * SQ + i];
            const float *o1 = op + 1 * t.q_batch + i * t.q_row + h * D;
            if (i < 2) {
                CHECK_MSG(isinf(l1) && l1 < 0, "row %d of the 1-key cache sees a key", i);
                continue;
            }
            const float *k0 = kc + 1 * tc.k_batch + (h / 2) * D,
                        *v0 = vc + 1 * tc.k_batch + (h / 2) * D;
            const float *qi = q + 1 * t.q_batch + i * t.q_row + h * D;
            double dot = 0;
            for (int d = 0; d < D; d++)
                dot += (double)qi[d] * k0[d];
            near("LSE of the 1-key row", l1, dot * pa.softmax_scale, 1e-5);
            for (int d = 0; d < D; d++)
                CHECK_MSG(o1[d] == v0[d], "the 1-key row's O is not V[0] at %d", d);
        }

    /* Length 17: the same as a forward problem over the first 17 keys of that sequence. */
    float of[3 * 4 * 32], lf[4 * 3];
    fa_fwd_params fa = ca;
    fa.q = (uintptr_t)(q + 2 * t.q_batch);
    fa.k = (uintptr_t)(kc + 2 * tc.k_batch);
    fa.v = (uintptr_t)(vc + 2 * tc.k_batch);
    fa.o = (uintptr_t)of;
    fa.lse = (uintptr_t)lf;
    fa.batch = 1;
    fa.seqlen_k = 17;
    fa.seqused_k = 0;
    CHECK_MSG(fa_cpu_reference(&fa, 1, &err) == FA_OK, "forward: %s", err.msg);
    CHECK_MSG(!memcmp(of, op + 2 * t.q_batch, sizeof of) &&
                  !memcmp(lf, lp + 2 * t.lse_batch, sizeof lf),
              "the 17-key sequence differs from a forward problem with seqlen_k 17");

    /* A cache length past seqlen_k and a paged cache without its table are refused. */
    used[3] = 41;
    CHECK_MSG(fa_cpu_reference(&pa, 1, &err) == FA_INVALID && strstr(err.msg, "cache length 41"),
              "a length past seqlen_k: %s", err.msg);
    used[3] = 40;
    pa.block_table = 0;
    CHECK_MSG(fa_cpu_reference(&pa, 1, &err) == FA_INVALID && strstr(err.msg, "block table"),
              "a paged cache without a table: %s", err.msg);

    /* The worker's wire carries the decode fields. */
    fa_job job = {.problem = p, .what = FA_JOB_CHECK};
    job.problem.cache_lens = FA_CACHE_UNIFORM;
    void *buf = malloc(fa_worker_wire_job_bytes());
    fa_job back;
    CHECK(buf);
    if (buf) {
        fa_worker_wire_job_roundtrip(&job, 99, buf, &back);
        CHECK_MSG(back.problem.op == FA_OP_DECODE && back.problem.page_size == PS &&
                      back.problem.cache_lens == FA_CACHE_UNIFORM &&
                      !memcmp(&back.problem, &job.problem, sizeof job.problem) &&
                      back.check_seed == 99,
                  "the wire lost a decode field");
    }
    free(buf);
    free(q);
    free(kc);
    free(vc);
    free(kp);
    free(vp);
    free(oc);
    free(op);
    free(lc);
    free(lp);
    fa_tensors_release(&t);
    fa_tensors_release(&t2);
    fa_tensors_release(&tc);
}

/* FA_TUNE_RETIME_TRACE: one block per group, appended whole, the jobs that were timed with
 * their raced flag and every round's time in order; one line per separate timing; nothing
 * written while the variable is unset. */
/* The eager's memory plan: the same problem gets the same plan whatever the runner kept from
 * the job before (its padded copies, S and P count as free: a job reuses or frees them). */
static void test_eager_mem(void)
{
    const size_t G = (size_t)1 << 30;
    /* Nothing kept: pad when the copies take at most half the free memory; S and P get half
     * of what is left. */
    eager_mem m = rn_eager_mem_plan(60 * G, 0, 1, 16 * G, 0);
    CHECK_MSG(m.padded && m.sp_budget == 22 * G, "padded %d, S+P budget %zu", m.padded,
              m.sp_budget);
    m = rn_eager_mem_plan(60 * G, 0, 1, 31 * G, 0);
    CHECK_MSG(!m.padded && m.sp_budget == 30 * G, "copies over half: padded %d, budget %zu",
              m.padded, m.sp_budget);
    m = rn_eager_mem_plan(60 * G, 0, 0, 16 * G, 0);
    CHECK_MSG(!m.padded && m.sp_budget == 30 * G, "FA_EAGER_PAD off: padded %d, budget %zu",
              m.padded, m.sp_budget);
    m = rn_eager_mem_plan(60 * G, 0, 1, 16 * G, 5 * G);
    CHECK_MSG(m.padded && m.sp_budget == 5 * G, "a given budget: padded %d, budget %zu", m.padded,
              m.sp_budget);
    /* The kept memory counts as free: after the job above kept 16 GiB of copies and 2 x 11 GiB
     * of S and P, 22 GiB are free, and the same problem still pads with the same budget. */
    m = rn_eager_mem_plan(22 * G, 38 * G, 1, 16 * G, 0);
    CHECK_MSG(m.padded && m.sp_budget == 22 * G, "second job: padded %d, budget %zu", m.padded,
              m.sp_budget);
    /* Jobs in a row on a 60 GiB device, the runner keeping what each job allocates as
     * rn_eager_plan_alloc does: every job's plan is the first one's, for copies of every size
     * (before, from 1/5 of the free memory up, identical jobs alternated padded / loop). */
    for (size_t dense = 1 * G; dense <= 40 * G; dense += G) {
        size_t kept_dense = 0, kept_sp = 0;
        const size_t per_head = G / 4, units = 1000;
        eager_mem first = {0, 0};
        for (int job = 0; job < 5; job++) {
            const size_t free_b = 60 * G - kept_dense - kept_sp;
            m = rn_eager_mem_plan(free_b, kept_dense + kept_sp, 1, dense, 0);
            if (job == 0)
                first = m;
            CHECK_MSG(m.padded == first.padded && m.sp_budget == first.sp_budget,
                      "copies of %zu GiB, job %d: padded %d budget %zu, job 0: %d %zu", dense / G,
                      job, m.padded, m.sp_budget, first.padded, first.sp_budget);
            kept_dense = m.padded ? (kept_dense < dense ? dense : kept_dense) : 0;
            size_t hc = m.sp_budget / (2 * per_head);
            hc = hc < 1 ? 1 : hc > units ? units : hc;
            if (kept_sp < 2 * per_head * hc)
                kept_sp = 2 * per_head * hc;
        }
    }
}

static void test_trace(void)
{
    char path[] = "/tmp/fa_trace_XXXXXX";
    const int fd = mkstemp(path);
    CHECK_MSG(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    fa_job jobs[3];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < 3; i++) {
        fa_problem *p = &jobs[i].problem;
        p->dtype = FA_DTYPE_BF16;
        p->head_dim = 64;
        p->batch = 2;
        p->heads_q = p->heads_kv = 4;
        p->seqlen_q = p->seqlen_k = 512;
        p->layout = FA_LAYOUT_BSHD;
        jobs[i].variant = fa_test_sm80(FA_DTYPE_BF16, 64, 64 * (i + 1), 64, 4, 2, 0, 0, 0);
    }
    double r0[3] = {1.5, 1.25, 1.125}, r1[1] = {2.0}, r2[3] = {1.0, 1.0625, 0.9375};
    double *x[3] = {r0, r1, r2};
    const int active[3] = {1, 1, 0}, raced[3] = {0, 1, 0}, nx[3] = {3, 1, 3};
    unsetenv("FA_TUNE_RETIME_TRACE");
    fa_retime_trace(jobs, 3, active, raced, x, nx);
    setenv("FA_TUNE_RETIME_TRACE", path, 1);
    fa_retime_trace(jobs, 3, active, raced, x, nx);
    fa_retime_trace(jobs, 1, active, raced, x, nx);
    const fa_time_stats ts = {.median_ms = 0.123456789, .reps = 3};
    fa_retime_trace_timing(&jobs[1], &ts, 1);
    unsetenv("FA_TUNE_RETIME_TRACE");
    fa_retime_trace_timing(&jobs[1], &ts, 1);

    char pname[256], v0[256], v1[256], want[2048];
    fa_problem_name(&jobs[0].problem, pname, sizeof pname);
    fa_variant_name(&jobs[0].variant, v0, sizeof v0);
    fa_variant_name(&jobs[1].variant, v1, sizeof v1);
    snprintf(want, sizeof want,
             "group %s 3\n%s 0 3 1.5 1.25 1.125\n%s 1 1 2\n"
             "group %s 1\n%s 0 3 1.5 1.25 1.125\n"
             "time %s %s 1 3 0.123456789\n",
             pname, v0, v1, pname, v0, pname, v1);
    char got[2048] = {0};
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "trace file %s", path);
    const size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    unlink(path);
    CHECK_MSG(n == strlen(want) && !strcmp(got, want), "trace:\n%s\nwanted:\n%s", got, want);
}

int main(int argc, char **argv)
{
    /* The workers are this program, exec'd (fa_worker.h). */
    const int worker_rc = fa_worker_main_hook(argc, argv);
    if (worker_rc >= 0)
        return worker_rc;
    const char *t = argc > 1 ? argv[1] : "";
    if (!strcmp(t, "reference"))
        test_reference();
    else if (!strcmp(t, "layout"))
        test_layout();
    else if (!strcmp(t, "stats"))
        test_stats();
    else if (!strcmp(t, "compile"))
        test_compile();
    else if (!strcmp(t, "driver"))
        test_driver();
    else if (!strcmp(t, "worker"))
        test_worker();
    else if (!strcmp(t, "worker_exec"))
        test_worker_exec();
    else if (!strcmp(t, "decode"))
        test_decode();
    else if (!strcmp(t, "trace"))
        test_trace();
    else if (!strcmp(t, "eager_mem"))
        test_eager_mem();
    else {
        fprintf(
            stderr,
            "usage: test_harness_cpu "
            "reference|layout|stats|compile|driver|worker|worker_exec|decode|trace|eager_mem\n");
        return 2;
    }
    printf("%s: %d failure(s)\n", t, fa_check_failures);
    return fa_check_failures ? 1 : 0;
}
