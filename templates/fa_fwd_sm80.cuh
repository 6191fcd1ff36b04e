/*
 * fa_fwd_sm80.cuh -- flash-attention forward, sm80 family (FlashAttention-2 design).
 *
 * This file implements one templated CUDA kernel, fa_fwd_sm80<...>, that computes
 *     O   = softmax(scale * Q K^T + mask) V            per (batch, query head)
 *     LSE = log(sum_j exp(scale * s_ij)) over visible keys (natural log, fp32)
 * for fp16/bf16 inputs with fp32 accumulation, on any GPU with mma.sync m16n8k16
 * (sm80, sm86, sm89, sm90). It is JIT-compiled by NVRTC for every point of the tuning
 * space and can equally be instantiated with nvcc. Runtime arguments, strides and the
 * shared-memory formula come from fa_params.h. Causal masking is BOTTOM-RIGHT aligned:
 * query i sees key j iff j <= i + seqlen_k - seqlen_q; a row that sees no key writes
 * O = 0 and LSE = -inf.
 *
 *   // q, o: (B, Nq, Hq, D) or (B, Hq, Nq, D) through strides; k, v: (B, Nk, Hkv, D) ...
 *   // lse:  (B, Hq, Nq) fp32, or (Hq, total_q) for varlen
 *
 * Design, step by step (KERNELS.md "sm80 family"):
 *  1. Split-Q. One CTA per (BLOCK_M query rows, head, batch). WARPS warps stack along M,
 *     each owns ROWS_PER_WARP = BLOCK_M / WARPS rows (MF = ROWS_PER_WARP / 16 row
 *     fragments), so a row's softmax never leaves its warp. Causal grids run the
 *     longest row blocks first (blockIdx.x reversed).
 *  2. Shared memory (FA_SM80_SMEM_BYTES exactly): one Q tile [BLOCK_M][D], STAGES K tiles
 *     and STAGES V tiles [BLOCK_N][D], all row-major with rows of D*2 bytes and 16-byte
 *     chunks XOR-swizzled inside each 128-byte line: chunk c of row r lives at chunk
 *     c ^ (r & 7) when D/8 is a multiple of 8 (D = 64, 128, 192, 256) and at
 *     c ^ ((r >> 1) & 3) when D/8 = 4 (mod 8) (D = 32, 96, rows of 64 (mod 128) bytes).
 *     Either way eight consecutive rows at one logical chunk fall in eight distinct
 *     16-byte bank groups, which is exactly what one ldmatrix phase reads and what a
 *     row-contiguous cp.async phase writes: both are bank-conflict free. The rule depends
 *     only on the row, so any BLOCK_N that is a multiple of 16 (48, 80, 112, ...) works.
 *  3. Loads: cp.async.cg 16 B per thread, row-contiguous (coalesced), tail rows
 *     (>= seqlen) zero-filled through the src-size operand. Commit groups in the fixed
 *     order K0(+Q), V0, K1, V1, ... ; KV block `it` lives in ring slot it % STAGES.
 *     Iteration `it`: wait K(it), barrier, issue V(it+STAGES-1); S = Q K^T; softmax;
 *     wait V(it), barrier, issue K(it+STAGES); O += P V. Both waits are
 *     cp.async.wait_group 2*(STAGES-1). STAGES = 1 is FA2's schedule (V(n) flies under
 *     QK^T(n), K(n+1) under PV(n), no cross-iteration prefetch); each extra stage adds
 *     one KV block of look-ahead.
 *  4. S = Q K^T with mma.sync m16n8k16: A (Q) via ldmatrix.x4 from smem each k-step, or
 *     once into registers when Q_IN_REGS; B (K) via ldmatrix.x4 (two n8 tiles per load).
 *     The k-steps run in groups of the swizzle period (4 k-steps for D/8 % 8 == 0, else 2);
 *     when the O and S accumulators alone need >= 96 registers the groups form a rolled
 *     loop, so ptxas cannot keep more than about one group of fragments in flight.
 *  5. Masking only where needed: a warp masks block n iff it holds columns >= seqlen_k
 *     (ragged last block) or, causal, crosses the diagonal for the warp's first row.
 *     KV blocks run from the last visible one down to 0, so masked blocks come first and
 *     causal CTAs never touch blocks above the diagonal.
 *  6. Online softmax in registers: row max over the thread's columns, then over the 4
 *     threads of a quad with shfl.xor; P = exp2(s * scale*log2e - m * scale*log2e) (one
 *     FFMA + ex2.approx); the per-thread partial row sum rescaled by
 *     alpha = exp2((m_old - m_new) * scale*log2e), -inf maxima guarded so masked rows give
 *     0. O is rescaled lazily: only when some row max of the warp moved (alpha is exactly
 *     1 otherwise), which late KV blocks rarely do.
 *  7. P stays in registers: the fp32 S accumulator of n8 tiles (2k, 2k+1) is exactly the
 *     A fragment of PV k-step k once rounded and packed to 16-bit; V comes in through
 *     ldmatrix.x4.trans.
 *  8. Epilogue: quad-reduce the row sums, O /= l, LSE = m*scale + log(l); O rounded to
 *     16-bit, staged through the warp's own rows of the (now free) Q tile and written
 *     back as coalesced 16-byte stores predicated on row < seqlen_q. Only the warp's own
 *     rows are touched, so this needs __syncwarp, not __syncthreads.
 *  All register arrays are indexed by compile-time constants inside fully unrolled loops.
 *  The index algebra (loader mapping, swizzle, ldmatrix lane addresses, fragment <-> row/
 *  column maps, masking, epilogue staging) was checked by a lane-level host emulation of
 *  ldmatrix/mma semantics against an fp32 reference before any GPU run.
 *
 * Legality (static_assert below): BLOCK_M / WARPS a multiple of 16; BLOCK_N % 16 == 0;
 * HEAD_DIM % 32 == 0 and <= 256 (the swizzle needs D/8 = 0 or 4 mod 8, so 48/80/112/...
 * head dims are rejected); 1 <= STAGES <= 3; smem <= 227 KB (232448 B). Register
 * pressure is not asserted: ptxas reports it and the tuner rejects spilling variants.
 *
 * Changelog (compile-time resources from `nvcc -cubin -Xptxas=-v`, CUDA 13.0; GPU numbers
 * are added by whoever measures them):
 *  v0  straightforward version (per-call swizzle math, 64-bit pointers kept live, S packed
 *      inside the PV loop): hd128 128x64 w4 s1 -> 255 regs, 88 B stack, 104 B spills.
 *      Cause: LICM hoisted every loop-invariant ldmatrix/cp.async address (dozens of
 *      registers) out of the KV loop, on top of 128 O + 64 S accumulators.
 *  v1  addresses built per iteration from an opaque lane id; loader walks one 64-bit
 *      pointer; swizzle xor issued inside the ldmatrix asm (one base register per
 *      operand); pointers to O/LSE rebuilt in the epilogue; P packed to 16-bit right
 *      after the softmax. sm_90, bf16, non-causal, Q in smem, 0 spills / 0 stack:
 *        hd128 128x64  w4 s1 255 regs   hd128 128x64 w4 s2 255 regs
 *        hd64  128x128 w4 s1 255 regs   hd256 64x64  w4 s1 233 regs
 *        hd256 128x64  w8 s1 233 regs   (peak live at the QK^T k-loop: 249 of 255)
 *      Q_IN_REGS at hd128 128x64 w4 spills (+64 registers of Q fragments): rejected.
 *      But sm_80, and causal/varlen modes, of hd128 128x64 w4 spilled 24-48 B (row sums):
 *      at the peak ptxas held 40 registers of ldmatrix results (10 loads in flight) and 7
 *      xor'ed addresses on top of 200 accumulator/statistics registers.
 *  v2  QK^T k-loop rolled by swizzle period when accumulators >= 96 registers (see 4);
 *      CTA coordinates / sequence start / valid rows re-derived in the epilogue instead
 *      of living across the loop; lazy O rescale; cp.async with .L2::128B.
 *      FA2 seeds, bf16, Q in smem, STAGES 1 and 2, all four {causal, varlen} modes, on
 *      sm_80 and sm_90 (32 instances each): 0 spills, 0 stack. Registers:
 *        hd128 128x64  w4 249-255   hd64  128x128 w4 252-255
 *        hd256 64x64   w4 221-235   hd256 128x64  w8 222-239
 *      Spread: every head dim x {fp16, bf16} x {causal, varlen} at 64x64 w4 s2 (96
 *      instances): 0 spills; hd128 tile sweep (M, N, W, S, Q_IN_REGS; 126 per arch):
 *      spills only where the accumulators cannot fit (128 x >=96 w4: 224-256 accumulator registers)
 *      and for Q_IN_REGS with 32 rows per warp (+32..64 registers of Q fragments).
 *      Static SASS LDSM count of hd128 128x64 drops 80 -> 56 (rolled body emitted once;
 *      dynamic count unchanged). 64x64 w4 hd128 now fits ptxas's 128-register occupancy
 *      target on sm_80 without the 16 B spill it had.
 *
 * Measured on the GPU (H100 80GB HBM3, driver 580.159.04, CUDA 13.0; bf16, FlashAttention's
 * grid: batch*N = 16k tokens, hidden 2048, N = 512..16k; TFLOP/s = 4*B*H*N^2*D/t, halved for
 * causal; FA2 = PyTorch 2.11 SDPA flash measured in the same call; bench/results/README.md):
 *  v1 correctness: 63/63 coverage cases of bench/kernel_check.cu pass (all head dims, both
 *      dtypes, causal with seqlen_q != seqlen_k, varlen with an empty sequence, GQA, MQA,
 *      BHSD, lengths 1/17/1000/4097).
 *  v1 FA2's seed tiles, untuned (stages 1, Q in smem): hd128 128x64 w4 non-causal 301-357,
 *      causal 202-341; hd64 128x128 w4 causal 187-311; hd256 64x64 w4 253-302 / 180-289.
 *  v1 tuned by fa-tune (exhaustive over the space, 12 problems per head dim): fa-tune / FA2
 *      = 1.06-1.74 at hd128, 1.09-1.54 at hd64, 1.01-1.30 at hd256: faster on 36/36 shapes
 *      (peak 385 TFLOP/s at hd128 N=16k, 50% of the measured bf16 GEMM ceiling). cuDNN's
 *      Hopper kernels remain ahead on most shapes (fa-tune / cuDNN 0.46-1.38). Tiles that
 *      won: BLOCK_N 80 at hd128 (not a power of two), 128x128/128x112 with 2-3 stages at
 *      hd64, 64x48 with Q in registers for causal hd256.
 *  v2 (this version): 72/72 coverage cases; 288/288 checks of tests/kernel's GPU test (every
 *      head dim x dtype x causal x varlen x gqa {1,4,hq}, two tiles); re-tuned at hd128:
 *      fa-tune / FA2 = 1.03-1.45 (303-392 TFLOP/s non-causal), the same as v1 within the
 *      run-to-run noise of this GPU (+-3%). The v2 changes fixed spills; no speed-up from
 *      the rolled k-loop or the lazy rescale was measured, and no per-step ablation was run.
 */
#ifndef FA_FWD_SM80_CUH
#define FA_FWD_SM80_CUH

#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include "fa_params.h"
#include "fa_ptx.cuh"

/* -inf without math.h (NVRTC has no INFINITY macro). */
#define FA_NEG_INF (__int_as_float((int)0xff800000u))

namespace fa
{

/* Swizzled byte offset of 16-byte chunk `chunk` of row `row` in a [rows][D] tile. */
template <int HEAD_DIM> __device__ __forceinline__ uint32_t sm80_swz(int row, int chunk)
{
    constexpr int CHUNKS = HEAD_DIM / 8;
    const int x = (CHUNKS % 8 == 0) ? (row & 7) : ((row >> 1) & 3);
    return (uint32_t)(row * (HEAD_DIM * 2) + ((chunk ^ x) << 4));
}

/*
 * Returns v unchanged, but the compiler can no longer see where it came from. Used on
 * thread/lane ids inside the KV loop so that cheap per-thread address arithmetic is
 * recomputed where it is used instead of being hoisted out of the loop, where it would
 * pin registers for the whole kernel (the accumulators need all of them).
 */
__device__ __forceinline__ int opaque(int v)
{
    asm volatile("" : "+r"(v));
    return v;
}

/* XOR group width in 16-byte chunks: 8 (a 128-byte line) or 4 (half a line). */
template <int HEAD_DIM> struct sm80_swz_group {
    static constexpr int G = (HEAD_DIM / 8) % 8 == 0 ? 8 : 4;
};

/*
 * Cooperative cp.async of a [ROWS][HEAD_DIM] tile whose row 0 is at `g` (row stride
 * `stride` elements) into the swizzled smem tile at `s`. Rows >= rows_valid are
 * zero-filled (their source address is clamped to row 0, which is always valid).
 *
 * Thread mapping: thread t copies chunk columns (t % G) + G*j of rows t/G + RS*i, with
 * RS = NT/G a multiple of 8. The row's XOR key is then the same for every (i, j), so all
 * smem offsets are one per-thread register plus immediates, and the gmem address walks
 * by one 64-bit add per i. Per warp instruction: 32/G full 16*G-byte row segments.
 */
template <typename Element, int HEAD_DIM, int ROWS, int NT>
__device__ __forceinline__ void sm80_load_tile(uint32_t s, const Element *g, int64_t stride,
                                               int rows_valid, int tid)
{
    constexpr int G = sm80_swz_group<HEAD_DIM>::G;
    constexpr int CHUNKS = HEAD_DIM / 8;
    constexpr int RS = NT / G;
    constexpr int RI = (ROWS + RS - 1) / RS;
    static_assert(NT % G == 0 && RS % 8 == 0, "loader needs NT/G to be a multiple of 8");
    tid = opaque(tid);
    const int r0 = tid / G, c0 = tid % G;
    const int x = (G == 8) ? (r0 & 7) : ((r0 >> 1) & 3);
    const uint32_t s0 = s + r0 * (HEAD_DIM * 2) + ((c0 ^ x) << 4);
    const Element *g0 = g + c0 * 8;
    const Element *gi = g0 + (int64_t)r0 * stride;
    const int64_t step = (int64_t)RS * stride;
    /* Compare against a per-call remainder so no per-row index stays live across calls. */
    const int rem_valid = rows_valid - r0;
#pragma unroll
    for (int i = 0; i < RI; ++i) {
        if (ROWS % RS == 0 || r0 + i * RS < ROWS) {
            const bool valid = i * RS < rem_valid;
            const Element *src = valid ? gi : g0;
#pragma unroll
            for (int j = 0; j < CHUNKS / G; ++j)
                cp_async_16(s0 + i * RS * (HEAD_DIM * 2) + j * G * 16, src + j * G * 8, valid);
        }
        gi += step;
    }
}

/*
 * ldmatrix addressing with one register per lane and operand. Fragment k-step kk reads
 * logical chunk 2*kk + chk (chk = 0/1 per lane) of rows whose XOR key x is fixed per lane
 * (every row offset used is a multiple of 8). Writing 2*kk = G*H + 2e (0 <= e < G/2):
 *     ((2*kk + chk) ^ x) << 4 = G*16*H + (((chk ^ x) << 4) ^ (2e << 4))
 * The per-lane base rx = tile + row*ROW_BYTES + ((chk ^ x) << 4) has zero bits where
 * 2e << 4 lands (tile and row*ROW_BYTES are multiples of 16*G), so every fragment address
 * is (rx ^ const) + const: one LOP3 + IADD per ldmatrix, no per-k-step registers.
 */
template <int HEAD_DIM> struct sm80_lds {
    static constexpr int G = sm80_swz_group<HEAD_DIM>::G;
    static constexpr int ROW_BYTES = HEAD_DIM * 2;
    uint32_t rx;
    __device__ __forceinline__ sm80_lds(uint32_t tile, int row, int chk)
    {
        const int x = (G == 8) ? (row & 7) : ((row >> 1) & 3);
        rx = tile + (uint32_t)(row * ROW_BYTES + ((chk ^ x) << 4));
    }
    /* ldmatrix.x4 of k-step kk (chunk pair 2*kk, 2*kk+1), rows shifted by row_add (a
       multiple of 8); kk and row_add must be constants after unrolling */
    template <bool TRANS>
    __device__ __forceinline__ void load(uint32_t (&r)[4], int kk, int row_add) const
    {
        ldmatrix_x4_xor<TRANS>(r, rx, (uint32_t)((2 * (kk % (G / 2))) << 4),
                               (uint32_t)((kk / (G / 2)) * (G * 16) + row_add * ROW_BYTES));
    }
};

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,
          bool Q_IN_REGS, bool IS_CAUSAL, bool IS_VARLEN>
struct sm80_traits {
    static constexpr int NT = WARPS * 32;
    static constexpr int ROWS_PER_WARP = BLOCK_M / WARPS;
    static constexpr int MF = ROWS_PER_WARP / 16; /* 16-row fragments per warp */
    static constexpr int NF = BLOCK_N / 8;        /* n8 tiles of S */
    static constexpr int DF = HEAD_DIM / 8;       /* n8 tiles of O */
    static constexpr int KQ = HEAD_DIM / 16;      /* k-steps of Q K^T */
    static constexpr int KP = BLOCK_N / 16;       /* k-steps of P V */
    static constexpr int CHUNKS = HEAD_DIM / 8;   /* 16-byte chunks per row */
    static constexpr int ROW_BYTES = HEAD_DIM * 2;
    static constexpr int Q_BYTES = BLOCK_M * ROW_BYTES;
    static constexpr int KV_BYTES = BLOCK_N * ROW_BYTES;
    static constexpr int SMEM = FA_SM80_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES);

    static_assert(elem_traits<Element>::is_bf16 || !elem_traits<Element>::is_bf16,
                  "Element must be __half or __nv_bfloat16");
    static_assert(sizeof(Element) == 2, "16-bit elements only");
    static_assert(WARPS >= 1 && WARPS <= 16, "1..16 warps");
    static_assert(BLOCK_M % WARPS == 0 && ROWS_PER_WARP % 16 == 0,
                  "BLOCK_M / WARPS must be a multiple of 16 (warps stack along M)");
    static_assert(BLOCK_N % 16 == 0 && BLOCK_N >= 16 && BLOCK_N <= 256,
                  "BLOCK_N must be a multiple of 16 in [16, 256]");
    static_assert(HEAD_DIM % 32 == 0 && HEAD_DIM >= 32 && HEAD_DIM <= 256,
                  "HEAD_DIM must be a multiple of 32 in [32, 256] (swizzle needs D/8 % 4 == 0)");
    static_assert(STAGES >= 1 && STAGES <= 3, "STAGES must be 1, 2 or 3");
    static_assert(SMEM == Q_BYTES + 2 * STAGES * KV_BYTES, "smem layout != FA_SM80_SMEM_BYTES");
    static_assert(SMEM <= 232448, "shared memory exceeds 227 KB");
    static_assert((ROWS_PER_WARP * CHUNKS) % 32 == 0, "epilogue: warp rows x chunks % 32");
};

/*
 * The online softmax of one 16-row fragment of a warp's S tile (mma.sync m16n8 C layout: NF
 * n8 column blocks, rows t/4 and t/4 + 8 as the halves hh = 0, 1), shared by the sm80 forward
 * kernel and the splitkv decode kernel: the new row max over the quad, the rescale factor
 * alpha of the old sum and O, P = exp2(S * sl2 - max * sl2) in place, the running sum, and P
 * packed to 16-bit A fragments of the PV mma (KP = NF / 2 k16 steps). sl2 = scale * log2(e).
 */
template <typename Element, int NF, int KP>
__device__ __forceinline__ void sm80_softmax_fragment(float (&acc)[NF][4], float (&row_max)[2],
                                                      float (&row_sum)[2], float (&row_alpha)[2],
                                                      uint32_t (&p)[KP][4], float sl2)
{
#pragma unroll
    for (int hh = 0; hh < 2; ++hh) {
        float mx = row_max[hh];
#pragma unroll
        for (int j = 0; j < NF; ++j)
            mx = fmaxf(mx, fmaxf(acc[j][2 * hh], acc[j][2 * hh + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        /* A row that has seen only masked keys keeps max -inf; use 0 as its
           offset so exp2(-inf - 0) = 0 instead of NaN. */
        const float mx_g = (mx == FA_NEG_INF) ? 0.f : mx;
        const float mx_s = mx_g * sl2;
        /* (m_old - m_new) * c is exactly 0 when the max did not move, so alpha is
           exactly 1 (the callers' lazy O rescale relies on it); m_old = -inf gives 0. */
        const float alpha = fa::exp2_approx((row_max[hh] - mx_g) * sl2);
        row_max[hh] = mx;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < NF; ++j)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                const float pe = fa::exp2_approx(fmaf(acc[j][2 * hh + e], sl2, -mx_s));
                acc[j][2 * hh + e] = pe;
                sum += pe;
            }
        row_sum[hh] = row_sum[hh] * alpha + sum;
        row_alpha[hh] = alpha;
    }
#pragma unroll
    for (int kk = 0; kk < KP; ++kk) {
        p[kk][0] = fa::pack2<Element>(acc[2 * kk][0], acc[2 * kk][1]);
        p[kk][1] = fa::pack2<Element>(acc[2 * kk][2], acc[2 * kk][3]);
        p[kk][2] = fa::pack2<Element>(acc[2 * kk + 1][0], acc[2 * kk + 1][1]);
        p[kk][3] = fa::pack2<Element>(acc[2 * kk + 1][2], acc[2 * kk + 1][3]);
    }
}

/* Zero an [MF][N][4] fp32 mma accumulator array (the S tile of a KV block, or O). */
template <int MF, int N> __device__ __forceinline__ void sm80_zero_acc(float (&acc)[MF][N][4])
{
#pragma unroll
    for (int f = 0; f < MF; ++f)
#pragma unroll
        for (int j = 0; j < N; ++j)
#pragma unroll
            for (int e = 0; e < 4; ++e)
                acc[f][j][e] = 0.f;
}

/* The online softmax's start (this kernel's and the decode kernel's): O = 0, and each row's
 * running max -inf and sum 0. */
template <int MF, int DF>
__device__ __forceinline__ void sm80_init_o(float (&acc_o)[MF][DF][4], float (&row_max)[MF][2],
                                            float (&row_sum)[MF][2])
{
#pragma unroll
    for (int f = 0; f < MF; ++f) {
#pragma unroll
        for (int d = 0; d < DF; ++d)
#pragma unroll
            for (int e = 0; e < 4; ++e)
                acc_o[f][d][e] = 0.f;
        row_max[f][0] = row_max[f][1] = FA_NEG_INF;
        row_sum[f][0] = row_sum[f][1] = 0.f;
    }
}

/*
 * The lazy O rescale after sm80_softmax_fragment: multiply the warp's O accumulators by the
 * rows' alpha only when some row max of the warp moved (alpha == 1 exactly otherwise:
 * ex2(0) = 1); late KV blocks rarely move the max.
 */
template <int MF, int DF>
__device__ __forceinline__ void sm80_rescale_o(float (&acc_o)[MF][DF][4],
                                               const float (&row_alpha)[MF][2])
{
    bool moved = false;
#pragma unroll
    for (int f = 0; f < MF; ++f)
        moved |= (row_alpha[f][0] != 1.f) | (row_alpha[f][1] != 1.f);
    if (__any_sync(0xffffffffu, moved)) {
#pragma unroll
        for (int f = 0; f < MF; ++f)
#pragma unroll
            for (int d = 0; d < DF; ++d) {
                acc_o[f][d][0] *= row_alpha[f][0];
                acc_o[f][d][1] *= row_alpha[f][0];
                acc_o[f][d][2] *= row_alpha[f][1];
                acc_o[f][d][3] *= row_alpha[f][1];
            }
    }
}

/* O += P V with P from registers (sm80_softmax_fragment's A fragments) and V through the
 * transposing ldmatrix loader v_lds (an sm80_lds), one k16 step of the KV tile at a time. */
template <typename Element, int MF, int DF, int KP, typename Lds>
__device__ __forceinline__ void sm80_pv(float (&acc_o)[MF][DF][4], const uint32_t (&p)[MF][KP][4],
                                        const Lds &v_lds)
{
#pragma unroll
    for (int kk = 0; kk < KP; ++kk) {
#pragma unroll
        for (int dp = 0; dp < DF / 2; ++dp) {
            uint32_t bv[4];
            v_lds.template load<true>(bv, dp, kk * 16);
#pragma unroll
            for (int f = 0; f < MF; ++f) {
                fa::mma_16816<Element>(acc_o[f][2 * dp], p[f][kk], bv[0], bv[1]);
                fa::mma_16816<Element>(acc_o[f][2 * dp + 1], p[f][kk], bv[2], bv[3]);
            }
        }
    }
}

} // namespace fa

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,
          bool Q_IN_REGS, bool IS_CAUSAL, bool IS_VARLEN>
__global__ void __launch_bounds__(WARPS * 32) fa_fwd_sm80(const __grid_constant__ fa_fwd_params p)
{
    using T = fa::sm80_traits<Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, Q_IN_REGS,
                              IS_CAUSAL, IS_VARLEN>;
    constexpr int NT = T::NT, RPW = T::ROWS_PER_WARP, MF = T::MF, NF = T::NF, DF = T::DF;
    constexpr int KQ = T::KQ, KP = T::KP, CHUNKS = T::CHUNKS;
    constexpr int U = fa::sm80_swz_group<HEAD_DIM>::G / 2; /* swizzle period in k-steps */
    constexpr bool ROLL_QK = !Q_IN_REGS && KQ > U && MF * (DF + NF) * 4 >= 96;
    constexpr int WAIT = 2 * (STAGES - 1);

    extern __shared__ __align__(128) unsigned char fa_sm80_smem[];

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int g = lane >> 2; /* mma groupID: fragment row */
    const int t4 = lane & 3; /* thread in group: fragment column pair */

    /* Longest causal row blocks first: they carry the most KV blocks. */
    const int m_block = IS_CAUSAL ? (int)(gridDim.x - 1 - blockIdx.x) : (int)blockIdx.x;
    const int h = blockIdx.y;
    const int b = blockIdx.z;
    const int hk = h / (p.heads_q / p.heads_kv);

    /* ---- this CTA's sequence ------------------------------------------------------- */
    int sq, sk, q_start = 0, k_start = 0; /* lengths; first packed row (varlen) */
    if constexpr (IS_VARLEN) {
        const int *cu_q = reinterpret_cast<const int *>(p.cu_seqlens_q);
        const int *cu_k = reinterpret_cast<const int *>(p.cu_seqlens_k);
        q_start = cu_q[b];
        k_start = cu_k[b];
        sq = cu_q[b + 1] - q_start;
        sk = cu_k[b + 1] - k_start;
        if (m_block * BLOCK_M >= sq)
            return;
    } else {
        sq = p.seqlen_q;
        sk = p.seqlen_k;
    }
    /* Element offset of (row, head) of this sequence in a tensor with the given strides.
       Pointers are rebuilt from the (constant-bank) params where they are used rather
       than kept live as 64-bit registers across the KV loop. */
    auto offset_of = [&](int64_t batch_stride, int64_t row_stride, int64_t head_stride, int start,
                         int row, int head) -> int64_t {
        if constexpr (IS_VARLEN)
            return (int64_t)(start + row) * row_stride + (int64_t)head * head_stride;
        else
            return (int64_t)b * batch_stride + (int64_t)row * row_stride +
                   (int64_t)head * head_stride;
    };
    const int row0 = m_block * BLOCK_M;         /* first query row of this CTA */
    const int rows_q = min(BLOCK_M, sq - row0); /* valid query rows, >= 1 */
    auto o_ptr = [&]() {
        return reinterpret_cast<Element *>(p.o) +
               offset_of(p.o_batch_stride, p.o_row_stride, p.o_head_stride, q_start, row0, h);
    };
    auto lse_ptr = [&]() {
        return reinterpret_cast<float *>(p.lse) +
               (IS_VARLEN ? (int64_t)h * p.lse_head_stride + q_start
                          : (int64_t)b * p.lse_batch_stride + (int64_t)h * p.lse_head_stride) +
               row0;
    };

    /* KV blocks this row block can see: [0, n_blocks). Causal: up to the diagonal. */
    int n_limit = sk;
    if constexpr (IS_CAUSAL)
        n_limit = min(sk, row0 + BLOCK_M + sk - sq);
    const int n_blocks = n_limit > 0 ? (n_limit + BLOCK_N - 1) / BLOCK_N : 0;

    if (n_blocks == 0) {
        /* No row of this block sees a key: O = 0, LSE = -inf. */
        const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
        Element *og = o_ptr();
        float *lse = lse_ptr();
        for (int idx = tid; idx < BLOCK_M * CHUNKS; idx += NT) {
            const int r = idx / CHUNKS, c = idx % CHUNKS;
            if (r < rows_q)
                *reinterpret_cast<uint4 *>(og + (int64_t)r * p.o_row_stride + c * 8) = zero;
        }
        for (int r = tid; r < rows_q; r += NT)
            lse[r] = FA_NEG_INF;
        return;
    }

    const uint32_t sQ = fa::smem_u32(fa_sm80_smem);
    const uint32_t sK = sQ + T::Q_BYTES;
    const uint32_t sV = sK + STAGES * T::KV_BYTES;

    /* Issue KV block `it` (it-th processed, n = n_blocks-1-it) into ring slot it % STAGES.
       Always commit, even when out of range, so group counting stays uniform. */
    auto load_k = [&](int it) {
        if (it < n_blocks) {
            const int n0 = (n_blocks - 1 - it) * BLOCK_N;
            const Element *src = reinterpret_cast<const Element *>(p.k) +
                                 offset_of(p.k_batch_stride, p.k_row_stride, p.k_head_stride,
                                           k_start, n0, fa::opaque(hk));
            fa::sm80_load_tile<Element, HEAD_DIM, BLOCK_N, NT>(sK + (it % STAGES) * T::KV_BYTES,
                                                               src, p.k_row_stride, sk - n0, tid);
        }
        fa::cp_async_commit();
    };
    auto load_v = [&](int it) {
        if (it < n_blocks) {
            const int n0 = (n_blocks - 1 - it) * BLOCK_N;
            const Element *src = reinterpret_cast<const Element *>(p.v) +
                                 offset_of(p.v_batch_stride, p.v_row_stride, p.v_head_stride,
                                           k_start, n0, fa::opaque(hk));
            fa::sm80_load_tile<Element, HEAD_DIM, BLOCK_N, NT>(sV + (it % STAGES) * T::KV_BYTES,
                                                               src, p.v_row_stride, sk - n0, tid);
        }
        fa::cp_async_commit();
    };

    /* Prologue: groups Q+K0, V0, K1, ..., V(S-2), K(S-1). */
    fa::sm80_load_tile<Element, HEAD_DIM, BLOCK_M, NT>(
        sQ,
        reinterpret_cast<const Element *>(p.q) +
            offset_of(p.q_batch_stride, p.q_row_stride, p.q_head_stride, q_start, row0, h),
        p.q_row_stride, rows_q, tid);
    load_k(0);
#pragma unroll
    for (int s = 1; s < STAGES; ++s) {
        load_v(s - 1);
        load_k(s);
    }

    const int wrow = warp * RPW; /* first tile row of this warp */

    float acc_o[MF][DF][4];
    float row_max[MF][2], row_sum[MF][2];
    fa::sm80_init_o(acc_o, row_max, row_sum);
    uint32_t q_frag[Q_IN_REGS ? MF : 1][Q_IN_REGS ? KQ : 1][4];

    const float sl2 = p.softmax_scale_log2;
    /* Causal: tile column c is visible from global row r iff c <= r + diag. */
    const int diag = sk - sq;

    for (int it = 0; it < n_blocks; ++it) {
        const int slot = it % STAGES;
        const int n0 = (n_blocks - 1 - it) * BLOCK_N;
        /* Per-lane ldmatrix row/chunk roles (fragment layouts: fa_ptx.cuh), rebuilt each
           iteration from an opaque lane id (see fa::opaque).
           A pattern (Q, and V with .trans): row +(lane & 15), chunk +(lane >> 4).
           B pattern (K): row +(lane & 7) + 8*(lane >> 4), chunk +((lane >> 3) & 1). */
        const int ln = fa::opaque(lane);
        const fa::sm80_lds<HEAD_DIM> q_lds(sQ, wrow + (ln & 15), ln >> 4);
        const fa::sm80_lds<HEAD_DIM> k_lds(sK + slot * T::KV_BYTES, (ln & 7) + ((ln >> 4) << 3),
                                           (ln >> 3) & 1);
        const fa::sm80_lds<HEAD_DIM> v_lds(sV + slot * T::KV_BYTES, ln & 15, ln >> 4);

        fa::cp_async_wait<WAIT>(); /* K(it) (and Q) landed for this thread ... */
        __syncthreads();           /* ... and for all; everyone is done with V(it-1) */
        load_v(it + STAGES - 1);

        if constexpr (Q_IN_REGS) {
            if (it == 0) {
#pragma unroll
                for (int f = 0; f < MF; ++f)
#pragma unroll
                    for (int kk = 0; kk < KQ; ++kk)
                        q_lds.template load<false>(q_frag[f][kk], kk, f * 16);
            }
        }

        /* ---- S = Q K^T ------------------------------------------------------------- */
        float acc_s[MF][NF][4];
        fa::sm80_zero_acc(acc_s);

        /* k-steps in groups of the swizzle period U (XOR constants repeat every U
           steps). When the accumulators alone take >= 96 registers, the groups stay a
           rolled loop: ptxas then cannot prefetch ldmatrix fragments across groups,
           which is what pushed the 128x64 hd128 tiles over 255 registers (v1: 40
           registers of ldmatrix results in flight at the peak) and 64x64 hd128 over
           ptxas's 128-register occupancy target on sm_80 (16 B spilled). */
#pragma unroll(ROLL_QK ? 1 : KQ / U)
        for (int kq = 0; kq < KQ / U; ++kq)
#pragma unroll
            for (int ku = 0; ku < U; ++ku) {
                const int kk = kq * U + ku;
                uint32_t a[MF][4];
#pragma unroll
                for (int f = 0; f < MF; ++f) {
                    if constexpr (Q_IN_REGS) {
#pragma unroll
                        for (int e = 0; e < 4; ++e)
                            a[f][e] = q_frag[f][kk][e];
                    } else {
                        q_lds.template load<false>(a[f], kk, f * 16);
                    }
                }
#pragma unroll
                for (int jp = 0; jp < NF / 2; ++jp) {
                    uint32_t bk[4];
                    k_lds.template load<false>(bk, kk, jp * 16);
#pragma unroll
                    for (int f = 0; f < MF; ++f) {
                        fa::mma_16816<Element>(acc_s[f][2 * jp], a[f], bk[0], bk[1]);
                        fa::mma_16816<Element>(acc_s[f][2 * jp + 1], a[f], bk[2], bk[3]);
                    }
                }
            }

        /* ---- mask: ragged last block, causal diagonal band --------------------------- */
        const bool ragged = n0 + BLOCK_N > sk;
        const bool crosses = IS_CAUSAL && (n0 + BLOCK_N - 1 > row0 + wrow + diag);
        if (ragged || crosses) {
#pragma unroll
            for (int f = 0; f < MF; ++f)
#pragma unroll
                for (int hh = 0; hh < 2; ++hh) {
                    const int r = row0 + wrow + f * 16 + g + 8 * hh;
                    /* last visible tile column (relative to n0) for this row */
                    int lim = sk - 1 - n0;
                    if constexpr (IS_CAUSAL)
                        lim = min(lim, r + diag - n0);
#pragma unroll
                    for (int j = 0; j < NF; ++j)
#pragma unroll
                        for (int e = 0; e < 2; ++e)
                            if (j * 8 + 2 * t4 + e > lim)
                                acc_s[f][j][2 * hh + e] = FA_NEG_INF;
                }
        }

        /* ---- online softmax; P -> 16-bit A fragments right away, one row fragment at a
           time, so the fp32 S of fragment f dies before fragment f+1 is exponentiated -- */
        uint32_t p_frag[MF][KP][4];
        float row_alpha[MF][2];
#pragma unroll
        for (int f = 0; f < MF; ++f) {
            fa::sm80_softmax_fragment<Element>(acc_s[f], row_max[f], row_sum[f], row_alpha[f],
                                               p_frag[f], sl2);
        }

        fa::sm80_rescale_o(acc_o, row_alpha);

        fa::cp_async_wait<WAIT>(); /* V(it) landed ... */
        __syncthreads();           /* ... for all; everyone is done with K(it) */
        load_k(it + STAGES);

        /* ---- O += P V (P from registers) --------------------------------------------- */
        fa::sm80_pv<Element>(acc_o, p_frag, v_lds);
    }
    fa::cp_async_wait<0>(); /* only empty groups can remain; keep the exit clean */

    /* ---- epilogue: normalize, LSE, stage O through this warp's Q rows, store ----------- */
    /* The CTA's coordinates, sequence start and valid row count are re-derived here
       instead of being kept live across the KV loop (each is a register the loop needs). */
    Element *og;
    float *lse;
    int rows_q_e;
    {
        const int bx = fa::ctaid_x(), hy = fa::ctaid_y(), bz = fa::ctaid_z();
        const int r0 = (IS_CAUSAL ? (int)gridDim.x - 1 - bx : bx) * BLOCK_M;
        int qs = 0, n_q = p.seqlen_q;
        if constexpr (IS_VARLEN) {
            const int *cu_q = reinterpret_cast<const int *>(p.cu_seqlens_q);
            qs = cu_q[bz];
            n_q = cu_q[bz + 1] - qs;
        }
        rows_q_e = min(BLOCK_M, n_q - r0);
        og = reinterpret_cast<Element *>(p.o) +
             (IS_VARLEN ? (int64_t)(qs + r0) * p.o_row_stride
                        : (int64_t)bz * p.o_batch_stride + (int64_t)r0 * p.o_row_stride) +
             (int64_t)hy * p.o_head_stride;
        lse = reinterpret_cast<float *>(p.lse) +
              (IS_VARLEN ? (int64_t)hy * p.lse_head_stride + qs
                         : (int64_t)bz * p.lse_batch_stride + (int64_t)hy * p.lse_head_stride) +
              r0;
    }
    const float scale = p.softmax_scale;
    __syncwarp(); /* this warp's last ldmatrix reads of its Q rows are done */
#pragma unroll
    for (int f = 0; f < MF; ++f)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            float l = row_sum[f][hh];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            const float inv = l > 0.f ? __fdividef(1.f, l) : 0.f;
            const int r = wrow + f * 16 + g + 8 * hh; /* tile row */
#pragma unroll
            for (int d = 0; d < DF; ++d)
                fa::st_shared_u32(
                    sQ + fa::sm80_swz<HEAD_DIM>(r, d) + t4 * 4,
                    fa::pack2<Element>(acc_o[f][d][2 * hh] * inv, acc_o[f][d][2 * hh + 1] * inv));
            if (t4 == 0 && r < rows_q_e)
                lse[r] = l > 0.f ? row_max[f][hh] * scale + logf(l) : FA_NEG_INF;
        }
    __syncwarp();
#pragma unroll
    for (int i = 0; i < RPW * CHUNKS / 32; ++i) {
        const int idx = lane + i * 32;
        const int r = wrow + idx / CHUNKS, c = idx % CHUNKS;
        const uint4 v = fa::ld_shared_v4(sQ + fa::sm80_swz<HEAD_DIM>(r, c));
        if (r < rows_q_e)
            *reinterpret_cast<uint4 *>(og + (int64_t)r * p.o_row_stride + c * 8) = v;
    }
}

#endif /* FA_FWD_SM80_CUH */
