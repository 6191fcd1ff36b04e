/*
 * fa_tmap.h -- TMA tensor maps (CUtensorMap) of the attention inputs, encoded on the host
 * through the Driver API table (cuTensorMapEncodeTiled), for kernel families that load Q, K
 * and V with TMA (sm90a).
 *
 * This file implements nothing itself; fa_tmap.c does.
 *
 * A map covers one 16-bit (B, S, H, D)-strided tensor as 4-d, innermost first:
 *     dims {D, rows, heads, batch}, byte strides {row, head, batch} * 2,
 *     box {64, box_rows, 1, 1}, SWIZZLE_128B, L2 promotion 256B, out-of-bounds fill zero,
 * which is exactly the image the sm90a kernel's shared-memory layout expects (64-column
 * slabs of 128-byte rows); any BSHD or BHSD layout is one set of strides. Rows past `rows`
 * read as zeros, so tails need no masking on the load side.
 *
 * Constraints (checked here before the driver is asked, FA_INVALID with the reason): head_dim
 * a positive multiple of 64, box_rows 1..256, rows/heads/batch >= 1, the base address and every
 * byte stride a multiple of 16, strides below 2^40.
 */
#ifndef FA_TMAP_H
#define FA_TMAP_H

#include <stdint.h>

#include "fa_driver.h"
#include "fa_params.h"
#include "fa_variant.h"

/* One map (see above). */
fa_status fa_tmap_encode(const fa_cuda *d, uint64_t ptr, fa_dtype dtype, int head_dim, int rows,
                         int heads, int batch, int64_t row_stride, int64_t head_stride,
                         int64_t batch_stride, int box_rows, CUtensorMap *out, fa_err *err);

/* The Q, K and V maps of a fixed-length problem: maps[0] over q (seqlen_q rows, heads_q, box
 * block_m rows), maps[1] over k and maps[2] over v (seqlen_k rows, heads_kv, box block_n),
 * strides and sizes from p. */
fa_status fa_tmap_encode_qkv(const fa_cuda *d, const fa_fwd_params *p, fa_dtype dtype, int block_m,
                             int block_n, CUtensorMap maps[3], fa_err *err);

#endif /* FA_TMAP_H */
