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
 * It also shows that an untuned head dim is refused (CUDA_ERROR_NOT_FOUND) rather than run with a
 * kernel the header does not have.
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

/* Run one problem through the header's launch API and check it: kernel < 0 lets the lookup
 * choose (fa_dispatch_launch), else that kernel runs (fa_dispatch_launch_kernel). Returns 0
 * pass, 3 mismatch, 1 CUDA error. */
static int run_case(const fa_dispatch_module *mod, const fa_ex_shape *sh, int kernel, uint64_t seed)
{
    const size_t nq = (size_t)sh->batch * sh->seqlen_q * sh->heads_q * sh->head_dim;
    const size_t nk = (size_t)sh->batch * sh->seqlen_k * sh->heads_kv * sh->head_dim;
    const size_t nl = (size_t)sh->batch * sh->heads_q * sh->seqlen_q;
    uint16_t *q = malloc(nq * 2), *k = malloc(nk * 2), *v = malloc(nk * 2), *o = malloc(nq * 2);
    float *lse = malloc(nl * 4), *o_ref = malloc(nq * 4), *o_low = malloc(nq * 4);
    float *l_ref = malloc(nl * 4), *l_low = malloc(nl * 4);
    float *s = malloc((size_t)sh->seqlen_k * 4);
    CUdeviceptr dq = 0, dk = 0, dv = 0, dout = 0, dl = 0;
    fa_fwd_params p;
    fa_dispatch_choice c;
    fa_ex_check chk;
    const char *name = "", *how = "";
    int rc = 1;
    CUresult r;

    if (!q || !k || !v || !o || !lse || !o_ref || !o_low || !l_ref || !l_low || !s) {
        fprintf(stderr, "out of host memory\n");
        goto cleanup;
    }
    fa_ex_fill(q, nq, sh->dtype, seed);
    fa_ex_fill(k, nk, sh->dtype, seed + 1);
    fa_ex_fill(v, nk, sh->dtype, seed + 2);
    if ((r = cuMemAlloc(&dq, nq * 2)) != CUDA_SUCCESS || (r = cuMemAlloc(&dk, nk * 2)) ||
        (r = cuMemAlloc(&dv, nk * 2)) || (r = cuMemAlloc(&dout, nq * 2)) ||
        (r = cuMemAlloc(&dl, nl * 4)) || (r = cuMemcpyHtoD(dq, q, nq * 2)) ||
        (r = cuMemcpyHtoD(dk, k, nk * 2)) || (r = cuMemcpyHtoD(dv, v, nk * 2)) ||
        /* poison: 0xFF bytes are NaN in fp16, bf16 and fp32 */
        (r = cuMemsetD8(dout, 0xff, nq * 2)) || (r = cuMemsetD8(dl, 0xff, nl * 4))) {
        fprintf(stderr, "cuda error %d preparing the inputs\n", (int)r);
        goto cleanup;
    }
    fa_dispatch_params_bshd(&p, dq, dk, dv, dout, dl, sh->batch, sh->heads_q, sh->heads_kv,
                            sh->seqlen_q, sh->seqlen_k, sh->head_dim, sh->scale);
    if (kernel < 0) {
        r = fa_dispatch_launch(mod, sh->dtype, sh->causal, 0, &p, NULL, &c);
        name = c.entry ? c.entry->name : "(default tiles)";
        how = fa_dispatch_source_name(c.source);
    } else {
        r = fa_dispatch_launch_kernel(mod, kernel, &p, NULL);
        name = fa_dispatch_kernels(NULL)[kernel].name;
        how = "chosen";
    }
    if (r == CUDA_SUCCESS)
        r = cuCtxSynchronize();
    if (r != CUDA_SUCCESS) {
        const char *what = NULL;
        cuGetErrorName(r, &what);
        fprintf(stderr, "launching %s: %s\n", name, what ? what : "?");
        goto cleanup;
    }
    if ((r = cuMemcpyDtoH(o, dout, nq * 2)) || (r = cuMemcpyDtoH(lse, dl, nl * 4))) {
        fprintf(stderr, "cuda error %d reading the outputs\n", (int)r);
        goto cleanup;
    }
    fa_ex_reference(sh, q, k, v, 0, o_ref, l_ref, s);
    fa_ex_reference(sh, q, k, v, 1, o_low, l_low, s);
    chk = fa_ex_compare(sh, o, lse, o_ref, l_ref, o_low, l_low);
    printf("%-4s %-44s b%d h%d/%d q%d k%d (%s): max|O-ref| %.3g <= %.3g, max|LSE-ref| %.3g <= "
           "%.3g%s\n",
           chk.pass ? "ok" : "FAIL", name, sh->batch, sh->heads_q, sh->heads_kv, sh->seqlen_q,
           sh->seqlen_k, how, chk.o_err, chk.o_tol, chk.lse_err, chk.lse_tol,
           chk.bad ? ", non-finite or unwritten values" : "");
    rc = chk.pass ? 0 : 3;

cleanup:
    cuMemFree(dq);
    cuMemFree(dk);
    cuMemFree(dv);
    cuMemFree(dout);
    cuMemFree(dl);
    free(q);
    free(k);
    free(v);
    free(o);
    free(lse);
    free(o_ref);
    free(o_low);
    free(l_ref);
    free(l_low);
    free(s);
    return rc;
}

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
        int rc;
        if (kk->varlen) {
            printf("skip %s: varlen is not exercised by this example\n", kk->name);
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

    fa_dispatch_unload(&mod);
    cuDevicePrimaryCtxRelease(dev);
    printf("%s\n", worst ? "MISMATCH" : "all kernels match the fp32 reference");
    return worst;
}
