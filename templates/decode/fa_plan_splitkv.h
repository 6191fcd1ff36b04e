/*
 * fa_plan_splitkv.h -- the splitkv decode family's launch geometry, argument struct and scratch
 * layout, one copy for host C (tuner/families/fa_family_splitkv.c), CUDA
 * (decode/fa_decode_splitkv.cuh) and any launcher (like fa_params.h, it compiles as C99 and as
 * CUDA). Included by names relative to templates/.
 *
 * Two kernels, one argument struct (fa_decode_args: fa_fwd_params, the scratch address, the
 * fused flag):
 *   main     grid  = (m_blocks * batch * heads_kv, splits, 1), m_block fastest
 *                    m_blocks = ceil(g * seqlen_q / BLOCK_M), g = heads_q / heads_kv
 *            block = 32 * WARPS threads, dynamic shared memory FA_DECODE_SMEM_BYTES
 *   combine  grid  = (ceil(R / FA_DECODE_COMBINE_ROWS), 1, 1), block = 32 * FA_DECODE_COMBINE_ROWS
 *            R = batch * heads_q * seqlen_q, one warp per output row
 * With one split the main kernel writes O and LSE itself: one launch, no scratch.
 *
 * Fused combine (the variant's fuse axis, fa_plan_splitkv_fused): with more than one split and
 * at most FA_DECODE_FUSED_GROUPS main CTAs per split, the combine kernel does not run: each
 * main CTA counts itself in its (M tile, b, hk) counter after writing its partial
 * (__threadfence, atomicAdd), and the last of the group's splits merges the group's partials
 * into O and LSE and sets the counter back to 0. One launch; the counters must be zero before
 * the first launch on a scratch (zero it once after allocating it) and every launch leaves
 * them zero, so a scratch is reused without clearing.
 *
 * Scratch (splits > 1), fp32, partials written completely by the main kernel before they are
 * read (so they need no clearing):
 *   [0, 4)                    int32 splits (the main kernel's gridDim.y; combine reads it)
 *   [256, 4352)               uint32 counters of the fused combine, [grid x of the main kernel]
 *   [4352, 4352 + 4*S*R*D)    partial O, [split][r][D], r = (b * heads_q + h) * seqlen_q + i,
 *                             normalised by the split's own row sum
 *   then 4*S*R bytes          partial LSE, [split][r] (natural log; -inf: the split saw no key)
 *
 * Splits. The axis value 0 is "auto": FlashAttention-3's rule (hopper/heuristics.h) on the
 * device's multiprocessors: one split when the CTAs fill 80% of the multiprocessors or the
 * longest cache has at most 4 KV blocks; else the fewest splits whose wave efficiency is within
 * FA_DECODE_AUTO_EFFICIENCY of the best up to min(128, multiprocessors, KV blocks). Any value
 * is clamped to the KV blocks of the longest cache so that no split of it is empty.
 */
#ifndef FA_PLAN_SPLITKV_H
#define FA_PLAN_SPLITKV_H

#include "fa_params.h"

#ifdef __CUDACC__
#define FA_PLAN_SPLITKV_FN static inline __host__ __device__
#else
#define FA_PLAN_SPLITKV_FN static inline
#endif

/* The argument of both kernels, passed by value as __grid_constant__. */
typedef struct fa_decode_args {
    fa_fwd_params p;  /* tensors, strides, sizes, cache lengths, block table */
    uint64_t scratch; /* device address of the plan's scratch; 0 with one split */
    uint32_t fused;   /* 1: the main kernel merges the splits (fa_plan_splitkv_fused) */
    uint32_t reserved;
} fa_decode_args;

#define FA_DECODE_ARGS_BYTES 248

#ifdef __cplusplus
static_assert(sizeof(fa_decode_args) == FA_DECODE_ARGS_BYTES, "fa_decode_args layout drifted");
#else
_Static_assert(sizeof(fa_decode_args) == FA_DECODE_ARGS_BYTES, "fa_decode_args layout drifted");
#endif

#define FA_DECODE_COUNTERS 256      /* byte offset of the counters */
#define FA_DECODE_FUSED_GROUPS 1024 /* counters: main CTAs per split */
#define FA_DECODE_SCRATCH_HEADER (256 + 4 * FA_DECODE_FUSED_GROUPS) /* partials start here */
#define FA_DECODE_COMBINE_ROWS 4          /* rows (warps) per combine block */
#define FA_DECODE_MAX_SPLITS 128          /* the auto rule's ceiling */
#define FA_DECODE_MAX_SPLITS_COMBINE 1024 /* any resolved split count (the combine's weights) */
#define FA_DECODE_MAX_FUSED_SPLITS 4      /* the fuse axis with explicit splits (the family's) */

#define FA_DECODE_MAX_(a, b) ((a) > (b) ? (a) : (b))

/* The auto rule's bar: FlashAttention-3 takes the fewest splits within 85% of the best wave
 * efficiency; a decode split reads K/V at the memory's pace, so an idle multiprocessor costs
 * its share of the bandwidth while one split more costs a partial row: within 95%. On an H200
 * (132 SMs), 8 CTAs over a 128k cache get 16 splits (128 CTAs) instead of 15 (120 CTAs, which
 * read K/V at 89% of the copy bandwidth). */
#define FA_DECODE_AUTO_EFFICIENCY 0.95f
/*
 * Dynamic shared memory of the main kernel, bytes: the Q tile (BLOCK_M x D, 16-bit), then the
 * STAGES-deep K/V ring (K and V tiles of BLOCK_N x D, 16-bit) which after the KV loop holds the
 * warps' fp32 partial O tiles (WARPS x BLOCK_M x (D + 8), padded rows), then the per-warp row
 * maxima and sums and the per-row 1/l and LSE ((2 WARPS + 2) x BLOCK_M floats).
 */
#define FA_DECODE_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES)                            \
    ((BLOCK_M) * (HEAD_DIM)*2 +                                                                    \
     FA_DECODE_MAX_((STAGES) * (BLOCK_N) * (HEAD_DIM)*4,                                           \
                    (WARPS) * (BLOCK_M) * ((HEAD_DIM) + 8) * 4) +                                  \
     (2 * (WARPS) + 2) * (BLOCK_M)*4)

FA_PLAN_SPLITKV_FN unsigned fa_plan_splitkv_smem(int head_dim, int block_m, int block_n, int warps,
                                                 int stages)
{
    return (unsigned)FA_DECODE_SMEM_BYTES(head_dim, block_m, block_n, warps, stages);
}

FA_PLAN_SPLITKV_FN unsigned fa_plan_splitkv_threads(int warps)
{
    return (unsigned)(32 * warps);
}

/* M tiles per (sequence, KV head): the g * seqlen_q packed query rows over BLOCK_M. Computed
 * in 64 bits and saturated at 2^31 - 1, so any int shape is defined behaviour (the launcher's
 * grid check then refuses it). Host code only, as the other functions of this file below. */
FA_PLAN_SPLITKV_FN int fa_plan_splitkv_mblocks(int heads_q, int heads_kv, int seqlen_q, int block_m)
{
    const int64_t rows = (int64_t)(heads_q / heads_kv) * seqlen_q;
    const int64_t mblocks = (rows + block_m - 1) / block_m;
    return mblocks > 0x7fffffff ? 0x7fffffff : (int)mblocks;
}

/* Wave efficiency of s splits: the CTAs over the slots of the whole waves they take (in 64 bits,
 * so any int count of multiprocessors > 0 is defined). */
FA_PLAN_SPLITKV_FN float fa_plan_splitkv_wave_efficiency(int total_mblocks, int s,
                                                         int multiprocessors)
{
    const int64_t ctas = (int64_t)total_mblocks * s;
    const int64_t waves = (ctas + multiprocessors - 1) / multiprocessors;
    return (float)ctas / (float)(waves * multiprocessors);
}

/* FlashAttention-3's split count (see the top of this file). */
FA_PLAN_SPLITKV_FN int fa_plan_splitkv_auto(int total_mblocks, int multiprocessors, int n_blocks)
{
    if (multiprocessors <= 0 || (float)total_mblocks >= 0.8f * (float)multiprocessors ||
        n_blocks <= 4)
        return 1;
    int max_splits = FA_DECODE_MAX_SPLITS;
    if (max_splits > multiprocessors)
        max_splits = multiprocessors;
    if (max_splits > n_blocks)
        max_splits = n_blocks;
    float best = 0.f;
    for (int s = 1; s <= max_splits; s++) {
        const float eff = fa_plan_splitkv_wave_efficiency(total_mblocks, s, multiprocessors);
        if (eff > best)
            best = eff;
    }
    for (int s = 1; s <= max_splits; s++)
        if (fa_plan_splitkv_wave_efficiency(total_mblocks, s, multiprocessors) >=
            FA_DECODE_AUTO_EFFICIENCY * best)
            return s;
    return 1;
}

/* The splits a variant with axis value `splits` (0: auto) runs for a shape: at least 1, at most
 * the KV blocks of the longest cache, and no split of it empty. */
FA_PLAN_SPLITKV_FN int fa_plan_splitkv_splits(int splits, int batch, int heads_q, int heads_kv,
                                              int seqlen_q, int seqlen_k, int block_m, int block_n,
                                              int multiprocessors)
{
    const int n_blocks = (int)(((int64_t)seqlen_k + block_n - 1) / block_n);
    /* The CTAs of one split, in 64 bits: (batch x heads_kv, saturated at 2^31 - 1) x M tiles
       stays under 2^62, so any int shape is defined (the launcher refuses such grids). */
    uint64_t total = (uint64_t)(batch > 0 ? batch : 0) * (uint64_t)(heads_kv > 0 ? heads_kv : 0);
    total = (total > 0x7fffffffu ? 0x7fffffffu : total) *
            (uint64_t)fa_plan_splitkv_mblocks(heads_q, heads_kv, seqlen_q, block_m);
    int s = splits > 0 ? splits
                       : fa_plan_splitkv_auto(total > 0x7fffffff ? 0x7fffffff : (int)total,
                                              multiprocessors, n_blocks);
    if (s > n_blocks)
        s = n_blocks;
    if (s > FA_DECODE_MAX_SPLITS_COMBINE)
        s = FA_DECODE_MAX_SPLITS_COMBINE;
    if (s < 1)
        return 1;
    const int per = (n_blocks + s - 1) / s; /* blocks per split; the kernel's rule */
    return (n_blocks + per - 1) / per;
}

/* Does a variant with axis value `fuse` merge the splits in its main kernel (one launch) for
 * `splits` resolved splits? Only with more than one split and at most FA_DECODE_FUSED_GROUPS
 * main CTAs per split (the counters the scratch header holds); else the combine kernel runs. */
FA_PLAN_SPLITKV_FN int fa_plan_splitkv_fused(int fuse, int splits, int batch, int heads_q,
                                             int heads_kv, int seqlen_q, int block_m)
{
    if (!fuse || splits <= 1 || heads_kv < 1 || batch < 1)
        return 0;
    const int64_t ctas = (int64_t)fa_plan_splitkv_mblocks(heads_q, heads_kv, seqlen_q, block_m) *
                         (int64_t)batch * (int64_t)heads_kv;
    return ctas <= FA_DECODE_FUSED_GROUPS;
}

/* Scratch bytes for `splits` resolved splits (0 for one). */
FA_PLAN_SPLITKV_FN uint64_t fa_plan_splitkv_scratch(int splits, int batch, int heads_q,
                                                    int seqlen_q, int head_dim)
{
    if (splits <= 1)
        return 0;
    const uint64_t rows = (uint64_t)batch * (uint64_t)heads_q * (uint64_t)seqlen_q;
    return FA_DECODE_SCRATCH_HEADER + (uint64_t)splits * rows * (uint64_t)(head_dim + 1) * 4u;
}

/* Which KV blocks split `split` of `nsplit` reads of a sequence's nb blocks: first, first +
 * step, ... (count of them; count 0 leaves first at nb). Block-cyclic (step nsplit) when
 * `cyclic`, else one range of ceil(nb / nsplit) blocks; either way every block of [0, nb) goes
 * to exactly one split. See decode/fa_decode_splitkv.cuh, 6., for when each is used. */
typedef struct fa_splitkv_blocks {
    int first, step, count;
} fa_splitkv_blocks;

FA_PLAN_SPLITKV_FN fa_splitkv_blocks fa_plan_splitkv_blocks(int nb, int split, int nsplit,
                                                            int cyclic)
{
    fa_splitkv_blocks r;
    if (cyclic) {
        r.first = split < nb ? split : nb;
        r.step = nsplit;
        r.count = (nb - r.first + nsplit - 1) / nsplit;
    } else {
        const int per = (nb + nsplit - 1) / nsplit;
        r.first = split * per < nb ? split * per : nb;
        r.step = 1;
        r.count = (r.first + per < nb ? r.first + per : nb) - r.first;
    }
    return r;
}

/* Block-cyclic splits where each KV head's rows are adjacent in memory (row stride = head dim:
 * PyTorch's bhsd caches, or a single KV head), ranges elsewhere (6. of the kernel's notes). */
FA_PLAN_SPLITKV_FN int fa_plan_splitkv_cyclic(int64_t k_row_stride, int64_t v_row_stride,
                                              int head_dim)
{
    return k_row_stride == head_dim && v_row_stride == head_dim;
}

#endif /* FA_PLAN_SPLITKV_H */
