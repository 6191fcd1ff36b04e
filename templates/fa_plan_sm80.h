/*
 * fa_plan_sm80.h -- the sm80 family's launch geometry, one copy for host C, CUDA and the
 * emitted header (like fa_params.h, it compiles as C99 and as CUDA).
 *
 * One launch per problem: a CTA per (BLOCK_M query rows, head, sequence), warps*32 threads,
 * FA_SM80_SMEM_BYTES of dynamic shared memory; no scratch beyond the LSE the caller owns.
 *     grid = (ceil(seqlen_q / BLOCK_M), heads_q, batch)   seqlen_q: the varlen maximum
 */
#ifndef FA_PLAN_SM80_H
#define FA_PLAN_SM80_H

#include "fa_params.h"

static inline void fa_plan_sm80_grid(int seqlen_q, int heads_q, int batch, int block_m,
                                     unsigned grid[3])
{
    grid[0] = (unsigned)((seqlen_q + block_m - 1) / block_m);
    grid[1] = (unsigned)heads_q;
    grid[2] = (unsigned)batch;
}

static inline unsigned fa_plan_sm80_threads(int warps)
{
    return (unsigned)(warps * 32);
}

static inline unsigned fa_plan_sm80_smem(int head_dim, int block_m, int block_n, int stages)
{
    return (unsigned)FA_SM80_SMEM_BYTES(head_dim, block_m, block_n, stages);
}

#endif /* FA_PLAN_SM80_H */
