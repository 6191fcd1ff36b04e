/*
 * fa_decode_splitkv.cuh -- attention decode against a KV cache, splitkv family: GQA packing,
 * split-KV with an LSE combine, paged or contiguous caches, mma.sync (sm80 .. sm90).
 *
 * This file implements two kernels:
 *   fa_decode_splitkv<Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, IS_CAUSAL>
 *       one CTA per (M tile, sequence b, KV head hk, split): the g = heads_q / heads_kv query
 *       heads of hk times the seqlen_q new tokens form the packed M rows (row m = i * g + hh:
 *       token i, query head hk * g + hh), so every K/V byte of the split's key range is read
 *       once for all of them. Writes O and LSE directly when there is one split (gridDim.y),
 *       else the split's partial O (fp32, normalised by its own row sum) and LSE to scratch.
 *   fa_decode_combine<Element, HEAD_DIM>
 *       one warp per output row (b, h, i): merges the splits' partial O by their LSE,
 *       O = sum_s exp(lse_s - max) O_s / sum_s exp(lse_s - max), LSE = max + log(sum);
 *       splits with LSE -inf (no visible key) weigh 0; a row no split saw gets O = 0,
 *       LSE = -inf. At most FA_DECODE_MAX_SPLITS_COMBINE splits.
 * Geometry, argument struct and scratch layout: decode/fa_plan_splitkv.h. Tensor layouts and
 * the decode fields (seqused_k, block_table, page_size): fa_params.h.
 *
 *   // q, o: (B, Sq, Hq, D) through strides; k, v: (B, Sk, Hkv, D) contiguous, or paged
 *   //       (num_pages, page_size, Hkv, D) through block_table[B][stride]; lse: (B, Hq, Sq)
 *
 * Design:
 *  1. Memory-bound: the K/V ring is STAGES deep; block `it` of the split lives in slot
 *     it % STAGES and its K and V tiles are one cp.async group. Iteration it waits for group
 *     it (cp.async.wait_group STAGES-2), one __syncthreads, then issues block it+STAGES-1 into
 *     the slot everyone finished in iteration it-1: STAGES-1 blocks stay in flight while one
 *     is computed, with one barrier per block.
 *  2. Paged gather: each thread copies 16-byte chunks of fixed rows r0 + i*RS of a tile (the
 *     sm80 loader's mapping: the XOR swizzle key is the same for all of its rows); the row's
 *     page comes from the block table (P = table[j / page_size], r = j % page_size), so pages
 *     may be in any order and page_size need not divide anything. The table entries of block
 *     x are copied into a small ring in shared memory (2*STAGES-2 slots of TPB entries, in the
 *     merge statistics' space) by cp.async in the group of block x - STAGES + 1, so they land
 *     with a K/V tile the loop waits for anyway: no copy waits on a table load (a block's
 *     pages beyond TPB, page sizes under 16, are read from the table directly). Keys >= len_b
 *     are zero-filled (src-size 0) and masked. A thread's rows of a block are read in page
 *     runs: when the page size is a multiple of BLOCK_N (the block in one page), or divides
 *     BLOCK_N and is a multiple of RS (a run of page_size / RS rows per page), the page entry
 *     and the 64-bit offsets are looked up once per run and each further row is one 64-bit
 *     add; other page sizes (48, under RS) divide and look up per row. Contiguous caches take
 *     the one-run path with (P, r) = (b, j) and no table.
 *  3. Warps split the KV tile along N: warp w owns keys [w*NW, (w+1)*NW) of every block
 *     (NW = BLOCK_N / WARPS, a multiple of 16) and all BLOCK_M rows, so the M tile (often 4..32
 *     live rows) costs no duplicated K/V reads. S = Q K^T and O += P V with mma.sync m16n8k16
 *     (Q from shared memory through ldmatrix, K through ldmatrix, V through ldmatrix.trans, P
 *     from registers), online softmax with exp2 and a lazy O rescale, all per warp.
 *  4. End of the split: the warps' (m, l, O) are merged in shared memory (the ring's space):
 *     each warp scales its O by exp2((m_w - m) * scale_log2) and stores it as fp32; then the
 *     CTA sums the WARPS tiles in warp order (deterministic: a paged and a contiguous run of
 *     the same cache give the same bits) and writes O (16-bit) or the fp32 partial.
 *  5. Causal is bottom-right within the new tokens: token i sees key j iff
 *     j <= i + len_b - seqlen_q. Masks are applied only to blocks that reach past
 *     len_b - seqlen_q (the ragged end); a row that sees nothing writes zeros and LSE -inf.
 *  6. Lengths: len_b = seqused_k[b] (or seqlen_k); of the nb = ceil(len_b / BLOCK_N) blocks,
 *     split s of S covers [s*ceil(nb/S), (s+1)*ceil(nb/S)), or, where each KV head's rows are
 *     adjacent (row stride HEAD_DIM: PyTorch's bhsd caches, or a single KV head), the blocks
 *     s, s + S, s + 2S, ... (block-cyclic): then the S splits of a (sequence, head), running
 *     side by side, stream one window of S blocks instead of S separate ranges. On bshd with
 *     several KV heads the heads' CTAs already read the same rows together, and ranges
 *     measured faster there (changelog v5). A split that gets no block (short sequences,
 *     len_b = 0) writes LSE -inf and O = 0. Paged and contiguous caches of one layout split
 *     the same way, so their outputs stay bit-identical.
 *  7. Fused combine (args.fused, more than one split): after writing its partial each CTA
 *     counts itself in its group's counter in the scratch header (__threadfence, then one
 *     atomicAdd); the CTA that brings it to the split count merges the group's partials as
 *     the combine kernel does (weights exp(lse_s - max), split order: deterministic) and sets
 *     the counter back to 0, so one launch does the whole op and the next finds it zero. The
 *     merge: the partial O tiles go to shared memory by cp.async while all threads read the
 *     tile's split LSEs at once; the row maxima and sums come from shared memory (one lane
 *     per split, several rows per warp), so the merge waits about two L2 round trips, not
 *     two per row of a warp plus one per O pass. Same fp32 operations in the same order as
 *     the combine kernel (its xor tree, split order): fused and separate give the same bits.
 *  8. Combine launched early (sm_90+): the plan launches the combine kernel with programmatic
 *     stream serialization (fa_launch.pdl). Every split CTA calls griddepcontrol.launch_dependents
 *     when it starts, so the combine's CTAs are scheduled while the split kernel runs and wait
 *     in griddepcontrol.wait for its completion: the combine's launch and CTA start-up leave
 *     the critical path. Launched without the attribute (older GPUs, another launcher) both
 *     instructions are no-ops and the stream orders the kernels as before.
 *
 * Legality (static_assert): head dims multiples of 32 up to 256 (the sm80 swizzle);
 * BLOCK_M 16..64 a multiple of 16; BLOCK_N / WARPS a multiple of 16; 2 <= WARPS <= 8 (the
 * loader needs 8-row passes); 2 <= STAGES <= 4; O and S accumulators within 192 registers per
 * thread; shared memory within 227 KB.
 *
 * Changelog (resources from nvcc -Xptxas=-v, CUDA 13.0, sm_90; GPU: H200, bf16, non-causal,
 * K/V bytes per second against the cudaMemcpy copy bandwidth of the same run, 4.18-4.21 TB/s;
 * bench/decode_check.cu, bench/results/2026-12-03_h200_decode_splitkv):
 *  v0  first version: 378/378 check cases; >= 98% of copy on 9 of 13 shapes with >= 256 MB
 *      of K/V, but splits cost: the combine waited one load latency per split (hd64 1x128k
 *      89.5 us, 72%; hd128 1x128k 144 us, 89%), and the paged loader stalled on each row's
 *      table entry before issuing its copies (page 64: +4% at 64x4k, +15% at 16x16k, +66%
 *      at hd64 16/16 32x8k).
 *  v1  table entries loaded one block ahead into registers; the combine keeps
 *      the normalised weights in shared memory and reads 8 splits' partials at a time.
 *      Registers, no spills anywhere: hd128 m16n64w4s3 128, m16n128w8s3 126, m32n64w4s3
 *      206; hd64 m16n128w4s3 96, m64n128w8s3 240; hd256 m16n64w4s2 221; combine 56-116.
 *      483/483 check cases (23 variants), memcheck and racecheck clean. Contiguous: 4.23-4.45
 *      TB/s (101-107% of copy) on the 1-2 GB shapes, 3.93 TB/s at hd128 1x128k (136.7 us,
 *      cuDNN 138), >= cuDNN on 15 of 18 shapes. Paged (page 64, shuffled): within 5% on 8 of
 *      11 hd128 shapes; hd64 +25..58% and hd256 +12..15% remain (open).
 *  v2  block-table entries by cp.async into a shared-memory ring STAGES-1
 *      blocks ahead (v1's register prefetch stalled the copy issue whenever the table load
 *      outlived one block: paged page 64 was 113-117% of contiguous at hd64 64x4k and hd128
 *      1x128k in fa-tune's tune of 2026-12-03); the fused combine (7.), one launch instead of
 *      split + combine. Registers, no spills: hd128 m16n64w4s3 124, m32n64w4s3 204,
 *      m16n128w8s3 124; hd64 m16n32w2s3 80, m64n128w8s3 234; hd256 m16n64w4s2 220.
 *  v3  the paged loader's page runs (2.: v2 divided by the page size and built
 *      64-bit page offsets for every 128-byte row; paged page 64 was 111% of contiguous at
 *      hd64 32/8 64x4k, bench/results/2026-12-03_h200_decode_v2); the fused merge from shared
 *      memory (7.: v2 took each row's max and sum one warp per row from L2, two dependent
 *      round trips per row, 8 rows per warp at MQA: fused 64.8 us vs 54.2 separate).
 *      Registers, no spills (bench/results/2026-12-03_cpu_decode_v3): hd128 m16n64w4s3 125,
 *      m32n64w4s3 204, m16n32w2s2 128; hd64 m16n32w2s3 80, m64n128w8s3 235; hd256 m16n64w4s2
 *      220. Not yet timed on a GPU.
 *      Tried and reverted: K and V by cp.async with a 256-byte L2 prefetch instead of 128
 *      bytes. On the H200, tuned beside cuDNN in one call, every contiguous shape got 3-6%
 *      slower: 0.94-0.97x cuDNN where this version measures 0.96-1.02x
 *      (bench/results/2026-12-03_h200_session6, calls 1 and 3).
 *  v4  the combine kernel launched early (8., programmatic dependent launch);
 *      both kernels unchanged but for the two instructions (PREEXIT, ACQBULK in the SASS).
 *      A/B on an H100, one build, FA_NO_PDL=0/1 alternated, 9 medians each, read flush
 *      (bench/results/2026-12-06_session21, call 3): hd128 32/8 1x128k m16n64w4s3k12 181.6 us
 *      against 183.6 (-1.1%), 32/1 32x8k m16n64w4s3k3 55.9 against 57.5 (-2.9%), 32/8 4x64k
 *      k3 350.9 against 351.6 (-0.2%); the ranges of the first two do not overlap.
 *      decode.gpu_check and the emitted header's decode examples passed on the H100 with it
 *      (call 1); memcheck, synccheck and racecheck clean on 3 splits with the combine and 3
 *      fused, paged with uneven lengths (bench/results/2026-12-06_session22, call 1). Tuned
 *      beside cuDNN in one call (call 2): >= 1.0x cuDNN on 14 of 14 shapes, >= 90% of copy on
 *      13 of 13 -- but fa-tune on bshd caches against cuDNN on bhsd ones; on bhsd for both
 *      (session 22, call 3) 11 of 14, the rest 0.980-0.998x: this kernel reads a bhsd cache
 *      0.7-1.0% slower than a bshd one.
 *  v5  (this version) block-cyclic splits where each KV head's rows are adjacent (6.). A/B on
 *      an H100 through bench/ab_bench.py, the v4 templates against a copy with cyclic splits
 *      everywhere, 3 rounds of 3 medians (bench/results/2026-12-06_session23, calls 2 and 6):
 *      bhsd 4 x 64k m16n128w4s2k0f 347.6 us against 351.9 (-1.2%), bhsd 1 x 128k
 *      m16n64w4s3k16 181.2 against 181.9 (-0.4%), both with ranges apart; bshd 1 x 128k
 *      m16n64w4s3k0 181.0 against 180.0 (+0.6%, apart): hence cyclic on adjacent rows only.
 *      One-split controls moved -0.1% and +0.04%. Tuned on bhsd with cyclic everywhere and
 *      timed inside peers.py's process: 1 x 128k 1.024-1.025x cuDNN (v4: 1.008-1.013), 4 x 64k
 *      1.016-1.018x (v4: 1.002-1.004). Every variant the tuner timed passed its fp32 check
 *      (1,056 checks). As landed (session 24, H100): decode.gpu_check passed (its MQA cases
 *      take the cyclic path, contiguous and paged, the others ranges), and so did the emitted
 *      header's embedded decode example; compute-sanitizer memcheck, synccheck and racecheck
 *      found 0 errors on bhsd caches with 3 splits, combine kernel and fused. The block
 *      assignment is fa_plan_splitkv_blocks, whose coverage the CPU test checks.
 *      Tried and dropped (call 2): each (sequence, head) starting at a rotated offset of its
 *      range: never faster, 1.8-3.5% slower on bshd.
 */
#ifndef FA_DECODE_SPLITKV_CUH
#define FA_DECODE_SPLITKV_CUH

#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include "fa_params.h"
#include "fa_ptx.cuh"
#include "fa_fwd_sm80.cuh" /* sm80_swz, sm80_lds, sm80_swz_group, opaque, sm80_softmax_fragment */
#include "decode/fa_plan_splitkv.h"

namespace fa
{

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES>
struct decode_traits {
    static constexpr int NT = WARPS * 32;
    static constexpr int NW = BLOCK_N / WARPS;  /* keys per warp per block */
    static constexpr int MF = BLOCK_M / 16;     /* 16-row fragments (every warp has all) */
    static constexpr int NF = NW / 8;           /* n8 tiles of S per warp */
    static constexpr int DF = HEAD_DIM / 8;     /* n8 tiles of O */
    static constexpr int KQ = HEAD_DIM / 16;    /* k-steps of Q K^T */
    static constexpr int KP = NW / 16;          /* k-steps of P V */
    static constexpr int CHUNKS = HEAD_DIM / 8; /* 16-byte chunks per row */
    static constexpr int ROW_BYTES = HEAD_DIM * 2;
    static constexpr int G = sm80_swz_group<HEAD_DIM>::G; /* chunks per thread-row segment */
    static constexpr int RS = NT / G;                     /* rows per loader pass */
    static constexpr int RI = BLOCK_N / RS;               /* loader passes per tile */
    static constexpr int Q_BYTES = BLOCK_M * ROW_BYTES;
    static constexpr int KV_BYTES = BLOCK_N * ROW_BYTES; /* one K (or V) tile */
    static constexpr int RED_LD = HEAD_DIM + 8;          /* fp32 row stride of the merge */
    static constexpr int RED_BYTES =
        FA_DECODE_MAX_(STAGES * 2 * KV_BYTES, WARPS *BLOCK_M *RED_LD * 4);
    static constexpr int SMEM = FA_DECODE_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES);

    static_assert(sizeof(Element) == 2, "16-bit elements only");
    static_assert(HEAD_DIM % 32 == 0 && HEAD_DIM >= 32 && HEAD_DIM <= 256,
                  "HEAD_DIM must be a multiple of 32 in [32, 256]");
    static_assert(BLOCK_M % 16 == 0 && BLOCK_M >= 16 && BLOCK_M <= 64,
                  "BLOCK_M must be 16, 32, 48 or 64");
    static_assert(WARPS >= 2 && WARPS <= 8, "WARPS must be 2..8");
    static_assert(BLOCK_N % (16 * WARPS) == 0, "BLOCK_N / WARPS must be a multiple of 16");
    static_assert(BLOCK_N <= 256, "BLOCK_N must be at most 256");
    static_assert(STAGES >= 2 && STAGES <= 4, "STAGES must be 2, 3 or 4");
    static_assert(RS % 8 == 0 && BLOCK_N % RS == 0, "loader passes of 8-row multiples");
    static_assert(MF * (DF + NF) * 4 <= 192, "O and S accumulators exceed 192 registers");
    static_assert(SMEM == Q_BYTES + RED_BYTES + (2 * WARPS + 2) * BLOCK_M * 4,
                  "smem layout != FA_DECODE_SMEM_BYTES");
    static_assert(SMEM <= 232448, "shared memory exceeds 227 KB");

    /* Paged: the block-table ring in the merge statistics' space (free during the KV loop):
       TR slots of TPB page entries; a block's pages beyond TPB (page sizes under 16) are read
       from the table directly. */
    static constexpr int STATS_INTS = (2 * WARPS + 2) * BLOCK_M;
    static constexpr int TR = 2 * STAGES - 2;
    static constexpr int TPB = FA_DECODE_MAX_(
        1, (BLOCK_N / 16 + 1 < STATS_INTS / TR) ? BLOCK_N / 16 + 1 : STATS_INTS / TR);
    static_assert(TPB >= 2, "the table ring needs two entries per block");
};

template <typename Element> __device__ __forceinline__ void store4(Element *dst, float4 v)
{
    uint2 u;
    u.x = pack2<Element>(v.x, v.y);
    u.y = pack2<Element>(v.z, v.w);
    *reinterpret_cast<uint2 *>(dst) = u;
}

/* 4-byte cp.async (through L1: a block's table entries are read by several CTAs). */
__device__ __forceinline__ void cp_async_4(uint32_t smem_addr, const void *gmem)
{
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;\n" ::"r"(smem_addr), "l"(gmem)
                 : "memory");
}

} // namespace fa

template <typename Element, int HEAD_DIM, int BLOCK_M, int BLOCK_N, int WARPS, int STAGES,
          bool IS_CAUSAL>
__global__ void __launch_bounds__(WARPS * 32)
    fa_decode_splitkv(const __grid_constant__ fa_decode_args args)
{
    using T = fa::decode_traits<Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES>;
    constexpr int NT = T::NT, NW = T::NW, MF = T::MF, NF = T::NF, DF = T::DF, KQ = T::KQ;
    constexpr int KP = T::KP, CHUNKS = T::CHUNKS, G = T::G, RS = T::RS, RI = T::RI;
    constexpr int ROW_BYTES = T::ROW_BYTES, RED_LD = T::RED_LD;
    const fa_fwd_params &p = args.p;

    extern __shared__ __align__(128) unsigned char fa_decode_smem[];

    const int tid = threadIdx.x;
    const int warp = tid >> 5;
    const int lane = tid & 31;
    const int gid = lane >> 2; /* mma groupID: fragment row */
    const int t4 = lane & 3;   /* thread in group: fragment column pair */

    /* ---- this CTA: M tile, sequence, KV head, split ------------------------------------- */
    const int grp = p.heads_q / p.heads_kv;
    const int sq = p.seqlen_q;
    const int rows_total = grp * sq;
    const int m_blocks = (rows_total + BLOCK_M - 1) / BLOCK_M;
    const int m_block = (int)blockIdx.x % m_blocks;
    const int bh = (int)blockIdx.x / m_blocks;
    const int b = bh / p.heads_kv;
    const int hk = bh - b * p.heads_kv;
    const int split = blockIdx.y, nsplit = gridDim.y;

    const int len = p.seqused_k ? reinterpret_cast<const int *>(p.seqused_k)[b] : p.seqlen_k;
    const int nb = (len + BLOCK_N - 1) / BLOCK_N;
    /* The split's blocks (6.): blk0, blk0 + step, ... (nblk of them), block-cyclic where each
       KV head's rows are adjacent, one range each elsewhere. */
    const fa_splitkv_blocks blocks = fa_plan_splitkv_blocks(
        nb, split, nsplit, fa_plan_splitkv_cyclic(p.k_row_stride, p.v_row_stride, HEAD_DIM));
    const int blk0 = blocks.first, step = blocks.step, nblk = blocks.count;
    auto blk_of = [&](int it) { return blk0 + it * step; };

    if (nsplit > 1 && blockIdx.x == 0 && split == 0 && tid == 0)
        *reinterpret_cast<int *>(args.scratch) = nsplit; /* for the combine kernel */
    /* The combine kernel (launched as a programmatic dependent, 8.) may be scheduled now: it
       waits for this grid's completion before it reads anything. */
    fa::grid_launch_dependents();

    const uint32_t sQ = fa::smem_u32(fa_decode_smem);
    const uint32_t sK = sQ + T::Q_BYTES;
    const uint32_t sV = sK + STAGES * T::KV_BYTES;

    /* ---- Q: the packed rows m = i * grp + hh of this M tile (zeros past rows_total) ---- */
    {
        const Element *q = reinterpret_cast<const Element *>(p.q);
        for (int idx = tid; idx < BLOCK_M * CHUNKS; idx += NT) {
            const int r = idx / CHUNKS, c = idx % CHUNKS;
            const int m = m_block * BLOCK_M + r;
            const bool valid = m < rows_total;
            const int i = m / grp, hh = m - (m / grp) * grp;
            const Element *src = q + (int64_t)b * p.q_batch_stride + (int64_t)i * p.q_row_stride +
                                 (int64_t)(hk * grp + hh) * p.q_head_stride + c * 8;
            fa::cp_async_16(sQ + fa::sm80_swz<HEAD_DIM>(r, c), valid ? src : q, valid);
        }
    }

    /* ---- K/V block `it` of the split into ring slot it % STAGES; always one group ------- */
    /* Paged: the pages of block it sit in slot it % TR of the table ring in shared memory,
       copied by cp.async in the group of block it - STAGES + 1 (load_kv(x) also fetches the
       entries of block x + STAGES - 1), so they land with a K/V tile the loop waits for anyway
       and no copy waits on a table load. */
    constexpr int TR = T::TR, TPB = T::TPB;
    const int *table = p.page_size > 0 ? reinterpret_cast<const int *>(p.block_table) +
                                             (int64_t)b * p.block_table_stride
                                       : nullptr;
    const int psz = p.page_size;
    const uint32_t sTab = sQ + T::Q_BYTES + T::RED_BYTES; /* the statistics' space */
    const int *tab_s = reinterpret_cast<const int *>(fa_decode_smem + T::Q_BYTES + T::RED_BYTES);
    auto fetch_pages = [&](int it) {
        if (table && it < nblk && fa::opaque(tid) < TPB) {
            const int j0 = blk_of(it) * BLOCK_N;
            const int first = j0 / psz, last = (min(j0 + BLOCK_N, len) - 1) / psz;
            if (first + tid <= last)
                fa::cp_async_4(sTab + (uint32_t)(((it % TR) * TPB + tid) * 4), table + first + tid);
        }
    };
    /* Rows per page run, in loader passes: a thread's rows r0 + i*RS of a block are read in
       runs of `run` passes that share one page, so the page lookup and the 64-bit offsets are
       done once per run and each further row is one add of RS rows' stride. RI (the whole
       block in one run): a contiguous cache, or page sizes that are multiples of BLOCK_N;
       psz / RS: page sizes that divide BLOCK_N (blocks start on a page) and are multiples of
       RS (r0 < RS: the run's rows never leave the page), at most TPB pages per block (all in
       the ring); 0: any other page size (48, under RS), a division and a lookup per row. */
    int run = 0;
    if (!table || psz % BLOCK_N == 0)
        run = RI;
    else if (psz % RS == 0 && BLOCK_N % psz == 0 && BLOCK_N / psz <= TPB)
        run = psz / RS;
    auto load_kv = [&](int it) {
        if (it < nblk) {
            const int n0 = blk_of(it) * BLOCK_N;
            const int t = fa::opaque(tid);
            const int r0 = t / G, c0 = t % G;
            const int x = (G == 8) ? (r0 & 7) : ((r0 >> 1) & 3);
            const uint32_t soff = (uint32_t)(r0 * ROW_BYTES + ((c0 ^ x) << 4)) +
                                  (uint32_t)((it % STAGES) * T::KV_BYTES);
            const Element *kb = reinterpret_cast<const Element *>(p.k);
            const Element *vb = reinterpret_cast<const Element *>(p.v);
            const int64_t kh = (int64_t)hk * p.k_head_stride + c0 * 8;
            const int64_t vh = (int64_t)hk * p.v_head_stride + c0 * 8;
            const int first = table ? n0 / psz : 0;
            const int *ts = tab_s + (it % TR) * TPB;
            const int rem = len - n0 - r0; /* pass i is a key < len iff i * RS < rem */
            auto copy_row = [&](int i, const Element *ks, const Element *vs) {
                const bool valid = i * RS < rem;
#pragma unroll
                for (int jc = 0; jc < CHUNKS / G; ++jc) {
                    const uint32_t o = soff + i * RS * ROW_BYTES + jc * G * 16;
                    fa::cp_async_16(sK + o, (valid ? ks : kb) + jc * G * 8, valid);
                    fa::cp_async_16(sV + o, (valid ? vs : vb) + jc * G * 8, valid);
                }
            };
            if (run > 0) {
                /* (page, row in page) of the block's first key: (b, n0) for a contiguous
                   cache; a run's later pages start at their row 0 (the block is page-aligned
                   when it spans more than one). Entries past the length are never used. */
                int page = table ? ts[0] : b;
                const int row = (table ? n0 - first * psz : n0) + r0;
                const Element *ks =
                    kb + (int64_t)page * p.k_batch_stride + (int64_t)row * p.k_row_stride + kh;
                const Element *vs =
                    vb + (int64_t)page * p.v_batch_stride + (int64_t)row * p.v_row_stride + vh;
                const int64_t kstep = (int64_t)RS * p.k_row_stride;
                const int64_t vstep = (int64_t)RS * p.v_row_stride;
                if (run >= RI) {
#pragma unroll
                    for (int i = 0; i < RI; ++i) {
                        copy_row(i, ks, vs);
                        ks += kstep, vs += vstep;
                    }
                } else {
                    int u = 0, k = 0;
#pragma unroll
                    for (int i = 0; i < RI; ++i) {
                        if (i > 0) {
                            if (++u == run) { /* the next page, from its row r0 */
                                u = 0;
                                page = ts[++k];
                                ks = kb + (int64_t)page * p.k_batch_stride +
                                     (int64_t)r0 * p.k_row_stride + kh;
                                vs = vb + (int64_t)page * p.v_batch_stride +
                                     (int64_t)r0 * p.v_row_stride + vh;
                            } else {
                                ks += kstep, vs += vstep;
                            }
                        }
                        copy_row(i, ks, vs);
                    }
                }
            } else {
#pragma unroll
                for (int i = 0; i < RI; ++i) {
                    const int j = n0 + r0 + i * RS;
                    const bool valid = j < len;
                    int page = 0, row = 0;
                    if (valid) {
                        const int pi = j / psz;
                        row = j - pi * psz;
                        page = pi - first < TPB ? ts[pi - first] : __ldg(table + pi);
                    }
                    copy_row(
                        i,
                        kb + (int64_t)page * p.k_batch_stride + (int64_t)row * p.k_row_stride + kh,
                        vb + (int64_t)page * p.v_batch_stride + (int64_t)row * p.v_row_stride + vh);
                }
            }
        }
        fetch_pages(it + STAGES - 1);
        fa::cp_async_commit();
    };

    /* Prologue: the table entries of blocks 0 .. STAGES-2 (waited for here: the first copies
       need them), then groups Q+KV0, KV1, ..., KV(STAGES-2). */
    if (table) {
#pragma unroll
        for (int s = 0; s < STAGES - 1; ++s)
            fetch_pages(s);
        fa::cp_async_commit();
        fa::cp_async_wait<0>();
        __syncthreads();
    }
    load_kv(0);
#pragma unroll
    for (int s = 1; s < STAGES - 1; ++s)
        load_kv(s);

    float acc_o[MF][DF][4];
    float row_max[MF][2], row_sum[MF][2];
    fa::sm80_init_o(acc_o, row_max, row_sum);

    const float sl2 = p.softmax_scale_log2;
    const int wn = warp * NW; /* this warp's first key column in a block */

    for (int it = 0; it < nblk; ++it) {
        const int slot = it % STAGES;
        const int n0 = blk_of(it) * BLOCK_N;
        fa::cp_async_wait<STAGES - 2>(); /* block it (and Q) landed for this thread ... */
        __syncthreads();                 /* ... for all; slot (it-1) % STAGES is free */
        load_kv(it + STAGES - 1);

        const int ln = fa::opaque(lane);
        const fa::sm80_lds<HEAD_DIM> q_lds(sQ, ln & 15, ln >> 4);
        const fa::sm80_lds<HEAD_DIM> k_lds(sK + slot * T::KV_BYTES,
                                           wn + (ln & 7) + ((ln >> 4) << 3), (ln >> 3) & 1);
        const fa::sm80_lds<HEAD_DIM> v_lds(sV + slot * T::KV_BYTES, wn + (ln & 15), ln >> 4);

        /* ---- S = Q K^T over this warp's NW keys ------------------------------------- */
        float acc_s[MF][NF][4];
        fa::sm80_zero_acc(acc_s);
#pragma unroll
        for (int kk = 0; kk < KQ; ++kk) {
            uint32_t a[MF][4];
#pragma unroll
            for (int f = 0; f < MF; ++f)
                q_lds.template load<false>(a[f], kk, f * 16);
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

        /* ---- mask: keys >= len, and causal keys past i + len - sq --------------------- */
        const bool need_mask = n0 + BLOCK_N > len - (IS_CAUSAL ? sq - 1 : 0);
        if (need_mask) {
#pragma unroll
            for (int f = 0; f < MF; ++f)
#pragma unroll
                for (int hh = 0; hh < 2; ++hh) {
                    int lim = len - 1 - n0 - wn; /* last visible column of this warp's slice */
                    if constexpr (IS_CAUSAL) {
                        const int m = m_block * BLOCK_M + f * 16 + gid + 8 * hh;
                        lim = min(lim, m / grp + len - sq - n0 - wn);
                    }
#pragma unroll
                    for (int j = 0; j < NF; ++j)
#pragma unroll
                        for (int e = 0; e < 2; ++e)
                            if (j * 8 + 2 * t4 + e > lim)
                                acc_s[f][j][2 * hh + e] = FA_NEG_INF;
                }
        }

        /* ---- online softmax (this warp's columns); P -> 16-bit A fragments ------------ */
        uint32_t p_frag[MF][KP][4];
        float row_alpha[MF][2];
#pragma unroll
        for (int f = 0; f < MF; ++f) {
            fa::sm80_softmax_fragment<Element>(acc_s[f], row_max[f], row_sum[f], row_alpha[f],
                                               p_frag[f], sl2);
        }
        fa::sm80_rescale_o(acc_o, row_alpha);

        /* ---- O += P V ---------------------------------------------------------------- */
        fa::sm80_pv<Element>(acc_o, p_frag, v_lds);
    }
    fa::cp_async_wait<0>();
    __syncthreads(); /* the ring is free: it becomes the merge area */

    /* ---- merge the warps: stats, scaled fp32 O tiles, sum in warp order -------------- */
    float *red = reinterpret_cast<float *>(fa_decode_smem + T::Q_BYTES); /* [W][BM][RED_LD] */
    float *st_m = reinterpret_cast<float *>(fa_decode_smem + T::Q_BYTES + T::RED_BYTES);
    float *st_l = st_m + WARPS * BLOCK_M;
    float *fin_inv = st_l + WARPS * BLOCK_M;
    float *fin_lse = fin_inv + BLOCK_M;
#pragma unroll
    for (int f = 0; f < MF; ++f)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            float l = row_sum[f][hh];
            l += __shfl_xor_sync(0xffffffffu, l, 1);
            l += __shfl_xor_sync(0xffffffffu, l, 2);
            if (t4 == 0) {
                const int r = f * 16 + gid + 8 * hh;
                st_m[warp * BLOCK_M + r] = row_max[f][hh];
                st_l[warp * BLOCK_M + r] = l;
            }
        }
    __syncthreads();
#pragma unroll
    for (int f = 0; f < MF; ++f)
#pragma unroll
        for (int hh = 0; hh < 2; ++hh) {
            const int r = f * 16 + gid + 8 * hh;
            float mall = FA_NEG_INF;
#pragma unroll
            for (int w = 0; w < WARPS; ++w)
                mall = fmaxf(mall, st_m[w * BLOCK_M + r]);
            const float a =
                row_max[f][hh] == FA_NEG_INF ? 0.f : fa::exp2_approx((row_max[f][hh] - mall) * sl2);
            float *dst = red + (warp * BLOCK_M + r) * RED_LD + 2 * t4;
#pragma unroll
            for (int d = 0; d < DF; ++d)
                *reinterpret_cast<float2 *>(dst + d * 8) =
                    make_float2(acc_o[f][d][2 * hh] * a, acc_o[f][d][2 * hh + 1] * a);
        }
    if (tid < BLOCK_M) {
        float mall = FA_NEG_INF, l = 0.f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w)
            mall = fmaxf(mall, st_m[w * BLOCK_M + tid]);
#pragma unroll
        for (int w = 0; w < WARPS; ++w) {
            const float mw = st_m[w * BLOCK_M + tid];
            if (mw != FA_NEG_INF)
                l += st_l[w * BLOCK_M + tid] * fa::exp2_approx((mw - mall) * sl2);
        }
        fin_inv[tid] = l > 0.f ? __fdividef(1.f, l) : 0.f;
        fin_lse[tid] = l > 0.f ? mall * p.softmax_scale + logf(l) : FA_NEG_INF;
    }
    __syncthreads();

    /* ---- store: O (16-bit) with one split, else the fp32 partial; then LSE ----------- */
    const int64_t rows_all = (int64_t)p.batch * p.heads_q * sq; /* R of the scratch */
    float *opart = reinterpret_cast<float *>(args.scratch + FA_DECODE_SCRATCH_HEADER);
    float *lpart = opart + (int64_t)nsplit * rows_all * HEAD_DIM;
    for (int idx = tid; idx < BLOCK_M * (HEAD_DIM / 4); idx += NT) {
        const int r = idx / (HEAD_DIM / 4), c = (idx % (HEAD_DIM / 4)) * 4;
        const int m = m_block * BLOCK_M + r;
        if (m >= rows_total)
            continue;
        float4 s = *reinterpret_cast<const float4 *>(red + r * RED_LD + c);
#pragma unroll
        for (int w = 1; w < WARPS; ++w) {
            const float4 t =
                *reinterpret_cast<const float4 *>(red + (w * BLOCK_M + r) * RED_LD + c);
            s.x += t.x, s.y += t.y, s.z += t.z, s.w += t.w;
        }
        const float inv = fin_inv[r];
        s.x *= inv, s.y *= inv, s.z *= inv, s.w *= inv;
        const int i = m / grp, h = hk * grp + (m - (m / grp) * grp);
        if (nsplit == 1) {
            Element *o = reinterpret_cast<Element *>(p.o) + (int64_t)b * p.o_batch_stride +
                         (int64_t)i * p.o_row_stride + (int64_t)h * p.o_head_stride + c;
            fa::store4<Element>(o, s);
        } else {
            const int64_t row = ((int64_t)b * p.heads_q + h) * sq + i;
            *reinterpret_cast<float4 *>(opart + ((int64_t)split * rows_all + row) * HEAD_DIM + c) =
                s;
        }
    }
    for (int r = tid; r < BLOCK_M; r += NT) {
        const int m = m_block * BLOCK_M + r;
        if (m >= rows_total)
            continue;
        const int i = m / grp, h = hk * grp + (m - (m / grp) * grp);
        if (nsplit == 1) {
            if (p.lse)
                reinterpret_cast<float *>(
                    p.lse)[(int64_t)b * p.lse_batch_stride + (int64_t)h * p.lse_head_stride + i] =
                    fin_lse[r];
        } else {
            lpart[(int64_t)split * rows_all + ((int64_t)b * p.heads_q + h) * sq + i] = fin_lse[r];
        }
    }
    if (nsplit == 1 || !args.fused || gridDim.x > FA_DECODE_FUSED_GROUPS)
        return; /* (a launch past the header's counters gets no fused combine: the plan's rule) */

    /* ---- fused combine: the last split of this (M tile, b, hk) merges the partials ---- */
    __threadfence(); /* this thread's partials are visible device-wide ... */
    __syncthreads(); /* ... for every thread of the CTA before it is counted */
    int *last_flag = reinterpret_cast<int *>(st_m); /* free: the merge is done */
    if (tid == 0) {
        unsigned *cnt =
            reinterpret_cast<unsigned *>(args.scratch + FA_DECODE_COUNTERS) + blockIdx.x;
        const unsigned old = atomicAdd(cnt, 1u);
        const int last = old == (unsigned)nsplit - 1;
        if (last)
            *cnt = 0u; /* every split has counted: zero for the next launch */
        *last_flag = last;
    }
    __syncthreads();
    if (!*last_flag)
        return;
    __threadfence();
    /* The merge: the partial O rows of the first CHS splits go to shared memory by cp.async
       (no registers held) while all threads read every split's LSE of the tile's rows at
       once (lsm[s][r], the first LCAP splits; later ones are read from L2 where needed);
       then per row its max and sum: the lanes of a segment of seg (>= splits, a power of two
       up to 32) read the row's splits from lsm, 32 / seg rows per warp at a time, and turn
       the LSEs into weights in place; then O by all threads from shared memory, CHS splits
       per round trip. The same fp32 operations in the same order as the combine kernel (its
       lane-strided sums and xor tree, whose levels above seg add +0 there; weights
       exp(lse_s - max); O summed in split order, then times 1 / sum): fused and separate
       give the same bits. Everything sits in the merge area (red, free now). */
    constexpr int LCAP = 32; /* splits whose LSEs and weights stay in shared memory */
    constexpr int V4 = HEAD_DIM / 4, ITEMS = BLOCK_M * V4;
    constexpr int IT = (ITEMS + NT - 1) / NT; /* float4 items of O per thread */
    constexpr int CHS = (T::RED_BYTES / 4 - LCAP * BLOCK_M) / (BLOCK_M * HEAD_DIM);
    static_assert(CHS >= 1, "the merge area holds the LSEs and one split's partial tile");
    float *lsm = red;
    float *stage = red + LCAP * BLOCK_M; /* [CHS][BLOCK_M][HEAD_DIM] fp32 */
    const uint32_t stage_s = fa::smem_u32(stage);
    float *row_mx = st_l, *row_inv = st_l + BLOCK_M; /* st_l holds WARPS * BLOCK_M >= 2 BM */
    /* the scratch row of tile row r (valid: m < rows_total) */
    auto lrow = [&](int r) {
        const int m = m_block * BLOCK_M + r;
        const int i = m / grp, h = hk * grp + (m - (m / grp) * grp);
        return ((int64_t)b * p.heads_q + h) * sq + i;
    };
    const int rows_here = min(BLOCK_M, rows_total - m_block * BLOCK_M);
    /* the partial O of splits s0 .. s0+CHS-1 into stage: one cp.async group */
    auto stage_o = [&](int s0) {
        const int s1 = min(nsplit, s0 + CHS);
#pragma unroll
        for (int k = 0; k < IT; ++k) {
            const int idx = tid + k * NT;
            if ((ITEMS % NT == 0 || idx < ITEMS) && idx / V4 < rows_here) {
                const float *src = opart + lrow(idx / V4) * HEAD_DIM + (idx % V4) * 4;
                for (int s = s0; s < s1; ++s)
                    fa::cp_async_16(stage_s + (uint32_t)(((s - s0) * ITEMS + idx) * 16),
                                    src + (int64_t)s * rows_all * HEAD_DIM, true);
            }
        }
        fa::cp_async_commit();
    };
    stage_o(0);
    {
        const int nl = min(nsplit, LCAP) * BLOCK_M;
        for (int e0 = tid; e0 < nl; e0 += 4 * NT) {
            float v[4];
#pragma unroll
            for (int u = 0; u < 4; ++u) {
                const int e = e0 + u * NT, r = e % BLOCK_M;
                v[u] = FA_NEG_INF;
                if (e < nl && r < rows_here)
                    v[u] = __ldcg(lpart + (int64_t)(e / BLOCK_M) * rows_all + lrow(r));
            }
#pragma unroll
            for (int u = 0; u < 4; ++u)
                if (e0 + u * NT < nl)
                    lsm[e0 + u * NT] = v[u];
        }
    }
    __syncthreads();
    {
        const int seg = nsplit > 16 ? 32 : nsplit > 8 ? 16 : nsplit > 4 ? 8 : nsplit > 2 ? 4 : 2;
        const int per_warp = 32 / seg, j = lane & (seg - 1);
        for (int rw = warp * per_warp; rw < BLOCK_M; rw += WARPS * per_warp) {
            const int r = rw + lane / seg; /* warp-uniform loop: every lane shuffles */
            const bool rv = r < rows_here;
            const int64_t row = rv ? lrow(r) : 0;
            float mx = FA_NEG_INF;
            if (rv)
                for (int s = j; s < nsplit; s += 32)
                    mx = fmaxf(mx, s < LCAP ? lsm[s * BLOCK_M + r]
                                            : __ldcg(lpart + (int64_t)s * rows_all + row));
            for (int o = seg / 2; o > 0; o >>= 1)
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            float sum = 0.f;
            if (rv)
                for (int s = j; s < nsplit; s += 32) {
                    const float l = s < LCAP ? lsm[s * BLOCK_M + r]
                                             : __ldcg(lpart + (int64_t)s * rows_all + row);
                    const float w = l == FA_NEG_INF ? 0.f : __expf(l - mx);
                    if (s < LCAP)
                        lsm[s * BLOCK_M + r] = w;
                    sum += w;
                }
            for (int o = seg / 2; o > 0; o >>= 1)
                sum += __shfl_xor_sync(0xffffffffu, sum, o);
            if (rv && j == 0) {
                row_mx[r] = mx;
                row_inv[r] = sum > 0.f ? 1.f / sum : 0.f;
                if (p.lse) {
                    const int m = m_block * BLOCK_M + r;
                    const int i = m / grp, h = hk * grp + (m - (m / grp) * grp);
                    reinterpret_cast<float *>(p.lse)[(int64_t)b * p.lse_batch_stride +
                                                     (int64_t)h * p.lse_head_stride + i] =
                        sum > 0.f ? mx + logf(sum) : FA_NEG_INF;
                }
            }
        }
    }
    float4 acc[IT];
#pragma unroll
    for (int k = 0; k < IT; ++k)
        acc[k] = make_float4(0.f, 0.f, 0.f, 0.f);
    for (int s0 = 0; s0 < nsplit; s0 += CHS) {
        if (s0 > 0) {
            __syncthreads(); /* everyone is done with the previous splits' tiles */
            stage_o(s0);
        }
        fa::cp_async_wait<0>();
        __syncthreads(); /* the tiles, and (first pass) the weights, for all */
        const int s1 = min(nsplit, s0 + CHS);
#pragma unroll
        for (int k = 0; k < IT; ++k) {
            const int idx = tid + k * NT;
            const int r = idx / V4;
            if ((ITEMS % NT == 0 || idx < ITEMS) && r < rows_here)
                for (int s = s0; s < s1; ++s) {
                    float w;
                    if (s < LCAP) {
                        w = lsm[s * BLOCK_M + r];
                    } else {
                        const float l = __ldcg(lpart + (int64_t)s * rows_all + lrow(r));
                        w = l == FA_NEG_INF ? 0.f : __expf(l - row_mx[r]);
                    }
                    const float4 t =
                        *reinterpret_cast<const float4 *>(stage + ((s - s0) * ITEMS + idx) * 4);
                    acc[k].x += w * t.x, acc[k].y += w * t.y;
                    acc[k].z += w * t.z, acc[k].w += w * t.w;
                }
        }
    }
#pragma unroll
    for (int k = 0; k < IT; ++k) {
        const int idx = tid + k * NT;
        const int r = idx / V4, c = (idx % V4) * 4;
        if ((ITEMS % NT == 0 || idx < ITEMS) && r < rows_here) {
            const float inv = row_inv[r];
            float4 o4 = acc[k];
            o4.x *= inv, o4.y *= inv, o4.z *= inv, o4.w *= inv;
            const int m = m_block * BLOCK_M + r;
            const int i = m / grp, h = hk * grp + (m - (m / grp) * grp);
            Element *o = reinterpret_cast<Element *>(p.o) + (int64_t)b * p.o_batch_stride +
                         (int64_t)i * p.o_row_stride + (int64_t)h * p.o_head_stride + c;
            fa::store4<Element>(o, o4);
        }
    }
}

/*
 * Merge the splits' partials (see the top of this file): one warp per row (b, h, i). The
 * lanes read the splits' LSEs in parallel and leave the normalised weights in shared memory;
 * the partial O rows are then read UNROLL splits at a time with no load depending on another
 * (a split that saw no key has weight 0 and an all-zero partial, written by the main kernel),
 * so the loop is bound by bandwidth, not by one load latency per split.
 */
template <typename Element, int HEAD_DIM>
__global__ void __launch_bounds__(32 * FA_DECODE_COMBINE_ROWS)
    fa_decode_combine(const __grid_constant__ fa_decode_args args)
{
    constexpr int V4 = HEAD_DIM / 4;    /* float4 per row */
    constexpr int PER = (V4 + 31) / 32; /* per lane */
    constexpr int UNROLL = 8;
    __shared__ float weight[FA_DECODE_COMBINE_ROWS][FA_DECODE_MAX_SPLITS_COMBINE];
    const fa_fwd_params &p = args.p;
    const int lane = threadIdx.x & 31, wr = threadIdx.x >> 5;
    const int sq = p.seqlen_q;
    const int64_t rows_all = (int64_t)p.batch * p.heads_q * sq;
    const int64_t row = (int64_t)blockIdx.x * FA_DECODE_COMBINE_ROWS + wr;
    if (row >= rows_all)
        return;
    fa::grid_dependency_wait(); /* the split kernel's partials are complete and visible (8.) */
    const int nsplit = *reinterpret_cast<const int *>(args.scratch);
    const float *opart = reinterpret_cast<const float *>(args.scratch + FA_DECODE_SCRATCH_HEADER);
    const float *lpart = opart + (int64_t)nsplit * rows_all * HEAD_DIM;

    float mx = FA_NEG_INF;
    for (int s = lane; s < nsplit; s += 32)
        mx = fmaxf(mx, lpart[(int64_t)s * rows_all + row]);
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
    float sum = 0.f;
    for (int s = lane; s < nsplit; s += 32) {
        const float l = lpart[(int64_t)s * rows_all + row];
        const float w = (l == FA_NEG_INF) ? 0.f : __expf(l - mx); /* mx finite if l is */
        weight[wr][s] = w;
        sum += w;
    }
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
        sum += __shfl_xor_sync(0xffffffffu, sum, o);
    __syncwarp();

    float4 acc[PER];
#pragma unroll
    for (int k = 0; k < PER; ++k)
        acc[k] = make_float4(0.f, 0.f, 0.f, 0.f);
    const float4 *src = reinterpret_cast<const float4 *>(opart + row * HEAD_DIM) + lane;
    const int64_t step = rows_all * (HEAD_DIM / 4); /* float4 between splits of one row */
    for (int s0 = 0; s0 < nsplit; s0 += UNROLL) {
        float4 t[UNROLL][PER];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u)
#pragma unroll
            for (int k = 0; k < PER; ++k)
                if (s0 + u < nsplit && lane + 32 * k < V4)
                    t[u][k] = src[(int64_t)(s0 + u) * step + 32 * k];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) {
            if (s0 + u >= nsplit)
                break;
            const float w = weight[wr][s0 + u];
#pragma unroll
            for (int k = 0; k < PER; ++k)
                if (lane + 32 * k < V4) {
                    acc[k].x += w * t[u][k].x, acc[k].y += w * t[u][k].y;
                    acc[k].z += w * t[u][k].z, acc[k].w += w * t[u][k].w;
                }
        }
    }
    const float inv = sum > 0.f ? 1.f / sum : 0.f;
    const int i = (int)(row % sq);
    const int h = (int)((row / sq) % p.heads_q);
    const int b = (int)(row / ((int64_t)sq * p.heads_q));
    Element *o = reinterpret_cast<Element *>(p.o) + (int64_t)b * p.o_batch_stride +
                 (int64_t)i * p.o_row_stride + (int64_t)h * p.o_head_stride;
#pragma unroll
    for (int k = 0; k < PER; ++k)
        if (lane + 32 * k < V4) {
            float4 t = acc[k];
            t.x *= inv, t.y *= inv, t.z *= inv, t.w *= inv;
            fa::store4<Element>(o + 4 * (lane + 32 * k), t);
        }
    if (lane == 0 && p.lse)
        reinterpret_cast<float *>(
            p.lse)[(int64_t)b * p.lse_batch_stride + (int64_t)h * p.lse_head_stride + i] =
            sum > 0.f ? mx + logf(sum) : FA_NEG_INF;
}

#endif /* FA_DECODE_SPLITKV_CUH */
