/*
 * fa_plan_sm90a.h -- the sm90a family's launch geometry and argument layout, one copy for host
 * C (tuner/families/fa_family_sm90a.c), CUDA (fa_fwd_sm90a.cuh) and any launcher (like
 * fa_params.h, it compiles as C99 and as CUDA). Included by names relative to templates/.
 *
 * One launch per problem, no cluster, no scratch:
 *     grid  = tiles = ceil(seqlen_q / BLOCK_M) * heads_q * batch, 1, 1
 *             (PERSISTENT: min(tiles, multiprocessors); any grid size is correct)
 *     block = 128 * (CWG + 1) threads (a producer warpgroup and CWG consumer warpgroups)
 *     dynamic shared memory = FA_SM90A_SMEM_BYTES(...) (over 48 KB: opt in first)
 *     BLOCK_M = 64 * CWG
 * The kernel's one argument (fa::sm90a_args, passed by value as __grid_constant__) is
 * FA_SM90A_ARGS_BYTES long: fa_fwd_params at offset 0, then the Q, K and V tensor maps
 * (CUtensorMap, 128 bytes each, 128-byte aligned) at FA_SM90A_TMAP_OFFSET(0..2).
 *
 * Varlen (cu_seqlens_q/k set, seqlen_q/k the maxima): the grid is the same formula over the
 * maxima; tiles past a sequence's end exit at once. Each map is "ragged": one map over the whole
 * packed tensor whose row bounds are per sequence, so TMA zero-fills rows past a sequence's end
 * instead of loading the next sequence's (Triton's ragged-TMA construction):
 *     dims {D, L, heads, FA_SM90A_RAGGED_ROWS}, byte strides {row, head, row} * 2,
 *     base = ptr - L * row_stride * 2 (may point before the tensor: only in-bounds rows are read)
 * with L = FA_SM90A_RAGGED_L(max length) (seqlen_q for Q, seqlen_k for K and V). Row r of the
 * sequence [start, end) is coordinate (.., L - (end - start) + r, h, end): address row
 * start + r, and r >= end - start lands at or past L, out of bounds.
 *
 * PackGQA (pack_gqa = 1, the kernel fa_fwd_sm90a_pack_gqa): the g = heads_q / heads_kv query
 * heads of one KV head share a tile, so its K/V blocks are loaded once for all g heads. A tile
 * holds T = BLOCK_M / g tokens (fa_plan_sm90a_pack_tokens; g <= BLOCK_M) of all g heads, row
 * r = t * g + j being (token m_block * T + t, query head kv_head * g + j); rows past T * g
 * (when g does not divide BLOCK_M) are computed and never stored. Tiles:
 *     ceil(seqlen_q / T) * heads_kv * batch
 * The Q map is 5-d, {D, g, rows, heads_kv, batch} with byte strides {head, row, g * head,
 * batch} * 2 and box {64, g, T, 1, 1}: TMA lays the box out in shared memory as T * g rows of
 * 128 bytes in exactly that row order and zero-fills tokens past seqlen_q. Any layout whose
 * query heads are evenly strided works (BSHD, BHSD, packed QKV); varlen uses the ragged form
 * on dims 2 and 4 ({D, g, L, heads_kv, FA_SM90A_RAGGED_ROWS}, strides {head, row, g * head,
 * row} * 2). K and V maps are unchanged; O and LSE are stored row by row to (token, head).
 */
#ifndef FA_PLAN_SM90A_H
#define FA_PLAN_SM90A_H

#ifndef FA_PARAMS_H /* an emitted dispatch header carries its own copy */
#include "fa_params.h"
#endif

/* Host and device (the kernel and NVRTC see these too; NVRTC has no host functions). */
#ifdef __CUDACC__
#define FA_PLAN_SM90A_FN static inline __host__ __device__
#else
#define FA_PLAN_SM90A_FN static inline
#endif

/* Head dims are stored in 64-column slabs (TMA boxes of 128 bytes, 128-byte swizzle): 32 and 96
 * occupy 64 and 128 columns of shared memory, the rest zero-filled by TMA. */
#define FA_SM90A_DPAD(HEAD_DIM) (((HEAD_DIM) + 63) / 64 * 64)

/* Varlen's ragged tensor maps (above): the row-dimension bound for a maximum length, and the
 * bound of the sequence-end dimension (any packed row count below it works). */
#define FA_SM90A_RAGGED_L(MAXLEN) ((MAXLEN) > 1 ? (MAXLEN) : 1)
#define FA_SM90A_RAGGED_ROWS 0x7fff0000

/*
 * Whether a PERSISTENT variant stages O through its own shared-memory tile: only when Q, the
 * K/V ring and an O tile fit the 224 KB budget together (otherwise O is stored straight from
 * the accumulators). Non-persistent variants stage O through the Q tile instead.
 */
#define FA_SM90A_STAGE_O(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT)                           \
    ((PERSISTENT) &&                                                                               \
     (2 * (BLOCK_M) + 2 * (STAGES) * (BLOCK_N)) * FA_SM90A_DPAD(HEAD_DIM) * 2 <= 224 * 1024)

/*
 * A PERSISTENT variant with no room for an O tile stages O a warp at a time instead: each
 * consumer warp owns a 16-row x 64-column slice (2 KB, the Q tile's swizzled image) and
 * stores its rows one 64-column slab after another with coalesced 16-byte stores, when Q,
 * the ring and BLOCK_M / 16 slices fit 224 KB. Without it such a variant stored O straight
 * from the accumulators, 4 bytes at a time: 8 rows of 16 bytes per warp instruction, which
 * counts to about 3x the L1 transactions of staging (head dim 256, m128n64s2pe: 64 4-byte
 * stores a thread against 16 of 16 bytes). 0 here turns it off (an A/B: bench/ab_macro.sh).
 */
#ifndef FA_SM90A_STAGE_O_WARP
#define FA_SM90A_STAGE_O_WARP 1
#endif
#define FA_SM90A_O_SLICE_BYTES (16 * 128)
#define FA_SM90A_STAGE_O_SLICES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT)                    \
    (FA_SM90A_STAGE_O_WARP && (PERSISTENT) &&                                                      \
     !FA_SM90A_STAGE_O(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT) &&                          \
     ((BLOCK_M) + 2 * (STAGES) * (BLOCK_N)) * FA_SM90A_DPAD(HEAD_DIM) * 2 +                        \
             (BLOCK_M) / 16 * FA_SM90A_O_SLICE_BYTES <=                                            \
         224 * 1024)

/* Bytes of O staging: the O tile (BLOCK_M x DPAD columns), the warps' slices, or none. */
#define FA_SM90A_O_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT)                           \
    (FA_SM90A_STAGE_O(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT)                              \
         ? FA_SM90A_DPAD(HEAD_DIM) * 2 * (BLOCK_M)                                                 \
     : FA_SM90A_STAGE_O_SLICES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, PERSISTENT)                     \
         ? (BLOCK_M) / 16 * FA_SM90A_O_SLICE_BYTES                                                 \
         : 0)

/*
 * Dynamic shared memory of the sm90a family, in bytes: 1024 bytes of alignment slack (the
 * swizzle atoms need a 1024-byte-aligned base), the Q tile, STAGES K and V tiles (2-byte
 * elements, FA_SM90A_DPAD columns), O_BYTES of O staging (FA_SM90A_O_BYTES) and 256 bytes of
 * mbarriers.
 */
#define FA_SM90A_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, O_BYTES)                           \
    (1024 + ((BLOCK_M) + 2 * (STAGES) * (BLOCK_N)) * FA_SM90A_DPAD(HEAD_DIM) * 2 + (O_BYTES) + 256)

/*
 * Blocks a multiprocessor (the `ctas` axis, the kernels' CTAS template argument): 1, or 2 for
 * short, latency-bound launches, where one block's loads, softmax and epilogue can run while
 * the other's wgmmas do. Registers: the launch bounds cap a block at 65536 / (threads x CTAS)
 * a thread, which setmaxnreg then moves from the producer warpgroup to the consumers: 168 x
 * 384 = 24 x 128 + 240 x 256 with one block and 2 consumer warpgroups, 128 x 512 = 32 x 128 +
 * 160 x 384 with 3, and with two blocks 80 x 384 >= 24 x 128 + 104 x 256 (2 consumer
 * warpgroups) or 128 x 256 >= 24 x 128 + 232 x 128 (1, BLOCK_M 64; 3 would leave their
 * consumers 72). Two blocks also need their shared
 * memory to fit twice (FA_SM90A_SMEM_2CTAS per block: 228 KB a multiprocessor, 1 KB of it
 * reserved per block) and run one tile each (not persistent: the grid is the tiles, and two
 * of them share each multiprocessor).
 */
#define FA_SM90A_REG_PRODUCER(CWG, CTAS) ((CWG) == 3 ? 32 : 24)
#define FA_SM90A_REG_CONSUMER(CWG, CTAS)                                                           \
    ((CWG) == 1 ? ((CTAS) == 2 ? 232 : 240) : (CTAS) == 2 ? 104 : (CWG) == 2 ? 240 : 160)
#define FA_SM90A_SMEM_2CTAS (113 * 1024)
/*
 * Accumulator registers a consumer thread may hold (S + O, + P with overlap; FlashAttention's
 * feasibility model): the consumers' registers less the producer's, with one block and with
 * two of one consumer warpgroup (208). With two of 2 consumer warpgroups ptxas (CUDA 13.0)
 * compiled every hd32/64/96 configuration to find the edge: at most 72 and BLOCK_N <= 96
 * compile without spilling (hd64 n64 and n80, hd32 up to n96); 80 spills (hd64 n64 with
 * overlap, n96; hd96 n64), and a wider S stops ptxas outright at a wgmma (C7602,
 * "insufficient registers (80)": hd32 n112, 72 accumulators). ptxas sizes each instruction
 * within the launch-bounds cap, not the setmaxnreg count: one consumer warpgroup's hd256 PV
 * wgmma (128 accumulators) stops it at 128 the same way, so BLOCK_M 64 stops at head dim 128
 * (every legal hd32-128 configuration of it compiles, none spills).
 */
#define FA_SM90A_ACC_BUDGET(CWG, CTAS)                                                             \
    ((CTAS) == 2 && (CWG) == 2                                                                     \
         ? 72                                                                                      \
         : FA_SM90A_REG_CONSUMER(CWG, CTAS) - FA_SM90A_REG_PRODUCER(CWG, CTAS))
#define FA_SM90A_2CTAS_MAX_BLOCK_N 96
/* Three consumer warpgroups (512 threads: a 128-register launch cap) take BLOCK_N at most 192:
   at head dim 32, whose S + O (120 and 128 accumulators at BLOCK_N 208 and 224) pass the budget,
   ptxas (CUDA 13.0) stops at the QK^T wgmma ("C7602 insufficient registers (128)"), as above;
   at head dim 64 and up the budget already ends at 192. */
#define FA_SM90A_3WG_MAX_BLOCK_N 192

/* The argument struct's layout (fa::sm90a_args; static_asserts in fa_fwd_sm90a.cuh). */
#define FA_SM90A_TMAP_BYTES 128
#define FA_SM90A_TMAP_OFFSET(i) (256 + FA_SM90A_TMAP_BYTES * (i))
#define FA_SM90A_ARGS_BYTES FA_SM90A_TMAP_OFFSET(3)

/* a * b for a, b < 2^32, saturated at 2^32 - 1 */
FA_PLAN_SM90A_FN uint64_t fa_plan_sm90a_mul_sat(uint64_t a, uint64_t b)
{
    const uint64_t t = a * b;
    return t > 0xffffffffu ? 0xffffffffu : t;
}

/* Tiles of a launch, (ceil(seqlen_q / BLOCK_M), heads_q, batch), for seqlen_q, heads_q, batch
 * >= 0; saturated at 2^32 - 1 (the launcher refuses more than 2^31 - 1, the kernel's int tile
 * index), never wrapped. Host code only, as the grid and tmap functions below. */
FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_tiles(int seqlen_q, int heads_q, int batch, int cwg)
{
    const uint64_t rows = (uint64_t)(64 * cwg);
    const uint64_t m_blocks = ((uint64_t)seqlen_q + rows - 1u) / rows;
    return (unsigned)fa_plan_sm90a_mul_sat(fa_plan_sm90a_mul_sat(m_blocks, (uint64_t)heads_q),
                                           (uint64_t)batch);
}

/* Grid size: the tiles, or with persistent at most one block per multiprocessor. */
FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_grid(int seqlen_q, int heads_q, int batch, int cwg,
                                             int persistent, int multiprocessors)
{
    unsigned tiles = fa_plan_sm90a_tiles(seqlen_q, heads_q, batch, cwg);
    return persistent && multiprocessors > 0 && tiles > (unsigned)multiprocessors
               ? (unsigned)multiprocessors
               : tiles;
}

/*
 * Tile order. The tiles t = 0 .. tiles-1 of a launch cover (row block, pair), a pair being
 * (head, batch) = (pair % heads, pair / heads); the heads are the query heads (the KV heads
 * with PackGQA). Causal: the pairs form groups of `group` consecutive pairs and within a group
 * row blocks run descending (longest first), pairs inner; one group (group >= pairs) is
 * longest first over the whole launch. Otherwise pairs major, row blocks inner (ascending), so
 * tiles in flight together share their K/V in L2.
 */
FA_PLAN_SM90A_FN void fa_plan_sm90a_tile(int t, int causal, int m_blocks, int pairs, int group,
                                         int *m_block, int *pair)
{
    if (causal) {
        const int first = t / (group * m_blocks) * group; /* the group's first pair */
        const int size = pairs - first < group ? pairs - first : group;
        const int u = t - first * m_blocks; /* position within the group */
        *m_block = m_blocks - 1 - u / size;
        *pair = first + u % size;
    } else {
        *m_block = t % m_blocks;
        *pair = t / m_blocks;
    }
}

/*
 * The causal group size of fa_plan_sm90a_tile: as many pairs as have their K/V in
 * FA_SM90A_L2_GROUP_BYTES, so the row blocks of a group, which all read the same K/V prefixes,
 * find them in L2. Longest first over the whole launch (one group) meets a pair's K/V again
 * only after every other pair has passed: a greedy-scheduling model with an LRU L2 has short
 * causal problems reading their K/V from DRAM 2-4 times that way, and the grouped order once,
 * finishing within 2.5% of the same time (bench/causal_order_model.py). Groups are
 * evened out (their sizes differ by at most one group's rounding). For a grid of one block per
 * tile only: the hardware hands those out as SMs free up, which keeps longest first within a
 * group balanced; the persistent kernel's static rounds are not (the model loses 10-40% with
 * groups) and keep one group -- except short launches, of at most FA_SM90A_HEAD_MAJOR_MBLOCKS
 * row blocks a pair: group 1, head-major (a pair's row blocks consecutive, longest first), so a
 * round of the persistent grid covers whole pairs and reads each pair's K/V from DRAM once.
 * With one group, ncu measured the persistent winner of hd128 causal N = 512 (H200) at 78% of
 * DRAM bandwidth and 39% of the tensor pipe: the K/V prefixes were read 2.4x (the model: 321 MB
 * for 134 MB of K/V). Measured A/B on the H200 (bench/ab_macro.sh, same kernels, the order
 * alone; the results of session 7, call 6), head-major against one group: +16%
 * / +19% at hd128 N = 512 / 1k, +29% at hd256 512, +3.5% at hd64 512; at N = 2k (11-16 row
 * blocks) +6% to +14%; at 4k -3% (hd128, 22 blocks) and +12% (hd256, 32 blocks); at 8k-16k
 * -3% to -28%: long pairs' head-major static rounds lose balance (a block's rounds no longer
 * average out) more than L2 gives back. m_blocks: row blocks a pair; heads_per_kv: query heads
 * per K/V head (consecutive pairs share it), 1 with PackGQA; dpad: FA_SM90A_DPAD(head dim).
 */
#ifndef FA_SM90A_L2_GROUP_BYTES
#define FA_SM90A_L2_GROUP_BYTES (32ll << 20)
#endif
#ifndef FA_SM90A_HEAD_MAJOR_MBLOCKS
#define FA_SM90A_HEAD_MAJOR_MBLOCKS 16
#endif
FA_PLAN_SM90A_FN int fa_plan_sm90a_causal_group(int causal, int persistent, int m_blocks,
                                                int seqlen_k, int dpad, int heads_per_kv, int pairs)
{
    if (causal && persistent && pairs > 1 && m_blocks <= FA_SM90A_HEAD_MAJOR_MBLOCKS)
        return 1;
    if (!causal || persistent || pairs <= 1)
        return pairs > 1 ? pairs : 1;
    long long pair_bytes = (long long)seqlen_k * dpad * 4 / (heads_per_kv > 0 ? heads_per_kv : 1);
    pair_bytes = pair_bytes > 0 ? pair_bytes : 1;
    const long long fit = FA_SM90A_L2_GROUP_BYTES / pair_bytes;
    if (fit >= pairs)
        return pairs;
    const int cap = fit < 1 ? 1 : (int)fit;
    const int groups = (pairs + cap - 1) / cap;
    return (pairs + groups - 1) / groups;
}

/* Causal, the half-width first block (fa_fwd_sm90a.cuh, sm90a v9): does every key that a
 * consumer warpgroup's rows see in its first KV block -- the last block they see, keys [n0, n0 +
 * block_n), n0 = (n_blocks - 1) * block_n -- lie in the block's first half? row_end: one past
 * the warpgroup's last query token (rows past seqlen_q included: they are computed, never
 * stored); a token sees keys up to token + seqlen_k - seqlen_q (bottom-right) and below
 * seqlen_k. Exact: false whenever some row sees a key of the second half. */
FA_PLAN_SM90A_FN int fa_plan_sm90a_half_first(int n_blocks, int block_n, int row_end, int seqlen_q,
                                              int seqlen_k)
{
    const int diag_end = row_end + seqlen_k - seqlen_q; /* keys below it: the last row's */
    const int visible = diag_end < seqlen_k ? diag_end : seqlen_k;
    return n_blocks > 0 && visible - (n_blocks - 1) * block_n <= block_n / 2;
}

/* PackGQA: tokens per tile of block_m rows with heads_q / heads_kv query heads per KV head; 0
 * when the heads of one KV head do not fit a tile (or the head counts are not a GQA shape). */
FA_PLAN_SM90A_FN int fa_plan_sm90a_pack_tokens(int block_m, int heads_q, int heads_kv)
{
    return heads_kv > 0 && heads_q >= heads_kv && heads_q % heads_kv == 0
               ? block_m / (heads_q / heads_kv)
               : 0;
}

/* PackGQA: the query token of row `row` of token block m_block (tokens per tile, g heads per KV
 * head), -1 for a row past tokens * g (computed, never stored); its query head is
 * fa_plan_sm90a_pack_head. The kernel's row mapping (rows past seqlen_q are not stored). */
FA_PLAN_SM90A_FN int fa_plan_sm90a_pack_token(int m_block, int tokens, int g, int row)
{
    return row < tokens * g ? m_block * tokens + row / g : -1;
}

FA_PLAN_SM90A_FN int fa_plan_sm90a_pack_head(int kv_head, int g, int row)
{
    return kv_head * g + row % g;
}

/* Tiles of a launch, with or without PackGQA (above); 0 if pack_gqa and no tile fits. */
FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_tiles_gqa(int seqlen_q, int heads_q, int heads_kv,
                                                  int batch, int cwg, int pack_gqa)
{
    int t = fa_plan_sm90a_pack_tokens(64 * cwg, heads_q, heads_kv);
    if (!pack_gqa)
        return fa_plan_sm90a_tiles(seqlen_q, heads_q, batch, cwg);
    if (t < 1)
        return 0u;
    const uint64_t blocks = ((uint64_t)seqlen_q + (uint64_t)t - 1u) / (uint64_t)t;
    return (unsigned)fa_plan_sm90a_mul_sat(fa_plan_sm90a_mul_sat(blocks, (uint64_t)heads_kv),
                                           (uint64_t)batch);
}

/* fa_plan_sm90a_grid with PackGQA's tiles when pack_gqa. */
FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_grid_gqa(int seqlen_q, int heads_q, int heads_kv, int batch,
                                                 int cwg, int persistent, int pack_gqa,
                                                 int multiprocessors)
{
    unsigned tiles = fa_plan_sm90a_tiles_gqa(seqlen_q, heads_q, heads_kv, batch, cwg, pack_gqa);
    return persistent && multiprocessors > 0 && tiles > (unsigned)multiprocessors
               ? (unsigned)multiprocessors
               : tiles;
}

FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_threads(int cwg)
{
    return (unsigned)(128 * (cwg + 1));
}

FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_smem(int head_dim, int cwg, int block_n, int stages,
                                             int persistent)
{
    return (unsigned)FA_SM90A_SMEM_BYTES(
        head_dim, 64 * cwg, block_n, stages,
        FA_SM90A_O_BYTES(head_dim, 64 * cwg, block_n, stages, persistent));
}

/*
 * The TMA tensor map of one 16-bit (B, S, H, D)-strided tensor as the kernel reads it
 * (cuTensorMapEncodeTiled's arguments, rank 4, innermost first): dims {D, rows, heads,
 * batch}, byte strides of dims 1..3, box {64, box_rows, 1, 1}; element strides 1, interleave
 * none, 128-byte swizzle, L2 promotion 256 bytes, zeros out of bounds (FA_SM90A_TMAP_*). Any
 * BSHD or BHSD layout is one set of strides. One copy for the tuner's argument builder
 * (tuner/families/fa_family_sm90a.c) and the launcher of an emitted header.
 */
#define FA_SM90A_TMAP_RANK 4
#define FA_SM90A_TMAP_RANK_PACK_GQA 5 /* PackGQA's Q map (top of this file) */
#define FA_SM90A_TMAP_SWIZZLE_BYTES 128
#define FA_SM90A_TMAP_L2_PROMOTION_BYTES 256
typedef struct fa_sm90a_tmap_desc {
    uint64_t base;       /* global address (16-byte aligned) */
    uint64_t dims[5];    /* elements; dims[4] only in a rank-5 map */
    uint64_t strides[4]; /* bytes (multiples of 16) */
    uint32_t box[5];     /* elements */
    int rank;            /* FA_SM90A_TMAP_RANK, or FA_SM90A_TMAP_RANK_PACK_GQA */
} fa_sm90a_tmap_desc;

FA_PLAN_SM90A_FN void fa_plan_sm90a_tmap(fa_sm90a_tmap_desc *d, uint64_t base, int head_dim,
                                         int rows, int heads, int batch, int64_t row_stride,
                                         int64_t head_stride, int64_t batch_stride, int box_rows,
                                         int varlen)
{
    if (varlen) { /* the ragged map (top of this file): rows = L, base moved back L rows */
        rows = FA_SM90A_RAGGED_L(rows);
        base -= (uint64_t)rows * (uint64_t)row_stride * 2u; /* wraps harmlessly */
        batch = FA_SM90A_RAGGED_ROWS;
        batch_stride = row_stride;
    }
    d->base = base;
    d->dims[0] = (uint64_t)head_dim;
    d->dims[1] = (uint64_t)rows;
    d->dims[2] = (uint64_t)heads;
    d->dims[3] = (uint64_t)batch;
    d->strides[0] = (uint64_t)row_stride * 2;
    d->strides[1] = (uint64_t)head_stride * 2;
    d->strides[2] = (uint64_t)batch_stride * 2;
    d->box[0] = 64;
    d->box[1] = (uint32_t)box_rows;
    d->box[2] = d->box[3] = 1;
    d->dims[4] = 1;
    d->strides[3] = 0;
    d->box[4] = 1;
    d->rank = FA_SM90A_TMAP_RANK;
}

/* PackGQA's Q map (top of this file): q's heads split into (g, heads_kv), a box of tokens
 * tokens x g heads; varlen: the ragged form. Needs g = heads_q / heads_kv, tokens >= 1. */
FA_PLAN_SM90A_FN void fa_plan_sm90a_tmap_pack_gqa(fa_sm90a_tmap_desc *d, const fa_fwd_params *p,
                                                  int tokens, int varlen)
{
    const int g = p->heads_q / p->heads_kv;
    /* the 4-d map over (D, rows, heads_kv, batch) with kv head stride g * head (modulo 2^64,
       as the byte strides: defined for any stride, and the driver refuses one of 2^40 bytes or
       more), then the group's heads spliced in as dim 1 */
    fa_plan_sm90a_tmap(d, p->q, p->head_dim, p->seqlen_q, p->heads_kv, p->batch, p->q_row_stride,
                       (int64_t)((uint64_t)g * (uint64_t)p->q_head_stride), p->q_batch_stride,
                       tokens, varlen);
    d->dims[4] = d->dims[3];
    d->dims[3] = d->dims[2];
    d->dims[2] = d->dims[1];
    d->dims[1] = (uint64_t)g;
    d->strides[3] = d->strides[2];
    d->strides[2] = d->strides[1];
    d->strides[1] = d->strides[0];
    d->strides[0] = (uint64_t)p->q_head_stride * 2;
    d->box[1] = (uint32_t)g;
    d->box[2] = (uint32_t)tokens;
    d->box[3] = d->box[4] = 1;
    d->rank = FA_SM90A_TMAP_RANK_PACK_GQA;
}

/* The Q, K and V maps of problem p for a variant of block_m x block_n tiles: d[0] over q
 * (seqlen_q rows, heads_q, box block_m; pack_gqa: the 5-d map above), d[1] over k and d[2] over
 * v (seqlen_k rows, heads_kv, box block_n); varlen: the ragged maps over the packed tensors
 * (seqlen_q/k the maxima). pack_gqa needs fa_plan_sm90a_pack_tokens(block_m, ..) >= 1. */
FA_PLAN_SM90A_FN void fa_plan_sm90a_tmaps_gqa(const fa_fwd_params *p, int block_m, int block_n,
                                              int varlen, int pack_gqa, fa_sm90a_tmap_desc d[3])
{
    if (pack_gqa)
        fa_plan_sm90a_tmap_pack_gqa(
            &d[0], p, fa_plan_sm90a_pack_tokens(block_m, p->heads_q, p->heads_kv), varlen);
    else
        fa_plan_sm90a_tmap(&d[0], p->q, p->head_dim, p->seqlen_q, p->heads_q, p->batch,
                           p->q_row_stride, p->q_head_stride, p->q_batch_stride, block_m, varlen);
    fa_plan_sm90a_tmap(&d[1], p->k, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                       p->k_row_stride, p->k_head_stride, p->k_batch_stride, block_n, varlen);
    fa_plan_sm90a_tmap(&d[2], p->v, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                       p->v_row_stride, p->v_head_stride, p->v_batch_stride, block_n, varlen);
}

/* fa_plan_sm90a_tmaps_gqa without PackGQA (every map rank 4). */
FA_PLAN_SM90A_FN void fa_plan_sm90a_tmaps(const fa_fwd_params *p, int block_m, int block_n,
                                          int varlen, fa_sm90a_tmap_desc d[3])
{
    fa_plan_sm90a_tmaps_gqa(p, block_m, block_n, varlen, 0, d);
}

#endif /* FA_PLAN_SM90A_H */
