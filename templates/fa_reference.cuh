/*
 * fa_reference.cuh -- device code of the harness: the fp32 reference attention, the masked
 * softmax of the eager baseline, and the small kernels every check needs (seeded random fill,
 * output comparison with NaN/Inf/poison scan, L2 flush).
 *
 * This file implements what the harness measures every kernel variant against. It is plain
 * device code with no host logic; harness/ compiles it through NVRTC once per (dtype,
 * head_dim) as a translation unit that defines FA_REF_ELEMENT and FA_REF_HEAD_DIM before
 * including this file, which turns on the extern "C" kernels at the bottom. Unmangled names
 * let one NVRTC program carry every helper kernel and let the host find them by name
 * (cuModuleGetFunction) without a name expression per kernel. Test sources include the file
 * without those macros and instantiate the templates themselves.
 *
 * The definition the reference implements (the same as fa_params.h, restated because the
 * whole harness rests on it):
 *   S = scale * Q K^T in fp32 from the 16-bit inputs converted exactly to fp32;
 *   causal masking is bottom-right aligned: query i of a sequence with lengths (sq, sk) sees
 *   key j iff j <= i + sk - sq;
 *   LSE_i = log(sum_j exp(S_ij)) over visible keys, natural log, in the units of the scaled
 *   scores (FlashAttention's softmax_lse);
 *   O_i = sum_j exp(S_ij - LSE_i) V_j;
 *   a row that sees no key has O = 0 and LSE = -inf;
 *   GQA: query head h reads kv head h / (heads_q / heads_kv); varlen: sequence b occupies
 *   rows [cu_seqlens[b], cu_seqlens[b+1]) of the packed tensors; decode: sequence b has
 *   sk = seqused_k[b] keys (0 allowed), read through the block table when the cache is paged.
 *
 * The reference is two-pass on purpose: pass 1 finds each row's LSE, pass 2 sums
 * exp(S - LSE) V. The probabilities are then exactly the definition's, with no running
 * rescale of O whose rounding would mirror a flash kernel's own algorithm. It is tiled
 * (64 query rows x BN keys per step, 256 threads, 4x4 fp32 register blocks) so an N = 16k
 * check takes well under a second on an H100 instead of minutes for one CTA per row.
 */
#ifndef FA_REFERENCE_CUH
#define FA_REFERENCE_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "fa_params.h"

/* Tile geometry of the reference. The host reads the resulting shared memory size from the
 * module (fa_ref_config below), so this is the only place the numbers live. */
#define FA_REF_BM 64
#define FA_REF_THREADS 256
#define FA_REF_BN(D) ((D) <= 128 ? 64 : 32)
/* Row pitch of the shared tiles in elements: +2 keeps 4-byte pairs aligned and shifts
 * successive rows by one bank, so the column-wise reads of K are conflict free. */
#define FA_REF_LD(D) ((D) + 2)
#define FA_REF_SMEM_BYTES(D)                                                                       \
    ((FA_REF_BM + 2 * FA_REF_BN(D)) * FA_REF_LD(D) * 2 + FA_REF_BM * (FA_REF_BN(D) + 1) * 4)

/* Slots of the comparison result (unsigned long long[FA_CMP_SLOTS]); harness/fa_runner.c
 * mirrors these indices. Floats and doubles are stored by bit pattern. */
#define FA_CMP_MAX_ABS 0     /* float bits of max |x - ref| over finite, written elements */
#define FA_CMP_NONFINITE 1   /* NaN/Inf that are not the poison pattern (-inf LSE excepted) */
#define FA_CMP_POISON 2      /* elements still holding the poison pattern: never written */
#define FA_CMP_MASK 3        /* LSE only: -inf where the reference is finite, or vice versa */
#define FA_CMP_SUM_SQ_DIFF 4 /* double bits of sum (x - ref)^2 */
#define FA_CMP_SUM_SQ_REF 5  /* double bits of sum ref^2 */
#define FA_CMP_SLOTS 8

/* Arguments of the eager masked softmax over one chunk of heads. S and P are row-major
 * [rows][ld] in the input dtype, rows = heads_in_chunk * sq, ld a multiple of 8. Mirrored in
 * harness/fa_runner.c with the same size assertion. */
typedef struct fa_softmax_args {
    uint64_t s, p, lse;      /* S (scaled scores), P (output), LSE (fp32, may be 0) */
    int64_t lse_head_stride; /* between consecutive heads of the chunk (varlen: of the problem) */
    uint64_t cu_q, cu_k;     /* padded varlen: int32 cu_seqlens (batch + 1) on the device; else 0 */
    int32_t sq, sk, ld;      /* rows per head, valid columns, row pitch (varlen: the maxima) */
    int32_t n_rows;          /* pairs_in_chunk * sq */
    int32_t causal;          /* bottom-right aligned mask (varlen: per sequence) */
    int32_t heads;           /* padded varlen: query heads; row r is pair pair0 + r / sq = (b, h) */
    int32_t pair0;           /* padded varlen: the chunk's first (batch, query head) pair */
    int32_t pad;
} fa_softmax_args;
#define FA_SOFTMAX_ARGS_SIZE 80

#ifdef __cplusplus
static_assert(sizeof(fa_softmax_args) == FA_SOFTMAX_ARGS_SIZE, "fa_softmax_args layout drifted");
#endif

extern __shared__ __align__(16) unsigned char fa_ref_smem[];

/* ---- element conversions ------------------------------------------------------------- */
template <typename T> struct fa_ref_elem;

template <> struct fa_ref_elem<__half> {
    typedef __half2 pair;
    static __device__ __forceinline__ float2 to2(pair x) { return __half22float2(x); }
    static __device__ __forceinline__ pair from2(float2 x) { return __float22half2_rn(x); }
    static __device__ __forceinline__ float to(__half x) { return __half2float(x); }
    static __device__ __forceinline__ __half from(float x) { return __float2half_rn(x); }
};

template <> struct fa_ref_elem<__nv_bfloat16> {
    typedef __nv_bfloat162 pair;
    static __device__ __forceinline__ float2 to2(pair x) { return __bfloat1622float2(x); }
    static __device__ __forceinline__ pair from2(float2 x) { return __float22bfloat162_rn(x); }
    static __device__ __forceinline__ float to(__nv_bfloat16 x) { return __bfloat162float(x); }
    static __device__ __forceinline__ __nv_bfloat16 from(float x) { return __float2bfloat16_rn(x); }
};

template <> struct fa_ref_elem<float> {
    typedef float2 pair;
    static __device__ __forceinline__ float2 to2(pair x) { return x; }
    static __device__ __forceinline__ pair from2(float2 x) { return x; }
    static __device__ __forceinline__ float to(float x) { return x; }
    static __device__ __forceinline__ float from(float x) { return x; }
};

static __device__ __forceinline__ float fa_ref_neg_inf()
{
    return __int_as_float(0xff800000);
}

static __device__ __forceinline__ bool fa_ref_finite(float x)
{
    return (__float_as_uint(x) & 0x7f800000u) != 0x7f800000u;
}

/* ---- fp32 reference attention --------------------------------------------------------- */

/* Where one (batch, head) slice of every tensor starts, and its lengths. */
struct fa_ref_slice {
    long long q, k, v, o, lse; /* element offsets (k, v: of the head only when paged) */
    int sq, sk;
    const int32_t *pages; /* paged K/V (decode): this sequence's row of the block table */
};

static __device__ __forceinline__ fa_ref_slice fa_ref_locate(const fa_fwd_params &p, int b, int h)
{
    fa_ref_slice s;
    const int hk = h / (p.heads_q / p.heads_kv);
    if (p.cu_seqlens_q) {
        const int32_t *cq = reinterpret_cast<const int32_t *>(p.cu_seqlens_q);
        const int32_t *ck = reinterpret_cast<const int32_t *>(p.cu_seqlens_k);
        const long long q0 = cq[b], k0 = ck[b];
        s.sq = cq[b + 1] - cq[b];
        s.sk = ck[b + 1] - ck[b];
        s.q = q0 * p.q_row_stride;
        s.k = k0 * p.k_row_stride;
        s.v = k0 * p.v_row_stride;
        s.o = q0 * p.o_row_stride;
        s.lse = q0; /* varlen LSE is (heads_q, total_q) */
    } else {
        s.sq = p.seqlen_q;
        s.sk = p.seqused_k ? reinterpret_cast<const int32_t *>(p.seqused_k)[b] : p.seqlen_k;
        s.q = b * p.q_batch_stride;
        s.k = p.page_size ? 0 : b * p.k_batch_stride; /* paged: rows found page by page */
        s.v = p.page_size ? 0 : b * p.v_batch_stride;
        s.o = b * p.o_batch_stride;
        s.lse = b * p.lse_batch_stride;
    }
    s.pages = p.page_size ? reinterpret_cast<const int32_t *>(p.block_table) +
                                (long long)b * p.block_table_stride
                          : nullptr;
    s.q += h * p.q_head_stride;
    s.k += hk * p.k_head_stride;
    s.v += hk * p.v_head_stride;
    s.o += h * p.o_head_stride;
    s.lse += h * p.lse_head_stride;
    return s;
}

/* Copy rows [r0, r0 + ROWS) of a (rows, D) slice into a padded shared tile; rows at or past
 * `valid` become zeros so masked tails never read out of bounds. */
template <typename T, int ROWS, int D>
static __device__ __forceinline__ void fa_ref_load_tile(T *dst, const T *src, long long row_stride,
                                                        int r0, int valid)
{
    typedef typename fa_ref_elem<T>::pair T2;
    constexpr int LD = FA_REF_LD(D);
    for (int idx = threadIdx.x; idx < ROWS * (D / 2); idx += FA_REF_THREADS) {
        const int r = idx / (D / 2), c = (idx % (D / 2)) * 2;
        T2 val = fa_ref_elem<T>::from2(make_float2(0.f, 0.f));
        if (r0 + r < valid)
            val = *reinterpret_cast<const T2 *>(src + (long long)(r0 + r) * row_stride + c);
        *reinterpret_cast<T2 *>(dst + r * LD + c) = val;
    }
}

/* fa_ref_load_tile for K or V: key row j of a paged cache (decode) is row j % page_size of page
 * pages[j / page_size], pages page_stride elements apart; a contiguous one is plain rows. */
template <typename T, int ROWS, int D>
static __device__ __forceinline__ void
fa_ref_load_kv_tile(T *dst, const T *src, const fa_fwd_params &p, const fa_ref_slice &sl,
                    long long row_stride, long long page_stride, int r0)
{
    if (!sl.pages) {
        fa_ref_load_tile<T, ROWS, D>(dst, src, row_stride, r0, sl.sk);
        return;
    }
    typedef typename fa_ref_elem<T>::pair T2;
    constexpr int LD = FA_REF_LD(D);
    for (int idx = threadIdx.x; idx < ROWS * (D / 2); idx += FA_REF_THREADS) {
        const int r = idx / (D / 2), c = (idx % (D / 2)) * 2, j = r0 + r;
        T2 val = fa_ref_elem<T>::from2(make_float2(0.f, 0.f));
        if (j < sl.sk) {
            const long long row =
                sl.pages[j / p.page_size] * page_stride + (long long)(j % p.page_size) * row_stride;
            val = *reinterpret_cast<const T2 *>(src + row + c);
        }
        *reinterpret_cast<T2 *>(dst + r * LD + c) = val;
    }
}

/* s[i][j] = scale * q(row ty + 16 i) . k(col tx + 16 j), with the mask applied as -inf. */
template <typename T, int D, int NJ>
static __device__ __forceinline__ void fa_ref_scores(float (&s)[4][NJ], const T *sQ, const T *sK,
                                                     float scale, int m0, int n0, int sq, int sk,
                                                     int causal)
{
    typedef fa_ref_elem<T> E;
    typedef typename E::pair T2;
    constexpr int LD = FA_REF_LD(D);
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < NJ; j++)
            s[i][j] = 0.f;
#pragma unroll 4
    for (int d = 0; d < D; d += 2) {
        float2 qv[4], kv[NJ];
#pragma unroll
        for (int i = 0; i < 4; i++)
            qv[i] = E::to2(*reinterpret_cast<const T2 *>(sQ + (ty + 16 * i) * LD + d));
#pragma unroll
        for (int j = 0; j < NJ; j++)
            kv[j] = E::to2(*reinterpret_cast<const T2 *>(sK + (tx + 16 * j) * LD + d));
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < NJ; j++)
                s[i][j] = fmaf(qv[i].y, kv[j].y, fmaf(qv[i].x, kv[j].x, s[i][j]));
    }
    const int shift = sk - sq;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int row = m0 + ty + 16 * i;
#pragma unroll
        for (int j = 0; j < NJ; j++) {
            const int col = n0 + tx + 16 * j;
            const bool visible = row < sq && col < sk && (!causal || col <= row + shift);
            s[i][j] = visible ? s[i][j] * scale : fa_ref_neg_inf();
        }
    }
}

/* Reduce over the 16 threads that share a row (lanes differing in the low 4 bits). */
static __device__ __forceinline__ float fa_ref_row_max16(float v)
{
#pragma unroll
    for (int o = 8; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

static __device__ __forceinline__ float fa_ref_row_sum16(float v)
{
#pragma unroll
    for (int o = 8; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/*
 * One CTA computes FA_REF_BM query rows of one (batch, head); grid (ceil(max_sq / 64),
 * heads_q, batch), FA_REF_THREADS threads, FA_REF_SMEM_BYTES(D) dynamic shared memory.
 * OutT is float for the reference; test kernels instantiate it with the input dtype to get a
 * slow but correct "variant".
 */
template <typename T, typename OutT, int D>
static __device__ __forceinline__ void fa_ref_attention_cta(const fa_fwd_params &p, int causal)
{
    typedef fa_ref_elem<T> E;
    typedef fa_ref_elem<OutT> EO;
    constexpr int BM = FA_REF_BM, BN = FA_REF_BN(D), LD = FA_REF_LD(D);
    constexpr int NJ = BN / 16, ND = D / 32;
    static_assert(D % 32 == 0, "head dim must be a multiple of 32");

    T *sQ = reinterpret_cast<T *>(fa_ref_smem);
    T *sK = sQ + BM * LD;
    T *sV = sK + BN * LD;
    float *sP = reinterpret_cast<float *>(sV + BN * LD); /* [BM][BN + 1] */

    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    const int m0 = blockIdx.x * BM;
    const fa_ref_slice sl = fa_ref_locate(p, blockIdx.z, blockIdx.y);
    if (m0 >= sl.sq)
        return; /* varlen: this sequence is shorter than the longest one */
    const T *q = reinterpret_cast<const T *>(p.q) + sl.q;
    const T *k = reinterpret_cast<const T *>(p.k) + sl.k;
    const T *v = reinterpret_cast<const T *>(p.v) + sl.v;

    fa_ref_load_tile<T, BM, D>(sQ, q, p.q_row_stride, m0, sl.sq);

    /* Keys past the last visible one of the tile's last row are never needed. */
    int n_end = sl.sk;
    if (causal) {
        const int last_row = min(m0 + BM, sl.sq) - 1;
        n_end = min(sl.sk, last_row + sl.sk - sl.sq + 1);
    }

    /* Pass 1: the row LSE, merging per-tile maxima and sums in fp32. */
    float row_m[4], row_l[4];
#pragma unroll
    for (int i = 0; i < 4; i++) {
        row_m[i] = fa_ref_neg_inf();
        row_l[i] = 0.f;
    }
    for (int n0 = 0; n0 < n_end; n0 += BN) {
        __syncthreads(); /* the previous tile is consumed (and sQ is visible the first time) */
        fa_ref_load_kv_tile<T, BN, D>(sK, k, p, sl, p.k_row_stride, p.k_batch_stride, n0);
        __syncthreads();
        float s[4][NJ];
        fa_ref_scores<T, D, NJ>(s, sQ, sK, p.softmax_scale, m0, n0, sl.sq, sl.sk, causal);
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float tmax = s[i][0];
#pragma unroll
            for (int j = 1; j < NJ; j++)
                tmax = fmaxf(tmax, s[i][j]);
            tmax = fa_ref_row_max16(tmax);
            const float m_new = fmaxf(row_m[i], tmax);
            float part = 0.f;
            if (m_new != fa_ref_neg_inf()) {
#pragma unroll
                for (int j = 0; j < NJ; j++)
                    part += expf(s[i][j] - m_new); /* exp(-inf) = 0 for masked entries */
            }
            part = fa_ref_row_sum16(part);
            if (m_new != fa_ref_neg_inf()) {
                row_l[i] = row_l[i] * expf(row_m[i] - m_new) + part;
                row_m[i] = m_new;
            }
        }
    }
    float lse[4];
#pragma unroll
    for (int i = 0; i < 4; i++)
        lse[i] = row_m[i] == fa_ref_neg_inf() ? fa_ref_neg_inf() : row_m[i] + logf(row_l[i]);

    /* Pass 2: O = sum_j exp(S_ij - LSE_i) V_j. */
    float2 acc[4][ND];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int jj = 0; jj < ND; jj++)
            acc[i][jj] = make_float2(0.f, 0.f);
    for (int n0 = 0; n0 < n_end; n0 += BN) {
        __syncthreads();
        fa_ref_load_kv_tile<T, BN, D>(sK, k, p, sl, p.k_row_stride, p.k_batch_stride, n0);
        fa_ref_load_kv_tile<T, BN, D>(sV, v, p, sl, p.v_row_stride, p.v_batch_stride, n0);
        __syncthreads();
        float s[4][NJ];
        fa_ref_scores<T, D, NJ>(s, sQ, sK, p.softmax_scale, m0, n0, sl.sq, sl.sk, causal);
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < NJ; j++)
                sP[(ty + 16 * i) * (BN + 1) + tx + 16 * j] =
                    lse[i] == fa_ref_neg_inf() ? 0.f : expf(s[i][j] - lse[i]);
        __syncthreads();
        for (int c = 0; c < BN; c++) {
            float pr[4];
#pragma unroll
            for (int i = 0; i < 4; i++)
                pr[i] = sP[(ty + 16 * i) * (BN + 1) + c];
#pragma unroll
            for (int jj = 0; jj < ND; jj++) {
                const float2 vv = E::to2(
                    *reinterpret_cast<const typename E::pair *>(sV + c * LD + 2 * tx + 32 * jj));
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    acc[i][jj].x = fmaf(pr[i], vv.x, acc[i][jj].x);
                    acc[i][jj].y = fmaf(pr[i], vv.y, acc[i][jj].y);
                }
            }
        }
    }

    OutT *o = reinterpret_cast<OutT *>(p.o) + sl.o;
    float *lse_out = reinterpret_cast<float *>(p.lse) + sl.lse;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int row = m0 + ty + 16 * i;
        if (row >= sl.sq)
            continue;
#pragma unroll
        for (int jj = 0; jj < ND; jj++)
            *reinterpret_cast<typename EO::pair *>(o + (long long)row * p.o_row_stride + 2 * tx +
                                                   32 * jj) = EO::from2(acc[i][jj]);
        if (tx == 0)
            lse_out[row] = lse[i];
    }
}

/* ---- eager baseline: masked row softmax ----------------------------------------------- */

/* Row reductions for TPR threads per row (TPR >= 32, a power of two). Blocks of more than one
 * warp per row go through shared memory; every thread of the block must call these. */
template <int TPR, bool IS_MAX>
static __device__ __forceinline__ float fa_eager_row_reduce(float v, float *red)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        const float w = __shfl_xor_sync(0xffffffffu, v, o);
        v = IS_MAX ? fmaxf(v, w) : v + w;
    }
    if (TPR <= 32)
        return v;
    const int warp = threadIdx.x >> 5;
    __syncthreads(); /* red may still be read by the previous reduction */
    if ((threadIdx.x & 31) == 0)
        red[warp] = v;
    __syncthreads();
    const int first = (threadIdx.x / TPR) * (TPR / 32);
    float r = red[first];
#pragma unroll
    for (int w = 1; w < TPR / 32; w++)
        r = IS_MAX ? fmaxf(r, red[first + w]) : r + red[first + w];
    return r;
}

/* Block size of an eager softmax instance: 256 threads, or one row of TPR threads. */
#define FA_EAGER_BLOCK(TPR) ((TPR) > 256 ? (TPR) : 256)

/*
 * P = softmax(S) per row over the visible columns (bottom-right causal), in fp32 from the
 * 16-bit scores, written back in the input dtype; zeros past the visible length; the row LSE
 * in fp32 (the eager method's own LSE, used as the yardstick of the LSE check). TPR threads
 * per row; each holds VPT vectors of 8 elements in registers so S is read once (the row must
 * fit: TPR * VPT * 8 >= ld). VPT = 0 streams the row from global memory three times instead,
 * for rows too long to cache.
 * Padded varlen (a.cu_q != 0): S holds each (sequence, head) pair's scores padded to the
 * maxima; a row sees its own sequence's keys (bottom-right causal on its own lengths), a row
 * past its sequence's end gets P = 0 and no LSE, and the LSE goes to the packed (heads,
 * total_q) layout: lse[h * lse_head_stride + cu_q[b] + i].
 */
template <typename T, int TPR, int VPT>
static __device__ __forceinline__ void fa_eager_softmax_rows(const fa_softmax_args &a)
{
    typedef fa_ref_elem<T> E;
    typedef typename E::pair T2;
    __shared__ float red[FA_EAGER_BLOCK(TPR) / 32];
    constexpr int ROWS = FA_EAGER_BLOCK(TPR) / TPR;
    const int row = blockIdx.x * ROWS + threadIdx.x / TPR;
    const int lane = threadIdx.x % TPR;
    const bool active = row < a.n_rows;
    const int i = active ? row % a.sq : 0;
    int lq = a.sq, lk = a.sk;
    long long lse_at = (long long)(row / a.sq) * a.lse_head_stride + i;
    if (a.cu_q && active) { /* padded varlen: the row's own sequence */
        const int pair = a.pair0 + row / a.sq, b = pair / a.heads, h = pair % a.heads;
        const int *cq = reinterpret_cast<const int *>(a.cu_q);
        const int *ck = reinterpret_cast<const int *>(a.cu_k);
        lq = cq[b + 1] - cq[b];
        lk = ck[b + 1] - ck[b];
        lse_at = (long long)h * a.lse_head_stride + cq[b] + i;
    }
    const bool real = active && i < lq; /* not a padded row */
    int len = lk;
    if (a.causal)
        len = max(0, min(lk, i + lk - lq + 1));
    if (!real)
        len = 0;
    const T *srow = reinterpret_cast<const T *>(a.s) + (long long)(active ? row : 0) * a.ld;
    T *prow = reinterpret_cast<T *>(a.p) + (long long)(active ? row : 0) * a.ld;

    float m = fa_ref_neg_inf();
    float x[VPT > 0 ? VPT : 1][8];
    if (VPT > 0) {
#pragma unroll
        for (int kk = 0; kk < (VPT > 0 ? VPT : 1); kk++) {
            const int e0 = (lane + kk * TPR) * 8;
            uint4 raw = make_uint4(0, 0, 0, 0);
            if (e0 < len)
                raw = *reinterpret_cast<const uint4 *>(srow + e0);
            const T2 *pr = reinterpret_cast<const T2 *>(&raw);
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const float2 f = E::to2(pr[e]);
                x[kk][2 * e] = e0 + 2 * e < len ? f.x : fa_ref_neg_inf();
                x[kk][2 * e + 1] = e0 + 2 * e + 1 < len ? f.y : fa_ref_neg_inf();
                m = fmaxf(m, fmaxf(x[kk][2 * e], x[kk][2 * e + 1]));
            }
        }
    } else {
        for (int e = lane; e < len; e += TPR)
            m = fmaxf(m, E::to(srow[e]));
    }
    m = fa_eager_row_reduce<TPR, true>(m, red);

    float sum = 0.f;
    if (VPT > 0) {
#pragma unroll
        for (int kk = 0; kk < (VPT > 0 ? VPT : 1); kk++)
#pragma unroll
            for (int e = 0; e < 8; e++) {
                x[kk][e] = m == fa_ref_neg_inf() ? 0.f : expf(x[kk][e] - m);
                sum += x[kk][e];
            }
    } else if (m != fa_ref_neg_inf()) {
        for (int e = lane; e < len; e += TPR)
            sum += expf(E::to(srow[e]) - m);
    }
    sum = fa_eager_row_reduce<TPR, false>(sum, red);
    const float inv = sum > 0.f ? 1.f / sum : 0.f;

    if (active) {
        if (VPT > 0) {
#pragma unroll
            for (int kk = 0; kk < (VPT > 0 ? VPT : 1); kk++) {
                const int e0 = (lane + kk * TPR) * 8;
                if (e0 >= a.ld)
                    continue;
                uint4 raw;
                T2 *pw = reinterpret_cast<T2 *>(&raw);
#pragma unroll
                for (int e = 0; e < 4; e++)
                    pw[e] = E::from2(make_float2(x[kk][2 * e] * inv, x[kk][2 * e + 1] * inv));
                *reinterpret_cast<uint4 *>(prow + e0) = raw;
            }
        } else {
            for (int e = lane; e < a.ld; e += TPR)
                prow[e] = E::from(e < len ? expf(E::to(srow[e]) - m) * inv : 0.f);
        }
        if (lane == 0 && a.lse && real)
            reinterpret_cast<float *>(a.lse)[lse_at] = len > 0 ? m + logf(sum) : fa_ref_neg_inf();
    }
}

/* ---- helpers: fill, compare, flush ---------------------------------------------------- */

static __device__ __forceinline__ unsigned long long fa_ref_mix64(unsigned long long z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Element i of a seeded standard-normal-ish stream: counter-based (no state, any launch
 * shape gives the same values), Box-Muller on two 32-bit uniforms, and pushed away from
 * zero so no input is exactly 0 (an all-zero or zero-heavy input hides indexing bugs). */
static __device__ __forceinline__ float fa_ref_random(unsigned long long seed, long long i)
{
    const unsigned long long h =
        fa_ref_mix64(seed + 0x9E3779B97F4A7C15ull * (unsigned long long)(i + 1));
    const float u1 = ((unsigned)(h >> 40) + 1u) * (1.0f / 16777217.0f); /* (0, 1] */
    const float u2 = (unsigned)(h & 0xffffffu) * (1.0f / 16777216.0f);  /* [0, 1) */
    float r = sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
    if (fabsf(r) < 1.f / 64)
        r = r < 0.f ? r - 1.f / 64 : r + 1.f / 64;
    return r;
}

template <typename T>
static __device__ __forceinline__ void fa_ref_fill_impl(T *x, long long n, unsigned long long seed)
{
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x)
        x[i] = fa_ref_elem<T>::from(fa_ref_random(seed, i));
}

/* Sum the per-thread figures of a block into the result slots with one atomic each. */
static __device__ __forceinline__ void
fa_ref_cmp_flush(unsigned long long *res, float max_abs, unsigned long long nonfinite,
                 unsigned long long poison, unsigned long long mask, double sdiff, double sref)
{
    __shared__ float s_max[32];
    __shared__ unsigned long long s_cnt[3][32];
    __shared__ double s_sum[2][32];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        max_abs = fmaxf(max_abs, __shfl_xor_sync(0xffffffffu, max_abs, o));
        nonfinite += __shfl_xor_sync(0xffffffffu, nonfinite, o);
        poison += __shfl_xor_sync(0xffffffffu, poison, o);
        mask += __shfl_xor_sync(0xffffffffu, mask, o);
        sdiff += __shfl_xor_sync(0xffffffffu, sdiff, o);
        sref += __shfl_xor_sync(0xffffffffu, sref, o);
    }
    const int warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    if ((threadIdx.x & 31) == 0) {
        s_max[warp] = max_abs;
        s_cnt[0][warp] = nonfinite;
        s_cnt[1][warp] = poison;
        s_cnt[2][warp] = mask;
        s_sum[0][warp] = sdiff;
        s_sum[1][warp] = sref;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < nwarps; w++) {
            max_abs = fmaxf(max_abs, s_max[w]);
            nonfinite += s_cnt[0][w];
            poison += s_cnt[1][w];
            mask += s_cnt[2][w];
            sdiff += s_sum[0][w];
            sref += s_sum[1][w];
        }
        /* Non-negative floats order like their bit patterns. */
        atomicMax(&res[FA_CMP_MAX_ABS], (unsigned long long)__float_as_uint(max_abs));
        atomicAdd(&res[FA_CMP_NONFINITE], nonfinite);
        atomicAdd(&res[FA_CMP_POISON], poison);
        atomicAdd(&res[FA_CMP_MASK], mask);
        atomicAdd(reinterpret_cast<double *>(&res[FA_CMP_SUM_SQ_DIFF]), sdiff);
        atomicAdd(reinterpret_cast<double *>(&res[FA_CMP_SUM_SQ_REF]), sref);
    }
}

/* Compare a 16-bit output with its fp32 reference element by element (same layout). The
 * poison pattern is all ones (0xFFFF, a NaN no arithmetic produces: CUDA's canonical NaN is
 * 0x7FFF), so an element still holding it was never written. */
template <typename T>
static __device__ __forceinline__ void fa_ref_compare_o_impl(const T *o, const float *ref,
                                                             long long n, unsigned long long *res)
{
    float max_abs = 0.f;
    unsigned long long nonfinite = 0, poison = 0;
    double sdiff = 0, sref = 0;
    const unsigned short *bits = reinterpret_cast<const unsigned short *>(o);
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        if (sizeof(T) == 2 && bits[i] == 0xffffu) {
            poison++;
            continue;
        }
        const float x = fa_ref_elem<T>::to(o[i]), r = ref[i];
        if (!fa_ref_finite(x)) {
            nonfinite++;
            continue;
        }
        const float d = fabsf(x - r);
        max_abs = fmaxf(max_abs, d);
        sdiff += (double)d * d;
        sref += (double)r * r;
    }
    fa_ref_cmp_flush(res, max_abs, nonfinite, poison, 0, sdiff, sref);
}

/* Compare an LSE with the reference LSE. A row whose reference is -inf (it sees no key) must
 * be -inf too; any other disagreement in finiteness is a mask error, counted apart from the
 * numerical error. The poison is 0xFFFFFFFF. */
static __device__ __forceinline__ void fa_ref_compare_lse_impl(const float *lse, const float *ref,
                                                               long long n, unsigned long long *res)
{
    float max_abs = 0.f;
    unsigned long long nonfinite = 0, poison = 0, mask = 0;
    double sdiff = 0, sref = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const float x = lse[i], r = ref[i];
        if (__float_as_uint(x) == 0xffffffffu) {
            poison++;
            continue;
        }
        const bool x_empty = x == fa_ref_neg_inf(), r_empty = r == fa_ref_neg_inf();
        if (x_empty || r_empty) {
            mask += x_empty != r_empty;
            continue;
        }
        if (!fa_ref_finite(x)) {
            nonfinite++;
            continue;
        }
        const float d = fabsf(x - r);
        max_abs = fmaxf(max_abs, d);
        sdiff += (double)d * d;
        sref += (double)r * r;
    }
    fa_ref_cmp_flush(res, max_abs, nonfinite, poison, mask, sdiff, sref);
}

/* ---- the module the harness loads: one per (dtype, head dim) --------------------------- */
#if defined(FA_REF_ELEMENT) && defined(FA_REF_HEAD_DIM)
typedef FA_REF_ELEMENT fa_ref_T;

/* What the host must agree on, written to a buffer by a one-thread launch (a kernel rather than
 * a __device__ variable: whole-program cubins keep such variables module-local): the params
 * size the kernels were compiled with, the reference's dynamic shared memory, threads and rows
 * per CTA, the softmax argument size, the head dim and the element size. */
#define FA_REF_CONFIG_SLOTS 8
extern "C" __global__ void fa_ref_get_config(int *out)
{
    const int cfg[FA_REF_CONFIG_SLOTS] = {FA_FWD_PARAMS_SIZE,    FA_REF_SMEM_BYTES(FA_REF_HEAD_DIM),
                                          FA_REF_THREADS,        FA_REF_BM,
                                          FA_SOFTMAX_ARGS_SIZE,  FA_REF_HEAD_DIM,
                                          (int)sizeof(fa_ref_T), 0};
    for (int i = 0; i < FA_REF_CONFIG_SLOTS; i++)
        out[i] = cfg[i];
}

extern "C" __global__ void __launch_bounds__(FA_REF_THREADS)
    fa_ref_attention(const __grid_constant__ fa_fwd_params p, int causal)
{
    fa_ref_attention_cta<fa_ref_T, float, FA_REF_HEAD_DIM>(p, causal);
}

extern "C" __global__ void fa_ref_fill(fa_ref_T *x, long long n, unsigned long long seed)
{
    fa_ref_fill_impl<fa_ref_T>(x, n, seed);
}

extern "C" __global__ void fa_ref_compare_o(const fa_ref_T *o, const float *ref, long long n,
                                            unsigned long long *res)
{
    fa_ref_compare_o_impl<fa_ref_T>(o, ref, n, res);
}

extern "C" __global__ void fa_ref_compare_lse(const float *lse, const float *ref, long long n,
                                              unsigned long long *res)
{
    fa_ref_compare_lse_impl(lse, ref, n, res);
}

/* L2 flush between timed repetitions: a read of a buffer twice the L2 size (through L2, not
 * L1) evicts whatever the previous repetition left there, and writes back its dirty lines
 * (the outputs) here, outside the timed events. It used to write the buffer, which left the L2
 * full of dirty lines whose write-back then ran inside the next timed kernel: 9 us of a
 * memory-bound 180 us decode kernel on an H100 (bench/results/2026-12-06_session20,
 * flush_probe.py). The sum is stored only if it equals `value`, which no real buffer gives in
 * practice; the condition keeps the loads alive. */
extern "C" __global__ void fa_ref_l2_flush(uint4 *buf, long long n, unsigned value)
{
    unsigned acc = 0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        const uint4 x = __ldcg(buf + i);
        acc += x.x ^ x.y ^ x.z ^ x.w;
    }
    if (acc == value)
        buf[0].x = acc;
}

/* GPU idle before a timed repetition (fa_timing_opts.gap_us): one warp waits ns nanoseconds
 * of the global timer, so the stream holds the next launch back that long while the SMs idle,
 * as PyTorch's torch.cuda._sleep does before each of bench/peers.py's timings. */
extern "C" __global__ void fa_ref_gpu_idle(unsigned long long ns)
{
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        __nanosleep(1000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while (t - t0 < ns);
}

/* The padded varlen eager baseline's copies (FlashAttention's tests pad varlen batches the
 * same way): packed rows (total, heads, D through row and head strides, sequence b at rows
 * [cu[b], cu[b + 1])) to a dense (batch, heads, maxlen, D) tensor, zeros past each sequence's
 * end (to_dense = 1); or the dense tensor's real rows back to the packed ones (to_dense = 0).
 * vec8: strides and bases allow 16-byte copies. */
extern "C" __global__ void fa_eager_varlen_pad(unsigned short *packed, unsigned short *dense,
                                               const int *cu, int batch, int heads, int maxlen,
                                               long long row_stride, long long head_stride,
                                               int to_dense, int vec8)
{
    const int V = vec8 ? 8 : 1, per_row = FA_REF_HEAD_DIM / V;
    const long long n = (long long)batch * heads * maxlen * per_row;
    for (long long u = blockIdx.x * (long long)blockDim.x + threadIdx.x; u < n;
         u += (long long)gridDim.x * blockDim.x) {
        const int c = (int)(u % per_row);
        const long long r = u / per_row; /* (b, h, i) */
        const int i = (int)(r % maxlen), h = (int)(r / maxlen % heads),
                  b = (int)(r / maxlen / heads);
        const long long d = r * FA_REF_HEAD_DIM + (long long)c * V;
        const bool in = i < cu[b + 1] - cu[b];
        const long long s =
            ((long long)cu[b] + i) * row_stride + h * head_stride + (long long)c * V;
        if (vec8) {
            if (to_dense)
                *reinterpret_cast<uint4 *>(dense + d) =
                    in ? *reinterpret_cast<const uint4 *>(packed + s) : make_uint4(0, 0, 0, 0);
            else if (in)
                *reinterpret_cast<uint4 *>(packed + s) =
                    *reinterpret_cast<const uint4 *>(dense + d);
        } else if (to_dense) {
            dense[d] = in ? packed[s] : (unsigned short)0;
        } else if (in) {
            packed[s] = dense[d];
        }
    }
}

#define FA_EAGER_SOFTMAX_INSTANCE(TPR, VPT)                                                        \
    extern "C" __global__ void __launch_bounds__(FA_EAGER_BLOCK(TPR))                              \
        fa_eager_softmax_t##TPR##_v##VPT(const fa_softmax_args a)                                  \
    {                                                                                              \
        fa_eager_softmax_rows<fa_ref_T, TPR, VPT>(a);                                              \
    }
/* harness/fa_runner.c picks among exactly these: the smallest TPR whose 4 vectors per thread
 * cover the row, then 8 vectors at 512 threads, then the streaming fallback. */
FA_EAGER_SOFTMAX_INSTANCE(32, 4)
FA_EAGER_SOFTMAX_INSTANCE(64, 4)
FA_EAGER_SOFTMAX_INSTANCE(128, 4)
FA_EAGER_SOFTMAX_INSTANCE(256, 4)
FA_EAGER_SOFTMAX_INSTANCE(512, 4)
FA_EAGER_SOFTMAX_INSTANCE(512, 8)
FA_EAGER_SOFTMAX_INSTANCE(512, 0)
#undef FA_EAGER_SOFTMAX_INSTANCE
#endif /* FA_REF_ELEMENT && FA_REF_HEAD_DIM */

#endif /* FA_REFERENCE_CUH */
