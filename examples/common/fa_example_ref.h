/*
 * fa_example_ref.h -- what both example consumers of an emitted dispatch header share (C99,
 * also compiles as C++): random 16-bit inputs, an eager attention reference on the CPU in
 * fp32 and in the input dtype, and fa-tune's correctness criterion.
 *
 * Layout: contiguous BSHD, q/o (B, Nq, Hq, D), k/v (B, Nk, Hkv, D), lse (B, Hq, Nq) fp32.
 * Causal masking is bottom-right aligned: query i sees key j iff j <= i + Nk - Nq; a row that
 * sees no key has O = 0 and LSE = -inf. GQA: query head h reads kv head h / (Hq / Hkv).
 *
 * Criterion (FlashAttention's own tests, docs/DESIGN.md "Correctness"):
 *   max|O - O_ref32| <= 2 * max|O_eager_lowp - O_ref32| + 1e-5
 *   max|LSE - LSE_ref32| <= 2 * max|LSE_eager_lowp - LSE_ref32| + 1e-3 (same -inf pattern)
 * where O_eager_lowp is eager attention with S, P and O rounded to the input dtype. NaN or Inf
 * in O (or a finite/-inf mismatch in LSE) never passes.
 */
#ifndef FA_EXAMPLE_REF_H
#define FA_EXAMPLE_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- 16-bit floats on the host ---------------------------------------------------------- */

static inline uint32_t fa_ex_f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float fa_ex_u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* bfloat16, round to nearest even (inputs are finite here). */
static inline uint16_t fa_ex_to_bf16(float f)
{
    uint32_t u = fa_ex_f2u(f);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float fa_ex_from_bf16(uint16_t h)
{
    return fa_ex_u2f((uint32_t)h << 16);
}

/* IEEE half, round to nearest even; handles the normal, subnormal and overflow ranges. */
static inline uint16_t fa_ex_to_fp16(float f)
{
    uint32_t u = fa_ex_f2u(f), sign = (u >> 16) & 0x8000u, mant;
    int exp;
    u &= 0x7fffffffu;
    if (u >= 0x7f800000u) /* inf or nan */
        return (uint16_t)(sign | 0x7c00u | (u > 0x7f800000u ? 0x200u : 0u));
    if (u >= 0x477ff000u) /* rounds to >= 65520: inf */
        return (uint16_t)(sign | 0x7c00u);
    exp = (int)(u >> 23) - 127;
    if (exp < -25)
        return (uint16_t)sign;
    mant = (u & 0x7fffffu) | 0x800000u;
    if (exp < -14) { /* subnormal half */
        int shift = -exp - 14 + 13;
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1u), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u)))
            half++;
        return (uint16_t)(sign | half);
    } else {
        uint32_t half = ((uint32_t)(exp + 15) << 10) | ((mant >> 13) & 0x3ffu);
        uint32_t rem = mant & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (half & 1u)))
            half++; /* may carry into the exponent: still correct */
        return (uint16_t)(sign | half);
    }
}

static inline float fa_ex_from_fp16(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    if (exp == 0) {                                   /* zero or subnormal */
        float f = (float)mant * (1.0f / 16777216.0f); /* mant * 2^-24 */
        return sign ? -f : f;
    }
    if (exp == 31)
        return fa_ex_u2f(sign | 0x7f800000u | (mant << 13));
    return fa_ex_u2f(sign | ((exp + 112u) << 23) | (mant << 13));
}

/* dtype: 0 fp16, 1 bf16 (the emitted header's FA_DISPATCH_FP16 / FA_DISPATCH_BF16). */
static inline uint16_t fa_ex_to16(int dtype, float f)
{
    return dtype ? fa_ex_to_bf16(f) : fa_ex_to_fp16(f);
}

static inline float fa_ex_from16(int dtype, uint16_t h)
{
    return dtype ? fa_ex_from_bf16(h) : fa_ex_from_fp16(h);
}

static inline float fa_ex_round(int dtype, float f)
{
    return fa_ex_from16(dtype, fa_ex_to16(dtype, f));
}

/* ---- inputs ------------------------------------------------------------------------------ */

static inline uint64_t fa_ex_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* n values uniform in [-1, 1), never exactly zero, rounded to dtype. */
static inline void fa_ex_fill(uint16_t *x, size_t n, int dtype, uint64_t seed)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float f = (float)((double)(fa_ex_rand(&seed) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
        if (f == 0.0f)
            f = 0.5f;
        x[i] = fa_ex_to16(dtype, f);
    }
}

/* ---- the reference ----------------------------------------------------------------------- */

typedef struct fa_ex_shape {
    int dtype, batch, heads_q, heads_kv, seqlen_q, seqlen_k, head_dim, causal;
    float scale;
} fa_ex_shape;

/* Eager attention on the CPU. lowp = 0: fp32 throughout; lowp = 1: S, P and O rounded to the
 * input dtype like eager attention in that dtype. o: (B, Nq, Hq, D) fp32, lse: (B, Hq, Nq).
 * s_buf holds seqlen_k floats. */
static inline void fa_ex_reference(const fa_ex_shape *sh, const uint16_t *q, const uint16_t *k,
                                   const uint16_t *v, int lowp, float *o, float *lse, float *s_buf)
{
    int b, h, i, j, d;
    const int D = sh->head_dim, g = sh->heads_q / sh->heads_kv;
    for (b = 0; b < sh->batch; b++)
        for (h = 0; h < sh->heads_q; h++)
            for (i = 0; i < sh->seqlen_q; i++) {
                const uint16_t *qi = q + (((size_t)b * sh->seqlen_q + i) * sh->heads_q + h) * D;
                float *oi = o + (((size_t)b * sh->seqlen_q + i) * sh->heads_q + h) * D;
                float mx = -INFINITY, sum = 0.0f;
                int last = sh->causal ? i + sh->seqlen_k - sh->seqlen_q : sh->seqlen_k - 1;
                if (last > sh->seqlen_k - 1)
                    last = sh->seqlen_k - 1;
                for (j = 0; j <= last; j++) {
                    const uint16_t *kj =
                        k + (((size_t)b * sh->seqlen_k + j) * sh->heads_kv + h / g) * D;
                    float acc = 0.0f;
                    for (d = 0; d < D; d++)
                        acc += fa_ex_from16(sh->dtype, qi[d]) * fa_ex_from16(sh->dtype, kj[d]);
                    if (lowp)
                        acc = fa_ex_round(sh->dtype, acc);
                    s_buf[j] = acc * sh->scale;
                    if (s_buf[j] > mx)
                        mx = s_buf[j];
                }
                for (j = 0; j <= last; j++) {
                    s_buf[j] = expf(s_buf[j] - mx);
                    sum += s_buf[j];
                }
                for (d = 0; d < D; d++)
                    oi[d] = 0.0f;
                lse[((size_t)b * sh->heads_q + h) * sh->seqlen_q + i] =
                    last >= 0 ? mx + logf(sum) : -INFINITY;
                for (j = 0; j <= last; j++) {
                    const uint16_t *vj =
                        v + (((size_t)b * sh->seqlen_k + j) * sh->heads_kv + h / g) * D;
                    float p = s_buf[j] / sum;
                    if (lowp)
                        p = fa_ex_round(sh->dtype, p);
                    for (d = 0; d < D; d++)
                        oi[d] += p * fa_ex_from16(sh->dtype, vj[d]);
                }
                if (lowp)
                    for (d = 0; d < D; d++)
                        oi[d] = fa_ex_round(sh->dtype, oi[d]);
            }
}

typedef struct fa_ex_check {
    int pass;
    double o_err, o_tol;     /* max|O - ref|, its bound */
    double lse_err, lse_tol; /* likewise for LSE over rows that see a key */
    long bad;                /* NaN/Inf in O, or an LSE -inf pattern mismatch */
} fa_ex_check;

/* Check o16 (the kernel's O, dtype) and lse against the fp32 and low-precision references. */
static inline fa_ex_check fa_ex_compare(const fa_ex_shape *sh, const uint16_t *o16,
                                        const float *lse, const float *o_ref, const float *lse_ref,
                                        const float *o_low, const float *lse_low)
{
    fa_ex_check c;
    size_t i, n = (size_t)sh->batch * sh->seqlen_q * sh->heads_q * sh->head_dim;
    size_t nl = (size_t)sh->batch * sh->heads_q * sh->seqlen_q;
    double low_err = 0.0, low_lse = 0.0;
    memset(&c, 0, sizeof c);
    for (i = 0; i < n; i++) {
        double x = fa_ex_from16(sh->dtype, o16[i]), e;
        if (!isfinite(x)) {
            c.bad++;
            continue;
        }
        e = fabs(x - o_ref[i]);
        if (e > c.o_err)
            c.o_err = e;
        e = fabs((double)o_low[i] - o_ref[i]);
        if (e > low_err)
            low_err = e;
    }
    for (i = 0; i < nl; i++) {
        double e;
        if (isinf(lse_ref[i])) {
            if (!(isinf(lse[i]) && lse[i] < 0))
                c.bad++;
            continue;
        }
        if (!isfinite(lse[i])) {
            c.bad++;
            continue;
        }
        e = fabs((double)lse[i] - lse_ref[i]);
        if (e > c.lse_err)
            c.lse_err = e;
        e = fabs((double)lse_low[i] - lse_ref[i]);
        if (e > low_lse)
            low_lse = e;
    }
    c.o_tol = 2.0 * low_err + 1e-5;
    c.lse_tol = 2.0 * low_lse + 1e-3;
    c.pass = c.bad == 0 && c.o_err <= c.o_tol && c.lse_err <= c.lse_tol;
    return c;
}

#endif /* FA_EXAMPLE_REF_H */
