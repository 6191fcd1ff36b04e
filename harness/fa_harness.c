/*
 * This file implements the harness's plain-C pieces that need no GPU (see fa_harness.h): the
 * tensor layout of a problem, timing statistics and defaults, the helper module's source, the
 * eager sanity tolerance, and host 16-bit conversions. The CPU tests exercise all of it.
 */
#include "fa_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_util.h"

void fa_device_nvrtc_arch(const fa_device_info *d, char *buf, size_t n)
{
    snprintf(buf, n, "sm_%d", d->cc);
}

void fa_timing_opts_default(fa_timing_opts *o)
{
    o->warmup_reps = 3;
    o->warmup_ms = 50;
    o->min_reps = 10;
    o->max_reps = 1000;
    o->max_seconds = 5;
    o->target_rse = 0.01;
    o->no_flush = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void fa_stats_compute(const double *x, int n, fa_time_stats *st)
{
    memset(st, 0, sizeof *st);
    st->reps = n;
    if (n < 1)
        return;
    double *s = malloc((size_t)n * sizeof *s);
    double sum = 0, mn = x[0];
    for (int i = 0; i < n; i++) {
        sum += x[i];
        mn = x[i] < mn ? x[i] : mn;
        if (s)
            s[i] = x[i];
    }
    double mean = sum / n, var = 0;
    for (int i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    var = n > 1 ? var / (n - 1) : 0;
    if (s) {
        qsort(s, (size_t)n, sizeof *s, cmp_double);
        st->median_ms = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
        free(s);
    } else {
        st->median_ms = mean; /* out of memory: the mean is the best we can say */
    }
    st->min_ms = mn;
    st->mean_ms = mean;
    st->cv = mean > 0 ? sqrt(var) / mean : 0;
    /* One sample says nothing about its spread: report an infinite RSE so no stop rule
     * mistakes it for a converged measurement. */
    st->rse = n > 1 && mean > 0 ? sqrt(var / n) / mean : INFINITY;
}

void fa_harness_detail_init(fa_harness_detail *d)
{
    memset(d, 0, sizeof *d);
    d->eager_min_ms = d->eager_cv = d->eager_tflops = -1;
    d->eager_rel_l2_err = d->eager_lse_max_err = -1;
    d->eager_reps = 0;
    d->flash_tracked_bytes = d->flash_measured_bytes = -1;
    d->eager_tracked_bytes = d->eager_measured_bytes = -1;
}

void fa_measurement_init(fa_measurement *m)
{
    memset(m, 0, sizeof *m);
    m->status = FA_OK;
    m->median_ms = m->min_ms = m->cv = m->tflops = -1;
    m->max_abs_err = m->rel_l2_err = m->eager_max_abs_err = m->lse_max_err = -1;
    m->peak_extra_bytes = m->eager_peak_extra_bytes = -1;
    m->eager_median_ms = -1;
    m->build.registers = m->build.smem_static = m->build.stack_bytes = -1;
    m->build.spill_stores = m->build.spill_loads = -1;
    m->build.compile_ms = -1;
}

static double dtype_eps(fa_dtype t)
{
    return t == FA_DTYPE_BF16 ? 1.0 / 256 : 1.0 / 2048;
}

double fa_harness_eager_tolerance(fa_dtype t)
{
    return 8 * dtype_eps(t);
}

double fa_harness_eager_lse_tolerance(fa_dtype t)
{
    return 64 * dtype_eps(t);
}

void fa_harness_helper_source(fa_dtype t, int head_dim, char *buf, size_t n)
{
    snprintf(buf, n,
             "// fa-tune harness helpers: fp32 reference, eager softmax, fill/compare/flush\n"
             "#define FA_REF_ELEMENT %s\n"
             "#define FA_REF_HEAD_DIM %d\n"
             "#include \"fa_reference.cuh\"\n",
             t == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", head_dim);
}

/* ---- layout ------------------------------------------------------------------------------ */

void fa_harness_varlen_lengths(const fa_problem *p, int *lens_q, int *lens_k)
{
    fa_problem_varlen_lengths(p, p->seed, p->seqlen_q, lens_q);
    if (p->seqlen_k == p->seqlen_q)
        memcpy(lens_k, lens_q, (size_t)p->batch * sizeof *lens_k);
    else
        fa_problem_varlen_lengths(p, p->seed + 1, p->seqlen_k, lens_k);
}

/* A decode problem's cache lengths and, when paged, its pages and shuffled block table. */
static fa_status decode_layout(fa_tensors *l, const fa_problem *p, fa_err *err)
{
    l->kc_batch = l->k_batch;
    l->cache_lens = malloc((size_t)p->batch * sizeof *l->cache_lens);
    if (!l->cache_lens) {
        fa_tensors_release(l);
        return FA_ERR(err, FA_NOMEM, "out of memory");
    }
    fa_problem_cache_lens(p, l->cache_lens);
    if (!p->page_size)
        return FA_OK;
    l->page_size = p->page_size;
    l->max_pages = (p->seqlen_k + p->page_size - 1) / p->page_size;
    l->num_pages = (int64_t)p->batch * l->max_pages;
    l->block_table = malloc((size_t)l->num_pages * sizeof *l->block_table);
    if (!l->block_table) {
        fa_tensors_release(l);
        return FA_ERR(err, FA_NOMEM, "out of memory");
    }
    /* Fisher-Yates from the problem's seed: every run of the problem has the same table. */
    uint64_t s = p->seed ^ 0x5851F42D4C957F2Dull;
    for (int64_t i = 0; i < l->num_pages; i++)
        l->block_table[i] = (int32_t)i;
    for (int64_t i = l->num_pages - 1; i > 0; i--) {
        int64_t j = (int64_t)(fa_splitmix64(&s) % (uint64_t)(i + 1));
        int32_t x = l->block_table[i];
        l->block_table[i] = l->block_table[j];
        l->block_table[j] = x;
    }
    l->rows_k = l->num_pages * p->page_size;
    l->k_batch = (int64_t)p->page_size * l->k_row; /* the page stride */
    return FA_OK;
}

fa_status fa_tensors_init(fa_tensors *l, const fa_problem *p, fa_err *err)
{
    fa_status st = fa_problem_check(p, err);
    if (st != FA_OK)
        return st;
    memset(l, 0, sizeof *l);
    const int64_t B = p->batch, Hq = p->heads_q, Hk = p->heads_kv, D = p->head_dim;
    l->batch = p->batch;
    l->heads_q = p->heads_q;
    l->heads_kv = p->heads_kv;
    l->head_dim = p->head_dim;
    if (p->varlen) {
        l->lens_q = malloc((size_t)B * sizeof *l->lens_q);
        l->lens_k = malloc((size_t)B * sizeof *l->lens_k);
        l->cu_q = malloc((size_t)(B + 1) * sizeof *l->cu_q);
        l->cu_k = malloc((size_t)(B + 1) * sizeof *l->cu_k);
        if (!l->lens_q || !l->lens_k || !l->cu_q || !l->cu_k) {
            fa_tensors_release(l);
            return FA_ERR(err, FA_NOMEM, "out of memory");
        }
        fa_harness_varlen_lengths(p, l->lens_q, l->lens_k);
        l->cu_q[0] = l->cu_k[0] = 0;
        for (int b = 0; b < p->batch; b++) {
            l->cu_q[b + 1] = l->cu_q[b] + l->lens_q[b];
            l->cu_k[b + 1] = l->cu_k[b] + l->lens_k[b];
            l->max_q = l->lens_q[b] > l->max_q ? l->lens_q[b] : l->max_q;
            l->max_k = l->lens_k[b] > l->max_k ? l->lens_k[b] : l->max_k;
        }
        l->rows_q = l->cu_q[B];
        l->rows_k = l->cu_k[B];
        l->q_batch = l->k_batch = 0; /* ignored: sequences start at cu_seqlens rows */
        l->q_row = Hq * D;
        l->q_head = D;
        l->k_row = Hk * D;
        l->k_head = D;
        l->lse_batch = 0;
        l->lse_head = l->rows_q;
    } else {
        l->max_q = p->seqlen_q;
        l->max_k = p->seqlen_k;
        l->rows_q = B * p->seqlen_q;
        l->rows_k = B * p->seqlen_k;
        if (p->layout == FA_LAYOUT_BHSD) {
            l->q_row = D;
            l->q_head = (int64_t)p->seqlen_q * D;
            l->q_batch = Hq * l->q_head;
            l->k_row = D;
            l->k_head = (int64_t)p->seqlen_k * D;
            l->k_batch = Hk * l->k_head;
        } else {
            l->q_head = D;
            l->q_row = Hq * D;
            l->q_batch = (int64_t)p->seqlen_q * l->q_row;
            l->k_head = D;
            l->k_row = Hk * D;
            l->k_batch = (int64_t)p->seqlen_k * l->k_row;
        }
        l->lse_head = p->seqlen_q;
        l->lse_batch = Hq * p->seqlen_q;
    }
    if (p->op == FA_OP_DECODE && (st = decode_layout(l, p, err)) != FA_OK)
        return st;
    l->q_elems = l->rows_q * Hq * D;
    l->k_elems = l->rows_k * Hk * D;
    l->lse_elems = l->rows_q * Hq;
    return FA_OK;
}

void fa_tensors_release(fa_tensors *l)
{
    if (!l)
        return;
    free(l->lens_q);
    free(l->lens_k);
    free(l->cu_q);
    free(l->cu_k);
    free(l->cache_lens);
    free(l->block_table);
    l->lens_q = l->lens_k = NULL;
    l->cu_q = l->cu_k = NULL;
    l->cache_lens = l->block_table = NULL;
}

void fa_tensors_decode_params(const fa_tensors *l, uint64_t seqused_k, uint64_t block_table,
                              fa_fwd_params *out)
{
    if (!l->cache_lens)
        return;
    out->seqused_k = seqused_k;
    if (l->page_size) {
        out->block_table = block_table;
        out->block_table_stride = l->max_pages;
        out->page_size = l->page_size;
    }
}

void fa_tensors_params(const fa_tensors *l, const fa_problem *p, uint64_t q, uint64_t k, uint64_t v,
                       uint64_t o, uint64_t lse, uint64_t cu_q, uint64_t cu_k, fa_fwd_params *out)
{
    fa_fwd_params a;
    memset(&a, 0, sizeof a);
    a.q = q;
    a.k = k;
    a.v = v;
    a.o = o;
    a.lse = lse;
    a.cu_seqlens_q = p->varlen ? cu_q : 0;
    a.cu_seqlens_k = p->varlen ? cu_k : 0;
    a.q_batch_stride = a.o_batch_stride = l->q_batch;
    a.q_row_stride = a.o_row_stride = l->q_row;
    a.q_head_stride = a.o_head_stride = l->q_head;
    a.k_batch_stride = a.v_batch_stride = l->k_batch;
    a.k_row_stride = a.v_row_stride = l->k_row;
    a.k_head_stride = a.v_head_stride = l->k_head;
    a.lse_batch_stride = l->lse_batch;
    a.lse_head_stride = l->lse_head;
    a.batch = l->batch;
    a.heads_q = l->heads_q;
    a.heads_kv = l->heads_kv;
    a.seqlen_q = l->max_q;
    a.seqlen_k = l->max_k;
    a.head_dim = l->head_dim;
    a.softmax_scale = fa_problem_scale(p);
    a.softmax_scale_log2 = a.softmax_scale * 1.4426950408889634f;
    *out = a;
}

double fa_tensors_flops(const fa_tensors *l, const fa_problem *p)
{
    return fa_problem_work(p, l->lens_q, l->lens_k, l->cache_lens);
}

/* ---- host 16-bit conversions ------------------------------------------------------------ */

static uint32_t f2u(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float u2f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float fa_half_to_float(uint16_t h, fa_dtype t)
{
    if (t == FA_DTYPE_BF16)
        return u2f((uint32_t)h << 16);
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f)
        return u2f(sign | 0x7f800000u | (man << 13));
    if (exp == 0) { /* zero or subnormal: man * 2^-24 */
        float f = (float)man * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    return u2f(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t fa_float_to_half(float f, fa_dtype t)
{
    uint32_t u = f2u(f);
    if (t == FA_DTYPE_BF16) {
        if ((u & 0x7fffffffu) > 0x7f800000u)
            return 0x7fc0; /* NaN */
        u += 0x7fff + ((u >> 16) & 1);
        return (uint16_t)(u >> 16);
    }
    uint32_t sign = (u >> 16) & 0x8000;
    float a = fabsf(f);
    if (a != a)
        return 0x7e00;
    if (a >= 65520.0f)
        return (uint16_t)(sign | 0x7c00);
    if (a < 6.103515625e-05f) { /* subnormal half: round to a multiple of 2^-24 */
        uint32_t m = (uint32_t)lrintf(a * 16777216.0f);
        return (uint16_t)(sign | m);
    }
    uint32_t au = f2u(a);
    uint32_t exp = (au >> 23) - 112, man = au & 0x7fffff;
    uint32_t h = (exp << 10) | (man >> 13);
    uint32_t rest = man & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
        h++;
    return (uint16_t)(sign | h);
}

void fa_retime_resolve_raced(int n, const int *raced, const int *ref, const double *ratio,
                             double *ms)
{
    unsigned char done[FA_RETIME_MAX];
    if (n > FA_RETIME_MAX)
        n = FA_RETIME_MAX;
    for (int i = 0; i < n; i++)
        done[i] = !raced[i];
    /* A reference was unraced when it was taken, so every chain ends at an unraced job; each
     * pass settles at least one more link. */
    for (int pass = 0; pass < n; pass++)
        for (int i = 0; i < n; i++) {
            const int r = ref[i];
            if (done[i] || r < 0 || r >= n || r == i || !done[r])
                continue;
            if (ms[r] > 0)
                ms[i] = ratio[i] * ms[r];
            done[i] = 1;
        }
}
