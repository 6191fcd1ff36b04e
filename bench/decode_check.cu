/*
 * decode_check.cu -- standalone correctness and bandwidth check of the splitkv decode kernels.
 *
 * This file implements a developer tool, independent of the tuner, harness and DB, in the
 * manner of bench/kernel_check.cu and bench/sm90a_check.cu: it instantiates a list of
 * fa_decode_splitkv variants (and their combine kernel) with nvcc, checks each against an
 * fp32 GPU reference over awkward decode cases, then times bf16 variants on the decode shapes
 * of issue 16 against the device copy bandwidth measured in the same run. Build and run with
 * bench/decode_check.sh.
 *
 * Correctness, per variant and case:
 *   inputs  random normal Q, K, V (never zeros); cache rows past each sequence's length and
 *           every unused page are NaN, so reading them shows up; O, LSE and the split scratch
 *           are NaN-poisoned before every run
 *   cases   per-sequence lengths with 0 and 1 among them, seqlen_q 1..16, GQA 1, 4, 8 and MQA,
 *           splits 1, 3 and auto, causal (bottom-right) when the variant is; with more than
 *           one split also the fused combine, twice (the counters the first run leaves in the
 *           scratch header must be zero: they are checked after every run), bit-identical to
 *           the separate combine of the same splits, and paged at page sizes 16 and 48
 *   ref     fp32 attention over the contiguous cache with each sequence's length; lowp = the
 *           same with S, P and O rounded to the dtype (eager attention in that dtype)
 *   pass    max|O - ref| <= 2 * max|O_lowp - ref| + 1e-5 (FlashAttention's rule), LSE
 *           likewise (+ 1e-3) with the same -inf pattern, no NaN in O; and the paged runs
 *           (page sizes 16, 48, 64 and 256, pages shuffled, table entries past the length
 *           poisoned) give O and LSE bit-identical to the contiguous run
 * Speed: bf16, issue 16's shapes (hd 64/128/256; 32/8, 64/8, 16/16, 32/1 heads; batch 1..128;
 *   cache 1k..128k; seqlen_q 1 and 4), every bf16 non-causal variant x the family's splits
 *   values {auto, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64} (more than one split: also fused;
 *   the table shows a fused winner's splits negative), contiguous and paged (page 64,
 *   shuffled pages), each mode's best reported (pg/ct = paged / contiguous time); median of
 *   --reps runs, L2 flushed (256 MB memset) before
 *   each; K/V bytes = sum_b 2 * len_b * heads_kv * D * 2; copy = cudaMemcpy device to device
 *   of 1 GB, (read + write) bytes / time. Prints the best per shape and the table.
 *
 * Usage: decode_check [--no-time] [--no-check] [--only SUBSTR] [--reps N]
 * Exit: 0 all pass, 3 any mismatch, 1 CUDA error, 2 usage, 77 no CUDA device.
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

#include "decode/fa_decode_splitkv.cuh"
#include "fa_check_ref.cuh"

/* X(Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, IS_CAUSAL) */
#ifndef FA_CHECK_VARIANTS
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 128, 16, 64, 4, 3, false)                                                     \
    X(__nv_bfloat16, 128, 16, 64, 4, 3, true)                                                      \
    X(__nv_bfloat16, 128, 16, 128, 4, 2, false)                                                    \
    X(__nv_bfloat16, 128, 16, 64, 4, 4, false)                                                     \
    X(__nv_bfloat16, 128, 16, 128, 8, 3, false)                                                    \
    X(__nv_bfloat16, 128, 32, 64, 4, 3, false)                                                     \
    X(__half, 128, 32, 128, 4, 2, true)                                                            \
    X(__half, 128, 16, 32, 2, 4, true)                                                             \
    X(__nv_bfloat16, 64, 16, 64, 4, 4, false)                                                      \
    X(__nv_bfloat16, 64, 16, 128, 4, 3, false)                                                     \
    X(__nv_bfloat16, 64, 64, 64, 4, 3, true)                                                       \
    X(__half, 64, 32, 64, 4, 2, false)                                                             \
    X(__nv_bfloat16, 256, 16, 64, 4, 3, false)                                                     \
    X(__nv_bfloat16, 256, 16, 32, 2, 4, false)                                                     \
    X(__half, 256, 16, 64, 4, 2, true)                                                             \
    X(__nv_bfloat16, 96, 16, 64, 4, 2, true)                                                       \
    X(__half, 32, 32, 64, 2, 2, false)                                                             \
    X(__nv_bfloat16, 192, 16, 64, 4, 2, true)                                                      \
    X(__nv_bfloat16, 128, 16, 64, 4, 2, false)                                                     \
    X(__nv_bfloat16, 128, 32, 128, 8, 3, false)                                                    \
    X(__nv_bfloat16, 64, 32, 128, 4, 3, false)                                                     \
    X(__nv_bfloat16, 64, 64, 128, 8, 3, false)                                                     \
    X(__nv_bfloat16, 256, 16, 64, 4, 2, false)                                                     \
    X(__nv_bfloat16, 64, 16, 64, 2, 4, false)                                                      \
    X(__nv_bfloat16, 64, 16, 256, 4, 3, false)                                                     \
    X(__nv_bfloat16, 128, 16, 32, 2, 4, false)
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

typedef void (*kernel_fn)(fa_decode_args);

struct Variant {
    const char *name;
    bool bf16;
    int hd, bm, bn, warps, stages;
    bool causal;
    kernel_fn main, combine;
    int smem;
};

#define FA_CHECK_ENTRY(T, D, M, N, W, S, C)                                                        \
    {#T "," #D ",m" #M "n" #N "w" #W "s" #S "," #C,                                                \
     fa::elem_traits<T>::is_bf16,                                                                  \
     D,                                                                                            \
     M,                                                                                            \
     N,                                                                                            \
     W,                                                                                            \
     S,                                                                                            \
     C,                                                                                            \
     fa_decode_splitkv<T, D, M, N, W, S, C>,                                                       \
     fa_decode_combine<T, D>,                                                                      \
     fa::decode_traits<T, D, M, N, W, S>::SMEM},

static const Variant g_variants[] = {FA_CHECK_VARIANTS(FA_CHECK_ENTRY)};

/* NaN over cache rows j >= lens[b] of a contiguous (B, max_len, H, D) 16-bit cache. */
__global__ void poison_tail(uint16_t *x, const int *lens, int max_len, int hd)
{
    const int b = blockIdx.y;
    const int64_t row = (int64_t)hd; /* elements per cache row (heads x D) */
    for (int64_t e = (int64_t)lens[b] * row + blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
         e < (int64_t)max_len * row; e += (int64_t)gridDim.x * blockDim.x)
        x[(int64_t)b * max_len * row + e] = 0xffff;
}

/* Copy rows j < lens[b] of the contiguous cache into their pages (row = heads x D elements). */
__global__ void scatter_pages(const uint16_t *src, uint16_t *pages, const int *table, int stride,
                              const int *lens, int max_len, int page_size, int row_elems)
{
    const int b = blockIdx.y;
    for (int j = blockIdx.x; j < lens[b]; j += gridDim.x) {
        const uint16_t *s = src + ((int64_t)b * max_len + j) * row_elems;
        uint16_t *d =
            pages +
            ((int64_t)table[b * stride + j / page_size] * page_size + j % page_size) * row_elems;
        for (int e = threadIdx.x; e < row_elems; e += blockDim.x)
            d[e] = s[e];
    }
}

/* ---- one problem on the device ----------------------------------------------------------- */

struct Problem {
    int batch, hq, hkv, sq, max_len, hd;
    bool bf16;
    std::vector<int> lens;
    /* device */
    void *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
    float *lse = nullptr;
    int *d_lens = nullptr;
    void *kp = nullptr, *vp = nullptr; /* paged copies */
    int *table = nullptr;
    int page_size = 0, table_stride = 0;
    size_t kv_elems = 0, q_elems = 0, pages_elems = 0;

    int64_t kv_bytes() const
    {
        int64_t n = 0;
        for (int l : lens)
            n += 2LL * l * hkv * hd * 2;
        return n;
    }

    void alloc(uint32_t seed)
    {
        q_elems = (size_t)batch * sq * hq * hd;
        kv_elems = (size_t)batch * max_len * hkv * hd;
        CK(cudaMalloc(&q, q_elems * 2));
        CK(cudaMalloc(&o, q_elems * 2));
        CK(cudaMalloc(&lse, (size_t)batch * hq * sq * 4));
        CK(cudaMalloc(&k, kv_elems * 2));
        CK(cudaMalloc(&v, kv_elems * 2));
        CK(cudaMalloc(&d_lens, batch * 4));
        CK(cudaMemcpy(d_lens, lens.data(), batch * 4, cudaMemcpyHostToDevice));
        if (bf16) {
            CK(fill<__nv_bfloat16>(q, q_elems, seed));
            CK(fill<__nv_bfloat16>(k, kv_elems, seed + 1));
            CK(fill<__nv_bfloat16>(v, kv_elems, seed + 2));
        } else {
            CK(fill<__half>(q, q_elems, seed));
            CK(fill<__half>(k, kv_elems, seed + 1));
            CK(fill<__half>(v, kv_elems, seed + 2));
        }
        dim3 g(256, batch);
        poison_tail<<<g, 256>>>((uint16_t *)k, d_lens, max_len, hkv * hd);
        poison_tail<<<g, 256>>>((uint16_t *)v, d_lens, max_len, hkv * hd);
        CK(cudaGetLastError());
    }

    /* Paged copies with page_size ps: each sequence's pages drawn from a shuffled pool with
       spare pages; unused pages and table entries poisoned. */
    void make_pages(int ps, uint32_t seed)
    {
        free_pages();
        page_size = ps;
        table_stride = (max_len + ps - 1) / ps + 1;
        int used = 0;
        for (int l : lens)
            used += (l + ps - 1) / ps;
        const int pool = used + 3;
        std::vector<int> perm(pool);
        for (int i = 0; i < pool; i++)
            perm[i] = i;
        srand(seed);
        for (int i = pool - 1; i > 0; i--)
            std::swap(perm[i], perm[rand() % (i + 1)]);
        std::vector<int> tab((size_t)batch * table_stride, -7777777); /* poisoned */
        int next = 0;
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < (lens[b] + ps - 1) / ps; j++)
                tab[(size_t)b * table_stride + j] = perm[next++];
        pages_elems = (size_t)pool * ps * hkv * hd;
        CK(cudaMalloc(&kp, pages_elems * 2));
        CK(cudaMalloc(&vp, pages_elems * 2));
        CK(cudaMemset(kp, 0xff, pages_elems * 2));
        CK(cudaMemset(vp, 0xff, pages_elems * 2));
        CK(cudaMalloc(&table, tab.size() * 4));
        CK(cudaMemcpy(table, tab.data(), tab.size() * 4, cudaMemcpyHostToDevice));
        dim3 g(std::min(max_len, 4096), batch);
        scatter_pages<<<g, 128>>>((const uint16_t *)k, (uint16_t *)kp, table, table_stride, d_lens,
                                  max_len, ps, hkv * hd);
        scatter_pages<<<g, 128>>>((const uint16_t *)v, (uint16_t *)vp, table, table_stride, d_lens,
                                  max_len, ps, hkv * hd);
        CK(cudaGetLastError());
    }

    void free_pages()
    {
        cudaFree(kp);
        cudaFree(vp);
        cudaFree(table);
        kp = vp = nullptr;
        table = nullptr;
    }

    void release()
    {
        free_pages();
        cudaFree(q);
        cudaFree(o);
        cudaFree(lse);
        cudaFree(k);
        cudaFree(v);
        cudaFree(d_lens);
        q = o = k = v = nullptr;
        lse = nullptr;
        d_lens = nullptr;
    }

    /* BSHD Q/O, contiguous (B, max_len, Hkv, D) or paged (pool, ps, Hkv, D) caches. */
    fa_fwd_params params(bool paged) const
    {
        fa_fwd_params p;
        memset(&p, 0, sizeof p);
        p.q = (uint64_t)q, p.o = (uint64_t)o, p.lse = (uint64_t)lse;
        p.q_batch_stride = p.o_batch_stride = (int64_t)sq * hq * hd;
        p.q_row_stride = p.o_row_stride = (int64_t)hq * hd;
        p.q_head_stride = p.o_head_stride = hd;
        p.lse_batch_stride = (int64_t)hq * sq;
        p.lse_head_stride = sq;
        p.batch = batch, p.heads_q = hq, p.heads_kv = hkv, p.seqlen_q = sq, p.seqlen_k = max_len;
        p.head_dim = hd;
        p.softmax_scale = 1.f / sqrtf((float)hd);
        p.softmax_scale_log2 = p.softmax_scale * 1.4426950408889634f;
        p.seqused_k = (uint64_t)d_lens;
        p.k_row_stride = p.v_row_stride = (int64_t)hkv * hd;
        p.k_head_stride = p.v_head_stride = hd;
        if (paged) {
            p.k = (uint64_t)kp, p.v = (uint64_t)vp;
            p.k_batch_stride = p.v_batch_stride = (int64_t)page_size * hkv * hd;
            p.block_table = (uint64_t)table;
            p.block_table_stride = table_stride;
            p.page_size = page_size;
        } else {
            p.k = (uint64_t)k, p.v = (uint64_t)v;
            p.k_batch_stride = p.v_batch_stride = (int64_t)max_len * hkv * hd;
        }
        return p;
    }
};

static int g_sms = 0;

/* Resolved splits for the variant (axis value `splits`, 0 = auto) and the problem. */
static int resolve_splits(const Variant &vr, const Problem &pr, int splits)
{
    return fa_plan_splitkv_splits(splits, pr.batch, pr.hq, pr.hkv, pr.sq, pr.max_len, vr.bm, vr.bn,
                                  g_sms);
}

/* Launch the plan: main with `nsplit` splits, then combine when nsplit > 1 unless fused (the
   main kernel's last split of each group merges; fa_plan_splitkv_fused's rule). */
static void launch(const Variant &vr, const fa_fwd_params &p, int nsplit, void *scratch,
                   bool fuse = false, cudaStream_t st = 0)
{
    fa_decode_args a;
    memset(&a, 0, sizeof a);
    a.p = p;
    a.scratch = (uint64_t)scratch;
    const bool fused =
        fa_plan_splitkv_fused(fuse, nsplit, p.batch, p.heads_q, p.heads_kv, p.seqlen_q, vr.bm);
    a.fused = fused;
    const int mb = fa_plan_splitkv_mblocks(p.heads_q, p.heads_kv, p.seqlen_q, vr.bm);
    dim3 grid((unsigned)(mb * p.batch * p.heads_kv), (unsigned)nsplit, 1);
    vr.main<<<grid, vr.warps * 32, vr.smem, st>>>(a);
    if (nsplit > 1 && !fused) {
        const int64_t rows = (int64_t)p.batch * p.heads_q * p.seqlen_q;
        dim3 g2((unsigned)((rows + FA_DECODE_COMBINE_ROWS - 1) / FA_DECODE_COMBINE_ROWS));
        vr.combine<<<g2, 32 * FA_DECODE_COMBINE_ROWS, 0, st>>>(a);
    }
}

static void *g_scratch = nullptr;
static size_t g_scratch_bytes = 0;

static void *scratch_for(const Problem &pr, int nsplit)
{
    const size_t need = fa_plan_splitkv_scratch(nsplit, pr.batch, pr.hq, pr.sq, pr.hd);
    if (need > g_scratch_bytes) {
        cudaFree(g_scratch);
        CK(cudaMalloc(&g_scratch, need));
        CK(cudaMemset(g_scratch, 0, need)); /* once: the fused combine's counters */
        g_scratch_bytes = need;
    }
    return need ? g_scratch : nullptr;
}

/* ---- correctness ---------------------------------------------------------------------------- */

struct Case {
    int batch, hq, hkv, sq, max_len;
    const char *lens; /* "" = random in [0, max_len] with 0, 1, max among them */
};

static const Case g_cases[] = {
    {5, 8, 2, 1, 1000, ""},       /* GQA 4, decode */
    {4, 16, 2, 4, 777, ""},       /* GQA 8, speculative 4 */
    {3, 4, 4, 16, 300, ""},       /* GQA 1, chunk of 16 */
    {3, 8, 1, 3, 2049, ""},       /* MQA */
    {2, 32, 1, 2, 200, ""},       /* MQA, 64 packed rows */
    {4, 8, 2, 7, 65, "0,1,7,65"}, /* short: rows with no key (causal), len < sq */
    {1, 8, 8, 1, 5000, "5000"},   /* one long sequence, splits matter */
};

static std::vector<int> make_lens(const Case &c, uint32_t seed)
{
    std::vector<int> l;
    if (c.lens[0]) {
        const char *s = c.lens;
        while (*s) {
            l.push_back(atoi(s));
            s = strchr(s, ',');
            if (!s)
                break;
            s++;
        }
        return l;
    }
    srand(seed);
    for (int b = 0; b < c.batch; b++)
        l.push_back(b == 0 ? 0 : b == 1 ? 1 : b == 2 ? c.max_len : 1 + rand() % c.max_len);
    return l;
}

struct Err {
    double o, lse;
    bool bad; /* NaN where a number belongs, or a -inf pattern mismatch */
};

static Err compare(const Problem &pr, const std::vector<uint16_t> &o, const std::vector<float> &lse,
                   const std::vector<float> &oref, const std::vector<float> &lref)
{
    Err e = {0, 0, false};
    for (size_t i = 0; i < o.size(); i++) {
        const float x = h2f(o[i], pr.bf16);
        if (!std::isfinite(x)) {
            e.bad = true;
            continue;
        }
        e.o = std::max(e.o, (double)fabsf(x - oref[i]));
    }
    for (size_t i = 0; i < lse.size(); i++) {
        const bool ninf_k = std::isinf(lse[i]) && lse[i] < 0, ninf_r = std::isinf(lref[i]);
        if (ninf_k != ninf_r || std::isnan(lse[i])) {
            e.bad = true;
            continue;
        }
        if (!ninf_r)
            e.lse = std::max(e.lse, (double)fabsf(lse[i] - lref[i]));
    }
    return e;
}

/* The decode reference: fa_check_ref.cuh's ref_attention with each sequence's cache length over
 * the CONTIGUOUS cache (B, max_len, Hkv, D), one block per (token i, query head h, sequence b);
 * o [b][i][h][D], l [b][h][i]. */
template <typename T>
static void reference(const Problem &pr, const fa_fwd_params &p, bool causal, bool lowp,
                      std::vector<float> &o, std::vector<float> &l)
{
    float *d_o, *d_l;
    CK(cudaMalloc(&d_o, pr.q_elems * 4));
    CK(cudaMalloc(&d_l, (size_t)pr.batch * pr.hq * pr.sq * 4));
    const size_t sh = (pr.hd + pr.max_len + 32) * 4;
    CK(cudaFuncSetAttribute(ref_attention<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, 200000));
    ref_attention<T><<<dim3(pr.sq, pr.hq, pr.batch), 256, sh>>>(p, causal, false, lowp, d_o, d_l,
                                                                pr.d_lens, true);
    CK(cudaGetLastError());
    o.resize(pr.q_elems);
    l.resize((size_t)pr.batch * pr.hq * pr.sq);
    CK(cudaMemcpy(o.data(), d_o, o.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(l.data(), d_l, l.size() * 4, cudaMemcpyDeviceToHost));
    cudaFree(d_o);
    cudaFree(d_l);
}

/* Runs the variant, NaN-poisoned outputs and scratch (all but the fused combine's counters,
   zero since allocation: each launch must leave them so); returns O bits and LSE, and false
   when a counter is not zero after the run. */
static bool run_kernel(const Variant &vr, const Problem &pr, bool paged, int nsplit,
                       std::vector<uint16_t> &o, std::vector<float> &l, bool fuse = false)
{
    void *scr = scratch_for(pr, nsplit);
    if (scr) {
        const size_t n = fa_plan_splitkv_scratch(nsplit, pr.batch, pr.hq, pr.sq, pr.hd);
        CK(cudaMemset(scr, 0xff, FA_DECODE_COUNTERS));
        CK(cudaMemset((char *)scr + FA_DECODE_SCRATCH_HEADER, 0xff, n - FA_DECODE_SCRATCH_HEADER));
    }
    CK(cudaMemset(pr.o, 0xff, pr.q_elems * 2));
    CK(cudaMemset(pr.lse, 0xff, (size_t)pr.batch * pr.hq * pr.sq * 4));
    launch(vr, pr.params(paged), nsplit, scr, fuse);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    bool counters_zero = true;
    if (scr) {
        std::vector<unsigned> cnt(FA_DECODE_FUSED_GROUPS);
        CK(cudaMemcpy(cnt.data(), (char *)scr + FA_DECODE_COUNTERS, cnt.size() * 4,
                      cudaMemcpyDeviceToHost));
        for (unsigned c : cnt)
            counters_zero = counters_zero && c == 0;
    }
    o.resize(pr.q_elems);
    l.resize((size_t)pr.batch * pr.hq * pr.sq);
    CK(cudaMemcpy(o.data(), pr.o, o.size() * 2, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(l.data(), pr.lse, l.size() * 4, cudaMemcpyDeviceToHost));
    return counters_zero;
}

static int check_variant(const Variant &vr, int &cases_run)
{
    int fails = 0;
    static const int page_sizes[] = {16, 48, 64, 256};
    for (size_t ci = 0; ci < sizeof g_cases / sizeof *g_cases; ci++) {
        const Case &c = g_cases[ci];
        Problem pr;
        pr.batch = c.batch, pr.hq = c.hq, pr.hkv = c.hkv, pr.sq = c.sq, pr.max_len = c.max_len;
        pr.hd = vr.hd, pr.bf16 = vr.bf16;
        pr.lens = make_lens(c, 1234 + (uint32_t)ci);
        pr.batch = (int)pr.lens.size();
        pr.alloc(99 + 7 * (uint32_t)ci);
        std::vector<float> oref, lref, olow, llow;
        const fa_fwd_params pc = pr.params(false);
        if (vr.bf16) {
            reference<__nv_bfloat16>(pr, pc, vr.causal, false, oref, lref);
            reference<__nv_bfloat16>(pr, pc, vr.causal, true, olow, llow);
        } else {
            reference<__half>(pr, pc, vr.causal, false, oref, lref);
            reference<__half>(pr, pc, vr.causal, true, olow, llow);
        }
        double tol_o = 0, tol_l = 0;
        for (size_t i = 0; i < oref.size(); i++)
            tol_o = std::max(tol_o, (double)fabsf(olow[i] - oref[i]));
        for (size_t i = 0; i < lref.size(); i++)
            if (!std::isinf(lref[i]))
                tol_l = std::max(tol_l, (double)fabsf(llow[i] - lref[i]));
        tol_o = 2 * tol_o + 1e-5, tol_l = 2 * tol_l + 1e-3;
        const int split_vals[] = {1, 3, 0};
        for (int sv : split_vals) {
            const int ns = resolve_splits(vr, pr, sv);
            std::vector<uint16_t> o0, o1;
            std::vector<float> l0, l1;
            run_kernel(vr, pr, false, ns, o0, l0);
            Err e = compare(pr, o0, l0, oref, lref);
            bool ok = !e.bad && e.o <= tol_o && e.lse <= tol_l;
            int page_mismatch = 0;
            for (int ps : page_sizes) {
                pr.make_pages(ps, 555 + ps + (uint32_t)ci);
                run_kernel(vr, pr, true, ns, o1, l1);
                if (memcmp(o0.data(), o1.data(), o0.size() * 2) != 0 ||
                    memcmp(l0.data(), l1.data(), l0.size() * 4) != 0)
                    page_mismatch = page_mismatch ? page_mismatch : ps;
            }
            pr.free_pages();
            cases_run++;
            if (!ok || page_mismatch) {
                fails++;
                fprintf(stderr,
                        "FAIL %s case %zu (b%d hq%d hkv%d sq%d len%d) splits %d: O err %.3g (tol "
                        "%.3g) LSE err %.3g (tol %.3g)%s%s%d\n",
                        vr.name, ci, pr.batch, pr.hq, pr.hkv, pr.sq, pr.max_len, ns, e.o, tol_o,
                        e.lse, tol_l, e.bad ? " NaN/-inf pattern" : "",
                        page_mismatch ? " paged != contiguous at page size " : "", page_mismatch);
            }
            if (ns == 1)
                continue;
            /* The fused combine: twice (the counters the first run leaves must be zero for
               the second), then paged at two page sizes, bit-identical to its contiguous run. */
            std::vector<uint16_t> f0, f1;
            std::vector<float> g0, g1;
            bool zero = run_kernel(vr, pr, false, ns, f0, g0, true);
            zero = run_kernel(vr, pr, false, ns, f1, g1, true) && zero;
            Err ef = compare(pr, f1, g1, oref, lref);
            bool fok = !ef.bad && ef.o <= tol_o && ef.lse <= tol_l && zero &&
                       memcmp(f0.data(), f1.data(), f0.size() * 2) == 0;
            /* the merge does the combine kernel's fp32 operations in its order */
            const bool fsame = memcmp(f1.data(), o0.data(), f1.size() * 2) == 0 &&
                               memcmp(g1.data(), l0.data(), g1.size() * 4) == 0;
            int fpage = 0;
            for (int ps : {16, 48}) {
                pr.make_pages(ps, 777 + ps + (uint32_t)ci);
                zero = run_kernel(vr, pr, true, ns, o1, l1, true) && zero;
                if (memcmp(f1.data(), o1.data(), f1.size() * 2) != 0 ||
                    memcmp(g1.data(), l1.data(), g1.size() * 4) != 0)
                    fpage = fpage ? fpage : ps;
            }
            pr.free_pages();
            cases_run++;
            if (!fok || fpage || !zero || !fsame) {
                fails++;
                fprintf(stderr,
                        "FAIL %s fused case %zu (b%d hq%d hkv%d sq%d len%d) splits %d: O err "
                        "%.3g (tol %.3g) LSE err %.3g (tol %.3g)%s%s%s%s%d\n",
                        vr.name, ci, pr.batch, pr.hq, pr.hkv, pr.sq, pr.max_len, ns, ef.o, tol_o,
                        ef.lse, tol_l, ef.bad ? " NaN/-inf pattern" : "",
                        zero ? "" : " counters not left zero",
                        fsame ? "" : " fused != separate combine",
                        fpage ? " paged != contiguous at page size " : "", fpage);
            }
        }
        pr.release();
    }
    return fails;
}

/* ---- timing --------------------------------------------------------------------------------- */

struct Shape {
    int hd, hq, hkv, batch, len, sq;
};

static const Shape g_shapes[] = {
    {128, 32, 8, 64, 4096, 1},  {128, 32, 8, 16, 16384, 1}, {128, 32, 8, 4, 65536, 1},
    {128, 32, 8, 1, 131072, 1}, {128, 64, 8, 8, 8192, 1},   {128, 32, 8, 128, 1024, 1},
    {128, 32, 8, 64, 4096, 4},  {128, 32, 8, 1, 131072, 4}, {128, 32, 1, 32, 8192, 1},
    {128, 16, 16, 32, 8192, 1}, {64, 16, 16, 32, 8192, 1},  {64, 32, 8, 64, 4096, 1},
    {64, 32, 8, 1, 131072, 1},  {64, 32, 1, 64, 8192, 4},   {256, 32, 8, 16, 8192, 1},
    {256, 16, 16, 8, 16384, 1}, {256, 32, 8, 1, 65536, 4},  {128, 64, 8, 128, 4096, 4},
};

static double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

static double time_ms(const Variant &vr, const Problem &pr, bool paged, int ns, bool fuse,
                      void *flush, size_t flush_bytes, int reps)
{
    void *scr = scratch_for(pr, ns);
    const fa_fwd_params p = pr.params(paged);
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    std::vector<double> t;
    for (int r = -2; r < reps; r++) {
        CK(cudaMemsetAsync(flush, r & 0xff, flush_bytes));
        CK(cudaEventRecord(e0));
        launch(vr, p, ns, scr, fuse);
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (r >= 0)
            t.push_back(ms);
    }
    CK(cudaGetLastError());
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return median(t);
}

static double copy_bandwidth(int reps)
{
    const size_t n = (size_t)1 << 30;
    void *a, *b;
    CK(cudaMalloc(&a, n));
    CK(cudaMalloc(&b, n));
    CK(cudaMemset(a, 1, n));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    std::vector<double> t;
    for (int r = -2; r < reps; r++) {
        CK(cudaEventRecord(e0));
        CK(cudaMemcpyAsync(b, a, n, cudaMemcpyDeviceToDevice));
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (r >= 0)
            t.push_back(ms);
    }
    cudaFree(a);
    cudaFree(b);
    return 2.0 * n / (median(t) * 1e-3) / 1e12; /* TB/s, read + write */
}

static void time_all(const char *only, int reps)
{
    const double copy = copy_bandwidth(10);
    printf("copy bandwidth (cudaMemcpy D2D 1 GB, read+write): %.2f TB/s\n", copy);
    const size_t flush_bytes = 256u << 20;
    void *flush;
    CK(cudaMalloc(&flush, flush_bytes));
    static const int split_vals[] = {0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
    printf("%-30s %7s %8s %6s %5s  %-16s %5s %8s  %-16s %5s %6s %8s\n",
           "shape (hd heads batch x len sq)", "KV MB", "best us", "TB/s", "%copy", "variant",
           "split", "paged us", "paged variant", "split", "pg/ct", "auto us");
    for (const Shape &s : g_shapes) {
        Problem pr;
        pr.batch = s.batch, pr.hq = s.hq, pr.hkv = s.hkv, pr.sq = s.sq, pr.max_len = s.len;
        pr.hd = s.hd, pr.bf16 = true;
        pr.lens.assign(s.batch, s.len);
        pr.alloc(7);
        pr.make_pages(64, 11);
        const double mb = pr.kv_bytes() / 1e6;
        /* [0] contiguous, [1] paged (page size 64, shuffled pages) */
        double best[2] = {1e30, 1e30}, best_auto = 1e30;
        const Variant *bv[2] = {nullptr, nullptr};
        int bs[2] = {0, 0};
        for (int paged = 0; paged < 2; paged++)
            for (const Variant &vr : g_variants) {
                if (!vr.bf16 || vr.hd != s.hd || vr.causal || (only && !strstr(vr.name, only)))
                    continue;
                int last = -1;
                for (int sv : split_vals) {
                    const int ns = resolve_splits(vr, pr, sv);
                    if (sv != 0 && ns == last)
                        continue;
                    for (int fuse = 0; fuse < (ns > 1 ? 2 : 1); fuse++) {
                        const double ms =
                            time_ms(vr, pr, paged, ns, fuse, flush, flush_bytes, reps);
                        if (sv == 0 && !paged)
                            best_auto = std::min(best_auto, ms);
                        fprintf(stderr,
                                "  %s %s hd%d %d/%d b%d len%d sq%d splits %d(%d)%s: %.1f us\n",
                                paged ? "paged" : "contig", vr.name, s.hd, s.hq, s.hkv, s.batch,
                                s.len, s.sq, ns, sv, fuse ? " fused" : "", ms * 1e3);
                        if (ms < best[paged])
                            best[paged] = ms, bv[paged] = &vr, bs[paged] = fuse ? -ns : ns;
                    }
                    if (sv != 0 || paged)
                        last = ns;
                }
            }
        if (!bv[0] || !bv[1]) {
            pr.release();
            continue;
        }
        const double tbs = pr.kv_bytes() / (best[0] * 1e-3) / 1e12;
        char shape[64];
        snprintf(shape, sizeof shape, "hd%d %d/%d %dx%d sq%d", s.hd, s.hq, s.hkv, s.batch, s.len,
                 s.sq);
        printf("%-30s %7.1f %8.1f %6.2f %4.0f%%  %-16s %5d %8.1f  %-16s %5d %5.0f%% %8.1f\n", shape,
               mb, best[0] * 1e3, tbs, 100 * tbs / copy, strchr(bv[0]->name, ',') + 1, bs[0],
               best[1] * 1e3, strchr(bv[1]->name, ',') + 1, bs[1], 100 * best[1] / best[0],
               best_auto * 1e3);
        fflush(stdout);
        pr.release();
    }
    cudaFree(flush);
}

int main(int argc, char **argv)
{
    bool do_check = true, do_time = true;
    const char *only = nullptr;
    int reps = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-time"))
            do_time = false;
        else if (!strcmp(argv[i], "--no-check"))
            do_check = false;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: decode_check [--no-time] [--no-check] [--only SUBSTR] "
                            "[--reps N]\n");
            return 2;
        }
    }
    int ndev = 0;
    if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
        fprintf(stderr, "no CUDA device: skipped\n");
        return 77;
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    g_sms = prop.multiProcessorCount;
    printf("%s, %d SMs\n", prop.name, g_sms);
    for (const Variant &vr : g_variants)
        CK(cudaFuncSetAttribute(vr.main, cudaFuncAttributeMaxDynamicSharedMemorySize, vr.smem));
    int fails = 0, run = 0;
    if (do_check) {
        for (const Variant &vr : g_variants) {
            if (only && !strstr(vr.name, only))
                continue;
            const int f = check_variant(vr, run);
            fails += f;
            fprintf(stderr, "%s %s\n", f ? "FAIL" : "ok  ", vr.name);
        }
        printf("check: %d of %d cases passed\n", run - fails, run);
    }
    if (do_time)
        time_all(only, reps);
    cudaFree(g_scratch);
    return fails ? 3 : 0;
}
