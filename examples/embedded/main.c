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
 * The first problem also runs through a CUDA graph: the launch captured on a stream of its own,
 * the graph replayed on new inputs in the same buffers (graph replay 1/3 .. 3/3), as an engine
 * runs its prefill. It also shows that an untuned head dim is refused (CUDA_ERROR_NOT_FOUND)
 * rather than run with a kernel the header does not have.
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
 * launcher asks. The lookup's choice, 3 splits and 3 fused then run again through CUDA graphs,
 * as an engine captures its decode step: captured once at the longest cache, replayed on two
 * more sets of cache lengths, tables and contents in the same buffers, each replay checked.
 *
 * Last, as a multi-GPU engine holds one module per device: with no context current, a module
 * is loaded into each device's primary context (fa_dispatch_load with that context) and a
 * small forward problem runs on every device with its own module ("device 0 of N").
 *
 * Build (see README.md): gcc -std=c99 -O2 -I<dir of fa_dispatch.h> -I/usr/local/cuda/include
 *   main.c -o fa_embedded_example -L/usr/local/cuda/lib64/stubs -lcuda -lm
 * Exit: 0 all match, 3 a numerical mismatch, 1 a CUDA error, 77 no CUDA device (skipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_dispatch.h"

#include "../common/fa_example_graph.h"
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

/* A problem in a kernel's mode (dtype, head dim, causal) with these sizes and the usual
 * softmax scale 1/sqrt(head dim). */
static fa_ex_shape mode_shape(int dtype, int head_dim, int causal, int batch, int heads_q,
                              int heads_kv, int seqlen_q, int seqlen_k)
{
    fa_ex_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.dtype = dtype;
    sh.batch = batch;
    sh.heads_q = heads_q;
    sh.heads_kv = heads_kv;
    sh.seqlen_q = seqlen_q;
    sh.seqlen_k = seqlen_k;
    sh.head_dim = head_dim;
    sh.causal = causal;
    sh.scale = 1.0f / sqrtf((float)head_dim);
    return sh;
}

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

/* Allocate the host and device buffers; 0 on success, else 1 (said on stderr; fwd_io_free
 * still needed). The device k and v hold nk_dev >= nk elements (a decode case's page pool). */
static int fwd_io_alloc(fwd_io *b, size_t nq, size_t nk, size_t nl, int max_k, size_t nk_dev)
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
    if ((r = cuMemAlloc(&b->dq, nq * 2 + 2)) != CUDA_SUCCESS ||
        (r = cuMemAlloc(&b->dk, nk_dev * 2 + 2)) || (r = cuMemAlloc(&b->dv, nk_dev * 2 + 2)) ||
        (r = cuMemAlloc(&b->dout, nq * 2 + 2)) || (r = cuMemAlloc(&b->dl, nl * 4 + 4))) {
        fprintf(stderr, "cuda error %d allocating the inputs\n", (int)r);
        return 1;
    }
    return 0;
}

/* fwd_io_alloc, then random q, k and v uploaded (the first nk elements of the device k and v)
 * and the outputs poisoned (0xFF: NaN); 0, else 1 (said on stderr; fwd_io_free still needed). */
static int fwd_io_init(fwd_io *b, int dtype, size_t nq, size_t nk, size_t nl, int max_k,
                       size_t nk_dev, uint64_t seed)
{
    CUresult r;
    if (fwd_io_alloc(b, nq, nk, nl, max_k, nk_dev))
        return 1;
    fa_ex_fill(b->q, nq, dtype, seed);
    fa_ex_fill(b->k, nk, dtype, seed + 1);
    fa_ex_fill(b->v, nk, dtype, seed + 2);
    if ((r = cuMemcpyHtoD(b->dq, b->q, nq * 2)) != CUDA_SUCCESS ||
        (r = cuMemcpyHtoD(b->dk, b->k, nk * 2)) || (r = cuMemcpyHtoD(b->dv, b->v, nk * 2)) ||
        (r = cuMemsetD8(b->dout, 0xff, nq * 2)) || (r = cuMemsetD8(b->dl, 0xff, nl * 4))) {
        fprintf(stderr, "cuda error %d preparing the inputs\n", (int)r);
        return 1;
    }
    return 0;
}

/* fwd_io_init for the fixed-length problem sh (BSHD, contiguous). */
static int fwd_io_shape(fwd_io *b, const fa_ex_shape *sh, uint64_t seed)
{
    size_t nk = (size_t)sh->batch * sh->seqlen_k * sh->heads_kv * sh->head_dim;
    return fwd_io_init(b, sh->dtype, (size_t)sh->batch * sh->seqlen_q * sh->heads_q * sh->head_dim,
                       nk, (size_t)sh->batch * sh->heads_q * sh->seqlen_q, sh->seqlen_k, nk, seed);
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

/* Check b's outputs of the fixed-length problem sh against the fp32 reference and print one
 * line: name, why it ran (how), then suffix. 0 pass, 3 mismatch. */
static int fwd_check(const fa_ex_shape *sh, fwd_io *b, const char *name, const char *how,
                     const char *suffix)
{
    fa_ex_check chk;
    fa_ex_reference(sh, b->q, b->k, b->v, 0, b->o_ref, b->l_ref, b->s);
    fa_ex_reference(sh, b->q, b->k, b->v, 1, b->o_low, b->l_low, b->s);
    chk = fa_ex_compare(sh, b->o, b->lse, b->o_ref, b->l_ref, b->o_low, b->l_low);
    printf("%-4s %-44s b%d h%d/%d q%d k%d (%s)%s: max|O-ref| %.3g <= %.3g, max|LSE-ref| %.3g <= "
           "%.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, sh->batch, sh->heads_q, sh->heads_kv, sh->seqlen_q,
           sh->seqlen_k, how, suffix, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
           chk.bad ? ", non-finite or unwritten values" : "");
    return chk.pass ? 0 : 3;
}

/* Run one problem through the header's launch API and check it: kernel < 0 lets the lookup
 * choose (fa_dispatch_launch), else that kernel runs (fa_dispatch_launch_kernel). Returns 0
 * pass, 3 mismatch, 1 CUDA error. */
static int run_case(const fa_dispatch_module *mod, const fa_ex_shape *sh, int kernel, uint64_t seed)
{
    fwd_io b;
    fa_fwd_params p;
    const char *name = "", *how = "";
    int rc = 1;

    if (fwd_io_shape(&b, sh, seed))
        goto cleanup;
    fa_dispatch_params_bshd(&p, b.dq, b.dk, b.dv, b.dout, b.dl, sh->batch, sh->heads_q,
                            sh->heads_kv, sh->seqlen_q, sh->seqlen_k, sh->head_dim, sh->scale);
    if (fwd_run(mod, kernel, sh->dtype, sh->causal, 0, &p, &b, &name, &how))
        goto cleanup;
    rc = fwd_check(sh, &b, name, how, "");

cleanup:
    fwd_io_free(&b);
    return rc;
}

/* The lookup's launch of one forward problem, to be captured (fa_ex_launch_fn). */
typedef struct fwd_launch {
    const fa_dispatch_module *mod;
    const fa_ex_shape *sh;
    const fa_fwd_params *p;
    fa_dispatch_choice c;
} fwd_launch;

static CUresult fwd_launch_on(void *arg, CUstream stream)
{
    fwd_launch *l = arg;
    return fa_dispatch_launch(l->mod, l->sh->dtype, l->sh->causal, 0, l->p, stream, &l->c);
}

/* The problem sh through a CUDA graph, as an engine captures its prefill: the lookup's launch
 * (fa_dispatch_launch) captured on a stream of its own, the graph replayed three times, each
 * on new q, k and v in the same buffers with the outputs poisoned again, each checked. The
 * launcher allocates and waits for nothing, so it can be captured; an sm90a kernel's tensor
 * maps are encoded at capture and travel in the graph by value. 0 pass, 3 mismatch, 1 error. */
static int run_graph_case(const fa_dispatch_module *mod, const fa_ex_shape *sh, uint64_t seed)
{
    fwd_io b;
    fa_fwd_params p;
    fwd_launch l;
    fa_ex_graph x = {0};
    const char *what = NULL, *name = "(default tiles)";
    char replay[32];
    int rc = 1, round;
    CUresult r;

    if (fwd_io_shape(&b, sh, seed))
        goto cleanup;
    fa_dispatch_params_bshd(&p, b.dq, b.dk, b.dv, b.dout, b.dl, sh->batch, sh->heads_q,
                            sh->heads_kv, sh->seqlen_q, sh->seqlen_k, sh->head_dim, sh->scale);
    memset(&l, 0, sizeof l);
    l.mod = mod, l.sh = sh, l.p = &p;
    r = fa_ex_graph_capture(&x, fwd_launch_on, &l);
    if (l.c.entry)
        name = l.c.entry->name;
    for (round = 0; r == CUDA_SUCCESS && round < 3; round++) {
        if (round > 0) { /* new inputs, outputs poisoned again, all landed before the replay */
            uint64_t s = seed + 100u * (uint64_t)round;
            fa_ex_fill(b.q, b.nq, sh->dtype, s);
            fa_ex_fill(b.k, b.nk, sh->dtype, s + 1);
            fa_ex_fill(b.v, b.nk, sh->dtype, s + 2);
            if ((r = cuMemcpyHtoD(b.dq, b.q, b.nq * 2)) ||
                (r = cuMemcpyHtoD(b.dk, b.k, b.nk * 2)) ||
                (r = cuMemcpyHtoD(b.dv, b.v, b.nk * 2)) ||
                (r = cuMemsetD8(b.dout, 0xff, b.nq * 2)) ||
                (r = cuMemsetD8(b.dl, 0xff, b.nl * 4)) || (r = cuCtxSynchronize()))
                break;
        }
        if ((r = fa_ex_graph_replay(&x)) || (r = cuMemcpyDtoH(b.o, b.dout, b.nq * 2)) ||
            (r = cuMemcpyDtoH(b.lse, b.dl, b.nl * 4)))
            break;
        snprintf(replay, sizeof replay, ", graph replay %d/3", round + 1);
        if ((rc = fwd_check(sh, &b, name, fa_dispatch_source_name(l.c.source), replay)) != 0)
            goto cleanup;
    }
    if (r != CUDA_SUCCESS) {
        cuGetErrorName(r, &what);
        fprintf(stderr, "graph of %s: %s\n", name, what ? what : "?");
        goto cleanup;
    }
    rc = 0;

cleanup:
    fa_ex_graph_free(&x);
    fwd_io_free(&b);
    return rc;
}

#define MAX_DEVICES 16

/* One module per device, as a multi-GPU engine holds them: with no context current, each
 * device's module is loaded into its primary context (fa_dispatch_load pushes the context
 * it is given and pops it again, so the current one stays none), then sh runs on every device
 * with that device's context current, each module is unloaded, and device 0's context is
 * made current again. On a one-GPU machine this is device 0 through the explicit-context
 * path. Devices whose arch the header has no cubins for are skipped. 0 pass, 3 mismatch, 1
 * error. */
static int run_devices(const fa_ex_shape *sh, uint64_t seed)
{
    fa_dispatch_module mods[MAX_DEVICES];
    CUcontext ctxs[MAX_DEVICES], cur = NULL;
    CUdevice devs[MAX_DEVICES];
    int count = 0, d, retained = 0, loaded = 0, worst = 0;
    CUresult r = cuDeviceGetCount(&count);
    if (r != CUDA_SUCCESS)
        goto fail;
    if (count > MAX_DEVICES)
        count = MAX_DEVICES;
    for (retained = 0; retained < count; retained++) {
        if ((r = cuDeviceGet(&devs[retained], retained)) ||
            (r = cuDevicePrimaryCtxRetain(&ctxs[retained], devs[retained])))
            goto fail;
    }
    if ((r = cuCtxSetCurrent(NULL)))
        goto fail;
    while (loaded < count) {
        r = fa_dispatch_load(&mods[loaded], ctxs[loaded]);
        if (r != CUDA_SUCCESS && r != CUDA_ERROR_NO_BINARY_FOR_GPU)
            goto fail; /* a failed load holds nothing */
        loaded++;      /* unloaded below whatever happens next */
        if ((r = cuCtxGetCurrent(&cur)))
            goto fail;
        if (cur) {
            fprintf(stderr, "fa_dispatch_load(ctx) left a context current\n");
            r = CUDA_ERROR_INVALID_CONTEXT;
            goto fail;
        }
    }
    for (d = 0; d < count; d++) {
        int rc;
        if (mods[d].arch < 0) {
            printf("device %d of %d: no cubins for cc %d: skipped\n", d, count, mods[d].cc);
            continue;
        }
        if ((r = cuCtxSetCurrent(ctxs[d])))
            goto fail;
        printf("device %d of %d (its own module, loaded through its context):\n", d, count);
        rc = run_case(&mods[d], sh, -1, seed + (uint64_t)d);
        if (rc == 1) {
            worst = 1;
            break;
        }
        if (rc > worst)
            worst = rc;
    }
    r = CUDA_SUCCESS;
fail:
    if (r != CUDA_SUCCESS) {
        const char *what = NULL;
        cuGetErrorName(r, &what);
        fprintf(stderr, "one module per device: %s\n", what ? what : "?");
        worst = 1;
    }
    for (d = 0; d < loaded; d++)
        fa_dispatch_unload(&mods[d]);
    if (retained > 0)
        cuCtxSetCurrent(ctxs[0]);
    for (d = 0; d < retained; d++) /* main's own retain of device 0 stays */
        if (cuDevicePrimaryCtxRelease(devs[d]) != CUDA_SUCCESS && worst == 0)
            worst = 1;
    return worst;
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
                    (size_t)vl.total_k * heads_kv * D, seed))
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
    sh = mode_shape(kk->dtype, D, kk->causal, 0, heads_q, heads_kv, 0, 0); /* per sequence */
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
#define DEC_POOL (DEC_B * DEC_MAXPAGES + 1) /* pages: every sequence at DEC_MAXLEN, one spare */

/* The cache lengths of the decode cases: the first set for a single launch and a graph's
 * capture, the others for the graph's replays (the same buffers, new lengths and contents). */
static const int dec_lens[3][DEC_B] = {
    {0, 1, 77, DEC_MAXLEN, 200}, {DEC_MAXLEN, 0, 5, 299, 48}, {1, DEC_MAXLEN, 96, 0, 250}};

/* One paged decode problem's buffers: io holds q, the logical contiguous caches k and v (for
 * the reference; on the device dk and dv are the page pool), the poisoned outputs and the
 * references; kp and vp are the pool on the host, then the block table and the lengths. */
typedef struct dec_io {
    fa_ex_shape sh;
    fwd_io io;
    int lens[DEC_B], table[DEC_B * DEC_STRIDE];
    size_t npool, row;
    uint16_t *kp, *vp;
    CUdeviceptr dlens, dtable;
    fa_fwd_params p;
} dec_io;

static void dec_io_free(dec_io *d)
{
    fwd_io_free(&d->io);
    cuMemFree(d->dlens);
    cuMemFree(d->dtable);
    free(d->kp);
    free(d->vp);
}

/* Allocate the buffers of decode kernel kk's mode (GQA 4, seqlen_q 1, or 4 for a causal
 * kernel; a page pool for every sequence at DEC_MAXLEN) and the params: BSHD q, o and lse; K
 * and V in pages (pages, page_size, heads_kv, dim) through the table. 0, else 1 (said on
 * stderr; dec_io_free still needed). */
static int dec_io_init(dec_io *d, const fa_dispatch_decode_kernel *kk)
{
    fa_ex_shape *sh = &d->sh;
    CUresult r;
    memset(d, 0, sizeof *d);
    *sh = mode_shape(kk->dtype, kk->head_dim, kk->causal, DEC_B, 8, 2, kk->causal ? 4 : 1,
                     DEC_MAXLEN);
    d->row = (size_t)sh->heads_kv * sh->head_dim; /* elements of one cache row */
    d->npool = (size_t)DEC_POOL * DEC_PAGE * d->row;
    /* allocated only: dec_io_fill writes and uploads the contents */
    if (fwd_io_alloc(&d->io, (size_t)sh->batch * sh->seqlen_q * sh->heads_q * sh->head_dim,
                     (size_t)sh->batch * sh->seqlen_k * d->row,
                     (size_t)sh->batch * sh->heads_q * sh->seqlen_q, DEC_MAXLEN, d->npool))
        return 1;
    d->kp = malloc(d->npool * 2), d->vp = malloc(d->npool * 2);
    if (!d->kp || !d->vp) {
        fprintf(stderr, "out of host memory\n");
        return 1;
    }
    if ((r = cuMemAlloc(&d->dlens, sizeof d->lens)) != CUDA_SUCCESS ||
        (r = cuMemAlloc(&d->dtable, sizeof d->table))) {
        fprintf(stderr, "cuda error %d allocating the decode buffers\n", (int)r);
        return 1;
    }
    memset(&d->p, 0, sizeof d->p);
    fa_dispatch_params_bshd(&d->p, d->io.dq, d->io.dk, d->io.dv, d->io.dout, d->io.dl, sh->batch,
                            sh->heads_q, sh->heads_kv, sh->seqlen_q, sh->seqlen_k, sh->head_dim,
                            sh->scale);
    d->p.k_batch_stride = d->p.v_batch_stride = (int64_t)DEC_PAGE * (int64_t)d->row;
    d->p.seqused_k = d->dlens;
    d->p.block_table = d->dtable;
    d->p.block_table_stride = DEC_STRIDE;
    d->p.page_size = DEC_PAGE;
    return 0;
}

/* New contents: random q and caches of the given lengths, scattered into pages handed out
 * in a shuffled order (pool rows no sequence owns are noise), uploaded with the table and the
 * lengths; the outputs poisoned (0xFF: NaN). Waits for the copies, so a launch on any stream
 * sees them. 0, else 1. */
static int dec_io_fill(dec_io *d, const int lens[DEC_B], uint64_t seed)
{
    int order[DEC_POOL], npages = 0, b, j, i;
    uint64_t rng = seed;
    CUresult r;
    memcpy(d->lens, lens, sizeof d->lens);
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
    fa_ex_fill(d->io.q, d->io.nq, d->sh.dtype, seed);
    fa_ex_fill(d->io.k, d->io.nk, d->sh.dtype, seed + 1);
    fa_ex_fill(d->io.v, d->io.nk, d->sh.dtype, seed + 2);
    fa_ex_fill(d->kp, d->npool, d->sh.dtype, seed + 3);
    fa_ex_fill(d->vp, d->npool, d->sh.dtype, seed + 4);
    for (i = 0; i < DEC_B * DEC_STRIDE; i++)
        d->table[i] = DEC_POOL - 1; /* the spare page: read by nobody */
    for (b = 0, i = 0; b < DEC_B; b++)
        for (j = 0; j < (lens[b] + DEC_PAGE - 1) / DEC_PAGE; j++)
            d->table[b * DEC_STRIDE + j] = order[i++];
    for (b = 0; b < DEC_B; b++)
        for (j = 0; j < lens[b]; j++) {
            size_t at =
                ((size_t)d->table[b * DEC_STRIDE + j / DEC_PAGE] * DEC_PAGE + j % DEC_PAGE) *
                d->row;
            size_t from = ((size_t)b * d->sh.seqlen_k + j) * d->row;
            memcpy(d->kp + at, d->io.k + from, d->row * 2);
            memcpy(d->vp + at, d->io.v + from, d->row * 2);
        }
    if ((r = cuMemcpyHtoD(d->io.dq, d->io.q, d->io.nq * 2)) != CUDA_SUCCESS ||
        (r = cuMemcpyHtoD(d->io.dk, d->kp, d->npool * 2)) ||
        (r = cuMemcpyHtoD(d->io.dv, d->vp, d->npool * 2)) ||
        (r = cuMemcpyHtoD(d->dlens, d->lens, sizeof d->lens)) ||
        (r = cuMemcpyHtoD(d->dtable, d->table, sizeof d->table)) ||
        (r = cuMemsetD8(d->io.dout, 0xff, d->io.nq * 2)) ||
        (r = cuMemsetD8(d->io.dl, 0xff, d->io.nl * 4)) || (r = cuCtxSynchronize())) {
        fprintf(stderr, "cuda error %d uploading the decode inputs\n", (int)r);
        return 1;
    }
    return 0;
}

/* Read O and LSE back and check them per sequence against the fp32 reference on its own
 * cache of lens[b] rows; print one line (name, then what ran). 0 pass, 3 mismatch, 1 error. */
static int dec_io_check(dec_io *d, const char *name, const char *what)
{
    fa_ex_shape one = d->sh;
    fa_ex_check chk;
    CUresult r;
    int b;
    if ((r = cuMemcpyDtoH(d->io.o, d->io.dout, d->io.nq * 2)) ||
        (r = cuMemcpyDtoH(d->io.lse, d->io.dl, d->io.nl * 4))) {
        fprintf(stderr, "cuda error %d reading the decode outputs\n", (int)r);
        return 1;
    }
    one.batch = 1;
    for (b = 0; b < DEC_B; b++) {
        size_t qo = (size_t)b * d->sh.seqlen_q * d->sh.heads_q * d->sh.head_dim;
        size_t ko = (size_t)b * d->sh.seqlen_k * d->row;
        size_t lo = (size_t)b * d->sh.heads_q * d->sh.seqlen_q;
        one.seqlen_k = d->lens[b];
        fa_ex_reference(&one, d->io.q + qo, d->io.k + ko, d->io.v + ko, 0, d->io.o_ref + qo,
                        d->io.l_ref + lo, d->io.s);
        fa_ex_reference(&one, d->io.q + qo, d->io.k + ko, d->io.v + ko, 1, d->io.o_low + qo,
                        d->io.l_low + lo, d->io.s);
    }
    chk = fa_ex_compare(&d->sh, d->io.o, d->io.lse, d->io.o_ref, d->io.l_ref, d->io.o_low,
                        d->io.l_low);
    printf("%-4s %-44s decode b%d h%d/%d q%d lens %d,%d,%d,%d,%d page %d %s: max|O-ref| %.3g <= "
           "%.3g, max|LSE-ref| %.3g <= %.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, d->sh.batch, d->sh.heads_q, d->sh.heads_kv,
           d->sh.seqlen_q, d->lens[0], d->lens[1], d->lens[2], d->lens[3], d->lens[4], DEC_PAGE,
           what, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
           chk.bad ? ", non-finite or unwritten values" : "");
    return chk.pass ? 0 : 3;
}

/* One decode launch of d's problem: kernel < 0, the lookup chooses (fa_dispatch_launch_decode;
 * c says what), else that kernel with splits and fuse. */
typedef struct dec_launch {
    const fa_dispatch_module *mod;
    const dec_io *d;
    int kernel, splits, fuse;
    CUdeviceptr scratch;
    uint64_t bytes;
    fa_dispatch_decode_choice c;
} dec_launch;

static CUresult dec_launch_on(void *arg, CUstream stream)
{
    dec_launch *l = arg;
    if (l->kernel < 0)
        return fa_dispatch_launch_decode(l->mod, l->d->sh.dtype, l->d->sh.causal, &l->d->p,
                                         l->scratch, l->bytes, stream, &l->c);
    return fa_dispatch_launch_decode_fused(l->mod, l->kernel, l->splits, l->fuse, &l->d->p,
                                           l->scratch, l->bytes, stream);
}

/* One paged decode problem on decode kernel `kernel` with `splits` and `fuse` (kernel < 0: the
 * lookup chooses, fa_dispatch_launch_decode), checked per sequence against the fp32 reference.
 * With graph, the launch is captured into a CUDA graph on a stream of its own, as an inference
 * engine captures its decode step, and the graph is replayed three times: on the captured
 * inputs, then on new cache lengths and contents in the same buffers (the lengths, the table
 * and the caches are read when the graph runs; the shapes and pointers are fixed at capture).
 * The scratch is poisoned but for its header, which is zeroed once as the launcher asks (a
 * fused launch leaves it zero for the next replay). Returns 0 pass, 3 mismatch, 1 error. */
static int run_decode_case(const fa_dispatch_module *mod, const fa_dispatch_decode_kernel *kk,
                           int kernel, int splits, int fuse, int graph, uint64_t seed)
{
    dec_io d;
    dec_launch l;
    fa_ex_graph x = {0};
    const char *name = kk->name, *how = "chosen", *what = NULL;
    char desc[128];
    int rc = 1, round, nsplits, n;
    CUresult r = CUDA_SUCCESS;

    memset(&l, 0, sizeof l);
    l.mod = mod, l.d = &d, l.kernel = kernel, l.splits = splits, l.fuse = fuse;
    if (dec_io_init(&d, kk) || dec_io_fill(&d, dec_lens[0], seed))
        goto cleanup;
    if (kernel < 0) {
        l.bytes = fa_dispatch_decode_scratch_bytes(mod, d.sh.dtype, d.sh.causal, &d.p);
    } else {
        l.c.block_m = kk->block_m;
        l.c.block_n = kk->block_n;
        l.c.splits = splits;
        l.bytes = fa_dispatch_decode_plan_scratch(&l.c, &d.p, mod->multiprocessors);
    }
    /* poisoned partials (written before they are read), the header zeroed once */
    if (l.bytes && ((r = cuMemAlloc(&l.scratch, (size_t)l.bytes)) ||
                    (r = cuMemsetD8(l.scratch, 0xff, (size_t)l.bytes)) ||
                    (r = cuMemsetD8(l.scratch, 0, FA_DECODE_SCRATCH_HEADER)))) {
        fprintf(stderr, "cuda error %d allocating %llu bytes of scratch\n", (int)r,
                (unsigned long long)l.bytes);
        goto cleanup;
    }
    r = graph ? fa_ex_graph_capture(&x, dec_launch_on, &l) : dec_launch_on(&l, NULL);
    if (kernel < 0) {
        name = l.c.entry ? l.c.entry->name : "(default decode tiles)";
        how = fa_dispatch_source_name(l.c.source);
    }
    nsplits =
        kernel < 0 ? fa_dispatch_decode_plan_splits(&l.c, &d.p, mod->multiprocessors) : splits;
    for (round = 0; r == CUDA_SUCCESS && round < (graph ? 3 : 1); round++) {
        if (round > 0 && dec_io_fill(&d, dec_lens[round], seed + 100u * (uint64_t)round))
            goto cleanup;
        if ((r = graph ? fa_ex_graph_replay(&x) : cuCtxSynchronize()) != CUDA_SUCCESS)
            break;
        n = snprintf(desc, sizeof desc, "splits %d%s (%s)", nsplits,
                     (kernel < 0 ? l.c.fuse : fuse) ? " fused" : "", how);
        if (graph && n > 0 && (size_t)n < sizeof desc)
            snprintf(desc + n, sizeof desc - (size_t)n, ", graph replay %d/3", round + 1);
        rc = dec_io_check(&d, name, desc);
        if (rc != 0)
            goto cleanup;
    }
    if (r != CUDA_SUCCESS) {
        cuGetErrorName(r, &what);
        fprintf(stderr, "%s decode %s: %s\n", graph ? "graph of" : "launching", name,
                what ? what : "?");
        rc = 1;
    }

cleanup:
    fa_ex_graph_free(&x);
    cuMemFree(l.scratch);
    dec_io_free(&d);
    return rc;
}

/* Every decode kernel of the loaded arch: the lookup's choice, 3 splits, 3 fused, 1 split,
 * each launched once; then the lookup's choice, 3 splits and 3 fused through a CUDA graph. */
static int run_decode(const fa_dispatch_module *mod)
{
    static const struct {
        int direct, splits, fuse, graph;
    } cases[] = {{0, 0, 0, 0}, {1, 3, 0, 0}, {1, 3, 1, 0}, {1, 1, 0, 0},
                 {0, 0, 0, 1}, {1, 3, 0, 1}, {1, 3, 1, 1}};
    int n, i, j, worst = 0;
    const fa_dispatch_decode_arch *da = fa_dispatch_decode_archs(&n);
    const fa_dispatch_decode_kernel *dk = fa_dispatch_decode_kernels(&n);
    for (i = da[mod->arch].first_kernel; i < da[mod->arch].first_kernel + da[mod->arch].num_kernels;
         i++) {
        int rc = 0;
        for (j = 0; rc == 0 && j < (int)(sizeof cases / sizeof cases[0]); j++)
            rc = run_decode_case(mod, &dk[i], cases[j].direct ? i : -1, cases[j].splits,
                                 cases[j].fuse, cases[j].graph,
                                 3000u + 500u * (uint64_t)j + (uint64_t)i * 16u);
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
    int count = 0, worst = 0, i, n, arch;
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
        a = mode_shape(kk->dtype, kk->head_dim, kk->causal, 2, 4, 4, 200, 200);
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
        /* a again, through a CUDA graph replayed on new inputs */
        if (rc == 0)
            rc = run_graph_case(&mod, &a, 7000u + (uint64_t)i * 16u);
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
    arch = mod.arch;
    fa_dispatch_unload(&mod);

    /* One module per device, loaded through each device's context (a forward problem of the
       first fixed-length mode the header has). */
    for (i = archs[arch].first_kernel; i < archs[arch].first_kernel + archs[arch].num_kernels;
         i++) {
        const fa_dispatch_kernel *kk = &kernels[i];
        fa_ex_shape a;
        int rc;
        if (kk->varlen)
            continue;
        a = mode_shape(kk->dtype, kk->head_dim, kk->causal, 1, 4, 2, 130, 130);
        rc = run_devices(&a, 9000u);
        if (rc == 1)
            return 1;
        if (rc > worst)
            worst = rc;
        break;
    }
    CHECK_CU(cuDevicePrimaryCtxRelease(dev));
    printf("%s\n", worst ? "MISMATCH" : "all kernels match the fp32 reference");
    return worst;
}
