/*
 * This file implements a fake CUDA driver (libcuda.so.1) for the CPU tests of the embedded
 * example: just the Driver API calls the emitted launcher and examples/embedded make, with
 * "device memory" in host memory and a "kernel" that checks every launch the way the real
 * kernel would need it and then computes attention on the CPU from the fa_fwd_params it
 * was given. With it, CI (no GPU) runs the whole embedded path end to end: cubin selection
 * by compute capability, module load and symbol lookup in the embedded cubin bytes, the
 * dynamic shared memory opt-in, grid and block geometry, the params struct and its strides,
 * LSE layout, and the example's own checks.
 *
 * What a launch must satisfy (else CUDA_ERROR_INVALID_VALUE and a line on stderr):
 *   - the function comes from a loaded module whose image is an ELF file that contains the
 *     symbol, a lowered fa_fwd_sm80<...> name whose template arguments give the variant;
 *   - grid = (ceil(seqlen_q / BLOCK_M), heads_q, batch), block = (WARPS * 32, 1, 1);
 *   - dynamic shared memory = FA_SM80_SMEM_BYTES(...) and, above 48 KB, no more than the
 *     function's MAX_DYNAMIC_SHARED_SIZE_BYTES attribute;
 *   - params.head_dim = HEAD_DIM, softmax_scale_log2 = softmax_scale * log2(e).
 * The "kernel" honours causal (bottom-right), varlen (cu_seqlens) and GQA like the template.
 *
 * Environment: FA_FAKE_CC (default 90) is the device's compute capability * 10.
 */
#include <cuda.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_params.h"

#include "../../examples/common/fa_example_ref.h"

#define MAX_FUNCS 256

typedef struct fake_func {
    int used;
    const unsigned char *image;
    int dtype, hd, bm, bn, warps, stages, q_in_regs, causal, varlen;
    int max_dynamic_smem;
} fake_func;

static fake_func funcs[MAX_FUNCS];
static int fake_ctx_storage;
static CUcontext current;

static int fake_cc(void)
{
    const char *s = getenv("FA_FAKE_CC");
    return s && *s ? atoi(s) : 90;
}

CUresult cuInit(unsigned int flags)
{
    (void)flags;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count)
{
    *count = 1;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    *device = ordinal;
    return ordinal == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

CUresult cuDeviceGetName(char *name, int len, CUdevice dev)
{
    (void)dev;
    snprintf(name, (size_t)len, "fake CUDA driver on the CPU");
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev)
{
    (void)dev;
    if (attrib == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
        *pi = fake_cc() / 10;
    else if (attrib == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
        *pi = fake_cc() % 10;
    else
        return CUDA_ERROR_NOT_SUPPORTED;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev)
{
    (void)dev;
    *pctx = (CUcontext)&fake_ctx_storage;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
    (void)dev;
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext ctx)
{
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *pctx)
{
    *pctx = current;
    return CUDA_SUCCESS;
}

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    if (ctx != (CUcontext)&fake_ctx_storage)
        return CUDA_ERROR_INVALID_CONTEXT;
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    if (pctx)
        *pctx = current;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    if (!current)
        return CUDA_ERROR_INVALID_CONTEXT;
    *device = 0;
    return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize(void)
{
    return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult cuGetErrorName(CUresult error, const char **pStr)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "CUresult %d", (int)error);
    *pStr = buf;
    return CUDA_SUCCESS;
}

CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize)
{
    void *p = malloc(bytesize ? bytesize : 1);
    if (!p)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *dptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr dptr)
{
    free((void *)(uintptr_t)dptr);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n)
{
    memcpy((void *)(uintptr_t)dst, src, n);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t n)
{
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return CUDA_SUCCESS;
}

CUresult cuMemsetD8(CUdeviceptr dst, unsigned char uc, size_t n)
{
    memset((void *)(uintptr_t)dst, uc, n);
    return CUDA_SUCCESS;
}

/* ---- modules ------------------------------------------------------------------------------ */

CUresult cuModuleLoadData(CUmodule *module, const void *image)
{
    if (!image || memcmp(image, "\177ELF", 4) != 0) {
        fprintf(stderr, "fake driver: cuModuleLoadData: not an ELF image\n");
        return CUDA_ERROR_INVALID_IMAGE;
    }
    *module = (CUmodule)(uintptr_t)image;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule hmod)
{
    for (int i = 0; i < MAX_FUNCS; i++)
        if (funcs[i].used && funcs[i].image == (const unsigned char *)(uintptr_t)hmod)
            funcs[i].used = 0;
    return CUDA_SUCCESS;
}

/* Reads "L<c><int>E" at *p (c = 'i' or 'b'). */
static int read_arg(const char **p, char c, int *out)
{
    const char *s = *p;
    char *end;
    if (s[0] != 'L' || s[1] != c)
        return 0;
    long v = strtol(s + 2, &end, 10);
    if (*end != 'E')
        return 0;
    *out = (int)v;
    *p = end + 1;
    return 1;
}

/* Parses _Z11fa_fwd_sm80I<type>Li..E x6 Lb.E x3 Ev13fa_fwd_params. */
static int parse_symbol(const char *name, fake_func *f)
{
    const char *p = name;
    static const char head[] = "_Z11fa_fwd_sm80I";
    if (strncmp(p, head, sizeof head - 1) != 0)
        return 0;
    p += sizeof head - 1;
    if (!strncmp(p, "6__half", 7)) {
        f->dtype = 0;
        p += 7;
    } else if (!strncmp(p, "13__nv_bfloat16", 15)) {
        f->dtype = 1;
        p += 15;
    } else {
        return 0;
    }
    return read_arg(&p, 'i', &f->hd) && read_arg(&p, 'i', &f->bm) && read_arg(&p, 'i', &f->bn) &&
           read_arg(&p, 'i', &f->warps) && read_arg(&p, 'i', &f->stages) &&
           read_arg(&p, 'b', &f->q_in_regs) && read_arg(&p, 'b', &f->causal) &&
           read_arg(&p, 'b', &f->varlen) && !strcmp(p, "Ev13fa_fwd_params");
}

/* Does the ELF image hold name (as a NUL-terminated string)? Images are bounded by their
 * section headers; a generous scan limit keeps this simple. */
static int image_has(const unsigned char *image, const char *name)
{
    const unsigned char *e_shoff = image + 0x28;
    uint64_t shoff;
    uint16_t shentsize, shnum;
    memcpy(&shoff, e_shoff, 8);
    memcpy(&shentsize, image + 0x3a, 2);
    memcpy(&shnum, image + 0x3c, 2);
    size_t size = (size_t)shoff + (size_t)shentsize * shnum; /* section headers come last */
    size_t n = strlen(name) + 1;
    for (size_t i = 0; i + n <= size; i++)
        if (image[i] == (unsigned char)name[0] && !memcmp(image + i, name, n))
            return 1;
    return 0;
}

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name)
{
    const unsigned char *image = (const unsigned char *)(uintptr_t)hmod;
    fake_func f;
    memset(&f, 0, sizeof f);
    if (!image_has(image, name)) {
        fprintf(stderr, "fake driver: symbol %s not in the cubin\n", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    if (!parse_symbol(name, &f)) {
        fprintf(stderr, "fake driver: %s is not an fa_fwd_sm80 instance\n", name);
        return CUDA_ERROR_NOT_FOUND;
    }
    for (int i = 0; i < MAX_FUNCS; i++)
        if (!funcs[i].used) {
            f.used = 1;
            f.image = image;
            funcs[i] = f;
            *hfunc = (CUfunction)&funcs[i];
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuFuncSetAttribute(CUfunction hfunc, CUfunction_attribute attrib, int value)
{
    fake_func *f = (fake_func *)hfunc;
    if (!f || !f->used)
        return CUDA_ERROR_INVALID_HANDLE;
    if (attrib != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
        return CUDA_ERROR_NOT_SUPPORTED;
    if (value > (fake_cc() >= 90 ? 232448 : fake_cc() == 80 ? 166912 : 101376))
        return CUDA_ERROR_INVALID_VALUE;
    f->max_dynamic_smem = value;
    return CUDA_SUCCESS;
}

/* ---- the "kernel" ------------------------------------------------------------------------- */

static void attention(const fake_func *f, const fa_fwd_params *p)
{
    const int D = f->hd, g = p->heads_q / p->heads_kv;
    const uint16_t *q = (const uint16_t *)(uintptr_t)p->q, *k = (const uint16_t *)(uintptr_t)p->k;
    const uint16_t *v = (const uint16_t *)(uintptr_t)p->v;
    uint16_t *o = (uint16_t *)(uintptr_t)p->o;
    float *lse = (float *)(uintptr_t)p->lse;
    const int *cu_q = (const int *)(uintptr_t)p->cu_seqlens_q;
    const int *cu_k = (const int *)(uintptr_t)p->cu_seqlens_k;
    float *s = malloc(sizeof(float) * (size_t)(p->seqlen_k > 0 ? p->seqlen_k : 1));
    double *acc = malloc(sizeof(double) * (size_t)D);
    for (int b = 0; b < p->batch; b++) {
        int sq = p->seqlen_q, sk = p->seqlen_k, q0 = 0, k0 = 0;
        if (f->varlen) {
            q0 = cu_q[b];
            k0 = cu_k[b];
            sq = cu_q[b + 1] - q0;
            sk = cu_k[b + 1] - k0;
        }
        for (int h = 0; h < p->heads_q; h++)
            for (int i = 0; i < sq; i++) {
                int64_t qo = f->varlen ? (int64_t)(q0 + i) * p->q_row_stride
                                       : b * p->q_batch_stride + i * p->q_row_stride;
                int64_t oo = f->varlen ? (int64_t)(q0 + i) * p->o_row_stride
                                       : b * p->o_batch_stride + i * p->o_row_stride;
                const uint16_t *qi = q + qo + h * p->q_head_stride;
                uint16_t *oi = o + oo + h * p->o_head_stride;
                float *li = lse +
                            (f->varlen ? h * p->lse_head_stride + q0
                                       : b * p->lse_batch_stride + h * p->lse_head_stride) +
                            i;
                int last = f->causal ? i + sk - sq : sk - 1;
                float mx = -INFINITY;
                double sum = 0;
                if (last > sk - 1)
                    last = sk - 1;
                for (int j = 0; j <= last; j++) {
                    int64_t ko = f->varlen ? (int64_t)(k0 + j) * p->k_row_stride
                                           : b * p->k_batch_stride + j * p->k_row_stride;
                    const uint16_t *kj = k + ko + (h / g) * p->k_head_stride;
                    float dot = 0;
                    for (int d = 0; d < D; d++)
                        dot += fa_ex_from16(f->dtype, qi[d]) * fa_ex_from16(f->dtype, kj[d]);
                    s[j] = dot;
                    if (dot > mx)
                        mx = dot;
                }
                for (int d = 0; d < D; d++)
                    acc[d] = 0;
                for (int j = 0; j <= last; j++) {
                    int64_t vo = f->varlen ? (int64_t)(k0 + j) * p->v_row_stride
                                           : b * p->v_batch_stride + j * p->v_row_stride;
                    const uint16_t *vj = v + vo + (h / g) * p->v_head_stride;
                    double e = exp2((double)(s[j] - mx) * p->softmax_scale_log2);
                    sum += e;
                    for (int d = 0; d < D; d++)
                        acc[d] += e * fa_ex_from16(f->dtype, vj[d]);
                }
                for (int d = 0; d < D; d++)
                    oi[d] = fa_ex_to16(f->dtype, last >= 0 ? (float)(acc[d] / sum) : 0.0f);
                *li = last >= 0 ? (float)(mx * p->softmax_scale + log(sum)) : -INFINITY;
            }
    }
    free(s);
    free(acc);
}

CUresult cuLaunchKernel(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem,
                        CUstream stream, void **params, void **extra)
{
    const fake_func *f = (const fake_func *)fn;
    const fa_fwd_params *p;
    unsigned want;
    (void)stream;
    if (!f || !f->used || !params || !params[0] || extra) {
        fprintf(stderr, "fake driver: cuLaunchKernel: bad function or arguments\n");
        return CUDA_ERROR_INVALID_VALUE;
    }
    p = (const fa_fwd_params *)params[0];
    want = (unsigned)FA_SM80_SMEM_BYTES(f->hd, f->bm, f->bn, f->stages);
    if (gx != (unsigned)((p->seqlen_q + f->bm - 1) / f->bm) || gy != (unsigned)p->heads_q ||
        gz != (unsigned)p->batch || bx != (unsigned)(f->warps * 32) || by != 1 || bz != 1 ||
        smem != want || (smem > 49152 && (int)smem > f->max_dynamic_smem) || p->head_dim != f->hd ||
        fabsf(p->softmax_scale_log2 - p->softmax_scale * 1.44269504f) > 1e-6f) {
        fprintf(stderr,
                "fake driver: launch of hd%d m%dn%dw%ds%d: grid (%u,%u,%u) block (%u,%u,%u) "
                "smem %u (attribute %d) head_dim %d scale %g/%g; expected grid (%d,%d,%d) "
                "block (%d,1,1) smem %u\n",
                f->hd, f->bm, f->bn, f->warps, f->stages, gx, gy, gz, bx, by, bz, smem,
                f->max_dynamic_smem, p->head_dim, p->softmax_scale, p->softmax_scale_log2,
                (p->seqlen_q + f->bm - 1) / f->bm, p->heads_q, p->batch, f->warps * 32, want);
        return CUDA_ERROR_INVALID_VALUE;
    }
    attention(f, p);
    return CUDA_SUCCESS;
}
