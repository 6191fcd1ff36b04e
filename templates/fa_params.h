/*
 * fa_params.h -- the one POD struct shared by host C and device CUDA.
 *
 * This file implements the contract between the harness (C11, Driver API) and every
 * kernel template: the runtime arguments of a flash-attention forward launch. It is
 * passed by value as a `const __grid_constant__ fa_fwd_params` kernel parameter, so
 * its layout must be identical on both sides: fixed-width fields only, and the size
 * is asserted in C and in CUDA.
 *
 * Layouts. Every tensor is addressed through three element strides (batch, row, head)
 * plus a unit stride along head_dim, so BSHD (FlashAttention) and BHSD (PyTorch)
 * inputs both work without copies:
 *   q: element (b, i, h, d) at q + b*q_batch_stride + i*q_row_stride + h*q_head_stride + d
 * Varlen: the tensors are packed (total_tokens, heads, dim); batch_stride is ignored and
 * sequence b occupies rows [cu_seqlens_q[b], cu_seqlens_q[b+1]) of q/o (likewise k/v).
 * LSE is fp32, laid out (batch, heads_q, seqlen_q) for fixed length and
 * (heads_q, total_q) for varlen; lse_head_stride / lse_batch_stride give the strides.
 *
 * Causal masking is bottom-right aligned (FlashAttention >= 2.1): query i of a sequence
 * with lengths (sq, sk) sees key j iff j <= i + sk - sq. A row that sees no key writes
 * zeros to O and -inf to LSE.
 *
 * GQA/MQA: heads_q = g * heads_kv; query head h reads kv head h / g.
 *
 * Decode against a KV cache (op "decode"; forward families leave these fields 0):
 *   seqused_k  int32[batch]: sequence b's cache length, 0 <= len_b <= seqlen_k (seqlen_k is
 *              the maximum); keys [0, len_b) exist. 0 (null): every sequence has seqlen_k.
 *              Causal masking uses sk = len_b. A row that sees no key writes zeros, LSE -inf.
 *   block_table int32[batch][block_table_stride]: paged K/V when page_size > 0. Key j of
 *              sequence b lives in page P = block_table[b * block_table_stride + j / page_size]
 *              at row r = j % page_size:
 *                  k + P*k_batch_stride + r*k_row_stride + h*k_head_stride + d   (v likewise)
 *              i.e. the caches are (num_pages, page_size, heads_kv, dim) and batch_stride is
 *              the page stride (vLLM's and flash_attn_with_kvcache's layout). Pages may come
 *              in any order; page_size need not divide len_b.
 *   page_size  rows per page; 0: contiguous caches addressed like the forward op.
 */
#ifndef FA_PARAMS_H
#define FA_PARAMS_H

#ifdef __CUDACC_RTC__
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#else
#include <stdint.h>
#endif

typedef struct fa_fwd_params {
    /* Device pointers, stored as integers so C and CUDA agree on size everywhere. */
    uint64_t q, k, v;                    /* inputs, dtype of the variant */
    uint64_t o;                          /* output, same dtype */
    uint64_t lse;                        /* float32 */
    uint64_t cu_seqlens_q, cu_seqlens_k; /* int32[batch + 1], varlen only, else 0 */

    int64_t q_batch_stride, q_row_stride, q_head_stride;
    int64_t k_batch_stride, k_row_stride, k_head_stride;
    int64_t v_batch_stride, v_row_stride, v_head_stride;
    int64_t o_batch_stride, o_row_stride, o_head_stride;
    int64_t lse_batch_stride, lse_head_stride; /* row stride of LSE is 1 */

    int32_t batch;
    int32_t heads_q, heads_kv;
    int32_t seqlen_q, seqlen_k; /* fixed length: the lengths; varlen: max_seqlen_q/k */
    int32_t head_dim;           /* must equal the template's HEAD_DIM */

    float softmax_scale;      /* usually 1/sqrt(head_dim) */
    float softmax_scale_log2; /* softmax_scale * log2(e): kernels use exp2 */

    /* Decode (see the top of this file); 0 for the forward op. */
    uint64_t seqused_k;         /* int32[batch] cache lengths, or 0 */
    uint64_t block_table;       /* int32[batch][block_table_stride], or 0 (contiguous) */
    int64_t block_table_stride; /* int32 elements between block_table rows */
    int32_t page_size;          /* rows per page; 0: contiguous */
    int32_t reserved;           /* 0 */
} fa_fwd_params;

#define FA_FWD_PARAMS_SIZE 232

#ifdef __cplusplus
static_assert(sizeof(fa_fwd_params) == FA_FWD_PARAMS_SIZE, "fa_fwd_params layout drifted");
#else
_Static_assert(sizeof(fa_fwd_params) == FA_FWD_PARAMS_SIZE, "fa_fwd_params layout drifted");
#endif

/*
 * Dynamic shared memory of the sm80 family, in bytes. The kernel's layout and the host's
 * legality model both use this one formula: a Q tile plus STAGES K tiles and STAGES V
 * tiles, 2-byte elements.
 */
#define FA_SM80_SMEM_BYTES(HEAD_DIM, BLOCK_M, BLOCK_N, STAGES)                                     \
    (((BLOCK_M) * (HEAD_DIM) + 2 * (STAGES) * (BLOCK_N) * (HEAD_DIM)) * 2)

#endif /* FA_PARAMS_H */
