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
 * Dynamic shared memory of the sm90a family, in bytes: 1024 bytes of alignment slack (the
 * swizzle atoms need a 1024-byte-aligned base), the Q tile, the O staging tile when
 * STAGE_O (FA_SM90A_STAGE_O, 0 or 1), STAGES K and V tiles (2-byte elements, FA_SM90A_DPAD
 * columns) and 256 bytes of mbarriers.
 */
#define FA_SM90A_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, STAGE_O)                           \
    (1024 +                                                                                        \
     ((1 + (STAGE_O)) * (BLOCK_M) + 2 * (STAGES) * (BLOCK_N)) * FA_SM90A_DPAD(HEAD_DIM) * 2 + 256)

/* The argument struct's layout (fa::sm90a_args; static_asserts in fa_fwd_sm90a.cuh). */
#define FA_SM90A_TMAP_BYTES 128
#define FA_SM90A_TMAP_OFFSET(i) (256 + FA_SM90A_TMAP_BYTES * (i))
#define FA_SM90A_ARGS_BYTES FA_SM90A_TMAP_OFFSET(3)

FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_tiles(int seqlen_q, int heads_q, int batch, int cwg)
{
    return (unsigned)((seqlen_q + 64 * cwg - 1) / (64 * cwg)) * (unsigned)heads_q * (unsigned)batch;
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

FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_threads(int cwg)
{
    return (unsigned)(128 * (cwg + 1));
}

FA_PLAN_SM90A_FN unsigned fa_plan_sm90a_smem(int head_dim, int cwg, int block_n, int stages,
                                             int persistent)
{
    return (unsigned)FA_SM90A_SMEM_BYTES(
        head_dim, 64 * cwg, block_n, stages,
        FA_SM90A_STAGE_O(head_dim, 64 * cwg, block_n, stages, persistent) ? 1 : 0);
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
#define FA_SM90A_TMAP_SWIZZLE_BYTES 128
#define FA_SM90A_TMAP_L2_PROMOTION_BYTES 256
typedef struct fa_sm90a_tmap_desc {
    uint64_t base;       /* global address (16-byte aligned) */
    uint64_t dims[4];    /* elements */
    uint64_t strides[3]; /* bytes (multiples of 16) */
    uint32_t box[4];     /* elements */
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
}

/* The Q, K and V maps of problem p for a variant of block_m x block_n tiles: d[0] over q
 * (seqlen_q rows, heads_q, box block_m), d[1] over k and d[2] over v (seqlen_k rows, heads_kv,
 * box block_n); varlen: the ragged maps over the packed tensors (seqlen_q/k the maxima). */
FA_PLAN_SM90A_FN void fa_plan_sm90a_tmaps(const fa_fwd_params *p, int block_m, int block_n,
                                          int varlen, fa_sm90a_tmap_desc d[3])
{
    fa_plan_sm90a_tmap(&d[0], p->q, p->head_dim, p->seqlen_q, p->heads_q, p->batch, p->q_row_stride,
                       p->q_head_stride, p->q_batch_stride, block_m, varlen);
    fa_plan_sm90a_tmap(&d[1], p->k, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                       p->k_row_stride, p->k_head_stride, p->k_batch_stride, block_n, varlen);
    fa_plan_sm90a_tmap(&d[2], p->v, p->head_dim, p->seqlen_k, p->heads_kv, p->batch,
                       p->v_row_stride, p->v_head_stride, p->v_batch_stride, block_n, varlen);
}

#endif /* FA_PLAN_SM90A_H */
