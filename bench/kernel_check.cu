/*
 * kernel_check.cu -- standalone correctness and speed check of the sm80 kernel family.
 *
 * This file implements a developer tool, independent of the tuner, harness and DB: it
 * instantiates a short list of fa_fwd_sm80 variants with nvcc, checks each one against a
 * plain fp32 GPU reference on random inputs over awkward shapes, then times the bf16 ones
 * on FlashAttention's benchmark grid. Build and run with bench/kernel_check.sh.
 *
 * Correctness, per variant and shape:
 *   inputs  fresh random normal values (never zeros); O and LSE poisoned with NaN and
 *           surrounded by guard zones that must stay untouched
 *   ref     one thread block per query row, fp32 math, same mask / varlen / GQA rules:
 *           causal is bottom-right aligned (query i sees key j iff j <= i + sk - sq),
 *           rows that see nothing give O = 0, LSE = -inf
 *   lowp    the same reference with S, P and O rounded to the input dtype (what eager
 *           attention in that dtype computes)
 *   pass    max|O - ref| <= 2 * max|O_lowp - ref| + 1e-5      (FlashAttention's rule)
 *           max|LSE - ref| <= 2 * max|LSE_lowp - ref| + 1e-3  (same -inf pattern)
 *           no NaN/Inf anywhere in O, guards intact
 * Speed: bf16, batch*seqlen = 16384 tokens, hidden 2048 (heads = 2048 / hdim), N = 512 ..
 *   16384, L2 flushed (256 MB memset) before every rep, median of 30 reps after 3
 *   warm-ups, TFLOP/s = 4*B*H*N*N*D / t, halved for causal.
 *
 * Usage: kernel_check [--no-time] [--only SUBSTR]
 * Exit: 0 all pass, 3 any numerical mismatch, 1 CUDA error.
 * Choose the variants with -DFA_CHECK_LIST=N (lists below) or edit FA_CHECK_VARIANTS.
 */
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fa_fwd_sm80.cuh"
#include "fa_check_ref.cuh"
#include "fa_plan_sm80.h"

/* X(Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, Q_IN_REGS, IS_CAUSAL, IS_VARLEN) */
#ifndef FA_CHECK_LIST
#define FA_CHECK_LIST 0
#endif
#ifndef FA_CHECK_VARIANTS
#if FA_CHECK_LIST == 0 /* coverage: seeds, every head dim, odd BLOCK_N, stages, modes, both        \
                          QK^T loop shapes (rolled: hd128/192/256 here; unrolled: hd96 w8) */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 128, 128, 64, 4, 1, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 64, 4, 2, false, true, false)                                       \
    X(__nv_bfloat16, 64, 128, 128, 4, 1, false, false, false)                                      \
    X(__nv_bfloat16, 256, 64, 64, 4, 2, false, true, false)                                        \
    X(__nv_bfloat16, 256, 128, 64, 8, 1, false, false, false)                                      \
    X(__half, 96, 128, 80, 8, 3, true, true, true)                                                 \
    X(__half, 32, 64, 112, 4, 2, true, false, true)                                                \
    X(__half, 192, 128, 48, 8, 2, false, true, false)                                              \
    X(__nv_bfloat16, 64, 64, 96, 4, 3, true, true, true)                                           \
    X(__half, 96, 128, 48, 8, 1, false, false, false)
#elif FA_CHECK_LIST == 1 /* FA2's hand-picked H100 tiles, both causal modes, for timing */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 64, 128, 128, 4, 1, false, false, false)                                      \
    X(__nv_bfloat16, 64, 128, 128, 4, 1, false, true, false)                                       \
    X(__nv_bfloat16, 128, 128, 64, 4, 1, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 64, 4, 1, false, true, false)                                       \
    X(__nv_bfloat16, 256, 64, 64, 4, 1, false, false, false)                                       \
    X(__nv_bfloat16, 256, 64, 64, 4, 1, false, true, false)                                        \
    X(__nv_bfloat16, 256, 128, 64, 8, 1, false, false, false)                                      \
    X(__nv_bfloat16, 256, 128, 64, 8, 1, false, true, false)
#elif FA_CHECK_LIST == 2 /* hd128 tile sweep, non-causal and causal */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 128, 128, 64, 4, 2, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 32, 4, 2, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 80, 8, 2, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 128, 8, 2, false, false, false)                                     \
    X(__nv_bfloat16, 128, 64, 64, 4, 3, true, false, false)                                        \
    X(__nv_bfloat16, 128, 64, 112, 4, 2, false, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 64, 4, 2, false, true, false)                                       \
    X(__nv_bfloat16, 128, 64, 64, 4, 2, false, true, false)
#else
#error "unknown FA_CHECK_LIST"
#endif
#endif

#define CK(call)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (call);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "cuda error '%s' at %s:%d: %s\n", cudaGetErrorString(e_), __FILE__,    \
                    __LINE__, #call);                                                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef void (*fa_kernel_fn)(fa_fwd_params);

struct Variant {
    const char *name;
    bool bf16;
    int hd, bm, bn, warps, stages;
    bool qregs, causal, varlen;
    fa_kernel_fn fn;
};

template <typename T> constexpr bool is_bf16_v()
{
    return fa::elem_traits<T>::is_bf16;
}

#define FA_CHECK_ENTRY(T, D, M, N, W, S, QR, C, VL)                                                \
    {#T "," #D "," #M "," #N "," #W "," #S "," #QR "," #C "," #VL,                                 \
     is_bf16_v<T>(),                                                                               \
     D,                                                                                            \
     M,                                                                                            \
     N,                                                                                            \
     W,                                                                                            \
     S,                                                                                            \
     QR,                                                                                           \
     C,                                                                                            \
     VL,                                                                                           \
     fa_fwd_sm80<T, D, M, N, W, S, QR, C, VL>},

static const Variant g_variants[] = {FA_CHECK_VARIANTS(FA_CHECK_ENTRY)};

/* ---- host side --------------------------------------------------------------------- */

struct Shape {
    const char *name;
    int batch, hq, hkv, sq, sk; /* fixed-length sizes; varlen: sk/sq are maxima */
    bool bhsd;
    std::vector<int> lq, lk; /* varlen sequence lengths */
};

static std::vector<Shape> shapes_for(const Variant &v)
{
    std::vector<Shape> s;
    if (!v.varlen) {
        s.push_back({"q1_k4097", 2, 4, 4, 1, 4097, false, {}, {}});
        s.push_back({"q17_k4097", 1, 4, 4, 17, 4097, false, {}, {}});
        s.push_back({"q1000_k4097", 1, 2, 2, 1000, 4097, false, {}, {}});
        s.push_back({"q1000_k300", 1, 2, 2, 1000, 300, false, {}, {}}); /* causal: empty rows */
        s.push_back({"q17_k17", 3, 2, 2, 17, 17, false, {}, {}});
        s.push_back({"q257_k255_mqa", 2, 4, 1, 257, 255, false, {}, {}});
        s.push_back({"q333_k333_gqa4", 2, 8, 2, 333, 333, false, {}, {}});
        s.push_back({"q200_k513_bhsd", 2, 4, 4, 200, 513, true, {}, {}});
        s.push_back({"q1024_k1024", 1, 2, 2, 1024, 1024, false, {}, {}});
    } else {
        s.push_back({"varlen3", 3, 4, 4, 0, 0, false, {17, 1000, 300}, {1, 777, 1000}});
        s.push_back({"varlen3_gqa4", 3, 8, 2, 0, 0, false, {128, 1, 555}, {128, 2048, 555}});
        s.push_back({"varlen4_emptyk", 4, 2, 2, 0, 0, false, {64, 65, 3, 190}, {64, 0, 129, 191}});
    }
    return s;
}

static void launch_ref(const Variant &v, const fa_fwd_params &p, int grid_x, bool lowp, float *o,
                       float *lse, int max_sk)
{
    dim3 grid(grid_x, p.heads_q, p.batch);
    size_t smem = (size_t)(p.head_dim + max_sk + 32) * sizeof(float);
    if (v.bf16) {
        CK(cudaFuncSetAttribute(ref_attention<__nv_bfloat16>,
                                cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        ref_attention<__nv_bfloat16><<<grid, 256, smem>>>(p, v.causal, v.varlen, lowp, o, lse);
    } else {
        CK(cudaFuncSetAttribute(ref_attention<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                (int)smem));
        ref_attention<__half><<<grid, 256, smem>>>(p, v.causal, v.varlen, lowp, o, lse);
    }
    CK(cudaGetLastError());
}

static int smem_bytes(const Variant &v)
{
    return (int)fa_plan_sm80_smem(v.hd, v.bm, v.bn, v.stages);
}

static void launch_variant(const Variant &v, const fa_fwd_params &p, cudaStream_t st)
{
    unsigned g[3];
    fa_plan_sm80_grid(p.seqlen_q, p.heads_q, p.batch, v.bm, g);
    void *args[] = {(void *)&p};
    CK(cudaLaunchKernel((const void *)v.fn, dim3(g[0], g[1], g[2]),
                        dim3(fa_plan_sm80_threads(v.warps)), args, smem_bytes(v), st));
}

struct Row {
    std::string variant, shape;
    bool pass;
    double err, tol, lse_err, lse_tol, tflops;
};

static const size_t GUARD = 4096; /* elements of guard zone on each side of O and LSE */

/* One correctness case. Returns true on pass. */
static bool check_case(const Variant &v, const Shape &s, Row &row)
{
    const int D = v.hd, es = 2;
    const bool bf = v.bf16;
    int batch = s.batch, max_sq = s.sq, max_sk = s.sk;
    std::vector<int> cuq(1, 0), cuk(1, 0);
    if (v.varlen) {
        max_sq = max_sk = 0;
        for (size_t i = 0; i < s.lq.size(); ++i) {
            cuq.push_back(cuq.back() + s.lq[i]);
            cuk.push_back(cuk.back() + s.lk[i]);
            max_sq = std::max(max_sq, s.lq[i]);
            max_sk = std::max(max_sk, s.lk[i]);
        }
        batch = (int)s.lq.size();
    }
    const size_t rows_q = v.varlen ? (size_t)cuq.back() : (size_t)batch * max_sq;
    const size_t rows_k = v.varlen ? (size_t)std::max(cuk.back(), 1) : (size_t)batch * max_sk;
    const size_t nq = rows_q * s.hq * D, nk = rows_k * s.hkv * D;

    void *q, *k, *vv, *o_alloc, *cu_q = nullptr, *cu_k = nullptr;
    float *lse_alloc, *oref, *olow, *lref, *llow;
    CK(cudaMalloc(&q, nq * es));
    CK(cudaMalloc(&k, nk * es));
    CK(cudaMalloc(&vv, nk * es));
    CK(cudaMalloc(&o_alloc, (nq + 2 * GUARD) * es));
    CK(cudaMalloc(&lse_alloc, (rows_q * s.hq + 2 * GUARD) * sizeof(float)));
    CK(cudaMalloc(&oref, nq * sizeof(float)));
    CK(cudaMalloc(&olow, nq * sizeof(float)));
    CK(cudaMalloc(&lref, rows_q * s.hq * sizeof(float)));
    CK(cudaMalloc(&llow, rows_q * s.hq * sizeof(float)));
    static uint32_t seed = 1;
    if (bf) {
        CK(fill<__nv_bfloat16>(q, nq, seed++));
        CK(fill<__nv_bfloat16>(k, nk, seed++));
        CK(fill<__nv_bfloat16>(vv, nk, seed++));
    } else {
        CK(fill<__half>(q, nq, seed++));
        CK(fill<__half>(k, nk, seed++));
        CK(fill<__half>(vv, nk, seed++));
    }
    /* 0xFF bytes: NaN in fp16, bf16 and fp32 */
    CK(cudaMemset(o_alloc, 0xFF, (nq + 2 * GUARD) * es));
    CK(cudaMemset(lse_alloc, 0xFF, (rows_q * s.hq + 2 * GUARD) * sizeof(float)));
    char *o = (char *)o_alloc + GUARD * es;
    float *lse = lse_alloc + GUARD;

    fa_fwd_params p;
    memset(&p, 0, sizeof(p));
    p.q = (uint64_t)q;
    p.k = (uint64_t)k;
    p.v = (uint64_t)vv;
    p.o = (uint64_t)o;
    p.lse = (uint64_t)lse;
    if (v.varlen) {
        CK(cudaMalloc(&cu_q, cuq.size() * 4));
        CK(cudaMalloc(&cu_k, cuk.size() * 4));
        CK(cudaMemcpy(cu_q, cuq.data(), cuq.size() * 4, cudaMemcpyHostToDevice));
        CK(cudaMemcpy(cu_k, cuk.data(), cuk.size() * 4, cudaMemcpyHostToDevice));
        p.cu_seqlens_q = (uint64_t)cu_q;
        p.cu_seqlens_k = (uint64_t)cu_k;
    }
    if (s.bhsd) { /* (B, H, S, D) */
        p.q_batch_stride = (int64_t)s.hq * max_sq * D, p.q_head_stride = (int64_t)max_sq * D,
        p.q_row_stride = D;
        p.o_batch_stride = p.q_batch_stride, p.o_head_stride = p.q_head_stride, p.o_row_stride = D;
        p.k_batch_stride = (int64_t)s.hkv * max_sk * D, p.k_head_stride = (int64_t)max_sk * D,
        p.k_row_stride = D;
    } else { /* (B, S, H, D), or packed (total, H, D) for varlen */
        p.q_row_stride = (int64_t)s.hq * D, p.q_head_stride = D,
        p.q_batch_stride = (int64_t)max_sq * s.hq * D;
        p.o_row_stride = p.q_row_stride, p.o_head_stride = D, p.o_batch_stride = p.q_batch_stride;
        p.k_row_stride = (int64_t)s.hkv * D, p.k_head_stride = D,
        p.k_batch_stride = (int64_t)max_sk * s.hkv * D;
    }
    p.v_batch_stride = p.k_batch_stride, p.v_row_stride = p.k_row_stride,
    p.v_head_stride = p.k_head_stride;
    if (v.varlen) {
        p.lse_batch_stride = 0;
        p.lse_head_stride = (int64_t)rows_q;
    } else {
        p.lse_head_stride = max_sq;
        p.lse_batch_stride = (int64_t)s.hq * max_sq;
    }
    p.batch = batch, p.heads_q = s.hq, p.heads_kv = s.hkv;
    p.seqlen_q = max_sq, p.seqlen_k = max_sk, p.head_dim = D;
    p.softmax_scale = 1.f / sqrtf((float)D);
    p.softmax_scale_log2 = p.softmax_scale * 1.4426950408889634f;

    CK(cudaFuncSetAttribute((const void *)v.fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            smem_bytes(v)));
    launch_variant(v, p, 0);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    launch_ref(v, p, max_sq, false, oref, lref, max_sk);
    launch_ref(v, p, max_sq, true, olow, llow, max_sk);
    CK(cudaDeviceSynchronize());

    std::vector<uint16_t> ho(nq + 2 * GUARD);
    std::vector<float> hl(rows_q * s.hq + 2 * GUARD), hor(nq), hol(nq), hlr(rows_q * s.hq),
        hll(rows_q * s.hq);
    CK(cudaMemcpy(ho.data(), o_alloc, ho.size() * 2, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hl.data(), lse_alloc, hl.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hor.data(), oref, nq * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hol.data(), olow, nq * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hlr.data(), lref, hlr.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hll.data(), llow, hll.size() * 4, cudaMemcpyDeviceToHost));

    bool ok = true;
    long bad_nan = 0, bad_guard = 0, bad_lse_inf = 0;
    for (size_t i = 0; i < GUARD; ++i) {
        if (ho[i] != 0xFFFF || ho[GUARD + nq + i] != 0xFFFF)
            ++bad_guard;
        uint32_t a, b;
        memcpy(&a, &hl[i], 4);
        memcpy(&b, &hl[GUARD + rows_q * s.hq + i], 4);
        if (a != 0xFFFFFFFFu || b != 0xFFFFFFFFu)
            ++bad_guard;
    }
    double err = 0, err_low = 0, lerr = 0, lerr_low = 0;
    for (size_t rg = 0; rg < rows_q; ++rg) {
        /* locate (b, i) of the dense reference row */
        int b = 0, i = 0;
        if (v.varlen) {
            while (cuq[b + 1] <= (int)rg)
                ++b;
            i = (int)rg - cuq[b];
        } else {
            b = (int)(rg / max_sq);
            i = (int)(rg % max_sq);
        }
        for (int h = 0; h < s.hq; ++h) {
            int64_t ob = v.varlen ? (int64_t)(cuq[b] + i) * p.o_row_stride + h * p.o_head_stride
                                  : b * p.o_batch_stride + i * p.o_row_stride + h * p.o_head_stride;
            for (int d = 0; d < D; ++d) {
                float x = h2f(ho[GUARD + ob + d], bf);
                float r = hor[(rg * s.hq + h) * D + d], lo = hol[(rg * s.hq + h) * D + d];
                if (!std::isfinite(x)) {
                    ++bad_nan;
                    continue;
                }
                err = std::max(err, (double)fabsf(x - r));
                err_low = std::max(err_low, (double)fabsf(lo - r));
            }
            int64_t li = v.varlen ? h * p.lse_head_stride + cuq[b] + i
                                  : b * p.lse_batch_stride + h * p.lse_head_stride + i;
            float x = hl[GUARD + li], r = hlr[rg * s.hq + h], lo = hll[rg * s.hq + h];
            if (std::isinf(r) || std::isinf(x)) {
                if (!(std::isinf(r) && std::isinf(x) && r < 0 && x < 0))
                    ++bad_lse_inf;
            } else if (std::isnan(x)) {
                ++bad_lse_inf;
            } else {
                lerr = std::max(lerr, (double)fabsf(x - r));
                if (!std::isinf(lo))
                    lerr_low = std::max(lerr_low, (double)fabsf(lo - r));
            }
        }
    }
    const double tol = 2 * err_low + 1e-5, ltol = 2 * lerr_low + 1e-3;
    if (bad_nan || bad_guard || bad_lse_inf || !(err <= tol) || !(lerr <= ltol))
        ok = false;
    if (!ok)
        fprintf(stderr,
                "  FAIL %s %s: err %.3g (tol %.3g) lse %.3g (tol %.3g) nonfinite %ld guard %ld "
                "lse-inf %ld\n",
                v.name, s.name, err, tol, lerr, ltol, bad_nan, bad_guard, bad_lse_inf);
    row = {v.name, s.name, ok, err, tol, lerr, ltol, -1};

    cudaFree(q), cudaFree(k), cudaFree(vv), cudaFree(o_alloc), cudaFree(lse_alloc);
    cudaFree(oref), cudaFree(olow), cudaFree(lref), cudaFree(llow);
    if (cu_q)
        cudaFree(cu_q), cudaFree(cu_k);
    return ok;
}

/* Median time in ms of one launch on FA's grid (BSHD, bf16), L2 flushed before each rep. */
static double time_case(const Variant &v, int N, void *flush, size_t flush_bytes)
{
    const int D = v.hd, H = 2048 / D, B = 16384 / N;
    const size_t n = (size_t)B * N * H * D;
    void *q, *k, *vv, *o;
    float *lse;
    CK(cudaMalloc(&q, n * 2));
    CK(cudaMalloc(&k, n * 2));
    CK(cudaMalloc(&vv, n * 2));
    CK(cudaMalloc(&o, n * 2));
    CK(cudaMalloc(&lse, (size_t)B * H * N * 4));
    CK(fill<__nv_bfloat16>(q, n, 11));
    CK(fill<__nv_bfloat16>(k, n, 12));
    CK(fill<__nv_bfloat16>(vv, n, 13));
    fa_fwd_params p;
    memset(&p, 0, sizeof(p));
    p.q = (uint64_t)q, p.k = (uint64_t)k, p.v = (uint64_t)vv, p.o = (uint64_t)o,
    p.lse = (uint64_t)lse;
    p.q_row_stride = p.k_row_stride = p.v_row_stride = p.o_row_stride = (int64_t)H * D;
    p.q_head_stride = p.k_head_stride = p.v_head_stride = p.o_head_stride = D;
    p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = p.o_batch_stride = (int64_t)N * H * D;
    p.lse_head_stride = N, p.lse_batch_stride = (int64_t)H * N;
    p.batch = B, p.heads_q = p.heads_kv = H, p.seqlen_q = p.seqlen_k = N, p.head_dim = D;
    p.softmax_scale = 1.f / sqrtf((float)D);
    p.softmax_scale_log2 = p.softmax_scale * 1.4426950408889634f;
    CK(cudaFuncSetAttribute((const void *)v.fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            smem_bytes(v)));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int w = 0; w < 3; ++w)
        launch_variant(v, p, 0);
    CK(cudaDeviceSynchronize());
    std::vector<float> ts;
    for (int r = 0; r < 30; ++r) {
        CK(cudaMemsetAsync(flush, r & 0xFF, flush_bytes));
        CK(cudaEventRecord(e0));
        launch_variant(v, p, 0);
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        ts.push_back(ms);
    }
    std::sort(ts.begin(), ts.end());
    cudaEventDestroy(e0), cudaEventDestroy(e1);
    cudaFree(q), cudaFree(k), cudaFree(vv), cudaFree(o), cudaFree(lse);
    return ts[ts.size() / 2];
}

int main(int argc, char **argv)
{
    bool do_time = true;
    const char *only = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--no-time"))
            do_time = false;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--no-time] [--only SUBSTR]\n", argv[0]);
            return 2;
        }
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    fprintf(stderr, "device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor,
            prop.multiProcessorCount);

    std::vector<Row> rows;
    bool all_ok = true;
    for (const Variant &v : g_variants) {
        if (only && !strstr(v.name, only))
            continue;
        if (smem_bytes(v) > (int)prop.sharedMemPerBlockOptin) {
            fprintf(stderr, "skip %s: %d B smem > device limit\n", v.name, smem_bytes(v));
            continue;
        }
        cudaFuncAttributes fa;
        CK(cudaFuncGetAttributes(&fa, (const void *)v.fn));
        fprintf(stderr, "variant %s: %d regs, %zu B local\n", v.name, fa.numRegs,
                fa.localSizeBytes);
        for (const Shape &s : shapes_for(v)) {
            Row r;
            all_ok &= check_case(v, s, r);
            rows.push_back(r);
        }
    }
    if (do_time) {
        const size_t flush_bytes = 256u << 20;
        void *flush;
        CK(cudaMalloc(&flush, flush_bytes));
        for (const Variant &v : g_variants) {
            if (only && !strstr(v.name, only))
                continue;
            if (!v.bf16 || v.varlen || (v.hd != 64 && v.hd != 128 && v.hd != 256))
                continue;
            if (smem_bytes(v) > (int)prop.sharedMemPerBlockOptin)
                continue;
            for (int N = 512; N <= 16384; N *= 2) {
                double ms = time_case(v, N, flush, flush_bytes);
                const double B = 16384 / N, H = 2048 / v.hd;
                double fl = 4.0 * B * H * (double)N * N * v.hd / (v.causal ? 2 : 1);
                char shape[64];
                snprintf(shape, sizeof shape, "time_N%d_B%d_H%d", N, (int)B, (int)H);
                rows.push_back({v.name, shape, true, 0, 0, 0, 0, fl / (ms * 1e-3) / 1e12});
                fprintf(stderr, "  %s %s: %.3f ms\n", v.name, shape, ms);
            }
        }
        cudaFree(flush);
    }

    printf("%-62s %-18s %-4s %10s %10s %10s %8s\n", "variant(T,D,M,N,W,S,QR,C,VL)", "shape", "ok",
           "max_err", "tol", "lse_err", "TFLOP/s");
    for (const Row &r : rows) {
        if (r.tflops >= 0)
            printf("%-62s %-18s %-4s %10s %10s %10s %8.1f\n", r.variant.c_str(), r.shape.c_str(),
                   "-", "-", "-", "-", r.tflops);
        else
            printf("%-62s %-18s %-4s %10.3g %10.3g %10.3g %8s\n", r.variant.c_str(),
                   r.shape.c_str(), r.pass ? "pass" : "FAIL", r.err, r.tol, r.lse_err, "-");
    }
    int npass = 0, nfail = 0;
    for (const Row &r : rows)
        if (r.tflops < 0)
            (r.pass ? npass : nfail)++;
    printf("%d passed, %d failed\n", npass, nfail);
    return all_ok ? 0 : 3;
}
