/*
 * This file implements the runner's eager baseline (see fa_runner_internal.h): S = QK^T by
 * cuBLAS, a masked softmax kernel, O = PV by cuBLAS, chunked over heads, with S and P kept
 * across jobs. Varlen batches loop over their sequences, or with FA_EAGER_PAD=1 are padded to
 * their longest sequences first, as FlashAttention's tests and PyTorch's SDPA run them.
 */
#include "fa_runner_internal.h"
#include "fa_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Give back the kept S and P. */
static void release_kept_sp(fa_runner *r)
{
    rn_dfree(r, &r->eager_s);
    rn_dfree(r, &r->eager_p);
    r->eager_cap = 0;
}

/* Give back the kept padded varlen tensors. */
static void release_kept_dense(fa_runner *r)
{
    rn_dfree(r, &r->eager_dense);
    r->eager_dense_cap = 0;
}

/* Give back the kept S and P and the padded varlen tensors (after a fault they went with the
 * context: only forget them). */
void rn_eager_scratch_release(fa_runner *r)
{
    release_kept_sp(r);
    release_kept_dense(r);
}

/* ---- the eager baseline ---------------------------------------------------------------- */

enum { PTR_K, PTR_Q, PTR_S, PTR_V, PTR_P, PTR_O, PTR_ARRAYS };

/*
 * The eager's memory for one job. The memory this runner keeps for the eager (the padded
 * copies, S and P) counts as free: a job reuses it or gives it back. Uncounted, a padded job's
 * own copies left the next job of the same problem too little to pad, and that job gave them
 * back, so identical jobs alternated between padding and the loop (and a memory-bound
 * problem's chunks between two sizes): the baseline's time depended on the job before.
 */
eager_mem rn_eager_mem_plan(size_t free_bytes, size_t kept_bytes, int want_pad, size_t dense_bytes,
                            size_t budget_bytes)
{
    eager_mem m = {0, 0};
    const size_t avail = free_bytes + kept_bytes;
    m.padded = want_pad && dense_bytes <= avail / 2;
    /* S and P: half of what the padded copies leave, unless the runner was given a budget. */
    m.sp_budget = budget_bytes ? budget_bytes : (avail - (m.padded ? dense_bytes : 0)) / 2;
    return m;
}

/*
 * Chunking: S and P of one chunk must fit the budget (default half the free memory, see
 * rn_eager_mem_plan), so an N = 16k problem runs where materialising every head at once would not
 * fit. Fixed-length problems batch over (batch, query head) pairs with pointer arrays -- one cuBLAS
 * call per GEMM per chunk whatever the layout, as a framework's single bmm would be (BSHD heads of
 * different batch entries are not one stride apart, so strided batching would need a call per batch
 * entry and go launch-bound on short sequences). Varlen problems loop over sequences with strided
 * batching over the KV heads of a chunk; with FA_EAGER_PAD=1 they run as at fixed length on copies
 * padded to the longest sequences, as FlashAttention's tests (and peers.py's SDPA) run them.
 * Neither is faster everywhere: the loop is launch-bound on short sequences (an H100, hd128,
 * lengths in [N/2, N]: padded 1.3x faster at N = 512, 4x with GQA 8), padding computes the gaps
 * (1.6x slower at N = 2048), and it takes more memory (bench/results/2026-12-07_session32). A
 * batch whose padded copies would take more than half the free memory loops anyway. Decode loops
 * over sequences (their cache lengths differ) likewise.
 */
fa_status rn_eager_plan_alloc(fa_runner *r, const bufs *b, const fa_problem *p, eager_plan *pl,
                              fa_err *err)
{
    const fa_tensors *t = &b->t;
    const int D = t->head_dim, varlen = p->op != FA_OP_DECODE && p->varlen;
    fa_status st = FA_OK;
    size_t free_b = 0, total_b = 0;
    if (r->cu->cuMemGetInfo(&free_b, &total_b) != CUDA_SUCCESS)
        free_b = 0;
    pl->ld = ((int64_t)t->max_k + 7) / 8 * 8;
    /* Varlen lengths are >= 1 (fa_problem_check), so max_q and max_k are too. */
    const size_t q_bytes = (size_t)t->batch * t->heads_q * t->max_q * D * 2;
    const size_t k_bytes = (size_t)t->batch * t->heads_kv * t->max_k * D * 2;
    pl->dense_bytes = 2 * q_bytes + 2 * k_bytes;
    const size_t kept = r->eager_dense_cap + 2 * r->eager_cap;
    const int want_pad = varlen && fa_env_on("FA_EAGER_PAD");
    eager_mem mem = rn_eager_mem_plan(free_b, kept, want_pad, pl->dense_bytes,
                                      (size_t)r->opts.eager_budget_bytes);
    pl->padded = mem.padded;
    if (pl->padded && r->eager_dense_cap < pl->dense_bytes) { /* the copies first */
        release_kept_dense(r);
        st = rn_dalloc(r, &r->eager_dense, pl->dense_bytes,
                       "the eager baseline's padded Q, K, V and O", err);
        if (st == FA_UNSUPPORTED) { /* out of memory after all: the loop needs none of it */
            fa_err_clear(err);
            st = FA_OK;
            mem = rn_eager_mem_plan(free_b, kept, 0, pl->dense_bytes,
                                    (size_t)r->opts.eager_budget_bytes);
            pl->padded = 0;
        } else if (st != FA_OK) {
            return st;
        }
        if (pl->padded)
            r->eager_dense_cap = pl->dense_bytes;
    }
    if (pl->padded) {
        pl->qd = r->eager_dense;
        pl->od = pl->qd + q_bytes;
        pl->kd = pl->od + q_bytes;
        pl->vd = pl->kd + k_bytes;
    } else { /* a job that does not pad gives the kept copies back */
        pl->dense_bytes = 0;
        release_kept_dense(r);
    }
    const size_t per_head = (size_t)t->max_q * (size_t)pl->ld * 2;
    const size_t budget = mem.sp_budget;
    const int per_seq = p->op == FA_OP_DECODE || (varlen && !pl->padded); /* a loop */
    const int64_t units = per_seq ? t->heads_kv : (int64_t)t->batch * t->heads_q;
    int64_t hc = (int64_t)(budget / (2 * per_head));
    pl->hc = (int)(hc < 1 ? 1 : hc > units ? units : hc);
    pl->chunk_bytes = per_head * (size_t)pl->hc;
    if (r->eager_cap < pl->chunk_bytes) { /* grow the kept S and P */
        release_kept_sp(r);
        st = rn_dalloc(r, &r->eager_s, pl->chunk_bytes, "the eager scores S", err);
        if (st == FA_OK)
            st = rn_dalloc(r, &r->eager_p, pl->chunk_bytes, "the eager probabilities P", err);
        if (st != FA_OK) {
            rn_eager_scratch_release(r);
            return st;
        }
        r->eager_cap = pl->chunk_bytes;
    }
    pl->s = r->eager_s;
    pl->p = r->eager_p;
    pl->q_ld = pl->padded ? D : t->q_row;
    pl->k_ld = pl->padded ? D : t->k_row;
    if (per_seq)
        return st;

    pl->npairs = (int)units;
    const size_t n = (size_t)pl->npairs;
    uint64_t *host = malloc(PTR_ARRAYS * n * sizeof *host);
    if (!host)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    const int g = t->heads_q / t->heads_kv;
    const int padded = pl->padded;
    const CUdeviceptr q = padded ? pl->qd : b->q, k = padded ? pl->kd : b->k,
                      v = padded ? pl->vd : b->v, o = padded ? pl->od : b->o_eager;
    for (int bi = 0, j = 0; bi < t->batch; bi++)
        for (int h = 0; h < t->heads_q; h++, j++) {
            /* padded: (batch, heads, max len, D), so a head's rows are D apart */
            const int64_t qo = padded ? ((int64_t)bi * t->heads_q + h) * t->max_q * D
                                      : bi * t->q_batch + h * t->q_head;
            const int64_t ko = padded ? ((int64_t)bi * t->heads_kv + h / g) * t->max_k * D
                                      : bi * t->k_batch + (h / g) * t->k_head;
            const uint64_t slot = (uint64_t)(j % pl->hc) * per_head;
            host[PTR_K * n + j] = k + 2 * (uint64_t)ko;
            host[PTR_Q * n + j] = q + 2 * (uint64_t)qo;
            host[PTR_S * n + j] = pl->s + slot;
            host[PTR_V * n + j] = v + 2 * (uint64_t)ko;
            host[PTR_P * n + j] = pl->p + slot;
            host[PTR_O * n + j] = o + 2 * (uint64_t)qo;
        }
    st = rn_dalloc(r, &pl->ptrs, PTR_ARRAYS * n * sizeof *host, "eager pointer arrays", err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(pl->ptrs, host, PTR_ARRAYS * n * sizeof *host));
    free(host);
    return st;
}

int64_t rn_eager_plan_bytes(const eager_plan *pl)
{
    return 2 * (int64_t)pl->chunk_bytes + (int64_t)pl->npairs * PTR_ARRAYS * 8 +
           (int64_t)pl->dense_bytes;
}

/* S, P and the padded copies stay with the runner (r->eager_s/p/dense); only the pointer
 * arrays are the plan's. */
void rn_eager_plan_release(fa_runner *r, eager_plan *pl)
{
    pl->s = pl->p = pl->qd = pl->kd = pl->vd = pl->od = 0;
    rn_dfree(r, &pl->ptrs);
}

static int softmax_instance(int64_t ld)
{
    for (int i = 0; i < FA_SOFTMAX_INSTANCES - 1; i++)
        if ((int64_t)softmax_tpr[i] * softmax_vpt[i] * 8 >= ld)
            return i;
    return FA_SOFTMAX_INSTANCES - 1; /* streaming fallback */
}

/* The masked softmax over n_rows = heads * sq rows of the S chunk into P; the row LSE goes to
 * lse (fp32, heads lse_head_stride apart) when lse is not 0. padded: a varlen problem's padded
 * copies (its sequences' bounds from b's cu_seqlens), the chunk starting at pair pair0. */
static fa_status eager_softmax(fa_runner *r, const helper_mod *h, const eager_plan *pl, int heads,
                               int sq, int sk, int causal, CUdeviceptr lse, int64_t lse_head_stride,
                               const bufs *padded, int pair0, fa_err *err)
{
    const int64_t ld = (sk + 7) / 8 * 8;
    const int inst = softmax_instance(ld);
    const int tpr = softmax_tpr[inst], block = tpr > 256 ? tpr : 256, rows_pb = block / tpr;
    fa_softmax_args a;
    memset(&a, 0, sizeof a);
    a.s = pl->s;
    a.p = pl->p;
    a.lse = lse;
    a.lse_head_stride = lse_head_stride;
    a.sq = sq;
    a.sk = sk;
    a.ld = (int32_t)ld;
    a.n_rows = heads * sq;
    a.causal = causal;
    if (padded) {
        a.cu_q = padded->cu_q;
        a.cu_k = padded->cu_k;
        a.heads = padded->t.heads_q;
        a.pair0 = pair0;
    }
    void *args[] = {&a};
    return rn_launch(r, h->softmax[inst], (unsigned)((a.n_rows + rows_pb - 1) / rows_pb), 1, 1,
                     (unsigned)block, 0, args, "fa_eager_softmax", err);
}

/* One sequence of a decode or looped varlen problem (sq query rows from element q_off of Q/O, sk
 * keys from k_off of kbase/vbase, LSE rows from l_off): strided batching over the kv heads of a
 * chunk, one GQA group offset at a time. */
static fa_status eager_sequence(fa_runner *r, const helper_mod *h, const bufs *b,
                                const fa_problem *p, const eager_plan *pl, CUdeviceptr lse_out,
                                int sq, int sk, int64_t q_off, int64_t k_off, int64_t l_off,
                                CUdeviceptr kbase, CUdeviceptr vbase, fa_err *err)
{
    const fa_tensors *t = &b->t;
    const cudaDataType dt = p->dtype == FA_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_16F;
    const int g = t->heads_q / t->heads_kv, D = t->head_dim;
    const float alpha = fa_problem_scale(p), one = 1.0f, zero = 0.0f;
    const int64_t ld = (sk + 7) / 8 * 8;
    fa_status st = FA_OK;
    for (int rg = 0; st == FA_OK && rg < g; rg++) {
        for (int c0 = 0; st == FA_OK && c0 < t->heads_kv; c0 += pl->hc) {
            /* kv heads c0.. with query heads c * g + rg: one GQA group offset at a time */
            const int nh = t->heads_kv - c0 < pl->hc ? t->heads_kv - c0 : pl->hc;
            const int64_t qh = (int64_t)c0 * g + rg;
            const char *kp = (const char *)(uintptr_t)kbase + 2 * (k_off + c0 * t->k_head);
            const char *vp = (const char *)(uintptr_t)vbase + 2 * (k_off + c0 * t->k_head);
            const char *qp = (const char *)(uintptr_t)b->q + 2 * (q_off + qh * t->q_head);
            char *op = (char *)(uintptr_t)b->o_eager + 2 * (q_off + qh * t->q_head);
            st = FA_CUBLAS(err, r->bl->cublasGemmStridedBatchedEx(
                                    r->blas, CUBLAS_OP_T, CUBLAS_OP_N, sk, sq, D, &alpha, kp, dt,
                                    (int)t->k_row, t->k_head, qp, dt, (int)t->q_row, g * t->q_head,
                                    &zero, (void *)(uintptr_t)pl->s, dt, (int)ld, (int64_t)sq * ld,
                                    nh, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
            if (st == FA_OK)
                st = eager_softmax(r, h, pl, nh, sq, sk, p->causal,
                                   lse_out ? lse_out + 4 * (uint64_t)(l_off + qh * t->lse_head) : 0,
                                   g * t->lse_head, NULL, 0, err);
            if (st == FA_OK)
                st =
                    FA_CUBLAS(err, r->bl->cublasGemmStridedBatchedEx(
                                       r->blas, CUBLAS_OP_N, CUBLAS_OP_N, D, sq, sk, &one, vp, dt,
                                       (int)t->k_row, t->k_head, (const void *)(uintptr_t)pl->p, dt,
                                       (int)ld, (int64_t)sq * ld, &zero, op, dt, (int)t->q_row,
                                       g * t->q_head, nh, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        }
    }
    return st;
}

/* Decode: each sequence against its cache length (a paged cache through its contiguous copy);
 * an empty cache's rows are zeros with LSE -inf, as the definition says. */
static fa_status eager_decode(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                              const eager_plan *pl, CUdeviceptr lse_out, fa_err *err)
{
    const fa_tensors *t = &b->t;
    const CUdeviceptr kbase = t->page_size ? b->kc : b->k, vbase = t->page_size ? b->vc : b->v;
    fa_status st = kbase && vbase ? FA_OK
                                  : FA_ERR(err, FA_INVALID,
                                           "the eager baseline of a paged cache "
                                           "needs its contiguous copy");
    for (int bi = 0; st == FA_OK && bi < t->batch; bi++) {
        const int sk = t->cache_lens[bi];
        const int64_t q_off = bi * t->q_batch, l_off = bi * t->lse_batch;
        if (sk > 0) {
            st = eager_sequence(r, h, b, p, pl, lse_out, t->max_q, sk, q_off, bi * t->kc_batch,
                                l_off, kbase, vbase, err);
            continue;
        }
        st = FA_CU(r->cu, err,
                   r->cu->cuMemsetD16Async(b->o_eager + 2 * (uint64_t)q_off, 0, (size_t)t->q_batch,
                                           r->stream));
        if (st == FA_OK && lse_out)
            st = FA_CU(r->cu, err,
                       r->cu->cuMemsetD32Async(lse_out + 4 * (uint64_t)l_off, 0xFF800000u,
                                               (size_t)t->lse_batch, r->stream));
    }
    return st;
}

/* Varlen: packed rows of a tensor to its padded copy (to_dense 1) or back (0), with 16-byte
 * copies where strides and bases allow them. */
static fa_status eager_pad(fa_runner *r, const helper_mod *h, CUdeviceptr packed, CUdeviceptr dense,
                           CUdeviceptr cu, int batch, int heads, int maxlen, int64_t row,
                           int64_t head, int to_dense, int head_dim, fa_err *err)
{
    int vec8 = row % 8 == 0 && head % 8 == 0 && packed % 16 == 0 && dense % 16 == 0;
    const long long n = (long long)batch * heads * maxlen * (head_dim / (vec8 ? 8 : 1));
    if (n == 0)
        return FA_OK;
    const long long blocks = (n + 255) / 256;
    const long long cap = 8LL * (r->info.sm_count > 0 ? r->info.sm_count : 1);
    void *args[] = {&packed, &dense, &cu, &batch, &heads, &maxlen, &row, &head, &to_dense, &vec8};
    return rn_launch(r, h->pad, (unsigned)(blocks < cap ? blocks : cap), 1, 1, 256, 0, args,
                     "fa_eager_varlen_pad", err);
}

/* The (batch, query head) pairs of a fixed-length problem, or of a varlen one's padded copies
 * (pl->padded), chunk by chunk: QK^T, the masked softmax, PV. */
static fa_status eager_pairs(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                             const eager_plan *pl, CUdeviceptr lse_out, fa_err *err)
{
    const fa_tensors *t = &b->t;
    const cudaDataType dt = p->dtype == FA_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_16F;
    const int D = t->head_dim, sq = t->max_q, sk = t->max_k, ld = (int)pl->ld;
    const float alpha = fa_problem_scale(p), one = 1.0f, zero = 0.0f;
    const void *const *arr = (const void *const *)(uintptr_t)pl->ptrs;
    const size_t n = (size_t)pl->npairs;
    fa_status st = FA_OK;
    for (int c0 = 0; st == FA_OK && c0 < pl->npairs; c0 += pl->hc) {
        const int nb = pl->npairs - c0 < pl->hc ? pl->npairs - c0 : pl->hc;
        st = FA_CUBLAS(err, r->bl->cublasGemmBatchedEx(
                                r->blas, CUBLAS_OP_T, CUBLAS_OP_N, sk, sq, D, &alpha,
                                arr + PTR_K * n + c0, dt, (int)pl->k_ld, arr + PTR_Q * n + c0, dt,
                                (int)pl->q_ld, &zero, (void *const *)(arr + PTR_S * n + c0), dt, ld,
                                nb, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        /* Pairs run (batch, head) in order, so fixed-length LSE rows are lse_head apart; the
         * varlen softmax finds each row's place in the packed LSE itself. */
        const CUdeviceptr lse = !lse_out     ? 0
                                : pl->padded ? lse_out
                                             : lse_out + 4 * (uint64_t)c0 * t->lse_head;
        if (st == FA_OK)
            st = eager_softmax(r, h, pl, nb, sq, sk, p->causal, lse, t->lse_head,
                               pl->padded ? b : NULL, c0, err);
        if (st == FA_OK)
            st = FA_CUBLAS(err, r->bl->cublasGemmBatchedEx(
                                    r->blas, CUBLAS_OP_N, CUBLAS_OP_N, D, sq, sk, &one,
                                    arr + PTR_V * n + c0, dt, (int)pl->k_ld, arr + PTR_P * n + c0,
                                    dt, ld, &zero, (void *const *)(arr + PTR_O * n + c0), dt,
                                    (int)pl->q_ld, nb, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
    return st;
}

/* Varlen, padded: Q, K and V copied to their padded copies, the pairs as at fixed length, and
 * O's real rows copied back to the packed output. */
static fa_status eager_varlen_padded(fa_runner *r, const helper_mod *h, const bufs *b,
                                     const fa_problem *p, const eager_plan *pl, CUdeviceptr lse_out,
                                     fa_err *err)
{
    const fa_tensors *t = &b->t;
    const int B = t->batch, D = t->head_dim;
    fa_status st = eager_pad(r, h, b->q, pl->qd, b->cu_q, B, t->heads_q, t->max_q, t->q_row,
                             t->q_head, 1, D, err);
    if (st == FA_OK)
        st = eager_pad(r, h, b->k, pl->kd, b->cu_k, B, t->heads_kv, t->max_k, t->k_row, t->k_head,
                       1, D, err);
    if (st == FA_OK)
        st = eager_pad(r, h, b->v, pl->vd, b->cu_k, B, t->heads_kv, t->max_k, t->k_row, t->k_head,
                       1, D, err);
    if (st == FA_OK)
        st = eager_pairs(r, h, b, p, pl, lse_out, err);
    if (st == FA_OK)
        st = eager_pad(r, h, b->o_eager, pl->od, b->cu_q, B, t->heads_q, t->max_q, t->q_row,
                       t->q_head, 0, D, err);
    return st;
}

/* Varlen, a loop over sequences (the default; FA_EAGER_PAD=1 pads unless that would not fit). */
static fa_status eager_varlen_loop(fa_runner *r, const helper_mod *h, const bufs *b,
                                   const fa_problem *p, const eager_plan *pl, CUdeviceptr lse_out,
                                   fa_err *err)
{
    const fa_tensors *t = &b->t;
    fa_status st = FA_OK;
    for (int bi = 0; st == FA_OK && bi < t->batch; bi++)
        st = eager_sequence(r, h, b, p, pl, lse_out, t->lens_q[bi], t->lens_k[bi],
                            (int64_t)t->cu_q[bi] * t->q_row, (int64_t)t->cu_k[bi] * t->k_row,
                            (int64_t)t->cu_q[bi], b->k, b->v, err);
    return st;
}

/*
 * Eager attention as a framework runs it, into b->o_eager: S = scale * Q K^T (cuBLAS, input
 * dtype out, fp32 accumulate), masked softmax into P (input dtype), O = P V (cuBLAS). cuBLAS
 * is column-major, so row-major S (sq x sk) is computed as its transpose S^T = K Q^T with K
 * read transposed, and O^T = V^T P^T likewise; strides or pointers address heads in place for
 * BSHD and BHSD alike, and GQA maps query head h to kv head h / g without copying K or V.
 */
fa_status rn_eager_run(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                       const eager_plan *pl, CUdeviceptr lse_out, fa_err *err)
{
    if (p->op == FA_OP_DECODE)
        return eager_decode(r, h, b, p, pl, lse_out, err);
    if (p->varlen)
        return pl->padded ? eager_varlen_padded(r, h, b, p, pl, lse_out, err)
                          : eager_varlen_loop(r, h, b, p, pl, lse_out, err);
    return eager_pairs(r, h, b, p, pl, lse_out, err);
}
