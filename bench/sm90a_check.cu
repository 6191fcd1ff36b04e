/*
 * sm90a_check.cu -- standalone correctness and speed check of the sm90a (Hopper) kernels.
 *
 * This file implements a developer tool, independent of the tuner, harness and DB, in the
 * manner of bench/kernel_check.cu: it instantiates a short list of fa_fwd_sm90a variants
 * with nvcc (sm_90a), encodes their Q/K/V TMA tensor maps with cuTensorMapEncodeTiled
 * (reached through cudaGetDriverEntryPointByVersion, so no -lcuda), checks each variant
 * against the fp32 GPU reference on random inputs over awkward shapes, then times the bf16
 * ones on FlashAttention's benchmark grid. Build and run with bench/sm90a_check.sh.
 *
 * Correctness, per variant and shape (the protocol of kernel_check.cu):
 *   inputs  fresh random normal values (never zeros); O and LSE poisoned with NaN and
 *           surrounded by guard zones that must stay untouched
 *   ref     bench/fa_check_ref.cuh: fp32, causal bottom-right aligned, GQA, rows that see
 *           nothing give O = 0, LSE = -inf; lowp = the same with S, P, O rounded to dtype
 *   pass    max|O - ref| <= 2 * max|O_lowp - ref| + 1e-5      (FlashAttention's rule)
 *           max|LSE - ref| <= 2 * max|LSE_lowp - ref| + 1e-3  (same -inf pattern)
 *           no NaN/Inf anywhere in O; every element of O and LSE that is no output (guards,
 *           padding between O rows) keeps its poison
 *   shapes  lengths 1, 17, 255, 257, 333, 1000, 1024, 4097 both ways (seqlen_q != seqlen_k,
 *           causal rows that see nothing), GQA ratios 1, 4 and hq (MQA), BSHD and BHSD,
 *           packed QKV (row stride (hq + 2 hkv) D) with padded O rows; varlen variants run
 *           the varlen shapes instead: packed sequences of lengths 0, 1, 5, 17, 257, 300,
 *           1000, 4097 with len_q != len_k both ways per sequence, empty sequences (q, k or
 *           both), GQA 1, 4 and MQA, packed QKV
 * Speed: bf16, batch*seqlen = 16384 tokens, hidden 2048 (heads = 2048 / hdim), N = 512 ..
 *   16384, L2 flushed (256 MB memset) before every rep, median of 30 reps after 3
 *   warm-ups, TFLOP/s = 4*B*H*N*N*D / t, halved for causal. Varlen variants time the same
 *   problem packed (B sequences of N).
 *
 * Usage: sm90a_check [--no-time] [--no-check] [--only SUBSTR] [--shape SUBSTR] [--reps N]
 *   --only keeps the variants whose name contains SUBSTR, --shape the check shapes.
 * Exit: 0 all pass, 3 any numerical mismatch, 1 CUDA error, 2 usage.
 * Choose the variants with -DFA_CHECK_LIST=N (0 coverage, 1 timing seeds, 2 tile exploration,
 * 3 modes: varlen, head dims 32 and 96, packed QKV) or define FA_CHECK_VARIANTS.
 */
#include <cuda.h>
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

#include "sm90a/fa_fwd_sm90a.cuh"
#include "fa_check_ref.cuh"

/* X(Element, HEAD_DIM, BLOCK_N, CWG, STAGES, IS_CAUSAL, OVERLAP, PINGPONG, PERSISTENT,
     IS_VARLEN) */
#ifndef FA_CHECK_LIST
#define FA_CHECK_LIST 0
#endif
#ifndef FA_CHECK_VARIANTS
#if FA_CHECK_LIST == 0 /* coverage: every head dim x dtype x causal, each schedule, 2 and 3        \
                          warpgroups, 1-4 stages, odd BLOCK_N, persistent */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, false, false, false)                             \
    X(__nv_bfloat16, 128, 128, 2, 2, true, true, false, false, false)                              \
    X(__half, 128, 176, 2, 2, false, true, false, false, false)                                    \
    X(__half, 128, 128, 3, 2, true, false, false, false, false)                                    \
    X(__nv_bfloat16, 64, 128, 3, 2, false, true, false, false, false)                              \
    X(__half, 64, 192, 2, 4, true, false, false, false, false)                                     \
    X(__half, 64, 128, 2, 1, false, true, false, false, false)                                     \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, false, false, false)                               \
    X(__half, 256, 64, 2, 2, false, false, false, false, false)                                    \
    X(__half, 256, 80, 2, 2, true, true, false, false, false)                                      \
    X(__nv_bfloat16, 192, 112, 2, 2, false, true, false, false, false)                             \
    X(__half, 192, 96, 2, 2, true, false, false, false, false)                                     \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, true, false, false)                              \
    X(__half, 128, 176, 2, 2, true, true, true, false, false)                                      \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, true, false, false)                                \
    X(__half, 64, 128, 3, 2, false, false, true, false, false)                                     \
    X(__nv_bfloat16, 64, 128, 3, 2, true, false, true, false, false)                               \
    X(__half, 256, 48, 2, 3, false, true, true, false, false)                                      \
    X(__nv_bfloat16, 128, 128, 2, 2, true, true, true, true, false)                                \
    X(__half, 128, 128, 3, 2, false, false, false, true, false)                                    \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, false, true, false)                                \
    X(__half, 64, 128, 3, 2, true, true, false, true, false)                                       \
    X(__nv_bfloat16, 192, 112, 2, 2, true, true, false, true, false)                               \
    X(__half, 64, 192, 2, 4, false, true, true, true, false)                                       \
    X(__nv_bfloat16, 128, 128, 3, 2, true, false, false, true, false)
#elif FA_CHECK_LIST == 1 /* timing, bf16: FA3's tiles, each schedule, persistent or not */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 64, 128, 3, 2, false, true, false, false, false)                              \
    X(__nv_bfloat16, 64, 128, 3, 2, false, true, false, true, false)                               \
    X(__nv_bfloat16, 64, 192, 3, 2, false, false, false, false, false)                             \
    X(__nv_bfloat16, 64, 192, 3, 2, false, false, false, true, false)                              \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, false, false, false)                             \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, false, true, false)                              \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, true, true, false)                               \
    X(__nv_bfloat16, 128, 176, 2, 2, false, true, false, true, false)                              \
    X(__nv_bfloat16, 128, 128, 3, 2, false, false, false, false, false)                            \
    X(__nv_bfloat16, 128, 128, 3, 2, false, false, false, true, false)                             \
    X(__nv_bfloat16, 256, 80, 2, 2, false, true, false, false, false)                              \
    X(__nv_bfloat16, 256, 80, 2, 2, false, true, false, true, false)                               \
    X(__nv_bfloat16, 256, 80, 2, 2, false, true, true, true, false)                                \
    X(__nv_bfloat16, 64, 128, 3, 2, true, true, false, false, false)                               \
    X(__nv_bfloat16, 64, 128, 3, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 64, 192, 3, 2, true, false, false, false, false)                              \
    X(__nv_bfloat16, 64, 192, 3, 2, true, false, false, true, false)                               \
    X(__nv_bfloat16, 128, 128, 2, 2, true, true, false, false, false)                              \
    X(__nv_bfloat16, 128, 128, 2, 2, true, true, false, true, false)                               \
    X(__nv_bfloat16, 128, 128, 2, 2, true, true, true, true, false)                                \
    X(__nv_bfloat16, 128, 176, 2, 2, true, true, false, true, false)                               \
    X(__nv_bfloat16, 128, 128, 3, 2, true, false, false, false, false)                             \
    X(__nv_bfloat16, 128, 128, 3, 2, true, false, false, true, false)                              \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, false, false, false)                               \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, true, true, false)
#elif FA_CHECK_LIST == 2 /* tile exploration, bf16: smaller tiles for causal and short N */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 64, 64, 3, 2, true, true, false, true, false)                                 \
    X(__nv_bfloat16, 64, 96, 3, 2, true, true, false, true, false)                                 \
    X(__nv_bfloat16, 64, 64, 2, 2, true, true, false, true, false)                                 \
    X(__nv_bfloat16, 64, 128, 2, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 64, 96, 3, 3, true, true, false, true, false)                                 \
    X(__nv_bfloat16, 128, 64, 2, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 128, 96, 2, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 128, 64, 3, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 128, 96, 3, 2, true, false, false, true, false)                               \
    X(__nv_bfloat16, 128, 80, 2, 3, true, true, false, true, false)                                \
    X(__nv_bfloat16, 256, 64, 2, 2, true, true, false, true, false)                                \
    X(__nv_bfloat16, 256, 64, 2, 2, true, true, false, false, false)                               \
    X(__nv_bfloat16, 256, 48, 2, 3, true, true, false, true, false)                                \
    X(__nv_bfloat16, 256, 64, 2, 2, true, false, false, true, false)                               \
    X(__nv_bfloat16, 128, 112, 3, 2, false, false, false, true, false)                             \
    X(__nv_bfloat16, 128, 144, 2, 2, false, true, false, true, false)                              \
    X(__nv_bfloat16, 64, 160, 3, 2, false, false, false, true, false)                              \
    X(__nv_bfloat16, 64, 224, 2, 2, false, true, false, true, false)
#elif FA_CHECK_LIST == 3 /* modes (issue 15): varlen on every head dim, each pipeline shape,       \
                            2 and 3 warpgroups, persistent with staged and direct O; head dims     \
                            32 and 96 fixed and varlen; fixed-length packed QKV; the fixed         \
                            twins of two varlen tiles (timing: varlen overhead) */
#define FA_CHECK_VARIANTS(X)                                                                       \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, false, false, true)                              \
    X(__half, 128, 128, 3, 2, true, false, false, true, true)                                      \
    X(__nv_bfloat16, 128, 176, 2, 2, true, true, true, false, true)                                \
    X(__half, 64, 192, 2, 4, false, true, true, true, true)                                        \
    X(__nv_bfloat16, 64, 128, 3, 2, true, true, false, true, true)                                 \
    X(__nv_bfloat16, 256, 80, 2, 2, true, true, false, true, true)                                 \
    X(__half, 256, 64, 2, 2, false, false, false, false, true)                                     \
    X(__nv_bfloat16, 192, 96, 2, 2, true, true, false, false, true)                                \
    X(__half, 32, 128, 2, 2, true, true, false, true, true)                                        \
    X(__nv_bfloat16, 32, 192, 3, 2, false, false, false, false, false)                             \
    X(__nv_bfloat16, 96, 128, 2, 2, false, true, false, true, true)                                \
    X(__half, 96, 112, 3, 2, true, false, false, false, false)                                     \
    X(__nv_bfloat16, 128, 128, 3, 2, false, false, false, true, false)                             \
    X(__nv_bfloat16, 128, 128, 3, 2, false, false, false, true, true)                              \
    X(__nv_bfloat16, 128, 128, 2, 2, false, true, false, false, false)
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

static_assert(sizeof(fa::sm90a_tmap) == sizeof(CUtensorMap) &&
                  alignof(fa::sm90a_tmap) == alignof(CUtensorMap),
              "fa::sm90a_tmap must mirror CUtensorMap");

typedef void (*fa_kernel_fn)(fa::sm90a_args);

struct Variant {
    const char *name;
    bool bf16;
    int hd, bn, cwg, stages;
    bool causal, overlap, pingpong, persistent, varlen;
    fa_kernel_fn fn;
    int smem;
};

#define FA_CHECK_ENTRY(T, D, N, W, S, C, OV, PP, PS, VL)                                           \
    {#T "," #D "," #N "," #W "," #S "," #C "," #OV "," #PP "," #PS "," #VL,                        \
     fa::elem_traits<T>::is_bf16,                                                                  \
     D,                                                                                            \
     N,                                                                                            \
     W,                                                                                            \
     S,                                                                                            \
     C,                                                                                            \
     OV,                                                                                           \
     PP,                                                                                           \
     PS,                                                                                           \
     VL,                                                                                           \
     fa_fwd_sm90a<T, D, N, W, S, C, OV, PP, PS, VL>,                                               \
     fa::sm90a_traits<T, D, N, W, S, C, OV, PP, PS, VL>::SMEM},

static const Variant g_variants[] = {FA_CHECK_VARIANTS(FA_CHECK_ENTRY)};

/* ---- tensor maps ----------------------------------------------------------------------- */

typedef CUresult (*encode_tiled_fn)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *,
                                    const cuuint64_t *, const cuuint64_t *, const cuuint32_t *,
                                    const cuuint32_t *, CUtensorMapInterleave, CUtensorMapSwizzle,
                                    CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

static encode_tiled_fn get_encode()
{
    static encode_tiled_fn fn = nullptr;
    if (!fn) {
        cudaDriverEntryPointQueryResult q;
        void *ptr = nullptr;
        CK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000,
                                            cudaEnableDefault, &q));
        if (q != cudaDriverEntryPointSuccess || !ptr) {
            fprintf(stderr, "cannot find cuTensorMapEncodeTiled in the driver\n");
            exit(1);
        }
        fn = (encode_tiled_fn)ptr;
    }
    return fn;
}

/* 4-d map {D, rows, heads, batch} over a 16-bit tensor with element strides (row, head,
   batch), box {64, box_rows, 1, 1}, 128-byte swizzle, zero fill out of bounds. varlen: the
   ragged map of fa_plan_sm90a.h instead (rows = the maximum length; batch unused):
   dims {D, L, heads, FA_SM90A_RAGGED_ROWS}, strides {row, head, row}, base ptr - L rows. */
static fa::sm90a_tmap make_tmap(uint64_t ptr, bool bf16, int D, int rows, int heads, int batch,
                                int64_t row_stride, int64_t head_stride, int64_t batch_stride,
                                int box_rows, bool varlen)
{
    CUtensorMap map;
    if (varlen) {
        rows = FA_SM90A_RAGGED_L(rows);
        ptr -= (uint64_t)rows * (uint64_t)row_stride * 2;
        batch = FA_SM90A_RAGGED_ROWS;
        batch_stride = row_stride;
    }
    const cuuint64_t dims[4] = {(cuuint64_t)D, (cuuint64_t)rows, (cuuint64_t)heads,
                                (cuuint64_t)batch};
    const cuuint64_t strides[3] = {(cuuint64_t)row_stride * 2, (cuuint64_t)head_stride * 2,
                                   (cuuint64_t)batch_stride * 2};
    const cuuint32_t box[4] = {64, (cuuint32_t)box_rows, 1, 1};
    const cuuint32_t estr[4] = {1, 1, 1, 1};
    CUresult r = get_encode()(
        &map, bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 4,
        (void *)ptr, dims, strides, box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE,
        CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
        CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) {
        fprintf(stderr, "cuTensorMapEncodeTiled failed (%d): D %d rows %d heads %d batch %d\n",
                (int)r, D, rows, heads, batch);
        exit(1);
    }
    fa::sm90a_tmap out;
    memcpy(&out, &map, sizeof out);
    return out;
}

/* Blocks of a persistent launch: the SM count for timing; a small odd number during the
   correctness checks, so that every block loops over many tiles. */
static int g_sms = 132;

static void launch_variant(const Variant &v, const fa_fwd_params &p, cudaStream_t st)
{
    const int bm = 64 * v.cwg;
    fa::sm90a_tmap tq = make_tmap(p.q, v.bf16, v.hd, p.seqlen_q, p.heads_q, p.batch, p.q_row_stride,
                                  p.q_head_stride, p.q_batch_stride, bm, v.varlen);
    fa::sm90a_tmap tk =
        make_tmap(p.k, v.bf16, v.hd, p.seqlen_k, p.heads_kv, p.batch, p.k_row_stride,
                  p.k_head_stride, p.k_batch_stride, v.bn, v.varlen);
    fa::sm90a_tmap tv =
        make_tmap(p.v, v.bf16, v.hd, p.seqlen_k, p.heads_kv, p.batch, p.v_row_stride,
                  p.v_head_stride, p.v_batch_stride, v.bn, v.varlen);
    const int tiles = sm90a_num_tiles(p.seqlen_q, p.heads_q, p.batch, bm);
    dim3 grid(v.persistent ? std::min(tiles, g_sms) : tiles);
    fa::sm90a_args a;
    a.p = p;
    a.tm_q = tq;
    a.tm_k = tk;
    a.tm_v = tv;
    void *args[] = {(void *)&a};
    CK(cudaLaunchKernel((const void *)v.fn, grid, dim3(128 * (v.cwg + 1)), args, v.smem, st));
}

/* ---- correctness ----------------------------------------------------------------------- */

/*
 * A check shape. Fixed length: batch x (sq, sk), BSHD or BHSD. Varlen (nseq > 0): sequence b
 * has lengths (lq[b], lk[b]), packed (total, heads, D) with cu_seqlens; seqlen_q/k are the
 * maxima. packed: Q, K and V are slices of one (rows, hq + 2 hkv, D) buffer (FlashAttention's
 * qkvpacked layout with GQA: row stride (hq + 2 hkv) D > heads D) and O rows are padded by 8
 * elements, whose poison must survive.
 */
struct Shape {
    const char *name;
    int batch, hq, hkv, sq, sk;
    bool bhsd;
    int nseq; /* varlen: sequences (0: fixed length) */
    int lq[6], lk[6];
    bool packed;
};

static const Shape g_shapes[] = {
    {"q1_k4097", 2, 4, 4, 1, 4097, false},
    {"q17_k4097", 1, 4, 4, 17, 4097, false},
    {"q1000_k4097", 1, 2, 2, 1000, 4097, false},
    {"q4097_k1000", 1, 2, 2, 4097, 1000, false}, /* causal: rows that see nothing */
    {"q1000_k300", 1, 2, 2, 1000, 300, false},
    {"q17_k17", 3, 2, 2, 17, 17, false},
    {"q1_k1", 2, 2, 2, 1, 1, false},
    {"q257_k255_mqa", 2, 4, 1, 257, 255, false},
    {"q333_k333_gqa4", 2, 8, 2, 333, 333, false},
    {"q200_k513_bhsd", 2, 4, 4, 200, 513, true},
    {"q1024_k1024", 1, 2, 2, 1024, 1024, false},
    {"q333_k333_packed_gqa4", 2, 8, 2, 333, 333, false, 0, {}, {}, true},
    /* varlen: odd and empty sequences, sq == sk and sq != sk both ways per sequence */
    {"vl_odd", 0, 4, 4, 0, 0, false, 5, {1, 17, 0, 1000, 4097}, {1, 17, 0, 1000, 4097}},
    {"vl_qk_gqa4", 0, 8, 2, 0, 0, false, 6, {17, 1000, 1, 0, 300, 4097}, {4097, 17, 0, 5, 1000, 1}},
    {"vl_mqa", 0, 4, 1, 0, 0, false, 3, {1000, 4097, 1}, {1000, 4097, 1}},
    {"vl_empty", 0, 2, 2, 0, 0, false, 4, {0, 0, 5, 0}, {0, 3, 7, 0}},
    {"vl_packed_gqa4", 0, 8, 2, 0, 0, false, 4, {17, 1000, 0, 257}, {17, 1000, 0, 257}, true},
};

static void launch_ref(const Variant &v, const fa_fwd_params &p, bool lowp, float *o, float *lse)
{
    dim3 grid(p.seqlen_q, p.heads_q, p.batch);
    size_t smem = (size_t)(p.head_dim + p.seqlen_k + 32) * sizeof(float);
    const bool vl = p.cu_seqlens_q != 0;
    if (v.bf16) {
        CK(cudaFuncSetAttribute(ref_attention<__nv_bfloat16>,
                                cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
        ref_attention<__nv_bfloat16><<<grid, 256, smem>>>(p, v.causal, vl, lowp, o, lse);
    } else {
        CK(cudaFuncSetAttribute(ref_attention<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                (int)smem));
        ref_attention<__half><<<grid, 256, smem>>>(p, v.causal, vl, lowp, o, lse);
    }
    CK(cudaGetLastError());
}

struct Row {
    std::string variant, shape;
    bool pass;
    double err, tol, lse_err, lse_tol, tflops;
};

static const size_t GUARD = 4096; /* elements of guard zone on each side of O and LSE */

/* The host-side layout of one case: sequences, strides, element counts. */
struct Layout {
    int batch, max_q, max_k;
    std::vector<int> cu_q, cu_k; /* varlen: prefix sums of the lengths */
    int64_t rows_q, rows_k;      /* packed rows (varlen) or batch * length */
    int64_t qkv_elems;           /* packed: the one Q/K/V buffer */
    int64_t q_elems, k_elems, o_elems, lse_elems;
};

/* Strides of p (and l's sizes) for shape s at head dim D. */
static void set_layout(fa_fwd_params &p, Layout &l, const Shape &s, int D)
{
    const bool vl = s.nseq > 0;
    l.batch = vl ? s.nseq : s.batch;
    l.max_q = vl ? 0 : s.sq;
    l.max_k = vl ? 0 : s.sk;
    l.cu_q.assign(1, 0);
    l.cu_k.assign(1, 0);
    if (vl)
        for (int b = 0; b < s.nseq; ++b) {
            l.cu_q.push_back(l.cu_q.back() + s.lq[b]);
            l.cu_k.push_back(l.cu_k.back() + s.lk[b]);
            l.max_q = std::max(l.max_q, s.lq[b]);
            l.max_k = std::max(l.max_k, s.lk[b]);
        }
    l.rows_q = vl ? l.cu_q.back() : (int64_t)s.batch * s.sq;
    l.rows_k = vl ? l.cu_k.back() : (int64_t)s.batch * s.sk;
    const int64_t qrow = s.packed ? (int64_t)(s.hq + 2 * s.hkv) * D : (int64_t)s.hq * D;
    const int64_t krow = s.packed ? qrow : (int64_t)s.hkv * D;
    if (s.bhsd) { /* (B, H, S, D) */
        p.q_batch_stride = (int64_t)s.hq * s.sq * D, p.q_head_stride = (int64_t)s.sq * D,
        p.q_row_stride = D;
        p.k_batch_stride = (int64_t)s.hkv * s.sk * D, p.k_head_stride = (int64_t)s.sk * D,
        p.k_row_stride = D;
    } else { /* (B, S, H, D), or packed rows */
        p.q_row_stride = qrow, p.q_head_stride = D;
        p.q_batch_stride = vl ? 0 : (int64_t)s.sq * qrow;
        p.k_row_stride = krow, p.k_head_stride = D;
        p.k_batch_stride = vl ? 0 : (int64_t)s.sk * krow;
    }
    p.v_batch_stride = p.k_batch_stride, p.v_row_stride = p.k_row_stride,
    p.v_head_stride = p.k_head_stride;
    p.o_batch_stride = p.q_batch_stride, p.o_head_stride = p.q_head_stride,
    p.o_row_stride = p.q_row_stride;
    if (s.packed) { /* O rows padded by 8 elements (16 bytes) */
        p.o_row_stride = (int64_t)s.hq * D + 8;
        p.o_batch_stride = vl ? 0 : (int64_t)s.sq * p.o_row_stride;
    }
    if (vl) { /* (Hq, total_q) */
        p.lse_head_stride = l.rows_q;
        p.lse_batch_stride = 0;
    } else {
        p.lse_head_stride = s.sq;
        p.lse_batch_stride = (int64_t)s.hq * s.sq;
    }
    l.qkv_elems = s.packed ? l.rows_q * qrow : 0;
    l.q_elems = l.rows_q * s.hq * D;
    l.k_elems = l.rows_k * s.hkv * D;
    l.o_elems = s.packed ? l.rows_q * p.o_row_stride : l.q_elems;
    l.lse_elems = l.rows_q * s.hq;
}

/* One correctness case. Returns true on pass; a fixed-length variant skips varlen shapes and
   a varlen one fixed-length shapes (returns false in *ran). */
static bool check_case(const Variant &v, const Shape &s, Row &row, bool *ran)
{
    *ran = v.varlen == (s.nseq > 0);
    if (!*ran)
        return true;
    const int D = v.hd, es = 2;
    const bool bf = v.bf16;
    fa_fwd_params p;
    memset(&p, 0, sizeof(p));
    Layout l;
    set_layout(p, l, s, D);
    if (s.packed && l.rows_q != l.rows_k) { /* a bug in g_shapes */
        fprintf(stderr, "shape %s: packed QKV needs equal Q and K rows\n", s.name);
        exit(2);
    }
    const size_t nq = (size_t)l.q_elems, nk = (size_t)l.k_elems, no = (size_t)l.o_elems;
    const size_t nl = (size_t)l.lse_elems;

    void *q, *k, *vv, *o_alloc, *qkv = nullptr;
    int *cu = nullptr;
    float *lse_alloc, *oref, *olow, *lref, *llow;
    static uint32_t seed = 1;
    if (s.packed) {
        CK(cudaMalloc(&qkv, (size_t)l.qkv_elems * es));
        CK(bf ? fill<__nv_bfloat16>(qkv, l.qkv_elems, seed++)
              : fill<__half>(qkv, l.qkv_elems, seed++));
        q = qkv;
        k = (char *)qkv + (size_t)s.hq * D * es;
        vv = (char *)qkv + (size_t)(s.hq + s.hkv) * D * es;
    } else {
        CK(cudaMalloc(&q, nq * es));
        CK(cudaMalloc(&k, nk * es));
        CK(cudaMalloc(&vv, nk * es));
        if (bf) {
            CK(fill<__nv_bfloat16>(q, nq, seed++));
            CK(fill<__nv_bfloat16>(k, nk, seed++));
            CK(fill<__nv_bfloat16>(vv, nk, seed++));
        } else {
            CK(fill<__half>(q, nq, seed++));
            CK(fill<__half>(k, nk, seed++));
            CK(fill<__half>(vv, nk, seed++));
        }
    }
    CK(cudaMalloc(&o_alloc, (no + 2 * GUARD) * es));
    CK(cudaMalloc(&lse_alloc, (nl + 2 * GUARD) * sizeof(float)));
    CK(cudaMalloc(&oref, (nq + 1) * sizeof(float)));
    CK(cudaMalloc(&olow, (nq + 1) * sizeof(float)));
    CK(cudaMalloc(&lref, (nl + 1) * sizeof(float)));
    CK(cudaMalloc(&llow, (nl + 1) * sizeof(float)));
    /* 0xFF bytes: NaN in fp16, bf16 and fp32 */
    CK(cudaMemset(o_alloc, 0xFF, (no + 2 * GUARD) * es));
    CK(cudaMemset(lse_alloc, 0xFF, (nl + 2 * GUARD) * sizeof(float)));
    char *o = (char *)o_alloc + GUARD * es;
    float *lse = lse_alloc + GUARD;
    if (s.nseq > 0) {
        CK(cudaMalloc(&cu, 2 * (s.nseq + 1) * sizeof(int)));
        CK(cudaMemcpy(cu, l.cu_q.data(), (s.nseq + 1) * sizeof(int), cudaMemcpyHostToDevice));
        CK(cudaMemcpy(cu + s.nseq + 1, l.cu_k.data(), (s.nseq + 1) * sizeof(int),
                      cudaMemcpyHostToDevice));
        p.cu_seqlens_q = (uint64_t)cu;
        p.cu_seqlens_k = (uint64_t)(cu + s.nseq + 1);
    }

    p.q = (uint64_t)q, p.k = (uint64_t)k, p.v = (uint64_t)vv, p.o = (uint64_t)o;
    p.lse = (uint64_t)lse;
    p.batch = l.batch, p.heads_q = s.hq, p.heads_kv = s.hkv;
    p.seqlen_q = l.max_q, p.seqlen_k = l.max_k, p.head_dim = D;
    p.softmax_scale = 1.f / sqrtf((float)D);
    p.softmax_scale_log2 = p.softmax_scale * 1.4426950408889634f;

    CK(cudaFuncSetAttribute((const void *)v.fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            v.smem));
    launch_variant(v, p, 0);
    CK(cudaGetLastError());
    CK(cudaDeviceSynchronize());
    launch_ref(v, p, false, oref, lref);
    launch_ref(v, p, true, olow, llow);
    CK(cudaDeviceSynchronize());

    std::vector<uint16_t> ho(no + 2 * GUARD);
    std::vector<float> hl(nl + 2 * GUARD), hor(nq), hol(nq), hlr(nl), hll(nl);
    CK(cudaMemcpy(ho.data(), o_alloc, ho.size() * 2, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hl.data(), lse_alloc, hl.size() * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hor.data(), oref, nq * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hol.data(), olow, nq * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hlr.data(), lref, nl * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hll.data(), llow, nl * 4, cudaMemcpyDeviceToHost));

    /* Every element of O and LSE that is no output (guards, padding) must keep its poison;
       every output must be written. */
    std::vector<char> is_out(no + 2 * GUARD, 0), is_lse(nl + 2 * GUARD, 0);
    long bad_nan = 0, bad_guard = 0, bad_lse_inf = 0;
    double err = 0, err_low = 0, lerr = 0, lerr_low = 0;
    for (int b = 0; b < l.batch; ++b) {
        const int sqb = s.nseq ? s.lq[b] : s.sq;
        for (int i = 0; i < sqb; ++i) {
            const int64_t rg = s.nseq ? (int64_t)l.cu_q[b] + i : (int64_t)b * s.sq + i;
            for (int h = 0; h < s.hq; ++h) {
                const int64_t ob =
                    (s.nseq ? rg * p.o_row_stride : b * p.o_batch_stride + i * p.o_row_stride) +
                    h * p.o_head_stride;
                for (int d = 0; d < D; ++d) {
                    is_out[GUARD + ob + d] = 1;
                    float x = h2f(ho[GUARD + ob + d], bf);
                    float r = hor[(rg * s.hq + h) * D + d], lo = hol[(rg * s.hq + h) * D + d];
                    if (!std::isfinite(x)) {
                        ++bad_nan;
                        continue;
                    }
                    err = std::max(err, (double)fabsf(x - r));
                    err_low = std::max(err_low, (double)fabsf(lo - r));
                }
                const int64_t li =
                    (s.nseq ? rg : b * p.lse_batch_stride + i) + h * p.lse_head_stride;
                is_lse[GUARD + li] = 1;
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
    }
    for (size_t i = 0; i < ho.size(); ++i)
        if (!is_out[i] && ho[i] != 0xFFFF)
            ++bad_guard;
    for (size_t i = 0; i < hl.size(); ++i) {
        uint32_t a;
        memcpy(&a, &hl[i], 4);
        if (!is_lse[i] && a != 0xFFFFFFFFu)
            ++bad_guard;
    }
    const double tol = 2 * err_low + 1e-5, ltol = 2 * lerr_low + 1e-3;
    const bool ok = !bad_nan && !bad_guard && !bad_lse_inf && err <= tol && lerr <= ltol;
    if (!ok)
        fprintf(stderr,
                "  FAIL %s %s: err %.3g (tol %.3g) lse %.3g (tol %.3g) nonfinite %ld guard %ld "
                "lse-inf %ld\n",
                v.name, s.name, err, tol, lerr, ltol, bad_nan, bad_guard, bad_lse_inf);
    row = {v.name, s.name, ok, err, tol, lerr, ltol, -1};

    if (s.packed)
        cudaFree(qkv);
    else
        cudaFree(q), cudaFree(k), cudaFree(vv);
    cudaFree(o_alloc), cudaFree(lse_alloc), cudaFree(cu);
    cudaFree(oref), cudaFree(olow), cudaFree(lref), cudaFree(llow);
    return ok;
}

/* ---- speed ----------------------------------------------------------------------------- */

/* Median time in ms of one launch on FA's grid (BSHD, bf16), L2 flushed before each rep. A
   varlen variant runs the same problem packed: B sequences of length N, cu_seqlens b * N. */
static double time_case(const Variant &v, int N, void *flush, size_t flush_bytes, int reps)
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
    int *cu = nullptr;
    if (v.varlen) {
        std::vector<int> h(B + 1);
        for (int b = 0; b <= B; ++b)
            h[b] = b * N;
        CK(cudaMalloc(&cu, (B + 1) * sizeof(int)));
        CK(cudaMemcpy(cu, h.data(), (B + 1) * sizeof(int), cudaMemcpyHostToDevice));
        p.cu_seqlens_q = p.cu_seqlens_k = (uint64_t)cu;
        p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = p.o_batch_stride = 0;
        p.lse_head_stride = (int64_t)B * N, p.lse_batch_stride = 0;
    }
    CK(cudaFuncSetAttribute((const void *)v.fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                            v.smem));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int w = 0; w < 3; ++w)
        launch_variant(v, p, 0);
    CK(cudaDeviceSynchronize());
    std::vector<float> ts;
    for (int r = 0; r < reps; ++r) {
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
    cudaFree(q), cudaFree(k), cudaFree(vv), cudaFree(o), cudaFree(lse), cudaFree(cu);
    return ts[ts.size() / 2];
}

int main(int argc, char **argv)
{
    bool do_time = true, do_check = true;
    const char *only = nullptr, *shape_only = nullptr;
    int reps = 30;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--no-time"))
            do_time = false;
        else if (!strcmp(argv[i], "--no-check"))
            do_check = false;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
            shape_only = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = std::max(1, atoi(argv[++i]));
        else {
            fprintf(stderr,
                    "usage: %s [--no-time] [--no-check] [--only SUBSTR] [--shape SUBSTR] "
                    "[--reps N]\n",
                    argv[0]);
            return 2;
        }
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    fprintf(stderr, "device: %s (sm_%d%d, %d SMs)\n", prop.name, prop.major, prop.minor,
            prop.multiProcessorCount);
    g_sms = 7;
    if (prop.major != 9) {
        fprintf(stderr, "sm90a kernels need a Hopper GPU (compute capability 9.0)\n");
        return 1;
    }

    std::vector<Row> rows;
    bool all_ok = true;
    for (const Variant &v : g_variants) {
        if (only && !strstr(v.name, only))
            continue;
        if (v.smem > (int)prop.sharedMemPerBlockOptin) {
            fprintf(stderr, "skip %s: %d B smem > device limit\n", v.name, v.smem);
            continue;
        }
        cudaFuncAttributes fa;
        CK(cudaFuncGetAttributes(&fa, (const void *)v.fn));
        fprintf(stderr, "variant %s: %d regs, %zu B local, %d B smem\n", v.name, fa.numRegs,
                fa.localSizeBytes, v.smem);
        if (!do_check)
            continue;
        for (const Shape &s : g_shapes) {
            if (shape_only && !strstr(s.name, shape_only))
                continue;
            Row r;
            bool ran;
            all_ok &= check_case(v, s, r, &ran);
            if (ran)
                rows.push_back(r);
        }
    }
    g_sms = prop.multiProcessorCount;
    if (do_time) {
        const size_t flush_bytes = 256u << 20;
        void *flush;
        CK(cudaMalloc(&flush, flush_bytes));
        for (const Variant &v : g_variants) {
            if (only && !strstr(v.name, only))
                continue;
            if (!v.bf16 || (v.hd != 64 && v.hd != 128 && v.hd != 256))
                continue;
            if (v.smem > (int)prop.sharedMemPerBlockOptin)
                continue;
            for (int N = 512; N <= 16384; N *= 2) {
                double ms = time_case(v, N, flush, flush_bytes, reps);
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

    printf("%-44s %-18s %-4s %10s %10s %10s %8s\n", "variant(T,D,N,WG,S,C,OV,PP,PS)", "shape", "ok",
           "max_err", "tol", "lse_err", "TFLOP/s");
    for (const Row &r : rows) {
        if (r.tflops >= 0)
            printf("%-44s %-18s %-4s %10s %10s %10s %8.1f\n", r.variant.c_str(), r.shape.c_str(),
                   "-", "-", "-", "-", r.tflops);
        else
            printf("%-44s %-18s %-4s %10.3g %10.3g %10.3g %8s\n", r.variant.c_str(),
                   r.shape.c_str(), r.pass ? "pass" : "FAIL", r.err, r.tol, r.lse_err, "-");
    }
    int npass = 0, nfail = 0;
    for (const Row &r : rows)
        if (r.tflops < 0)
            (r.pass ? npass : nfail)++;
    printf("%d passed, %d failed\n", npass, nfail);
    return all_ok ? 0 : 3;
}
