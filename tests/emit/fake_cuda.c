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
 * An fa_fwd_sm90a<...> instance (a header with sm90a winners) is checked as its plan says
 * (templates/sm90a/fa_plan_sm90a.h): grid = fa_plan_sm90a_grid(...) with the device's
 * multiprocessors, block = 128 * (CWG + 1), shared memory = fa_plan_sm90a_smem(...); its one
 * argument is fa_fwd_params then three tensor maps, which cuTensorMapEncodeTiled here fills
 * with the arguments it was given (after checking them as the driver would, and that they are
 * the kernel's: 4-d, box {64, rows, 1, 1}, 128-byte swizzle). The "kernel" then reads Q, K and
 * V through those maps' addresses and strides, not through the params' -- a wrong map gives a
 * wrong answer. An fa_fwd_sm90a_pack_gqa<...> instance (PackGQA) is checked the same way but
 * for its grid, fa_plan_sm90a_grid_gqa over (token block, KV head, batch) tiles, and its Q map:
 * rank 5, dims {D, g, rows, heads_kv, batch} (varlen: the ragged form), box {64, g, tokens, 1,
 * 1} with tokens = fa_plan_sm90a_pack_tokens (a problem whose g does not fit is refused); the
 * "kernel" reads query head h = kv * g + j of row i at base + j * strides[0] + i * strides[1] +
 * kv * strides[2] + b * strides[3] (bytes), so a wrong 5-d map gives a wrong answer too.
 *
 * The decode family's kernels (a header with decode winners) are checked as
 * templates/decode/fa_plan_splitkv.h says: fa_decode_splitkv<...> with grid (m_blocks * batch *
 * heads_kv, splits), 32 * WARPS threads and FA_DECODE_SMEM_BYTES; fa_decode_combine<...> with
 * one warp per (b, h, i) row. Their argument is fa_decode_args. The split "kernel" reads K and V
 * through the block table (page P = block_table[b * stride + j / page_size], row j % page_size)
 * and the cache lengths, covers the KV blocks of its split as the template does, and with more
 * than one split writes the fp32 partial O and LSE to the scratch in the plan's layout (the split
 * count in its header); the combine "kernel" merges them from there by their LSE (the split
 * "kernel" itself when the argument's fused flag is set). A wrong table,
 * stride, length, page size or scratch gives a wrong answer.
 *
 * The combine may come through cuLaunchKernelEx as a programmatic dependent launch; only that,
 * right after its split kernel, on a cc >= 90 device.
 *
 * Streams and CUDA graphs, as an engine uses them: a launch on a stream being captured
 * (cuStreamBeginCapture, global mode) is recorded with a copy of its argument, not run, and
 * cuGraphLaunch runs the recorded launches in order, reading the buffers as they are then --
 * the real driver's semantics: arguments fixed at capture, memory read at replay. While a
 * capture is open, a launch on another stream and the calls a capture forbids (allocating,
 * freeing, copying or setting memory, synchronizing) fail and invalidate the capture, so a
 * launcher that waits or allocates inside its launch fails the example's graph cases.
 *
 * Environment: FA_FAKE_CC (default 90) is the device's compute capability * 10; FA_FAKE_SMS
 * (default 132) its multiprocessors.
 */
#include <cuda.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_params.h"
#include "decode/fa_plan_splitkv.h"
#include "sm90a/fa_plan_sm90a.h"

#include "../../examples/common/fa_example_ref.h"

#define MAX_FUNCS 256

typedef struct fake_func {
    int used;
    const unsigned char *image;
    int dtype, hd, bm, bn, warps, stages, q_in_regs, causal, varlen;
    int max_dynamic_smem;
    int sm90a, cwg, overlap, pingpong, persistent; /* an fa_fwd_sm90a instance */
    int pack_gqa;                                  /* fa_fwd_sm90a_pack_gqa */
    int ctas;                                      /* fa_fwd_sm90a_x2: 2 */
    int decode;                                    /* 1: fa_decode_splitkv, 2: fa_decode_combine */
} fake_func;

static fake_func funcs[MAX_FUNCS];
static int fake_ctx_storage;
static CUcontext current;

static int fake_cc(void)
{
    const char *s = getenv("FA_FAKE_CC");
    return s && *s ? atoi(s) : 90;
}

static int fake_sms(void)
{
    const char *s = getenv("FA_FAKE_SMS");
    return s && *s ? atoi(s) : 132;
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
    else if (attrib == CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
        *pi = fake_sms();
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

/* Every module must be unloaded by now: a function of one still loaded is a leak. */
CUresult cuDevicePrimaryCtxRelease(CUdevice dev)
{
    int leaked = 0;
    (void)dev;
    for (int i = 0; i < MAX_FUNCS; i++)
        leaked += funcs[i].used;
    if (leaked) {
        fprintf(stderr,
                "fake driver: cuDevicePrimaryCtxRelease: %d functions of modules never "
                "unloaded\n",
                leaked);
        return CUDA_ERROR_INVALID_CONTEXT;
    }
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

/* The context stack: push makes ctx current over the one before, pop brings that one back. */
static CUcontext ctx_stack[8];
static int ctx_depth;

CUresult cuCtxPushCurrent(CUcontext ctx)
{
    if (ctx != (CUcontext)&fake_ctx_storage || ctx_depth == 8)
        return CUDA_ERROR_INVALID_CONTEXT;
    ctx_stack[ctx_depth++] = current;
    current = ctx;
    return CUDA_SUCCESS;
}

CUresult cuCtxPopCurrent(CUcontext *pctx)
{
    if (!current)
        return CUDA_ERROR_INVALID_CONTEXT;
    if (pctx)
        *pctx = current;
    current = ctx_depth > 0 ? ctx_stack[--ctx_depth] : NULL;
    return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device)
{
    if (!current)
        return CUDA_ERROR_INVALID_CONTEXT;
    *device = 0;
    return CUDA_SUCCESS;
}

static int refused_in_capture(const char *call);

CUresult cuCtxSynchronize(void)
{
    if (refused_in_capture("cuCtxSynchronize"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    return current ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

CUresult cuGetErrorName(CUresult error, const char **pStr)
{
    static char buf[32];
    snprintf(buf, sizeof buf, "CUresult %d", (int)error);
    *pStr = buf;
    return CUDA_SUCCESS;
}

/* ---- stream capture state (the graphs themselves are at the end) ---------------------- */

static CUstream capture_stream; /* the stream being captured, NULL when none */
static int capture_invalidated; /* something the capture forbids happened during it */

/* 1 (and a line on stderr, the capture invalidated) when call may not run now: a capture is
 * open and it is one of the calls a capture forbids. */
static int refused_in_capture(const char *call)
{
    if (!capture_stream)
        return 0;
    fprintf(stderr, "fake driver: %s while a stream is being captured\n", call);
    capture_invalidated = 1;
    return 1;
}

CUresult cuMemAlloc(CUdeviceptr *dptr, size_t bytesize)
{
    if (refused_in_capture("cuMemAlloc"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    void *p = malloc(bytesize ? bytesize : 1);
    if (!p)
        return CUDA_ERROR_OUT_OF_MEMORY;
    *dptr = (CUdeviceptr)(uintptr_t)p;
    return CUDA_SUCCESS;
}

CUresult cuMemFree(CUdeviceptr dptr)
{
    if (refused_in_capture("cuMemFree"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    free((void *)(uintptr_t)dptr);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t n)
{
    if (refused_in_capture("cuMemcpyHtoD"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    memcpy((void *)(uintptr_t)dst, src, n);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t n)
{
    if (refused_in_capture("cuMemcpyDtoH"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    memcpy(dst, (const void *)(uintptr_t)src, n);
    return CUDA_SUCCESS;
}

CUresult cuMemsetD8(CUdeviceptr dst, unsigned char uc, size_t n)
{
    if (refused_in_capture("cuMemsetD8"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
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

/* Parses _Z12fa_fwd_sm90aI<type>Li<D>ELi<BN>ELi<CWG>ELi<S>E Lb.E x5 EvN2fa10sm90a_argsE, and
 * the same of _Z21fa_fwd_sm90a_pack_gqaI (PackGQA) and of their _x2 twins (two blocks a
 * multiprocessor: the same launch). */
static int parse_symbol_sm90a(const char *name, fake_func *f)
{
    const char *p = name;
    static const struct {
        const char *prefix;
        int pack_gqa, ctas;
    } kinds[] = {{"_Z12fa_fwd_sm90aI", 0, 1},
                 {"_Z21fa_fwd_sm90a_pack_gqaI", 1, 1},
                 {"_Z15fa_fwd_sm90a_x2I", 0, 2},
                 {"_Z24fa_fwd_sm90a_pack_gqa_x2I", 1, 2}};
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] &&
           strncmp(p, kinds[k].prefix, strlen(kinds[k].prefix)))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return 0;
    f->pack_gqa = kinds[k].pack_gqa;
    f->ctas = kinds[k].ctas;
    p += strlen(kinds[k].prefix);
    if (!strncmp(p, "6__half", 7)) {
        f->dtype = 0;
        p += 7;
    } else if (!strncmp(p, "13__nv_bfloat16", 15)) {
        f->dtype = 1;
        p += 15;
    } else {
        return 0;
    }
    f->sm90a = 1;
    if (!(read_arg(&p, 'i', &f->hd) && read_arg(&p, 'i', &f->bn) && read_arg(&p, 'i', &f->cwg) &&
          read_arg(&p, 'i', &f->stages) && read_arg(&p, 'b', &f->causal) &&
          read_arg(&p, 'b', &f->overlap) && read_arg(&p, 'b', &f->pingpong) &&
          read_arg(&p, 'b', &f->persistent) && read_arg(&p, 'b', &f->varlen) &&
          !strcmp(p, "EvN2fa10sm90a_argsE")))
        return 0;
    f->bm = 64 * f->cwg;
    f->warps = 4 * (f->cwg + 1);
    return 1;
}

/* Reads the element type at *p into f->dtype. */
static int read_type(const char **p, fake_func *f)
{
    if (!strncmp(*p, "6__half", 7)) {
        f->dtype = 0;
        *p += 7;
    } else if (!strncmp(*p, "13__nv_bfloat16", 15)) {
        f->dtype = 1;
        *p += 15;
    } else {
        return 0;
    }
    return 1;
}

/* Parses _Z17fa_decode_splitkvI<type>Li<D>ELi<BM>ELi<BN>ELi<W>ELi<S>ELb<C>EEv14fa_decode_args
 * and _Z17fa_decode_combineI<type>Li<D>EEv14fa_decode_args. */
static int parse_symbol_decode(const char *name, fake_func *f)
{
    const char *p = name;
    static const char split[] = "_Z17fa_decode_splitkvI", combine[] = "_Z17fa_decode_combineI";
    if (!strncmp(p, split, sizeof split - 1)) {
        p += sizeof split - 1;
        f->decode = 1;
        return read_type(&p, f) && read_arg(&p, 'i', &f->hd) && read_arg(&p, 'i', &f->bm) &&
               read_arg(&p, 'i', &f->bn) && read_arg(&p, 'i', &f->warps) &&
               read_arg(&p, 'i', &f->stages) && read_arg(&p, 'b', &f->causal) &&
               !strcmp(p, "Ev14fa_decode_args");
    }
    if (!strncmp(p, combine, sizeof combine - 1)) {
        p += sizeof combine - 1;
        f->decode = 2;
        return read_type(&p, f) && read_arg(&p, 'i', &f->hd) && !strcmp(p, "Ev14fa_decode_args");
    }
    return 0;
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
    if (!parse_symbol(name, &f) && !parse_symbol_sm90a(name, &f) &&
        (memset(&f, 0, sizeof f), !parse_symbol_decode(name, &f))) {
        fprintf(stderr,
                "fake driver: %s is not an fa_fwd_sm80, fa_fwd_sm90a(_pack_gqa) or decode "
                "instance\n",
                name);
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

/* q_kv_stride: elements between the query heads of consecutive KV heads (g * q_head_stride in
 * any layout fa_fwd_params describes; PackGQA's map gives it separately). */
static void attention(const fake_func *f, const fa_fwd_params *p, int64_t q_kv_stride)
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
                const uint16_t *qi = q + qo + (h / g) * q_kv_stride + (h % g) * p->q_head_stride;
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

/* ---- tensor maps: the arguments, kept in the opaque bytes ---------------------------------- */

typedef struct fake_map {
    char magic[8]; /* "fakemap" */
    int dtype;     /* 0 fp16, 1 bf16 */
    int rank;      /* 4, or 5 (PackGQA's Q) */
    uint64_t base, dims[5], strides[4];
    uint32_t box[5];
} fake_map;

CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank,
                                void *base, const cuuint64_t *dims, const cuuint64_t *strides,
                                const cuuint32_t *box, const cuuint32_t *elem,
                                CUtensorMapInterleave interleave, CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob)
{
    fake_map m;
    int ok = (rank == 4 || rank == 5) &&
             (type == CU_TENSOR_MAP_DATA_TYPE_FLOAT16 || type == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16);
    ok = ok && base && (uintptr_t)base % 16 == 0 && interleave == CU_TENSOR_MAP_INTERLEAVE_NONE &&
         swizzle == CU_TENSOR_MAP_SWIZZLE_128B && l2 == CU_TENSOR_MAP_L2_PROMOTION_L2_256B &&
         oob == CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE;
    for (cuuint32_t i = 0; ok && i < rank; i++)
        ok = dims[i] >= 1 && box[i] >= 1 && box[i] <= 256 && elem[i] == 1 &&
             (i == rank - 1 || (strides[i] % 16 == 0 && strides[i] < (1ull << 40)));
    /* the kernel's image: 128-byte rows of box rows (rank 4) or of g heads x tokens (rank 5) */
    ok = ok && box[0] * 2 == 128 && (rank == 4 ? box[2] == 1 : box[1] * box[2] <= 256) &&
         box[3] == 1 && (rank == 4 || box[4] == 1);
    if (!ok) {
        fprintf(stderr, "fake driver: cuTensorMapEncodeTiled: arguments the kernel cannot use\n");
        return CUDA_ERROR_INVALID_VALUE;
    }
    memset(&m, 0, sizeof m);
    memcpy(m.magic, "fakemap", 8);
    m.dtype = type == CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
    m.base = (uint64_t)(uintptr_t)base;
    m.rank = (int)rank;
    for (int i = 0; i < (int)rank; i++) {
        m.dims[i] = dims[i];
        m.box[i] = box[i];
        if (i < (int)rank - 1)
            m.strides[i] = strides[i];
    }
    memset(map, 0, sizeof *map);
    memcpy(map, &m, sizeof m);
    return CUDA_SUCCESS;
}

/* Map i of an sm90a argument, checked against the kernel f and what it should cover (rows,
 * heads, batch, box rows); NULL (and a line on stderr) if it is not that. */
static const fake_map *sm90a_map(const unsigned char *arg, int i, const fake_func *f, int rows,
                                 int heads, int batch, int box_rows)
{
    const fake_map *m = (const fake_map *)(arg + FA_SM90A_TMAP_OFFSET(i));
    if (memcmp(m->magic, "fakemap", 8) != 0 || m->dtype != f->dtype || m->rank != 4 ||
        m->dims[0] != (uint64_t)f->hd || m->dims[1] != (uint64_t)rows ||
        m->dims[2] != (uint64_t)heads || m->dims[3] != (uint64_t)batch ||
        m->box[1] != (uint32_t)box_rows) {
        fprintf(stderr, "fake driver: tensor map %d is not the kernel's\n", i);
        return NULL;
    }
    return m;
}

/* PackGQA's Q map (argument map 0), checked against the kernel f: rank 5, dims {D, g, rows,
 * heads_kv, batch}, box {64, g, tokens, 1, 1}, the kv-head stride g head strides; NULL (and a
 * line on stderr) if it is not that. */
static const fake_map *sm90a_pack_map(const unsigned char *arg, const fake_func *f, int g, int rows,
                                      int heads_kv, int batch, int tokens)
{
    const fake_map *m = (const fake_map *)arg;
    if (memcmp(m->magic, "fakemap", 8) != 0 || m->dtype != f->dtype || m->rank != 5 ||
        m->dims[0] != (uint64_t)f->hd || m->dims[1] != (uint64_t)g ||
        m->dims[2] != (uint64_t)rows || m->dims[3] != (uint64_t)heads_kv ||
        m->dims[4] != (uint64_t)batch || m->box[1] != (uint32_t)g ||
        m->box[2] != (uint32_t)tokens || m->strides[2] != (uint64_t)g * m->strides[0]) {
        fprintf(stderr, "fake driver: tensor map 0 is not the PackGQA kernel's 5-d Q map\n");
        return NULL;
    }
    return m;
}

/* An sm90a launch: geometry by the plan, then attention through the tensor maps. */
static CUresult launch_sm90a(const fake_func *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                             unsigned by, unsigned bz, unsigned smem, const unsigned char *arg)
{
    fa_fwd_params p;
    memcpy(&p, arg, sizeof p);
    const int g = p.heads_kv > 0 ? p.heads_q / p.heads_kv : 0;
    const int tokens = fa_plan_sm90a_pack_tokens(f->bm, p.heads_q, p.heads_kv);
    if (f->pack_gqa && tokens < 1) {
        fprintf(stderr,
                "fake driver: PackGQA hd%d m%d launched with %d query heads over %d kv "
                "heads: they do not fit its tile\n",
                f->hd, f->bm, p.heads_q, p.heads_kv);
        return CUDA_ERROR_INVALID_VALUE;
    }
    unsigned grid = fa_plan_sm90a_grid_gqa(p.seqlen_q, p.heads_q, p.heads_kv, p.batch, f->cwg,
                                           f->persistent, f->pack_gqa, fake_sms());
    unsigned want = fa_plan_sm90a_smem(f->hd, f->cwg, f->bn, f->stages, f->persistent);
    if (gx != grid || gy != 1 || gz != 1 || bx != fa_plan_sm90a_threads(f->cwg) || by != 1 ||
        bz != 1 || smem != want || (int)smem > f->max_dynamic_smem || p.head_dim != f->hd ||
        fabsf(p.softmax_scale_log2 - p.softmax_scale * 1.44269504f) > 1e-6f) {
        fprintf(stderr,
                "fake driver: launch of sm90a hd%d m%dn%ds%d%s: grid (%u,%u,%u) block (%u,%u,%u) "
                "smem %u (attribute %d); expected grid (%u,1,1) block (%u,1,1) smem %u\n",
                f->hd, f->bm, f->bn, f->stages, f->pack_gqa ? "pg" : "", gx, gy, gz, bx, by, bz,
                smem, f->max_dynamic_smem, grid, fa_plan_sm90a_threads(f->cwg), want);
        return CUDA_ERROR_INVALID_VALUE;
    }
    /* Fixed length: maps over (D, seqlen, heads, batch). Varlen: the ragged rule of
       fa_plan_sm90a.h -- (D, L, heads, FA_SM90A_RAGGED_ROWS), the base L rows before the
       tensor, the last stride a row's -- so sequence b's rows start at cu_seqlens[b] rows. */
    const int lq = f->varlen ? FA_SM90A_RAGGED_L(p.seqlen_q) : p.seqlen_q;
    const int lk = f->varlen ? FA_SM90A_RAGGED_L(p.seqlen_k) : p.seqlen_k;
    const int nb = f->varlen ? FA_SM90A_RAGGED_ROWS : p.batch;
    const fake_map *mq = f->pack_gqa ? sm90a_pack_map(arg + FA_SM90A_TMAP_OFFSET(0), f, g, lq,
                                                      p.heads_kv, nb, tokens)
                                     : sm90a_map(arg, 0, f, lq, p.heads_q, nb, f->bm);
    const fake_map *mk = sm90a_map(arg, 1, f, lk, p.heads_kv, nb, f->bn);
    const fake_map *mv = sm90a_map(arg, 2, f, lk, p.heads_kv, nb, f->bn);
    if (!mq || !mk || !mv)
        return CUDA_ERROR_INVALID_VALUE;
    /* Q's strides as its map says: {row, head, batch}, or PackGQA's {head, row, kv head, batch} */
    const int qr = f->pack_gqa ? 1 : 0, qh = f->pack_gqa ? 0 : 1, qb = f->pack_gqa ? 3 : 2;
    if (f->varlen && (mq->strides[qb] != mq->strides[qr] || mk->strides[2] != mk->strides[0] ||
                      mv->strides[2] != mv->strides[0])) {
        fprintf(stderr, "fake driver: a varlen tensor map's last stride is not its row's\n");
        return CUDA_ERROR_INVALID_VALUE;
    }
    /* Q, K, V as the maps say (byte strides / 2); O and LSE as the params say. */
    p.q = mq->base + (f->varlen ? (uint64_t)lq * mq->strides[qr] : 0);
    p.q_row_stride = (int64_t)mq->strides[qr] / 2;
    p.q_head_stride = (int64_t)mq->strides[qh] / 2;
    p.q_batch_stride = (int64_t)mq->strides[qb] / 2;
    p.k = mk->base + (f->varlen ? (uint64_t)lk * mk->strides[0] : 0);
    p.k_row_stride = (int64_t)mk->strides[0] / 2;
    p.k_head_stride = (int64_t)mk->strides[1] / 2;
    p.k_batch_stride = (int64_t)mk->strides[2] / 2;
    p.v = mv->base + (f->varlen ? (uint64_t)lk * mv->strides[0] : 0);
    p.v_row_stride = (int64_t)mv->strides[0] / 2;
    p.v_head_stride = (int64_t)mv->strides[1] / 2;
    p.v_batch_stride = (int64_t)mv->strides[2] / 2;
    attention(f, &p, f->pack_gqa ? (int64_t)mq->strides[2] / 2 : (int64_t)g * p.q_head_stride);
    return CUDA_SUCCESS;
}

/* ---- the decode "kernels" ------------------------------------------------------------------ */

/* Key j of sequence b (kv head hk) through the block table, as fa_params.h says. */
static const uint16_t *decode_row(const fa_fwd_params *p, uint64_t base, int64_t batch_stride,
                                  int64_t row_stride, int64_t head_stride, int b, int j, int hk)
{
    const int32_t *table = (const int32_t *)(uintptr_t)p->block_table;
    int64_t page = b, row = j;
    if (p->page_size > 0) {
        page = table[(int64_t)b * p->block_table_stride + j / p->page_size];
        row = j % p->page_size;
    }
    return (const uint16_t *)(uintptr_t)base + page * batch_stride + row * row_stride +
           hk * head_stride;
}

/* The split kernel: per (b, h, i) row and split s, attention over the split's keys. One split
 * writes O and LSE; several write fp32 partials (O normalised by the split's own sum, LSE in
 * natural log, -inf for a split that saw no key) to the scratch. */
static void decode_split(const fake_func *f, const fa_decode_args *a, int splits)
{
    const fa_fwd_params *p = &a->p;
    const int D = f->hd, g = p->heads_q / p->heads_kv, sq = p->seqlen_q;
    const int32_t *lens = (const int32_t *)(uintptr_t)p->seqused_k;
    const uint64_t R = (uint64_t)p->batch * (uint64_t)p->heads_q * (uint64_t)sq;
    float *scratch = (float *)(uintptr_t)a->scratch;
    float *s = malloc(sizeof(float) * (size_t)(p->seqlen_k > 0 ? p->seqlen_k : 1));
    double *acc = malloc(sizeof(double) * (size_t)D);
    if (splits > 1)
        *(int32_t *)scratch = splits;
    for (int b = 0; b < p->batch; b++) {
        const int len = lens ? lens[b] : p->seqlen_k;
        const int nb = (len + f->bn - 1) / f->bn, per = (nb + splits - 1) / splits;
        for (int h = 0; h < p->heads_q; h++)
            for (int i = 0; i < sq; i++)
                for (int sp = 0; sp < splits; sp++) {
                    const uint16_t *qi = (const uint16_t *)(uintptr_t)p->q + b * p->q_batch_stride +
                                         i * p->q_row_stride + h * p->q_head_stride;
                    const uint64_t r = ((uint64_t)b * (uint64_t)p->heads_q + (uint64_t)h) * sq + i;
                    int lo = sp * per * f->bn, hi = (sp + 1) * per * f->bn - 1;
                    int last = f->causal ? i + len - sq : len - 1;
                    float mx = -INFINITY;
                    double sum = 0;
                    if (hi > last)
                        hi = last;
                    if (hi > len - 1)
                        hi = len - 1;
                    for (int j = lo; j <= hi; j++) {
                        const uint16_t *kj = decode_row(p, p->k, p->k_batch_stride, p->k_row_stride,
                                                        p->k_head_stride, b, j, h / g);
                        float dot = 0;
                        for (int d = 0; d < D; d++)
                            dot += fa_ex_from16(f->dtype, qi[d]) * fa_ex_from16(f->dtype, kj[d]);
                        s[j] = dot;
                        if (dot > mx)
                            mx = dot;
                    }
                    for (int d = 0; d < D; d++)
                        acc[d] = 0;
                    for (int j = lo; j <= hi; j++) {
                        const uint16_t *vj = decode_row(p, p->v, p->v_batch_stride, p->v_row_stride,
                                                        p->v_head_stride, b, j, h / g);
                        double e = exp2((double)(s[j] - mx) * p->softmax_scale_log2);
                        sum += e;
                        for (int d = 0; d < D; d++)
                            acc[d] += e * fa_ex_from16(f->dtype, vj[d]);
                    }
                    const int seen = hi >= lo;
                    const float lse = seen ? (float)(mx * p->softmax_scale + log(sum)) : -INFINITY;
                    if (splits == 1) {
                        uint16_t *oi = (uint16_t *)(uintptr_t)p->o + b * p->o_batch_stride +
                                       i * p->o_row_stride + h * p->o_head_stride;
                        for (int d = 0; d < D; d++)
                            oi[d] = fa_ex_to16(f->dtype, seen ? (float)(acc[d] / sum) : 0.0f);
                        ((float *)(uintptr_t)
                             p->lse)[b * p->lse_batch_stride + h * p->lse_head_stride + i] = lse;
                    } else {
                        float *po = scratch + FA_DECODE_SCRATCH_HEADER / 4 + (sp * R + r) * D;
                        for (int d = 0; d < D; d++)
                            po[d] = seen ? (float)(acc[d] / sum) : 0.0f;
                        scratch[FA_DECODE_SCRATCH_HEADER / 4 + (uint64_t)splits * R * D + sp * R +
                                r] = lse;
                    }
                }
    }
    free(s);
    free(acc);
}

/* The combine kernel: O and LSE of every row from the splits' partials, weighted by LSE. */
static void decode_combine(const fake_func *f, const fa_decode_args *a)
{
    const fa_fwd_params *p = &a->p;
    const int D = f->hd, sq = p->seqlen_q;
    const uint64_t R = (uint64_t)p->batch * (uint64_t)p->heads_q * (uint64_t)sq;
    const float *scratch = (const float *)(uintptr_t)a->scratch;
    const int splits = *(const int32_t *)scratch;
    const float *plse = scratch + FA_DECODE_SCRATCH_HEADER / 4 + (uint64_t)splits * R * D;
    for (int b = 0; b < p->batch; b++)
        for (int h = 0; h < p->heads_q; h++)
            for (int i = 0; i < sq; i++) {
                const uint64_t r = ((uint64_t)b * (uint64_t)p->heads_q + (uint64_t)h) * sq + i;
                uint16_t *oi = (uint16_t *)(uintptr_t)p->o + b * p->o_batch_stride +
                               i * p->o_row_stride + h * p->o_head_stride;
                float mx = -INFINITY;
                double w = 0;
                for (int sp = 0; sp < splits; sp++)
                    if (plse[sp * R + r] > mx)
                        mx = plse[sp * R + r];
                for (int d = 0; d < D; d++) {
                    double o = 0;
                    w = 0;
                    for (int sp = 0; sp < splits && mx > -INFINITY; sp++) {
                        double e = exp((double)plse[sp * R + r] - mx);
                        w += e;
                        o += e * scratch[FA_DECODE_SCRATCH_HEADER / 4 + (sp * R + r) * D + d];
                    }
                    oi[d] = fa_ex_to16(f->dtype, w > 0 ? (float)(o / w) : 0.0f);
                }
                ((float *)(uintptr_t)p->lse)[b * p->lse_batch_stride + h * p->lse_head_stride + i] =
                    w > 0 ? (float)(mx + log(w)) : -INFINITY;
            }
}

/* A decode launch: geometry by the plan, then the kernel on the CPU. */
static CUresult launch_decode(const fake_func *f, unsigned gx, unsigned gy, unsigned gz,
                              unsigned bx, unsigned by, unsigned bz, unsigned smem,
                              const fa_decode_args *a)
{
    const fa_fwd_params *p = &a->p;
    const int32_t *lens = (const int32_t *)(uintptr_t)p->seqused_k;
    int ok = p->head_dim == f->hd && p->heads_kv > 0 && p->heads_q % p->heads_kv == 0 &&
             fabsf(p->softmax_scale_log2 - p->softmax_scale * 1.44269504f) <= 1e-6f && gz == 1 &&
             by == 1 && bz == 1 && (p->page_size == 0 || p->block_table);
    for (int b = 0; ok && lens && b < p->batch; b++)
        ok = lens[b] >= 0 && lens[b] <= p->seqlen_k;
    if (ok && f->decode == 1) {
        const unsigned n_blocks = (unsigned)((p->seqlen_k + f->bn - 1) / f->bn);
        ok = gx == (unsigned)(fa_plan_splitkv_mblocks(p->heads_q, p->heads_kv, p->seqlen_q, f->bm) *
                              p->batch * p->heads_kv) &&
             gy >= 1 && (gy == 1 || gy <= n_blocks) && bx == fa_plan_splitkv_threads(f->warps) &&
             smem == fa_plan_splitkv_smem(f->hd, f->bm, f->bn, f->warps, f->stages) &&
             (smem <= 49152 || (int)smem <= f->max_dynamic_smem) && (gy == 1 || a->scratch);
    } else if (ok) {
        const uint64_t rows = (uint64_t)p->batch * (uint64_t)p->heads_q * (uint64_t)p->seqlen_q;
        ok = gx == (unsigned)((rows + FA_DECODE_COMBINE_ROWS - 1) / FA_DECODE_COMBINE_ROWS) &&
             gy == 1 && bx == 32 * FA_DECODE_COMBINE_ROWS && smem == 0 && a->scratch;
    }
    if (!ok) {
        fprintf(stderr,
                "fake driver: launch of decode %s hd%d m%dn%dw%ds%d: grid (%u,%u,%u) block "
                "(%u,%u,%u) smem %u (attribute %d) scratch %s: not the plan's\n",
                f->decode == 1 ? "split" : "combine", f->hd, f->bm, f->bn, f->warps, f->stages, gx,
                gy, gz, bx, by, bz, smem, f->max_dynamic_smem, a->scratch ? "set" : "0");
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (f->decode == 1) {
        decode_split(f, a, (int)gy);
        /* fused (fa_plan_splitkv_fused): the last split of each group merges, here all at
           once; only with the plan's rule, so a launcher that sets the flag wrongly is seen */
        if (gy > 1 && a->fused) {
            if (!fa_plan_splitkv_fused(1, (int)gy, p->batch, p->heads_q, p->heads_kv, p->seqlen_q,
                                       f->bm)) {
                fprintf(stderr, "fake driver: fused decode with %u CTAs: more than %d\n", gx,
                        FA_DECODE_FUSED_GROUPS);
                return CUDA_ERROR_INVALID_VALUE;
            }
            decode_combine(f, a);
        }
    } else {
        decode_combine(f, a);
    }
    return CUDA_SUCCESS;
}

static const fake_func *last_launched; /* the kernel the stream ran (or recorded) last */

/* Run f now on its one argument arg: geometry checked, then the kernel on the CPU. */
static CUresult launch_now(const fake_func *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                           unsigned by, unsigned bz, unsigned smem, const void *arg)
{
    const fa_fwd_params *p;
    unsigned want;
    if (f->decode)
        return launch_decode(f, gx, gy, gz, bx, by, bz, smem, (const fa_decode_args *)arg);
    if (f->sm90a)
        return launch_sm90a(f, gx, gy, gz, bx, by, bz, smem, (const unsigned char *)arg);
    p = (const fa_fwd_params *)arg;
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
    attention(f, p, (int64_t)(p->heads_q / p->heads_kv) * p->q_head_stride);
    return CUDA_SUCCESS;
}

static CUresult record_launch(const fake_func *f, unsigned gx, unsigned gy, unsigned gz,
                              unsigned bx, unsigned by, unsigned bz, unsigned smem,
                              const void *arg);

CUresult cuLaunchKernel(CUfunction fn, unsigned int gx, unsigned int gy, unsigned int gz,
                        unsigned int bx, unsigned int by, unsigned int bz, unsigned int smem,
                        CUstream stream, void **params, void **extra)
{
    const fake_func *f = (const fake_func *)fn;
    if (!f || !f->used || !params || !params[0] || extra) {
        fprintf(stderr, "fake driver: cuLaunchKernel: bad function or arguments\n");
        return CUDA_ERROR_INVALID_VALUE;
    }
    last_launched = f;
    if (capture_stream && stream == capture_stream)
        return record_launch(f, gx, gy, gz, bx, by, bz, smem, params[0]);
    if (capture_stream) { /* the capture's work would not be ordered with this launch */
        fprintf(stderr, "fake driver: a launch on another stream during a capture\n");
        capture_invalidated = 1;
        return CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
    }
    return launch_now(f, gx, gy, gz, bx, by, bz, smem, params[0]);
}

/* A programmatic dependent launch: only a decode combine kernel right after a split kernel
 * (the one plan that asks for it) on a cc >= 90 device, with that one attribute; then it runs as
 * cuLaunchKernel. Anything else is refused, so a launcher that asks where it should not fails
 * its test. */
CUresult cuLaunchKernelEx(const CUlaunchConfig *c, CUfunction fn, void **params, void **extra)
{
    const fake_func *f = (const fake_func *)fn;
    if (!c || !f || !f->used || c->numAttrs != 1 || !c->attrs ||
        c->attrs[0].id != CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION ||
        c->attrs[0].value.programmaticStreamSerializationAllowed != 1 || fake_cc() < 90 ||
        f->decode != 2 || !last_launched || last_launched->decode != 1) {
        fprintf(stderr, "fake driver: cuLaunchKernelEx: only a decode combine after its split "
                        "kernel, programmatic stream serialization, cc >= 90\n");
        return CUDA_ERROR_INVALID_VALUE;
    }
    return cuLaunchKernel(fn, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY,
                          c->blockDimZ, c->sharedMemBytes, c->hStream, params, extra);
}

/* ---- streams and CUDA graphs -------------------------------------------------------------- */

/* A recorded launch: the function, its geometry and a copy of its one argument (the argument's
 * size by kernel kind), as the real driver copies kernel parameters at capture. */
typedef struct fake_node {
    const fake_func *f;
    unsigned g[3], b[3], smem;
    unsigned char arg[FA_SM90A_ARGS_BYTES > sizeof(fa_decode_args) ? FA_SM90A_ARGS_BYTES
                                                                   : sizeof(fa_decode_args)];
} fake_node;

#define MAX_NODES 16
typedef struct fake_graph {
    fake_node nodes[MAX_NODES];
    int n;
} fake_graph;

static fake_graph capture_graph; /* what the open capture has recorded */
static int fake_stream_storage[8];

static CUresult record_launch(const fake_func *f, unsigned gx, unsigned gy, unsigned gz,
                              unsigned bx, unsigned by, unsigned bz, unsigned smem, const void *arg)
{
    fake_node *n;
    size_t bytes = f->decode  ? sizeof(fa_decode_args)
                   : f->sm90a ? (size_t)FA_SM90A_ARGS_BYTES
                              : sizeof(fa_fwd_params);
    if (capture_graph.n == MAX_NODES) {
        fprintf(stderr, "fake driver: more than %d launches in one capture\n", MAX_NODES);
        capture_invalidated = 1;
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    n = &capture_graph.nodes[capture_graph.n++];
    n->f = f;
    n->g[0] = gx, n->g[1] = gy, n->g[2] = gz, n->b[0] = bx, n->b[1] = by, n->b[2] = bz;
    n->smem = smem;
    memcpy(n->arg, arg, bytes);
    return CUDA_SUCCESS;
}

CUresult cuStreamCreate(CUstream *phStream, unsigned int flags)
{
    (void)flags;
    for (int i = 0; i < 8; i++)
        if (!fake_stream_storage[i]) {
            fake_stream_storage[i] = 1;
            *phStream = (CUstream)&fake_stream_storage[i];
            return CUDA_SUCCESS;
        }
    return CUDA_ERROR_OUT_OF_MEMORY;
}

CUresult cuStreamDestroy(CUstream hStream)
{
    if (!hStream || hStream == capture_stream)
        return CUDA_ERROR_INVALID_HANDLE;
    *(int *)hStream = 0;
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream hStream)
{
    if (hStream && hStream == capture_stream &&
        refused_in_capture("cuStreamSynchronize on the capturing stream"))
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    return CUDA_SUCCESS; /* every launch ran when it was made */
}

/* The legacy NULL stream cannot be captured; one capture at a time. */
CUresult cuStreamBeginCapture(CUstream hStream, CUstreamCaptureMode mode)
{
    (void)mode;
    if (!hStream || capture_stream) {
        fprintf(stderr, "fake driver: cuStreamBeginCapture: %s\n",
                hStream ? "a capture is already open" : "the NULL stream cannot be captured");
        return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    }
    capture_stream = hStream;
    capture_invalidated = 0;
    capture_graph.n = 0;
    return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream hStream, CUgraph *phGraph)
{
    fake_graph *g;
    if (!hStream || hStream != capture_stream)
        return CUDA_ERROR_ILLEGAL_STATE;
    capture_stream = NULL;
    *phGraph = NULL;
    if (capture_invalidated)
        return CUDA_ERROR_STREAM_CAPTURE_INVALIDATED;
    if (!(g = malloc(sizeof *g)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    *g = capture_graph;
    *phGraph = (CUgraph)g;
    return CUDA_SUCCESS;
}

CUresult cuGraphInstantiate(CUgraphExec *phGraphExec, CUgraph hGraph, unsigned long long flags)
{
    fake_graph *e;
    (void)flags;
    if (!hGraph)
        return CUDA_ERROR_INVALID_VALUE;
    if (!(e = malloc(sizeof *e)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    *e = *(const fake_graph *)hGraph;
    *phGraphExec = (CUgraphExec)e;
    return CUDA_SUCCESS;
}

/* The recorded launches in order, on the buffers as they are now. */
CUresult cuGraphLaunch(CUgraphExec hGraphExec, CUstream hStream)
{
    const fake_graph *e = (const fake_graph *)hGraphExec;
    if (!e || capture_stream)
        return capture_stream ? CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED : CUDA_ERROR_INVALID_VALUE;
    (void)hStream;
    for (int i = 0; i < e->n; i++) {
        const fake_node *n = &e->nodes[i];
        CUresult r =
            launch_now(n->f, n->g[0], n->g[1], n->g[2], n->b[0], n->b[1], n->b[2], n->smem, n->arg);
        if (r != CUDA_SUCCESS)
            return r;
    }
    return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec hGraphExec)
{
    free(hGraphExec);
    return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph hGraph)
{
    free(hGraph);
    return CUDA_SUCCESS;
}
