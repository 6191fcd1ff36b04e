/*
 * fa_example_varlen.h -- the varlen case both example consumers of an emitted dispatch header
 * run (C99, also compiles as C++): packed sequences and their cu_seqlens, the fields that make a
 * BSHD fa_fwd_params a packed one, and the check of every sequence against the fp32 reference of
 * its own batch-1 problem by fa-tune's criterion (fa_example_ref.h).
 *
 * Layout (fa_params.h): q and o packed (total_q, heads_q, D), k and v (total_k, heads_kv, D),
 * sequence b on rows [cu_q[b], cu_q[b + 1]) of q and o and [cu_k[b], cu_k[b + 1]) of k and v;
 * LSE fp32 (heads_q, total_q). fa_fwd_params' seqlen_q/k are the longest sequences.
 */
#ifndef FA_EXAMPLE_VARLEN_H
#define FA_EXAMPLE_VARLEN_H

#include "fa_example_ref.h"

#define FA_EX_VL_MAX 16 /* sequences a fa_ex_varlen holds at most */

typedef struct fa_ex_varlen {
    int n;                                              /* sequences */
    int sq[FA_EX_VL_MAX], sk[FA_EX_VL_MAX];             /* their lengths */
    int cu_q[FA_EX_VL_MAX + 1], cu_k[FA_EX_VL_MAX + 1]; /* int32 cu_seqlens_q/k, n + 1 each */
    int max_q, max_k;     /* the longest: fa_fwd_params' seqlen_q / seqlen_k */
    int total_q, total_k; /* packed rows: cu_q[n], cu_k[n] */
} fa_ex_varlen;

/* n sequences of lengths sq[b] (queries) and sk[b] (keys). 0, or -1 (vl untouched) when n is not
 * in 1..FA_EX_VL_MAX or a length is negative. */
static inline int fa_ex_varlen_init(fa_ex_varlen *vl, int n, const int *sq, const int *sk)
{
    int b;
    if (n < 1 || n > FA_EX_VL_MAX)
        return -1;
    for (b = 0; b < n; b++)
        if (sq[b] < 0 || sk[b] < 0)
            return -1;
    memset(vl, 0, sizeof *vl);
    vl->n = n;
    for (b = 0; b < n; b++) {
        vl->sq[b] = sq[b];
        vl->sk[b] = sk[b];
        vl->cu_q[b + 1] = vl->cu_q[b] + sq[b];
        vl->cu_k[b + 1] = vl->cu_k[b] + sk[b];
        vl->max_q = sq[b] > vl->max_q ? sq[b] : vl->max_q;
        vl->max_k = sk[b] > vl->max_k ? sk[b] : vl->max_k;
    }
    vl->total_q = vl->cu_q[n];
    vl->total_k = vl->cu_k[n];
    return 0;
}

/* The examples' 6 sequences (seqlen_q, seqlen_k): an empty query (0, 5), length 1 (1, 1),
 * seqlen_q < seqlen_k (77, 150), an empty key range (3, 0: O = 0, LSE = -inf), seqlen_q >
 * seqlen_k (130, 61: a causal kernel's first rows see no key) and equal lengths (200, 200), with
 * ragged tiles throughout. */
#define FA_EX_VL_B 6
static inline void fa_ex_varlen_default(fa_ex_varlen *vl)
{
    static const int sq[FA_EX_VL_B] = {0, 1, 77, 3, 130, 200};
    static const int sk[FA_EX_VL_B] = {5, 1, 150, 0, 61, 200};
    (void)fa_ex_varlen_init(vl, FA_EX_VL_B, sq, sk);
}

#ifdef FA_PARAMS_H /* fa_fwd_params: from fa_params.h or an emitted dispatch header */
/* Make p, filled for BSHD tensors of heads and head dim (fa_dispatch_params_bshd: its row and
 * head strides are the packed tensors'), the packed problem vl: cu_seqlens_q/k at the device
 * addresses dcu_q and dcu_k (vl->cu_q and vl->cu_k copied there), batch vl->n, seqlen_q/k the
 * longest sequences, LSE (heads_q, total_q). The batch strides are left: varlen ignores them. */
static inline void fa_ex_varlen_params(fa_fwd_params *p, const fa_ex_varlen *vl, uint64_t dcu_q,
                                       uint64_t dcu_k)
{
    p->cu_seqlens_q = dcu_q;
    p->cu_seqlens_k = dcu_k;
    p->batch = vl->n;
    p->seqlen_q = vl->max_q;
    p->seqlen_k = vl->max_k;
    p->lse_head_stride = vl->total_q;
    p->lse_batch_stride = 0;
}
#endif

/* Check a packed result: q, k, v the inputs, o16 the kernel's O and lse its LSE, laid out as at
 * the top of this file; sh gives dtype, heads_q, heads_kv, head_dim, causal and scale (its batch
 * and lengths are ignored). Each sequence with a query row is compared with the fp32 and
 * low-precision references of its own batch-1 problem; *out gets the verdict over all: pass when
 * every one passes, bad summed, and o_err/o_tol and lse_err/lse_tol of the sequence closest to
 * its bound. Returns 0, or -1 when out of host memory (*out then fails). */
static inline int fa_ex_varlen_compare(const fa_ex_varlen *vl, const fa_ex_shape *sh,
                                       const uint16_t *q, const uint16_t *k, const uint16_t *v,
                                       const uint16_t *o16, const float *lse, fa_ex_check *out)
{
    const int D = sh->head_dim, hq = sh->heads_q, hkv = sh->heads_kv;
    const size_t nq = (size_t)vl->max_q * hq * D, nl = (size_t)vl->max_q * hq;
    float *o_ref = (float *)malloc(nq * 4 + 4), *o_low = (float *)malloc(nq * 4 + 4);
    float *l_ref = (float *)malloc(nl * 4 + 4), *l_low = (float *)malloc(nl * 4 + 4);
    float *l_seq = (float *)malloc(nl * 4 + 4), *s = (float *)malloc((size_t)vl->max_k * 4 + 4);
    int b, h, i, rc = 0;

    memset(out, 0, sizeof *out);
    out->pass = 1;
    if (!o_ref || !o_low || !l_ref || !l_low || !l_seq || !s) {
        out->pass = 0;
        rc = -1;
    }
    for (b = 0; rc == 0 && b < vl->n; b++) {
        const size_t qo = (size_t)vl->cu_q[b] * hq * D, ko = (size_t)vl->cu_k[b] * hkv * D;
        fa_ex_shape one = *sh;
        fa_ex_check chk;
        if (vl->sq[b] == 0)
            continue;
        one.batch = 1;
        one.seqlen_q = vl->sq[b];
        one.seqlen_k = vl->sk[b];
        fa_ex_reference(&one, q + qo, k + ko, v + ko, 0, o_ref, l_ref, s);
        fa_ex_reference(&one, q + qo, k + ko, v + ko, 1, o_low, l_low, s);
        for (h = 0; h < hq; h++) /* the kernel's (heads_q, total_q) -> (1, heads_q, sq) */
            for (i = 0; i < vl->sq[b]; i++)
                l_seq[(size_t)h * vl->sq[b] + i] = lse[(size_t)h * vl->total_q + vl->cu_q[b] + i];
        chk = fa_ex_compare(&one, o16 + qo, l_seq, o_ref, l_ref, o_low, l_low);
        if (out->o_tol == 0 || chk.o_err / chk.o_tol > out->o_err / out->o_tol)
            out->o_err = chk.o_err, out->o_tol = chk.o_tol;
        if (out->lse_tol == 0 || chk.lse_err / chk.lse_tol > out->lse_err / out->lse_tol)
            out->lse_err = chk.lse_err, out->lse_tol = chk.lse_tol;
        out->bad += chk.bad;
        if (!chk.pass)
            out->pass = 0;
    }
    free(o_ref);
    free(o_low);
    free(l_ref);
    free(l_low);
    free(l_seq);
    free(s);
    return rc;
}

#endif /* FA_EXAMPLE_VARLEN_H */
