/*
 * This file implements the embedded-cubin consumer of an emitted dispatch header: a plain C99
 * program that links only libcuda (no NVRTC, no nvcc, no CUDA runtime) and runs flash
 * attention through the cubins the header carries (`fa-tune emit --embed-cubin`).
 *
 * For every kernel the header holds for this GPU's arch -- of either kernel family: the
 * launcher encodes an sm90a kernel's tensor maps itself -- it runs two small problems on random
 * inputs in the kernel's mode -- one with equal lengths and a ragged last tile, launched with
 * fa_dispatch_launch (the lookup picks the kernel), one with GQA and seqlen_q != seqlen_k
 * (bottom-right causal), launched on that kernel with fa_dispatch_launch_kernel -- then checks O
 * and LSE against an fp32 CPU reference by fa-tune's criterion (examples/common/fa_example_ref.h).
 * A varlen kernel runs instead on 6 packed sequences (an empty query, an empty key range, length
 * 1, seqlen_q < seqlen_k and > seqlen_k, ragged tiles; cu_seqlens on the device), through the
 * lookup and then directly with GQA 2, each sequence checked against its own fp32 reference.
 * A PackGQA kernel (pack_gqa 1: a tile holds the query heads of one KV head) also runs, on that
 * kernel, a problem with GQA 4 (fixed length: 77 queries, 333 keys; varlen: the 6 sequences)
 * and one whose block_m + 8 query heads over one KV head fit no tile, which the launcher runs
 * on the kernel's fallback (the same tiles without PackGQA): its line says "fallback NAME".
 * It also shows that an untuned head dim is refused (CUDA_ERROR_NOT_FOUND) rather than run with a
 * kernel the header does not have.
 *
 * A header with decode winners (FA_DISPATCH_NUM_DECODE_ENTRIES defined) also runs, for every
 * decode kernel of the arch, a paged decode case: 5 sequences of cache lengths 0, 1, 77, 300
 * and 200 in pages of 48 rows (not dividing them) handed out in shuffled order, a block table
 * with a spare column, GQA 4 and seqlen_q 1 (4 for a causal kernel) -- through
 * fa_dispatch_launch_decode (the lookup picks; the scratch size from
 * fa_dispatch_decode_scratch_bytes), and on that kernel with 3 splits (split + combine), 3
 * splits fused (the split kernel merges them: fa_dispatch_launch_decode_fused) and 1 split
 * (the split kernel alone) -- and checks O and LSE per sequence against the fp32 reference on
 * its own cache. The scratch is poisoned but for its header, which is zeroed once as the
 * launcher asks.
 *
 * Build (see README.md): gcc -std=c99 -O2 -I<dir of fa_dispatch.h> -I/usr/local/cuda/include
 *   main.c -o fa_embedded_example -L/usr/local/cuda/lib64/stubs -lcuda -lm
 * Exit: 0 all match, 3 a numerical mismatch, 1 a CUDA error, 77 no CUDA device (skipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_dispatch.h"

#include "../common/fa_example_ref.h"
#include "../common/fa_example_varlen.h"

#if !FA_DISPATCH_HAVE_CUBINS
#error "this example needs a header emitted with --embed-cubin"
#endif

#define CHECK_CU(call)                                                                             \
    do {                                                                                           \
        CUresult r_ = (call);                                                                      \
        if (r_ != CUDA_SUCCESS) {                                                                  \
            const char *s_ = NULL;                                                                 \
            cuGetErrorName(r_, &s_);                                                               \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, s_ ? s_ : "?");   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* One forward problem's buffers: random q, k, v (host and device), o and lse poisoned on the
 * device (0xFF bytes are NaN in fp16, bf16 and fp32), host copies of the outputs, the fp32 and
 * low-precision references and a row of scores for them. */
typedef struct fwd_io {
    size_t nq, nk, nl; /* elements of q/o, k/v, lse */
    uint16_t *q, *k, *v, *o;
    float *lse, *o_ref, *o_low, *l_ref, *l_low, *s;
    CUdeviceptr dq, dk, dv, dout, dl;
} fwd_io;

static void fwd_io_free(fwd_io *b)
{
    cuMemFree(b->dq);
    cuMemFree(b->dk);
    cuMemFree(b->dv);
    cuMemFree(b->dout);
    cuMemFree(b->dl);
    free(b->q);
    free(b->k);
    free(b->v);
    free(b->o);
    free(b->lse);
    free(b->o_ref);
    free(b->o_low);
    free(b->l_ref);
    free(b->l_low);
    free(b->s);
}

/* Allocate, fill and upload; 0 on success, else 1 (said on stderr; fwd_io_free still needed). */
static int fwd_io_init(fwd_io *b, int dtype, size_t nq, size_t nk, size_t nl, int max_k,
                       uint64_t seed)
{
    CUresult r;
    memset(b, 0, sizeof *b);
    b->nq = nq, b->nk = nk, b->nl = nl;
    b->q = malloc(nq * 2 + 2), b->k = malloc(nk * 2 + 2), b->v = malloc(nk * 2 + 2);
    b->o = malloc(nq * 2 + 2), b->lse = malloc(nl * 4 + 4), b->o_ref = malloc(nq * 4 + 4);
    b->o_low = malloc(nq * 4 + 4), b->l_ref = malloc(nl * 4 + 4), b->l_low = malloc(nl * 4 + 4);
    b->s = malloc((size_t)max_k * 4 + 4);
    if (!b->q || !b->k || !b->v || !b->o || !b->lse || !b->o_ref || !b->o_low || !b->l_ref ||
        !b->l_low || !b->s) {
        fprintf(stderr, "out of host memory\n");
        return 1;
    }
    fa_ex_fill(b->q, nq, dtype, seed);
    fa_ex_fill(b->k, nk, dtype, seed + 1);
    fa_ex_fill(b->v, nk, dtype, seed + 2);
    if ((r = cuMemAlloc(&b->dq, nq * 2 + 2)) != CUDA_SUCCESS ||
        (r = cuMemAlloc(&b->dk, nk * 2 + 2)) || (r = cuMemAlloc(&b->dv, nk * 2 + 2)) ||
        (r = cuMemAlloc(&b->dout, nq * 2 + 2)) || (r = cuMemAlloc(&b->dl, nl * 4 + 4)) ||
        (r = cuMemcpyHtoD(b->dq, b->q, nq * 2)) || (r = cuMemcpyHtoD(b->dk, b->k, nk * 2)) ||
        (r = cuMemcpyHtoD(b->dv, b->v, nk * 2)) || (r = cuMemsetD8(b->dout, 0xff, nq * 2)) ||
        (r = cuMemsetD8(b->dl, 0xff, nl * 4))) {
        fprintf(stderr, "cuda error %d preparing the inputs\n", (int)r);
        return 1;
    }
    return 0;
}

/* "fallback NAME" when kernel is a PackGQA kernel whose tile p's query heads per KV head do not
 * fit (fa_dispatch_launch_kernel runs its fallback), else "chosen". */
static const char *chosen_how(int kernel, const fa_fwd_params *p)
{
#ifdef FA_DISPATCH_FAMILY_SM90A
    static char buf[160];
    const fa_dispatch_kernel *k = fa_dispatch_kernels(NULL);
    if (k[kernel].pack_gqa &&
        fa_plan_sm90a_pack_tokens(k[kernel].block_m, p->heads_q, p->heads_kv) < 1) {
        snprintf(buf, sizeof buf, "fallback %s",
                 k[kernel].fallback >= 0 ? k[k[kernel].fallback].name : "(none)");
        return buf;
    }
#else
    (void)kernel;
    (void)p;
#endif
    return "chosen";
}

/* Launch p -- kernel < 0: the lookup chooses (fa_dispatch_launch with dtype, causal, varlen),
 * else that kernel (fa_dispatch_launch_kernel) -- wait, and read O and LSE back into b. *name
 * and *how say what ran and why. 0 on success, else 1 (said on stderr). */
static int fwd_run(const fa_dispatch_module *mod, int kernel, int dtype, int causal, int varlen,
                   const fa_fwd_params *p, fwd_io *b, const char **name, const char **how)
{
    fa_dispatch_choice c;
    CUresult r;
    memset(&c, 0, sizeof c);
    if (kernel < 0) {
        r = fa_dispatch_launch(mod, dtype, causal, varlen, p, NULL, &c);
        *name = c.entry ? c.entry->name : "(default tiles)";
        *how = fa_dispatch_source_name(c.source);
    } else {
        r = fa_dispatch_launch_kernel(mod, kernel, p, NULL);
        *name = fa_dispatch_kernels(NULL)[kernel].name;
        *how = chosen_how(kernel, p);
    }
    if (r == CUDA_SUCCESS)
        r = cuCtxSynchronize();
    if (r != CUDA_SUCCESS) {
        const char *what = NULL;
        cuGetErrorName(r, &what);
        fprintf(stderr, "launching %s%s: %s\n", *name, varlen ? " (varlen)" : "",
                what ? what : "?");
        return 1;
    }
    if ((r = cuMemcpyDtoH(b->o, b->dout, b->nq * 2)) ||
        (r = cuMemcpyDtoH(b->lse, b->dl, b->nl * 4))) {
        fprintf(stderr, "cuda error %d reading the outputs\n", (int)r);
        return 1;
    }
    return 0;
}

/* Run one problem through the header's launch API and check it: kernel < 0 lets the lookup
 * choose (fa_dispatch_launch), else that kernel runs (fa_dispatch_launch_kernel). Returns 0
 * pass, 3 mismatch, 1 CUDA error. */
static int run_case(const fa_dispatch_module *mod, const fa_ex_shape *sh, int kernel, uint64_t seed)
{
    fwd_io b;
    fa_fwd_params p;
    fa_ex_check chk;
    const char *name = "", *how = "";
    int rc = 1;

    if (fwd_io_init(&b, sh->dtype, (size_t)sh->batch * sh->seqlen_q * sh->heads_q * sh->head_dim,
                    (size_t)sh->batch * sh->seqlen_k * sh->heads_kv * sh->head_dim,
                    (size_t)sh->batch * sh->heads_q * sh->seqlen_q, sh->seqlen_k, seed))
        goto cleanup;
    fa_dispatch_params_bshd(&p, b.dq, b.dk, b.dv, b.dout, b.dl, sh->batch, sh->heads_q,
                            sh->heads_kv, sh->seqlen_q, sh->seqlen_k, sh->head_dim, sh->scale);
    if (fwd_run(mod, kernel, sh->dtype, sh->causal, 0, &p, &b, &name, &how))
        goto cleanup;
    fa_ex_reference(sh, b.q, b.k, b.v, 0, b.o_ref, b.l_ref, b.s);
    fa_ex_reference(sh, b.q, b.k, b.v, 1, b.o_low, b.l_low, b.s);
    chk = fa_ex_compare(sh, b.o, b.lse, b.o_ref, b.l_ref, b.o_low, b.l_low);
    printf("%-4s %-44s b%d h%d/%d q%d k%d (%s): max|O-ref| %.3g <= %.3g, max|LSE-ref| %.3g <= "
           "%.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, sh->batch, sh->heads_q, sh->heads_kv, sh->seqlen_q,
           sh->seqlen_k, how, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
           chk.bad ? ", non-finite or unwritten values" : "");
    rc = chk.pass ? 0 : 3;

cleanup:
    fwd_io_free(&b);
    return rc;
}

/* One varlen problem on kernel `kernel` (< 0: the lookup chooses, fa_dispatch_launch with
 * varlen = 1): the 6 packed sequences of fa_ex_varlen_default (an empty query, an empty key
 * range, length 1, seqlen_q < seqlen_k and > seqlen_k, ragged tiles), cu_seqlens on the device;
 * each sequence checked against the fp32 reference of its own batch-1 problem
 * (fa_ex_varlen_compare). Returns 0 pass, 3 mismatch, 1 CUDA error. */
static int run_varlen_case(const fa_dispatch_module *mod, const fa_dispatch_kernel *kk, int kernel,
                           int heads_q, int heads_kv, uint64_t seed)
{
    const int D = kk->head_dim;
    fa_ex_varlen vl;
    fa_ex_shape sh;
    fa_ex_check chk;
    fwd_io io;
    CUdeviceptr dcq = 0, dck = 0;
    fa_fwd_params p;
    const char *name = "", *how = "";
    int rc = 1;
    CUresult r;

    fa_ex_varlen_default(&vl);
    if (fwd_io_init(&io, kk->dtype, (size_t)vl.total_q * heads_q * D,
                    (size_t)vl.total_k * heads_kv * D, (size_t)heads_q * vl.total_q, vl.max_k,
                    seed))
        goto cleanup;
    if ((r = cuMemAlloc(&dcq, sizeof(int) * (vl.n + 1))) != CUDA_SUCCESS ||
        (r = cuMemAlloc(&dck, sizeof(int) * (vl.n + 1))) ||
        (r = cuMemcpyHtoD(dcq, vl.cu_q, sizeof(int) * (vl.n + 1))) ||
        (r = cuMemcpyHtoD(dck, vl.cu_k, sizeof(int) * (vl.n + 1)))) {
        fprintf(stderr, "cuda error %d preparing cu_seqlens\n", (int)r);
        goto cleanup;
    }
    fa_dispatch_params_bshd(&p, io.dq, io.dk, io.dv, io.dout, io.dl, vl.n, heads_q, heads_kv,
                            vl.max_q, vl.max_k, D, 1.0f / sqrtf((float)D));
    fa_ex_varlen_params(&p, &vl, dcq, dck);
    if (fwd_run(mod, kernel, kk->dtype, kk->causal, 1, &p, &io, &name, &how))
        goto cleanup;
    memset(&sh, 0, sizeof sh);
    sh.dtype = kk->dtype;
    sh.heads_q = heads_q;
    sh.heads_kv = heads_kv;
    sh.head_dim = D;
    sh.causal = kk->causal;
    sh.scale = p.softmax_scale;
    if (fa_ex_varlen_compare(&vl, &sh, io.q, io.k, io.v, io.o, io.lse, &chk)) {
        fprintf(stderr, "out of host memory\n");
        goto cleanup;
    }
    printf("%-4s %-44s varlen %d seqs h%d/%d max q%d k%d (%s): max|O-ref| %.3g <= %.3g, "
           "max|LSE-ref| %.3g <= %.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, vl.n, heads_q, heads_kv, vl.max_q, vl.max_k, how,
           chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
           chk.bad ? ", non-finite or unwritten values" : "");
    rc = chk.pass ? 0 : 3;

cleanup:
    fwd_io_free(&io);
    cuMemFree(dcq);
    cuMemFree(dck);
    return rc;
}

#ifdef FA_DISPATCH_NUM_DECODE_ENTRIES
#define DEC_B 5
#define DEC_PAGE 48
#define DEC_MAXLEN 300
#define DEC_MAXPAGES ((DEC_MAXLEN + DEC_PAGE - 1) / DEC_PAGE)
#define DEC_STRIDE (DEC_MAXPAGES + 1) /* a spare column: the table's stride is not its width */

/* One paged decode problem on decode kernel `kernel` with `splits` and `fuse` (kernel < 0: the
 * lookup chooses, fa_dispatch_launch_decode), checked per sequence against the fp32 reference.
 * Returns 0 pass, 3 mismatch, 1 CUDA error. */
static int run_decode_case(const fa_dispatch_module *mod, const fa_dispatch_decode_kernel *kk,
                           int kernel, int splits, int fuse, uint64_t seed)
{
    static const int lens[DEC_B] = {0, 1, 77, DEC_MAXLEN, 200};
    fa_ex_shape sh, one;
    int table[DEC_B * DEC_STRIDE], order[DEC_B * DEC_MAXPAGES], npages = 0, b, j, i;
    size_t nq, nk, nl, npage_elems, row;
    uint16_t *q = 0, *k = 0, *v = 0, *kp = 0, *vp = 0, *o = 0;
    float *lse = 0, *o_ref = 0, *o_low = 0, *l_ref = 0, *l_low = 0, *s = 0;
    CUdeviceptr dq = 0, dk = 0, dv = 0, dout = 0, dl = 0, dlens = 0, dtable = 0, dscratch = 0;
    uint64_t scratch_bytes = 0, rng = seed;
    fa_fwd_params p;
    fa_dispatch_decode_choice c;
    fa_ex_check chk;
    const char *name = kk->name, *how = "chosen";
    int rc = 1;
    CUresult r;

    sh.dtype = kk->dtype;
    sh.batch = DEC_B;
    sh.heads_q = 8;
    sh.heads_kv = 2;
    sh.seqlen_q = kk->causal ? 4 : 1;
    sh.seqlen_k = DEC_MAXLEN;
    sh.head_dim = kk->head_dim;
    sh.causal = kk->causal;
    sh.scale = 1.0f / sqrtf((float)kk->head_dim);
    row = (size_t)sh.heads_kv * sh.head_dim; /* elements of one cache row */
    nq = (size_t)sh.batch * sh.seqlen_q * sh.heads_q * sh.head_dim;
    nk = (size_t)sh.batch * sh.seqlen_k * row; /* the logical caches, contiguous */
    nl = (size_t)sh.batch * sh.heads_q * sh.seqlen_q;
    /* Pages: each sequence's, in a shuffled order over the pool. */
    for (b = 0; b < DEC_B; b++)
        npages += (lens[b] + DEC_PAGE - 1) / DEC_PAGE;
    for (i = 0; i < npages; i++)
        order[i] = i;
    for (i = npages - 1; i > 0; i--) {
        int t, x = (int)(fa_ex_rand(&rng) % (uint64_t)(i + 1));
        t = order[i];
        order[i] = order[x];
        order[x] = t;
    }
    npage_elems = (size_t)(npages + 1) * DEC_PAGE * row;
    q = malloc(nq * 2);
    k = malloc(nk * 2);
    v = malloc(nk * 2);
    kp = malloc(npage_elems * 2);
    vp = malloc(npage_elems * 2);
    o = malloc(nq * 2);
    lse = malloc(nl * 4);
    o_ref = malloc(nq * 4);
    o_low = malloc(nq * 4);
    l_ref = malloc(nl * 4);
    l_low = malloc(nl * 4);
    s = malloc((size_t)DEC_MAXLEN * 4);
    if (!q || !k || !v || !kp || !vp || !o || !lse || !o_ref || !o_low || !l_ref || !l_low || !s) {
        fprintf(stderr, "out of host memory\n");
        goto cleanup;
    }
    fa_ex_fill(q, nq, sh.dtype, seed);
    fa_ex_fill(k, nk, sh.dtype, seed + 1);
    fa_ex_fill(v, nk, sh.dtype, seed + 2);
    fa_ex_fill(kp, npage_elems, sh.dtype, seed + 3); /* rows no sequence owns: noise */
    fa_ex_fill(vp, npage_elems, sh.dtype, seed + 4);
    for (i = 0; i < DEC_B * DEC_STRIDE; i++)
        table[i] = npages; /* the spare page: read by nobody */
    for (b = 0, i = 0; b < DEC_B; b++)
        for (j = 0; j < (lens[b] + DEC_PAGE - 1) / DEC_PAGE; j++)
            table[b * DEC_STRIDE + j] = order[i++];
    for (b = 0; b < DEC_B; b++)
        for (j = 0; j < lens[b]; j++) {
            size_t at =
                ((size_t)table[b * DEC_STRIDE + j / DEC_PAGE] * DEC_PAGE + j % DEC_PAGE) * row;
            size_t from = ((size_t)b * sh.seqlen_k + j) * row;
            memcpy(kp + at, k + from, row * 2);
            memcpy(vp + at, v + from, row * 2);
        }
    if ((r = cuMemAlloc(&dq, nq * 2)) != CUDA_SUCCESS || (r = cuMemAlloc(&dk, npage_elems * 2)) ||
        (r = cuMemAlloc(&dv, npage_elems * 2)) || (r = cuMemAlloc(&dout, nq * 2)) ||
        (r = cuMemAlloc(&dl, nl * 4)) || (r = cuMemAlloc(&dlens, sizeof lens)) ||
        (r = cuMemAlloc(&dtable, sizeof table)) || (r = cuMemcpyHtoD(dq, q, nq * 2)) ||
        (r = cuMemcpyHtoD(dk, kp, npage_elems * 2)) ||
        (r = cuMemcpyHtoD(dv, vp, npage_elems * 2)) ||
        (r = cuMemcpyHtoD(dlens, lens, sizeof lens)) ||
        (r = cuMemcpyHtoD(dtable, table, sizeof table)) || (r = cuMemsetD8(dout, 0xff, nq * 2)) ||
        (r = cuMemsetD8(dl, 0xff, nl * 4))) {
        fprintf(stderr, "cuda error %d preparing the decode inputs\n", (int)r);
        goto cleanup;
    }
    /* BSHD q, o and lse; K and V in pages (pages, page_size, heads_kv, dim). */
    memset(&p, 0, sizeof p);
    fa_dispatch_params_bshd(&p, dq, dk, dv, dout, dl, sh.batch, sh.heads_q, sh.heads_kv,
                            sh.seqlen_q, sh.seqlen_k, sh.head_dim, sh.scale);
    p.k_batch_stride = p.v_batch_stride = (int64_t)DEC_PAGE * (int64_t)row;
    p.seqused_k = dlens;
    p.block_table = dtable;
    p.block_table_stride = DEC_STRIDE;
    p.page_size = DEC_PAGE;
    if (kernel < 0) {
        scratch_bytes = fa_dispatch_decode_scratch_bytes(mod, sh.dtype, sh.causal, &p);
    } else {
        memset(&c, 0, sizeof c);
        c.block_m = kk->block_m;
        c.block_n = kk->block_n;
        c.splits = splits;
        scratch_bytes = fa_dispatch_decode_plan_scratch(&c, &p, mod->multiprocessors);
    }
    /* poisoned partials (written before they are read), the header zeroed once */
    if (scratch_bytes && ((r = cuMemAlloc(&dscratch, (size_t)scratch_bytes)) ||
                          (r = cuMemsetD8(dscratch, 0xff, (size_t)scratch_bytes)) ||
                          (r = cuMemsetD8(dscratch, 0, FA_DECODE_SCRATCH_HEADER)))) {
        fprintf(stderr, "cuda error %d allocating %llu bytes of scratch\n", (int)r,
                (unsigned long long)scratch_bytes);
        goto cleanup;
    }
    if (kernel < 0) {
        r = fa_dispatch_launch_decode(mod, sh.dtype, sh.causal, &p, dscratch, scratch_bytes, NULL,
                                      &c);
        name = c.entry ? c.entry->name : "(default decode tiles)";
        how = fa_dispatch_source_name(c.source);
    } else {
        r = fa_dispatch_launch_decode_fused(mod, kernel, splits, fuse, &p, dscratch, scratch_bytes,
                                            NULL);
    }
    if (r == CUDA_SUCCESS)
        r = cuCtxSynchronize();
    if (r != CUDA_SUCCESS) {
        const char *what = NULL;
        cuGetErrorName(r, &what);
        fprintf(stderr, "launching decode %s: %s\n", name, what ? what : "?");
        goto cleanup;
    }
    if ((r = cuMemcpyDtoH(o, dout, nq * 2)) || (r = cuMemcpyDtoH(lse, dl, nl * 4))) {
        fprintf(stderr, "cuda error %d reading the decode outputs\n", (int)r);
        goto cleanup;
    }
    /* The reference per sequence, on its own cache of lens[b] rows. */
    one = sh;
    one.batch = 1;
    for (b = 0; b < DEC_B; b++) {
        size_t qo = (size_t)b * sh.seqlen_q * sh.heads_q * sh.head_dim;
        size_t ko = (size_t)b * sh.seqlen_k * row, lo = (size_t)b * sh.heads_q * sh.seqlen_q;
        one.seqlen_k = lens[b];
        fa_ex_reference(&one, q + qo, k + ko, v + ko, 0, o_ref + qo, l_ref + lo, s);
        fa_ex_reference(&one, q + qo, k + ko, v + ko, 1, o_low + qo, l_low + lo, s);
    }
    chk = fa_ex_compare(&sh, o, lse, o_ref, l_ref, o_low, l_low);
    printf("%-4s %-44s decode b%d h%d/%d q%d lens 0,1,77,300,200 page %d splits %d%s (%s): "
           "max|O-ref| %.3g <= %.3g, max|LSE-ref| %.3g <= %.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, sh.batch, sh.heads_q, sh.heads_kv, sh.seqlen_q, DEC_PAGE,
           kernel < 0 ? fa_dispatch_decode_plan_splits(&c, &p, mod->multiprocessors) : splits,
           (kernel < 0 ? c.fuse : fuse) ? " fused" : "", how, chk.o_err, chk.o_tol, chk.lse_err,
           chk.lse_tol, chk.bad ? ", non-finite or unwritten values" : "");
    rc = chk.pass ? 0 : 3;

cleanup:
    cuMemFree(dq);
    cuMemFree(dk);
    cuMemFree(dv);
    cuMemFree(dout);
    cuMemFree(dl);
    cuMemFree(dlens);
    cuMemFree(dtable);
    cuMemFree(dscratch);
    free(q);
    free(k);
    free(v);
    free(kp);
    free(vp);
    free(o);
    free(lse);
    free(o_ref);
    free(o_low);
    free(l_ref);
    free(l_low);
    free(s);
    return rc;
}

/* Every decode kernel of the loaded arch: the lookup's choice, 3 splits, 3 fused, 1 split. */
static int run_decode(const fa_dispatch_module *mod)
{
    int n, i, worst = 0;
    const fa_dispatch_decode_arch *da = fa_dispatch_decode_archs(&n);
    const fa_dispatch_decode_kernel *dk = fa_dispatch_decode_kernels(&n);
    for (i = da[mod->arch].first_kernel; i < da[mod->arch].first_kernel + da[mod->arch].num_kernels;
         i++) {
        int rc = run_decode_case(mod, &dk[i], -1, 0, 0, 3000u + (uint64_t)i * 16u);
        if (rc == 0)
            rc = run_decode_case(mod, &dk[i], i, 3, 0, 4000u + (uint64_t)i * 16u);
        if (rc == 0)
            rc = run_decode_case(mod, &dk[i], i, 3, 1, 4500u + (uint64_t)i * 16u);
        if (rc == 0)
            rc = run_decode_case(mod, &dk[i], i, 1, 0, 5000u + (uint64_t)i * 16u);
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
    }
    return worst;
}
#endif

int main(void)
{
    CUdevice dev;
    CUcontext ctx;
    fa_dispatch_module mod;
    char name[256];
    int count = 0, worst = 0, i, n;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    const fa_dispatch_kernel *kernels = fa_dispatch_kernels(&n);
    fa_dispatch_choice c;
    fa_fwd_params p;
    CUresult r = cuInit(0);

    if (r == CUDA_SUCCESS)
        r = cuDeviceGetCount(&count);
    if (r != CUDA_SUCCESS || count == 0) {
        printf("no CUDA device (%d): skipped\n", (int)r);
        return 77;
    }
    CHECK_CU(cuDeviceGet(&dev, 0));
    CHECK_CU(cuDeviceGetName(name, (int)sizeof name, dev));
    CHECK_CU(cuDevicePrimaryCtxRetain(&ctx, dev));
    CHECK_CU(cuCtxSetCurrent(ctx));

    r = fa_dispatch_load(&mod, NULL);
    if (r == CUDA_ERROR_NO_BINARY_FOR_GPU) {
        printf("%s (cc %d): the header has cubins for %s only: skipped (emit with --arch "
               "for this GPU)\n",
               name, mod.cc, FA_DISPATCH_ARCHS);
        return 77;
    }
    CHECK_CU(r);
    printf("%s (cc %d): %d kernels of %s loaded\n", name, mod.cc, archs[mod.arch].num_kernels,
           archs[mod.arch].name);

    for (i = archs[mod.arch].first_kernel;
         i < archs[mod.arch].first_kernel + archs[mod.arch].num_kernels; i++) {
        const fa_dispatch_kernel *kk = &kernels[i];
        fa_ex_shape a, b;
        int rc, pack = 0;
#ifdef FA_DISPATCH_FAMILY_SM90A
        pack = kk->pack_gqa;
#endif
        if (kk->varlen) {
            /* The lookup picks (MHA); then this kernel with GQA 2; PackGQA: GQA 4, and more
               query heads than a tile holds (its fallback runs). */
            rc = run_varlen_case(&mod, kk, -1, 4, 4, 3000u + (uint64_t)i * 16u);
            if (rc == 0)
                rc = run_varlen_case(&mod, kk, i, 4, 2, 4000u + (uint64_t)i * 16u);
            if (rc == 0 && pack)
                rc = run_varlen_case(&mod, kk, i, 8, 2, 5000u + (uint64_t)i * 16u);
            if (rc == 0 && pack)
                rc = run_varlen_case(&mod, kk, i, kk->block_m + 8, 1, 6000u + (uint64_t)i * 16u);
            if (rc == 1)
                return 1;
            if (rc > worst)
                worst = rc;
            continue;
        }
        /* Equal lengths, a ragged last tile in both M and N. */
        a.dtype = kk->dtype;
        a.batch = 2;
        a.heads_q = 4;
        a.heads_kv = 4;
        a.seqlen_q = a.seqlen_k = 200;
        a.head_dim = kk->head_dim;
        a.causal = kk->causal;
        a.scale = 1.0f / sqrtf((float)kk->head_dim);
        /* GQA 2 and seqlen_q < seqlen_k: bottom-right causal alignment matters. */
        b = a;
        b.batch = 1;
        b.heads_kv = 2;
        b.seqlen_q = 77;
        b.seqlen_k = 333;
        /* a: the lookup chooses (here the kernel of this mode); b: this kernel, directly. */
        rc = run_case(&mod, &a, -1, 1000u + (uint64_t)i * 16u);
        if (rc == 0)
            rc = run_case(&mod, &b, i, 2000u + (uint64_t)i * 16u);
        /* PackGQA: GQA 4 (a tile of block_m / 4 tokens x 4 heads, the last one ragged); then
           block_m + 8 query heads over one KV head, which no tile fits: the fallback runs. */
        if (rc == 0 && pack) {
            b.heads_q = 8;
            rc = run_case(&mod, &b, i, 5000u + (uint64_t)i * 16u);
        }
        if (rc == 0 && pack) {
            b.heads_q = kk->block_m + 8;
            b.heads_kv = 1;
            b.seqlen_q = 5;
            b.seqlen_k = 17;
            rc = run_case(&mod, &b, i, 6000u + (uint64_t)i * 16u);
        }
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
    }

    /* A head dim nobody tuned: the lookup gives default tiles and the launch, having no
     * cubin for them, refuses (before touching the null pointers below). */
    c = fa_dispatch_lookup(archs[mod.arch].cc, FA_DISPATCH_BF16, 256, 0, 0, 1, 128);
    if (c.kernel < 0) {
        memset(&p, 0, sizeof p);
        p.batch = 1;
        p.heads_q = p.heads_kv = 1;
        p.seqlen_q = p.seqlen_k = 128;
        p.head_dim = 256;
        r = fa_dispatch_launch(&mod, FA_DISPATCH_BF16, 0, 0, &p, NULL, &c);
        printf("hd256 (not tuned): lookup %s %dx%d w%d s%d, launch %s\n",
               fa_dispatch_source_name(c.source), c.block_m, c.block_n, c.warps, c.stages,
               r == CUDA_ERROR_NOT_FOUND ? "refused (no cubin), as documented" : "UNEXPECTED");
        if (r != CUDA_ERROR_NOT_FOUND)
            worst = 3;
    }

#ifdef FA_DISPATCH_NUM_DECODE_ENTRIES
    {
        int rc = run_decode(&mod);
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
    }
#endif
    fa_dispatch_unload(&mod);
    CHECK_CU(cuDevicePrimaryCtxRelease(dev));
    printf("%s\n", worst ? "MISMATCH" : "all kernels match the fp32 reference");
    return worst;
}
