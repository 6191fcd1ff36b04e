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

#include "fa_params.h"

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

#endif /* FA_PLAN_SM90A_H */
