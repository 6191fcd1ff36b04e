/*
 * fa_cpu_reference.h -- attention on the CPU, in double precision, for small shapes.
 *
 * This file implements nothing itself; it declares the definition the CPU tests check by
 * hand and the GPU tests compare the fp32 GPU reference against. It reads the very struct
 * the kernels read (fa_fwd_params), with host addresses in the pointer fields, so strides,
 * varlen offsets, GQA mapping and the mask are interpreted exactly once, the same way:
 *   q, k, v, o: float arrays (the 16-bit inputs already converted), lse: float array,
 *   cu_seqlens_q/k: int32_t arrays (varlen) or 0;
 *   seqused_k, block_table: int32_t arrays (decode: cache lengths, the paged cache's pages)
 *   or 0, read as templates/fa_params.h says (a sequence of cache length 0 writes zeros and
 *   LSE -inf).
 * Causal masking is bottom-right aligned (query i sees key j iff j <= i + sk - sq); a row that
 * sees no key gets O = 0 and LSE = -inf; LSE is the natural log of the sum of exp(scaled
 * scores). Nothing is allocated; o and lse are written for every row of every sequence.
 */
#ifndef FA_CPU_REFERENCE_H
#define FA_CPU_REFERENCE_H

#include "fa_params.h"
#include "fa_status.h"

/* FA_INVALID with a message when the struct is inconsistent (heads_q not a multiple of
 * heads_kv, head_dim < 1, missing pointers). Cost: O(batch * heads_q * sq * sk * d). */
fa_status fa_cpu_reference(const fa_fwd_params *p, int causal, fa_err *err);

#endif /* FA_CPU_REFERENCE_H */
