/*
 * This file implements the CPU reference attention (see fa_cpu_reference.h): a direct
 * transcription of the definition in double precision, deliberately naive so that it can be
 * checked by reading it.
 */
#include "fa_cpu_reference.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Element offset of key row j of sequence b (K or V, head 0): through the block table when the
 * cache is paged, else row0 (the sequence's first row) + j rows. */
static int64_t key_row(const fa_fwd_params *p, int b, int j, int64_t row0, int64_t row_stride,
                       int64_t page_stride)
{
    if (!p->page_size)
        return row0 + (int64_t)j * row_stride;
    const int32_t *bt = (const int32_t *)(uintptr_t)p->block_table;
    const int64_t page = bt[(int64_t)b * p->block_table_stride + j / p->page_size];
    return page * page_stride + (int64_t)(j % p->page_size) * row_stride;
}

fa_status fa_cpu_reference(const fa_fwd_params *p, int causal, fa_err *err)
{
    if (!p->q || !p->k || !p->v || !p->o || !p->lse)
        return FA_ERR(err, FA_INVALID, "cpu reference: a tensor pointer is missing");
    if (p->heads_kv < 1 || p->heads_q < 1 || p->heads_q % p->heads_kv != 0)
        return FA_ERR(err, FA_INVALID, "cpu reference: heads %d is not a multiple of kv heads %d",
                      p->heads_q, p->heads_kv);
    if (p->head_dim < 1 || p->batch < 1)
        return FA_ERR(err, FA_INVALID, "cpu reference: empty problem");
    if ((p->cu_seqlens_q == 0) != (p->cu_seqlens_k == 0))
        return FA_ERR(err, FA_INVALID, "cpu reference: varlen needs both cu_seqlens");
    if ((p->page_size > 0) != (p->block_table != 0) || p->page_size < 0 ||
        (p->page_size && p->block_table_stride < 1))
        return FA_ERR(err, FA_INVALID,
                      "cpu reference: a paged cache needs a block table, its "
                      "stride and a page size");
    if (p->cu_seqlens_q && (p->seqused_k || p->page_size))
        return FA_ERR(err, FA_INVALID, "cpu reference: decode caches are not varlen");

    const float *q = (const float *)(uintptr_t)p->q;
    const float *k = (const float *)(uintptr_t)p->k;
    const float *v = (const float *)(uintptr_t)p->v;
    float *o = (float *)(uintptr_t)p->o;
    float *lse = (float *)(uintptr_t)p->lse;
    const int32_t *cq = (const int32_t *)(uintptr_t)p->cu_seqlens_q;
    const int32_t *ck = (const int32_t *)(uintptr_t)p->cu_seqlens_k;
    const int32_t *used = (const int32_t *)(uintptr_t)p->seqused_k;
    const int g = p->heads_q / p->heads_kv, D = p->head_dim;
    const double scale = p->softmax_scale;

    for (int b = 0; used && b < p->batch; b++)
        if (used[b] < 0 || used[b] > p->seqlen_k)
            return FA_ERR(err, FA_INVALID,
                          "cpu reference: cache length %d of sequence %d is "
                          "outside [0, %d]",
                          used[b], b, p->seqlen_k);
    int max_k = p->seqlen_k;
    if (cq)
        for (int b = 0; b < p->batch; b++)
            max_k = ck[b + 1] - ck[b] > max_k ? ck[b + 1] - ck[b] : max_k;
    double *s = malloc((size_t)(max_k > 0 ? max_k : 1) * sizeof *s);
    double *acc = malloc((size_t)D * sizeof *acc);
    if (!s || !acc) {
        free(s);
        free(acc);
        return FA_ERR(err, FA_NOMEM, "out of memory");
    }

    for (int b = 0; b < p->batch; b++) {
        const int sq = cq ? cq[b + 1] - cq[b] : p->seqlen_q;
        const int sk = cq ? ck[b + 1] - ck[b] : used ? used[b] : p->seqlen_k;
        /* Where row 0 of sequence b starts in each tensor (element offsets). */
        const int64_t q0 = cq ? (int64_t)cq[b] * p->q_row_stride : b * p->q_batch_stride;
        const int64_t k0 = cq ? (int64_t)ck[b] * p->k_row_stride : b * p->k_batch_stride;
        const int64_t v0 = cq ? (int64_t)ck[b] * p->v_row_stride : b * p->v_batch_stride;
        const int64_t o0 = cq ? (int64_t)cq[b] * p->o_row_stride : b * p->o_batch_stride;
        const int64_t l0 = cq ? (int64_t)cq[b] : b * p->lse_batch_stride;
        for (int h = 0; h < p->heads_q; h++) {
            const int hk = h / g;
            for (int i = 0; i < sq; i++) {
                const float *qi = q + q0 + h * p->q_head_stride + (int64_t)i * p->q_row_stride;
                /* Bottom-right alignment: the last query row sees every key. */
                int visible = causal ? i + sk - sq + 1 : sk;
                if (visible > sk)
                    visible = sk;
                if (visible < 0)
                    visible = 0;
                double m = -INFINITY;
                for (int j = 0; j < visible; j++) {
                    const float *kj = k + key_row(p, b, j, k0, p->k_row_stride, p->k_batch_stride) +
                                      hk * p->k_head_stride;
                    double dot = 0;
                    for (int d = 0; d < D; d++)
                        dot += (double)qi[d] * kj[d];
                    s[j] = dot * scale;
                    m = s[j] > m ? s[j] : m;
                }
                double l = 0;
                for (int j = 0; j < visible; j++)
                    l += exp(s[j] - m);
                const double row_lse = visible > 0 ? m + log(l) : -INFINITY;
                for (int d = 0; d < D; d++)
                    acc[d] = 0;
                for (int j = 0; j < visible; j++) {
                    const double pj = exp(s[j] - row_lse);
                    const float *vj = v + key_row(p, b, j, v0, p->v_row_stride, p->v_batch_stride) +
                                      hk * p->v_head_stride;
                    for (int d = 0; d < D; d++)
                        acc[d] += pj * vj[d];
                }
                float *oi = o + o0 + h * p->o_head_stride + (int64_t)i * p->o_row_stride;
                for (int d = 0; d < D; d++)
                    oi[d] = (float)acc[d];
                lse[l0 + h * p->lse_head_stride + i] = (float)row_lse;
            }
        }
    }
    free(s);
    free(acc);
    return FA_OK;
}
