/*
 * test_example_varlen.c -- the varlen case both examples/ consumers run on a GPU
 * (examples/common/fa_example_varlen.h), on the CPU: the packed sequences and their cu_seqlens,
 * the fields that make a BSHD fa_fwd_params packed, and the per-sequence check -- that it passes
 * a right answer laid out as fa_params.h says (checked against a fixed-length problem packed the
 * same way) and fails a wrong value, a wrong LSE layout, an unwritten row and a finite LSE where
 * a row sees no key.
 */
#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_params.h"

#include "../../examples/common/fa_example_varlen.h"

#include <stdio.h>

static int has_seq(const fa_ex_varlen *vl, int (*pred)(int sq, int sk))
{
    for (int b = 0; b < vl->n; b++)
        if (pred(vl->sq[b], vl->sk[b]))
            return 1;
    return 0;
}
static int empty_q(int sq, int sk)
{
    return sq == 0 && sk > 0;
}
static int empty_k(int sq, int sk)
{
    return sq > 0 && sk == 0;
}
static int length1(int sq, int sk)
{
    return sq == 1 && sk == 1;
}
static int q_lt_k(int sq, int sk)
{
    return sq > 1 && sq < sk;
}
static int q_gt_k(int sq, int sk)
{
    return sk > 0 && sq > sk;
}
static int ragged(int sq, int sk)
{
    return sq > 64 && sq % 64 != 0 && sk % 64 != 0;
}

static void test_default(void)
{
    static const int cu_q[] = {0, 0, 1, 78, 81, 211, 411}, cu_k[] = {0, 5, 6, 156, 156, 217, 417};
    fa_ex_varlen vl;
    fa_ex_varlen_default(&vl);
    CHECK(vl.n == FA_EX_VL_B && vl.n == 6);
    for (int b = 0; b <= vl.n; b++)
        CHECK_MSG(vl.cu_q[b] == cu_q[b] && vl.cu_k[b] == cu_k[b], "cu[%d] = %d, %d", b, vl.cu_q[b],
                  vl.cu_k[b]);
    CHECK(vl.max_q == 200 && vl.max_k == 200);
    CHECK(vl.total_q == 411 && vl.total_k == 417);
    /* The cases the examples promise to cover. */
    CHECK(has_seq(&vl, empty_q));
    CHECK(has_seq(&vl, empty_k));
    CHECK(has_seq(&vl, length1));
    CHECK(has_seq(&vl, q_lt_k));
    CHECK(has_seq(&vl, q_gt_k));
    CHECK(has_seq(&vl, ragged));
}

static void test_init_refuses(void)
{
    int sq[FA_EX_VL_MAX + 1] = {0}, sk[FA_EX_VL_MAX + 1] = {0};
    fa_ex_varlen vl, before;
    fa_ex_varlen_default(&vl);
    before = vl;
    CHECK(fa_ex_varlen_init(&vl, 0, sq, sk) == -1);
    CHECK(fa_ex_varlen_init(&vl, FA_EX_VL_MAX + 1, sq, sk) == -1);
    sk[2] = -1;
    CHECK(fa_ex_varlen_init(&vl, 3, sq, sk) == -1);
    CHECK(memcmp(&vl, &before, sizeof vl) == 0);
    sk[2] = 4;
    CHECK(fa_ex_varlen_init(&vl, FA_EX_VL_MAX, sq, sk) == 0);
    CHECK(vl.total_q == 0 && vl.total_k == 4 && vl.cu_k[FA_EX_VL_MAX] == 4 && vl.max_k == 4);
}

static void test_params(void)
{
    fa_ex_varlen vl;
    fa_fwd_params p;
    fa_ex_varlen_default(&vl);
    memset(&p, 0x5a, sizeof p);
    p.q_row_stride = 4 * 64, p.q_head_stride = 64, p.k_row_stride = 2 * 64;
    fa_ex_varlen_params(&p, &vl, 0x1000, 0x2000);
    CHECK(p.cu_seqlens_q == 0x1000 && p.cu_seqlens_k == 0x2000);
    CHECK(p.batch == 6 && p.seqlen_q == 200 && p.seqlen_k == 200);
    CHECK_MSG(p.lse_head_stride == 411 && p.lse_batch_stride == 0, "lse strides %lld %lld",
              (long long)p.lse_head_stride, (long long)p.lse_batch_stride);
    CHECK(p.q_row_stride == 4 * 64 && p.q_head_stride == 64 && p.k_row_stride == 2 * 64);
}

/* The right answer of vl, packed: per sequence the fp32 reference, O rounded to the dtype. */
static void packed_answer(const fa_ex_varlen *vl, const fa_ex_shape *sh, const uint16_t *q,
                          const uint16_t *k, const uint16_t *v, uint16_t *o16, float *lse)
{
    const int D = sh->head_dim, hq = sh->heads_q, hkv = sh->heads_kv;
    float *o = malloc((size_t)vl->max_q * hq * D * 4 + 4), *l = malloc((size_t)vl->max_q * hq * 4);
    float *s = malloc((size_t)vl->max_k * 4 + 4);
    for (int b = 0; b < vl->n; b++) {
        fa_ex_shape one = *sh;
        one.batch = 1, one.seqlen_q = vl->sq[b], one.seqlen_k = vl->sk[b];
        fa_ex_reference(&one, q + (size_t)vl->cu_q[b] * hq * D, k + (size_t)vl->cu_k[b] * hkv * D,
                        v + (size_t)vl->cu_k[b] * hkv * D, 0, o, l, s);
        for (size_t i = 0; i < (size_t)vl->sq[b] * hq * D; i++)
            o16[(size_t)vl->cu_q[b] * hq * D + i] = fa_ex_to16(sh->dtype, o[i]);
        for (int h = 0; h < hq; h++)
            for (int i = 0; i < vl->sq[b]; i++)
                lse[(size_t)h * vl->total_q + vl->cu_q[b] + i] = l[h * vl->sq[b] + i];
    }
    free(o);
    free(l);
    free(s);
}

/* Equal lengths: the packed problem is the fixed-length BSHD one (O the same bytes, LSE (B, H,
 * S) transposed to (H, B * S)) -- the layout is fa_params.h's, not the helper's own idea. */
static void test_equal_lengths(void)
{
    const int sq[3] = {37, 37, 37};
    fa_ex_varlen vl;
    fa_ex_shape sh = {1 /* bf16 */, 3, 4, 2, 37, 37, 32, 1, 0.17f};
    const size_t nq = 3 * 37 * 4 * 32, nk = 3 * 37 * 2 * 32, nl = 3 * 4 * 37;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2), *o16 = malloc(nq * 2);
    float *o = malloc(nq * 4), *l = malloc(nl * 4), *lse = malloc(nl * 4), *s = malloc(37 * 4);
    fa_ex_check chk;

    CHECK(fa_ex_varlen_init(&vl, 3, sq, sq) == 0);
    fa_ex_fill(q, nq, sh.dtype, 11);
    fa_ex_fill(k, nk, sh.dtype, 12);
    fa_ex_fill(v, nk, sh.dtype, 13);
    fa_ex_reference(&sh, q, k, v, 0, o, l, s);
    for (size_t i = 0; i < nq; i++)
        o16[i] = fa_ex_to16(sh.dtype, o[i]);
    for (int b = 0; b < 3; b++)
        for (int h = 0; h < 4; h++)
            for (int i = 0; i < 37; i++)
                lse[(size_t)h * vl.total_q + b * 37 + i] = l[((size_t)b * 4 + h) * 37 + i];
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, o16, lse, &chk) == 0);
    CHECK_MSG(chk.pass && chk.bad == 0, "O %g <= %g, LSE %g <= %g, bad %ld", chk.o_err, chk.o_tol,
              chk.lse_err, chk.lse_tol, chk.bad);
    /* LSE left (B, H, S): the check must see the rows in the wrong places. */
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, o16, l, &chk) == 0);
    CHECK_MSG(!chk.pass, "LSE (B, H, S) passed as (H, total_q): LSE %g <= %g", chk.lse_err,
              chk.lse_tol);
    free(q), free(k), free(v), free(o16), free(o), free(l), free(lse), free(s);
}

/* The examples' 6 sequences, causal, GQA 2: the right answer passes, each kind of wrong one
 * fails. */
static void test_default_compare(int dtype)
{
    fa_ex_varlen vl;
    fa_ex_varlen_default(&vl);
    fa_ex_shape sh = {dtype, 0, 4, 2, 0, 0, 64, 1, 0.125f};
    const size_t nq = (size_t)vl.total_q * 4 * 64, nk = (size_t)vl.total_k * 2 * 64;
    const size_t nl = (size_t)4 * vl.total_q;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2), *o16 = malloc(nq * 2);
    uint16_t *bad16 = malloc(nq * 2);
    float *lse = malloc(nl * 4), *bad_l = malloc(nl * 4);
    fa_ex_check chk;

    fa_ex_fill(q, nq, dtype, 21);
    fa_ex_fill(k, nk, dtype, 22);
    fa_ex_fill(v, nk, dtype, 23);
    packed_answer(&vl, &sh, q, k, v, o16, lse);
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, o16, lse, &chk) == 0);
    CHECK_MSG(chk.pass && chk.bad == 0 && chk.o_tol > 1e-5 && chk.lse_tol >= 1e-3,
              "dtype %d: O %g <= %g, LSE %g <= %g, bad %ld", dtype, chk.o_err, chk.o_tol,
              chk.lse_err, chk.lse_tol, chk.bad);

    /* A wrong value in the last sequence's last row. */
    memcpy(bad16, o16, nq * 2);
    bad16[nq - 1] = fa_ex_to16(dtype, fa_ex_from16(dtype, bad16[nq - 1]) + 0.25f);
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, bad16, lse, &chk) == 0);
    CHECK_MSG(!chk.pass && chk.o_err > 0.2, "a wrong O passed: %g <= %g", chk.o_err, chk.o_tol);

    /* The empty-key sequence (3, 0) left unwritten (NaN poison): its rows must be zeros. */
    memcpy(bad16, o16, nq * 2);
    for (size_t i = (size_t)vl.cu_q[3] * 4 * 64; i < (size_t)vl.cu_q[4] * 4 * 64; i++) {
        CHECK(o16[i] == 0);
        bad16[i] = 0xffff;
    }
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, bad16, lse, &chk) == 0);
    CHECK_MSG(!chk.pass && chk.bad == (long)3 * 4 * 64, "unwritten rows: bad %ld", chk.bad);

    /* Sequence (130, 61), causal: its first 69 rows see no key (LSE -inf); a finite one fails. */
    memcpy(bad_l, lse, nl * 4);
    CHECK(isinf(lse[(size_t)2 * vl.total_q + vl.cu_q[4]]));
    CHECK(isfinite(lse[(size_t)2 * vl.total_q + vl.cu_q[4] + 69]));
    bad_l[(size_t)2 * vl.total_q + vl.cu_q[4]] = 0.0f;
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, o16, bad_l, &chk) == 0);
    CHECK_MSG(!chk.pass && chk.bad == 1, "a finite LSE for a row with no key: bad %ld", chk.bad);

    /* The length-1 sequence's LSE off by 0.1 (in head 3, the last). */
    memcpy(bad_l, lse, nl * 4);
    bad_l[(size_t)3 * vl.total_q + vl.cu_q[1]] += 0.1f;
    CHECK(fa_ex_varlen_compare(&vl, &sh, q, k, v, o16, bad_l, &chk) == 0);
    CHECK_MSG(!chk.pass && chk.lse_err > 0.09, "a wrong LSE passed: %g <= %g", chk.lse_err,
              chk.lse_tol);
    free(q), free(k), free(v), free(o16), free(bad16), free(lse), free(bad_l);
}

int main(void)
{
    test_default();
    test_init_refuses();
    test_params();
    test_equal_lengths();
    test_default_compare(0); /* fp16 */
    test_default_compare(1); /* bf16 */
    if (fa_check_failures)
        fprintf(stderr, "%d check(s) failed\n", fa_check_failures);
    return fa_check_failures ? 1 : 0;
}
