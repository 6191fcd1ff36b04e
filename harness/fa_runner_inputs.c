/*
 * This file implements a job's data for the runner (see fa_runner_internal.h): a problem's
 * buffers, the inputs timing-only jobs share, the fp32 reference, output poisoning and the
 * GPU-side comparisons.
 */
#include "fa_runner_internal.h"
#include "fa_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- problem buffers ------------------------------------------------------------------- */

int rn_same_problem(const fa_problem *a, const fa_problem *b)
{
    char x[FA_PROBLEM_NAME_MAX], y[FA_PROBLEM_NAME_MAX];
    fa_problem_name(a, x, sizeof x);
    fa_problem_name(b, y, sizeof y);
    return strcmp(x, y) == 0 && a->seed == b->seed && fa_problem_scale(a) == fa_problem_scale(b);
}

void rn_bufs_release(fa_runner *r, bufs *b)
{
    CUdeviceptr *all[] = {&b->q,       &b->k,       &b->v,         &b->o,    &b->o_ref,
                          &b->lse_ref, &b->o_eager, &b->lse_eager, &b->cu_q, &b->cu_k,
                          &b->seqused, &b->btable,  &b->kc,        &b->vc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rn_dfree(r, all[i]);
    if (b->have_t)
        fa_tensors_release(&b->t);
    b->have_t = 0;
}

/* A decode problem's cache lengths and block table on the device, and for the eager baseline
 * of a paged cache the contiguous copy it reads. */
static fa_status decode_alloc(fa_runner *r, const fa_problem *p, bufs *b, int with_eager,
                              fa_err *err)
{
    const fa_tensors *t = &b->t;
    size_t bytes = (size_t)p->batch * sizeof(int32_t);
    fa_status st = rn_dalloc(r, &b->seqused, bytes, "the cache lengths", err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->seqused, t->cache_lens, bytes));
    if (st != FA_OK || !t->page_size)
        return st;
    bytes = (size_t)t->num_pages * sizeof(int32_t);
    st = rn_dalloc(r, &b->btable, bytes, "the block table", err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->btable, t->block_table, bytes));
    const size_t cont = (size_t)t->batch * (size_t)t->kc_batch * 2;
    if (st == FA_OK && with_eager)
        st = rn_dalloc(r, &b->kc, cont, "the eager baseline's contiguous K", err);
    if (st == FA_OK && with_eager)
        st = rn_dalloc(r, &b->vc, cont, "the eager baseline's contiguous V", err);
    return st;
}

/* Q, K, V and the variant's O always; the fp32 references and the eager LSE for a check; the
 * eager O when the eager baseline runs. */
fa_status rn_bufs_alloc(fa_runner *r, const fa_problem *p, bufs *b, int with_refs, int with_eager,
                        fa_err *err)
{
    fa_status st = fa_tensors_init(&b->t, p, err);
    if (st != FA_OK)
        return st;
    b->have_t = 1;
    const fa_tensors *t = &b->t;
    const size_t e = 2; /* fp16 / bf16 */
    st = rn_dalloc(r, &b->q, (size_t)t->q_elems * e, "Q", err);
    if (st == FA_OK)
        st = rn_dalloc(r, &b->k, (size_t)t->k_elems * e, "K", err);
    if (st == FA_OK)
        st = rn_dalloc(r, &b->v, (size_t)t->k_elems * e, "V", err);
    if (st == FA_OK)
        st = rn_dalloc(r, &b->o, (size_t)t->q_elems * e, "O", err);
    if (st == FA_OK && with_refs) {
        st = rn_dalloc(r, &b->o_ref, (size_t)t->q_elems * 4, "the fp32 reference O", err);
        if (st == FA_OK)
            st = rn_dalloc(r, &b->lse_ref, (size_t)t->lse_elems * 4, "the fp32 reference LSE", err);
        if (st == FA_OK)
            st = rn_dalloc(r, &b->lse_eager, (size_t)t->lse_elems * 4, "the eager LSE", err);
    }
    if (st == FA_OK && with_eager)
        st = rn_dalloc(r, &b->o_eager, (size_t)t->q_elems * e, "the eager O", err);
    if (st == FA_OK && p->varlen) {
        size_t bytes = (size_t)(p->batch + 1) * sizeof(int32_t);
        st = rn_dalloc(r, &b->cu_q, bytes, "cu_seqlens_q", err);
        if (st == FA_OK)
            st = rn_dalloc(r, &b->cu_k, bytes, "cu_seqlens_k", err);
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->cu_q, t->cu_q, bytes));
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->cu_k, t->cu_k, bytes));
    }
    if (st == FA_OK && p->op == FA_OP_DECODE)
        st = decode_alloc(r, p, b, with_eager, err);
    return st;
}

void rn_bufs_params(const bufs *b, const fa_problem *p, CUdeviceptr o, CUdeviceptr lse,
                    fa_fwd_params *out)
{
    fa_tensors_params(&b->t, p, b->q, b->k, b->v, o, lse, b->cu_q, b->cu_k, out);
    fa_tensors_decode_params(&b->t, b->seqused, b->btable, out);
}

fa_status rn_fill_inputs(fa_runner *r, const helper_mod *h, const bufs *b, uint64_t seed,
                         fa_err *err)
{
    CUdeviceptr ptrs[3] = {b->q, b->k, b->v};
    long long n[3] = {b->t.q_elems, b->t.k_elems, b->t.k_elems};
    fa_status st = FA_OK;
    for (int i = 0; st == FA_OK && i < 3; i++) {
        /* One stream per tensor, so Q, K and V are independent draws of the one seed. */
        unsigned long long s = fa_mix64(seed + 0x632BE59BD9B4E019ull * (uint64_t)(i + 1));
        void *args[] = {&ptrs[i], &n[i], &s};
        st = rn_launch_1d(r, h->fill, n[i], args, "fa_ref_fill", err);
    }
    if (st != FA_OK || !b->kc)
        return st;
    /* The eager copy of a paged cache: sequence b's rows j in order, page by page. */
    const fa_tensors *t = &b->t;
    const size_t page_bytes = (size_t)t->k_batch * 2;
    for (int64_t i = 0; st == FA_OK && i < t->num_pages; i++) {
        const int64_t seq = i / t->max_pages, j = i % t->max_pages;
        const int64_t rows = (int64_t)t->max_k - j * t->page_size; /* the last page may be cut */
        const size_t n_bytes =
            rows < t->page_size ? (size_t)rows * (size_t)t->k_row * 2 : page_bytes;
        const uint64_t dst = (uint64_t)(seq * t->kc_batch + j * t->k_batch) * 2;
        const uint64_t src = (uint64_t)t->block_table[i] * page_bytes;
        st = FA_CU(r->cu, err,
                   r->cu->cuMemcpyDtoDAsync(b->kc + dst, b->k + src, n_bytes, r->stream));
        if (st == FA_OK)
            st = FA_CU(r->cu, err,
                       r->cu->cuMemcpyDtoDAsync(b->vc + dst, b->v + src, n_bytes, r->stream));
    }
    return st;
}

/* ---- inputs kept across timing-only jobs ------------------------------------------------
 *
 * A timing needs inputs but not particular values (the kernels have no data-dependent
 * control flow), so timing-only jobs of one problem share one set: allocated and filled on
 * first use, kept for later variants. Besides saving the allocation and the fill, every
 * variant of a problem then reads the same physical pages, so none is favoured or penalised
 * by where the allocator happened to place its buffers. Checks always draw fresh inputs. */

#define FA_INPUT_CACHE_SLOTS 32

typedef struct cached_inputs {
    int used;
    fa_problem p;
    bufs b;
    uint64_t seed;
    int64_t bytes;
    unsigned long long tick;
} cached_inputs;

static void inputs_drop(fa_runner *r, cached_inputs *c)
{
    rn_bufs_release(r, &c->b);
    memset(c, 0, sizeof *c);
}

/* Evict least recently used entries other than keep (may be NULL) until the cache holds at
 * most budget bytes. */
static void inputs_trim(fa_runner *r, const cached_inputs *keep, int64_t budget)
{
    for (;;) {
        int64_t total = 0;
        cached_inputs *lru = NULL;
        for (int i = 0; i < FA_INPUT_CACHE_SLOTS; i++) {
            cached_inputs *c = &r->inputs[i];
            if (!c->used)
                continue;
            total += c->bytes;
            if (c != keep && (!lru || c->tick < lru->tick))
                lru = c;
        }
        if (total <= budget || !lru)
            return;
        inputs_drop(r, lru);
    }
}

fa_status rn_bufs_alloc_room(fa_runner *r, const fa_problem *p, bufs *b, int with_refs,
                             int with_eager, fa_err *err)
{
    fa_status st = rn_bufs_alloc(r, p, b, with_refs, with_eager, err);
    if (st == FA_UNSUPPORTED) { /* out of memory: give back everything cached, try once more */
        rn_bufs_release(r, b);
        rn_eager_scratch_release(r);
        inputs_trim(r, NULL, 0);
        fa_err_clear(err);
        st = rn_bufs_alloc(r, p, b, with_refs, with_eager, err);
    }
    return st;
}

void rn_inputs_free_all(fa_runner *r)
{
    if (!r->inputs)
        return;
    inputs_trim(r, NULL, 0);
    free(r->inputs);
    r->inputs = NULL;
}

/* The shared inputs of problem p (filled from seed on first use; *used_seed is the seed they
 * were drawn from). */
fa_status rn_inputs_for_timing(fa_runner *r, const helper_mod *h, const fa_problem *p,
                               uint64_t seed, bufs **out, uint64_t *used_seed, fa_err *err)
{
    if (!r->inputs && !(r->inputs = calloc(FA_INPUT_CACHE_SLOTS, sizeof *r->inputs)))
        return FA_ERR(err, FA_NOMEM, "out of memory");
    cached_inputs *slot = NULL;
    for (int i = 0; i < FA_INPUT_CACHE_SLOTS; i++) {
        cached_inputs *c = &r->inputs[i];
        if (c->used && rn_same_problem(&c->p, p)) {
            c->tick = ++r->input_tick;
            *out = &c->b;
            *used_seed = c->seed;
            return FA_OK;
        }
        /* Prefer a free slot; among used ones, the least recently used. */
        if (!slot || (slot->used && (!c->used || c->tick < slot->tick)))
            slot = c;
    }
    if (slot->used)
        inputs_drop(r, slot);
    fa_status st = rn_bufs_alloc_room(r, p, &slot->b, 0, 0, err);
    if (st == FA_OK)
        st = rn_fill_inputs(r, h, &slot->b, seed, err);
    if (st == FA_OK)
        st = rn_sync_stream(r, err);
    if (st != FA_OK) {
        rn_bufs_release(r, &slot->b);
        memset(slot, 0, sizeof *slot);
        return st;
    }
    slot->used = 1;
    slot->p = *p;
    slot->seed = seed;
    slot->bytes = 2 * (slot->b.t.q_elems + slot->b.t.k_elems) * 2;
    slot->tick = ++r->input_tick;
    /* A quarter of the device at most: the timed kernels need the rest. */
    inputs_trim(r, slot, r->info.total_mem > 0 ? r->info.total_mem / 4 : (int64_t)1 << 30);
    *out = &slot->b;
    *used_seed = seed;
    return FA_OK;
}

/* ---- check sets kept across checks -------------------------------------------------------
 *
 * Every variant of a class is checked on the class's one check problem. The first check of a
 * problem in this worker draws fresh random inputs and computes the fp32 reference and the
 * eager method's error on them; later checks of the problem reuse all three, so a check is
 * then only: poison the outputs, launch, compare. On the full hd128 sweep the reference and
 * the eager runs of the checks took about 2.3 s (FA_PROFILE), recomputing the same values.
 * A variant that writes out of bounds could corrupt a kept set; so a check that fails on a
 * kept set forgets it and is run again on fresh inputs, whose verdict stands (fa_runner_run).
 * A pass is never at stake: it needs the variant's own output to match the reference. */

#define FA_CHECK_SETS 8

static void check_set_release(fa_runner *r, check_set *c)
{
    rn_bufs_release(r, &c->b);
    memset(c, 0, sizeof *c);
}

check_set *rn_check_set_find(fa_runner *r, const fa_problem *p, uint64_t seed)
{
    for (int i = 0; r->checks && i < FA_CHECK_SETS; i++) {
        check_set *c = &r->checks[i];
        if (c->used && rn_same_problem(&c->p, p) && (!seed || seed == c->seed)) {
            c->tick = ++r->check_tick;
            return c;
        }
    }
    return NULL;
}

void rn_check_set_keep(fa_runner *r, const fa_problem *p, uint64_t seed, bufs *b,
                       const cmp_result *eo, const cmp_result *el, const fa_harness_detail *d,
                       int64_t eager_peak)
{
    if (!r->checks && !(r->checks = calloc(FA_CHECK_SETS, sizeof *r->checks)))
        return; /* no room to keep it: the caller frees b as usual */
    check_set *slot = NULL;
    for (int i = 0; i < FA_CHECK_SETS; i++) {
        check_set *c = &r->checks[i];
        if (!slot || (slot->used && (!c->used || c->tick < slot->tick)))
            slot = c;
    }
    if (slot->used)
        check_set_release(r, slot);
    slot->used = 1;
    slot->p = *p;
    slot->b = *b;
    slot->seed = seed;
    slot->eo = *eo;
    slot->el = *el;
    slot->eager_d = *d;
    slot->eager_peak = eager_peak;
    slot->tick = ++r->check_tick;
    memset(b, 0, sizeof *b);
}

void rn_check_set_drop(fa_runner *r, check_set *c)
{
    if (c) {
        check_set_release(r, c);
        return;
    }
    for (int i = 0; r->checks && i < FA_CHECK_SETS; i++)
        if (r->checks[i].used)
            check_set_release(r, &r->checks[i]);
    free(r->checks);
    r->checks = NULL;
}

/* ---- the fp32 reference, poisoning and comparisons --------------------------------------- */

fa_status rn_poison(fa_runner *r, CUdeviceptr o, int64_t o_elems, CUdeviceptr lse,
                    int64_t lse_elems, fa_err *err)
{
    fa_status st =
        FA_CU(r->cu, err,
              r->cu->cuMemsetD16Async(o, (unsigned short)FA_POISON16, (size_t)o_elems, r->stream));
    if (st == FA_OK && lse)
        st = FA_CU(r->cu, err,
                   r->cu->cuMemsetD32Async(lse, FA_POISON32, (size_t)lse_elems, r->stream));
    return st;
}

fa_status rn_run_reference(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                           fa_err *err)
{
    fa_fwd_params a;
    rn_bufs_params(b, p, b->o_ref, b->lse_ref, &a);
    int causal = p->causal;
    void *args[] = {&a, &causal};
    unsigned gx = (unsigned)((b->t.max_q + h->ref_bm - 1) / h->ref_bm);
    return rn_launch(r, h->ref, gx, (unsigned)p->heads_q, (unsigned)p->batch,
                     (unsigned)h->ref_threads, (unsigned)h->ref_smem, args, "fa_ref_attention",
                     err);
}

fa_status rn_compare(fa_runner *r, CUfunction f, CUdeviceptr x, CUdeviceptr ref, int64_t n,
                     cmp_result *out, fa_err *err)
{
    uint64_t slots[FA_CMP_SLOTS];
    fa_status st = FA_CU(r->cu, err, r->cu->cuMemsetD8Async(r->cmp, 0, sizeof slots, r->stream));
    long long nn = n;
    void *args[] = {&x, &ref, &nn, &r->cmp};
    if (st == FA_OK)
        st = rn_launch_1d(r, f, n, args, "fa_ref_compare", err);
    if (st == FA_OK)
        st = rn_sync_stream(r, err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyDtoH(slots, r->cmp, sizeof slots));
    if (st != FA_OK)
        return st;
    float max_abs;
    uint32_t bits = (uint32_t)slots[FA_CMP_MAX_ABS];
    memcpy(&max_abs, &bits, sizeof max_abs);
    double sdiff, sref;
    memcpy(&sdiff, &slots[FA_CMP_SUM_SQ_DIFF], sizeof sdiff);
    memcpy(&sref, &slots[FA_CMP_SUM_SQ_REF], sizeof sref);
    out->max_abs = max_abs;
    out->rel_l2 = sref > 0 ? sqrt(sdiff / sref) : sqrt(sdiff);
    out->nonfinite = (int64_t)slots[FA_CMP_NONFINITE];
    out->poison = (int64_t)slots[FA_CMP_POISON];
    out->mask = (int64_t)slots[FA_CMP_MASK];
    return FA_OK;
}
