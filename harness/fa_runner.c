/*
 * This file implements the GPU side of the harness (see fa_runner.h): context and modules,
 * inputs, the fp32 reference and the eager baseline, the poisoned-output check with
 * FlashAttention's criterion, the timing protocol and the memory accounting.
 *
 * Order of a job, and why:
 *   1. inputs filled from a fresh seed (replayable: the seed is recorded);
 *   2. the fp32 reference, then the eager baseline (its outputs poisoned first): the eager
 *      errors are the criterion's yardstick, so they are measured on these very inputs;
 *   3. the variant: outputs poisoned, one launch, synchronise (a fault surfaces here and is
 *      classified before anything else touches the context), compare;
 *   4. only a variant that passed is timed; the eager baseline is timed when asked.
 * Memory: each method's own allocations are tracked and the free-memory delta around
 * allocating and running it is measured; the larger wins unless the difference is within the
 * driver's 2 MiB allocation granularity, where the exact tracked size is the honest figure.
 */
#include "fa_runner.h"
#include "fa_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fa_driver.h"
#include "fa_module_cache.h"

/* Mirrors of templates/fa_reference.cuh (checked against the module when it is loaded). */
#define FA_CMP_MAX_ABS 0
#define FA_CMP_NONFINITE 1
#define FA_CMP_POISON 2
#define FA_CMP_MASK 3
#define FA_CMP_SUM_SQ_DIFF 4
#define FA_CMP_SUM_SQ_REF 5
#define FA_CMP_SLOTS 8
#define FA_REF_CONFIG_SLOTS 8

typedef struct fa_softmax_args {
    uint64_t s, p, lse;
    int64_t lse_head_stride;
    int32_t sq, sk, ld;
    int32_t n_rows;
    int32_t causal;
    int32_t pad;
} fa_softmax_args;
#define FA_SOFTMAX_ARGS_SIZE 56
_Static_assert(sizeof(fa_softmax_args) == FA_SOFTMAX_ARGS_SIZE, "fa_softmax_args layout drifted");

/* The eager softmax instances of the helper module, in the order the picker tries them. */
#define FA_SOFTMAX_INSTANCES 7
static const int softmax_tpr[FA_SOFTMAX_INSTANCES] = {32, 64, 128, 256, 512, 512, 512};
static const int softmax_vpt[FA_SOFTMAX_INSTANCES] = {4, 4, 4, 4, 4, 8, 0};

#define FA_EV_PAIRS FA_RETIME_MAX
#define FA_POISON16 0xFFFFu
#define FA_POISON32 0xFFFFFFFFu
#define FA_MIB (1024.0 * 1024.0)
#define FA_GIB (1024.0 * 1024.0 * 1024.0)
/* cuMemGetInfo moves in pages of this size; smaller differences are allocator noise. */
#define FA_MEM_GRANULE (2 << 20)

typedef struct helper_mod {
    int loaded;
    CUmodule mod;
    CUfunction ref, fill, cmp_o, cmp_lse, flush;
    CUfunction softmax[FA_SOFTMAX_INSTANCES];
    int ref_smem, ref_threads, ref_bm;
} helper_mod;

struct fa_runner {
    fa_cuda *cu;
    fa_cublas *bl;
    cublasHandle_t blas;
    char eager_why[256];
    CUdevice dev;
    CUcontext ctx;
    int ctx_retained;
    CUstream stream;
    CUevent ev[2 * FA_EV_PAIRS];
    CUdeviceptr flush_buf;
    size_t flush_bytes;
    unsigned flush_count;
    CUdeviceptr workspace;
    size_t workspace_bytes;
    CUdeviceptr cmp;
    fa_device_info info;
    fa_runner_opts opts;
    helper_mod helpers[2][8];
    int poisoned;
    uint64_t seed_counter;
    fa_module_cache modules;      /* variants loaded by earlier jobs (fa_module_cache.h) */
    double last_busy_s;           /* fa_now_s() when the GPU last finished work for us; 0: never */
    struct cached_inputs *inputs; /* FA_INPUT_CACHE_SLOTS, allocated on first use */
    CUdeviceptr eager_s, eager_p; /* the eager baseline's S and P, kept across jobs: */
    size_t eager_cap;             /* allocating GiBs per job cost ~0.1 s (bytes each) */
    unsigned long long input_tick;
};
_Static_assert(FA_MODULE_CACHE_SLOTS > FA_RETIME_MAX, "a re-timing pins FA_RETIME_MAX modules");

static void inputs_free_all(fa_runner *r);

static void eager_scratch_release(fa_runner *r)
{
    if (!r->poisoned) {
        if (r->eager_s)
            r->cu->cuMemFree(r->eager_s);
        if (r->eager_p)
            r->cu->cuMemFree(r->eager_p);
    }
    r->eager_s = r->eager_p = 0;
    r->eager_cap = 0;
}

/* ---- device facts ---------------------------------------------------------------------- */

static fa_status query_info(const fa_cuda *cu, CUdevice dev, int ordinal, fa_device_info *info,
                            fa_err *err)
{
    memset(info, 0, sizeof *info);
    info->ordinal = ordinal;
    info->driver_version = cu->driver_version;
    fa_status st = FA_CU(cu, err, cu->cuDeviceGetName(info->name, (int)sizeof info->name, dev));
    if (st != FA_OK)
        return st;
    int major = 0, minor = 0;
    struct {
        int *dst;
        CUdevice_attribute a;
    } attrs[] = {
        {&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR},
        {&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR},
        {&info->sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT},
        {&info->smem_per_block_optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN},
        {&info->smem_per_sm, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR},
        {&info->l2_bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE},
        {&info->clock_khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE},
        {&info->mem_clock_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE},
        {&info->mem_bus_bits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH},
    };
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        /* Attributes a driver no longer reports (clocks, on some) read as 0, not an error. */
        if (cu->cuDeviceGetAttribute(attrs[i].dst, attrs[i].a, dev) != CUDA_SUCCESS)
            *attrs[i].dst = 0;
    }
    info->cc = major * 10 + minor;
    size_t total = 0;
    st = FA_CU(cu, err, cu->cuDeviceTotalMem(&total, dev));
    info->total_mem = (int64_t)total;
    return st;
}

/* cuInit with a message that says "no GPU" rather than a raw error code. */
static fa_status init_driver(const fa_cuda *cu, fa_err *err)
{
    CUresult e = cu->cuInit(0);
    if (e == CUDA_SUCCESS)
        return FA_OK;
    char desc[256];
    fa_cuda_describe(cu, e, desc, sizeof desc);
    if (e == CUDA_ERROR_NO_DEVICE || e == CUDA_ERROR_STUB_LIBRARY ||
        e == CUDA_ERROR_SYSTEM_DRIVER_MISMATCH || e == CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE ||
        e == CUDA_ERROR_NOT_PERMITTED || e == CUDA_ERROR_OPERATING_SYSTEM)
        return FA_ERR(err, FA_NO_DEVICE, "no usable GPU (cuInit: %s)", desc);
    return FA_ERR(err, FA_NO_DEVICE, "CUDA driver failed to initialise (cuInit: %s)", desc);
}

fa_status fa_harness_devices(fa_device_info *out, int max, int *n, int *driver_version, fa_err *err)
{
    fa_cuda *cu = NULL;
    fa_status st = fa_cuda_load(&cu, err);
    if (st != FA_OK)
        return st;
    if (driver_version)
        *driver_version = cu->driver_version;
    st = init_driver(cu, err);
    int count = 0;
    if (st == FA_OK)
        st = FA_CU(cu, err, cu->cuDeviceGetCount(&count));
    if (st == FA_OK && count == 0)
        st = FA_ERR(err, FA_NO_DEVICE, "no GPU (the CUDA driver sees no device)");
    for (int i = 0; st == FA_OK && i < count && i < max; i++) {
        CUdevice dev;
        st = FA_CU(cu, err, cu->cuDeviceGet(&dev, i));
        if (st == FA_OK)
            st = query_info(cu, dev, i, &out[i], err);
    }
    if (st == FA_OK)
        *n = count < max ? count : max;
    fa_cuda_free(cu);
    return st;
}

/* ---- runner lifecycle ------------------------------------------------------------------ */

static fa_status dalloc(fa_runner *r, CUdeviceptr *p, size_t bytes, const char *what, fa_err *err)
{
    *p = 0;
    CUresult e = r->cu->cuMemAlloc(p, bytes > 0 ? bytes : 256);
    if (e == CUDA_ERROR_OUT_OF_MEMORY) {
        *p = 0;
        /* A problem this device cannot hold is a result for this device, not a bug. */
        return FA_ERR(err, FA_UNSUPPORTED, "out of device memory allocating %s (%.2f GiB)", what,
                      (double)bytes / FA_GIB);
    }
    if (e != CUDA_SUCCESS)
        *p = 0;
    return fa_cuda_check(r->cu, e, "cuMemAlloc", __FILE__, __LINE__, err);
}

static void dfree(fa_runner *r, CUdeviceptr *p)
{
    if (*p)
        r->cu->cuMemFree(*p);
    *p = 0;
}

/* Truncating copy: messages are cut, never overflow (snprintf "%s" trips -Wformat-truncation). */
static void copy_msg(char *dst, size_t n, const char *prefix, const char *src)
{
    size_t a = strlen(prefix), b = strlen(src);
    if (a > n - 1)
        a = n - 1;
    memcpy(dst, prefix, a);
    if (b > n - 1 - a)
        b = n - 1 - a;
    memcpy(dst + a, src, b);
    dst[a + b] = 0;
}

static void setup_cublas(fa_runner *r)
{
    fa_err e;
    fa_err_clear(&e);
    if (fa_cublas_load(&r->bl, &e) != FA_OK) {
        copy_msg(r->eager_why, sizeof r->eager_why, "", e.msg);
        return;
    }
    if (FA_CUBLAS(&e, r->bl->cublasCreate(&r->blas)) != FA_OK ||
        FA_CUBLAS(&e, r->bl->cublasSetStream(r->blas, (cudaStream_t)r->stream)) != FA_OK ||
        dalloc(r, &r->workspace, r->workspace_bytes, "the cuBLAS workspace", &e) != FA_OK ||
        FA_CUBLAS(&e, r->bl->cublasSetWorkspace(r->blas, (void *)(uintptr_t)r->workspace,
                                                r->workspace_bytes)) != FA_OK) {
        copy_msg(r->eager_why, sizeof r->eager_why, "cuBLAS unusable: ", e.msg);
        return;
    }
}

fa_status fa_runner_new(int ordinal, const fa_runner_opts *opts, fa_runner **out, fa_err *err)
{
    fa_runner *r = calloc(1, sizeof *r);
    if (!r)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    if (opts)
        r->opts = *opts;
    r->workspace_bytes =
        r->opts.cublas_workspace_bytes > 0 ? (size_t)r->opts.cublas_workspace_bytes : 32u << 20;
    fa_status st = fa_cuda_load(&r->cu, err);
    if (st == FA_OK)
        st = init_driver(r->cu, err);
    int count = 0;
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuDeviceGetCount(&count));
    if (st == FA_OK && (ordinal < 0 || ordinal >= count))
        st = count == 0
                 ? FA_ERR(err, FA_NO_DEVICE, "no GPU (the CUDA driver sees no device)")
                 : FA_ERR(err, FA_NO_DEVICE, "no GPU %d (devices are 0..%d)", ordinal, count - 1);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuDeviceGet(&r->dev, ordinal));
    if (st == FA_OK)
        st = query_info(r->cu, r->dev, ordinal, &r->info, err);
    /* The primary context, not a private one: cuBLAS (runtime API) binds to it. */
    if (st == FA_OK) {
        st = FA_CU(r->cu, err, r->cu->cuDevicePrimaryCtxRetain(&r->ctx, r->dev));
        r->ctx_retained = st == FA_OK;
    }
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuCtxSetCurrent(r->ctx));
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuStreamCreate(&r->stream, CU_STREAM_NON_BLOCKING));
    for (int i = 0; st == FA_OK && i < 2 * FA_EV_PAIRS; i++)
        st = FA_CU(r->cu, err, r->cu->cuEventCreate(&r->ev[i], CU_EVENT_DEFAULT));
    if (st == FA_OK) {
        /* Twice the L2 (at least 64 MiB if the driver does not say): written between timed
         * repetitions so none starts with the previous one's data cached. */
        r->flush_bytes = r->info.l2_bytes > 0 ? 2 * (size_t)r->info.l2_bytes : 64u << 20;
        r->flush_bytes = (r->flush_bytes + 255) & ~(size_t)255;
        st = dalloc(r, &r->flush_buf, r->flush_bytes, "the L2 flush buffer", err);
    }
    if (st == FA_OK)
        st = dalloc(r, &r->cmp, FA_CMP_SLOTS * sizeof(uint64_t), "comparison slots", err);
    if (st != FA_OK) {
        fa_runner_free(r);
        return st == FA_UNSUPPORTED ? FA_CUDA_ERROR : st;
    }
    setup_cublas(r);
    r->seed_counter = fa_mix64((uint64_t)getpid() ^ (uint64_t)(fa_now_s() * 1e9));
    *out = r;
    return FA_OK;
}

void fa_runner_free(fa_runner *r)
{
    if (!r)
        return;
    if (r->poisoned)
        fa_module_cache_forget(&r->modules);
    inputs_free_all(r);
    if (r->cu && r->ctx_retained)
        eager_scratch_release(r);
    if (r->cu && r->ctx_retained) {
        fa_module_cache_clear(&r->modules, r->cu);
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 8; i++)
                if (r->helpers[t][i].loaded)
                    r->cu->cuModuleUnload(r->helpers[t][i].mod);
        if (r->blas)
            r->bl->cublasDestroy(r->blas);
        dfree(r, &r->workspace);
        dfree(r, &r->flush_buf);
        dfree(r, &r->cmp);
        for (int i = 0; i < 2 * FA_EV_PAIRS; i++)
            if (r->ev[i])
                r->cu->cuEventDestroy(r->ev[i]);
        if (r->stream)
            r->cu->cuStreamDestroy(r->stream);
        r->cu->cuDevicePrimaryCtxRelease(r->dev);
    }
    fa_cublas_free(r->bl);
    fa_cuda_free(r->cu);
    free(r);
}

const fa_device_info *fa_runner_device(const fa_runner *r)
{
    return &r->info;
}

const char *fa_runner_eager_unavailable(const fa_runner *r)
{
    return r->eager_why[0] ? r->eager_why : NULL;
}

int fa_runner_poisoned(const fa_runner *r)
{
    return r->poisoned;
}

/* ---- helper modules -------------------------------------------------------------------- */

static helper_mod *helper_slot(fa_runner *r, fa_dtype t, int head_dim)
{
    for (int i = 0; i < fa_num_head_dims && i < 8; i++)
        if (fa_head_dims[i] == head_dim)
            return &r->helpers[t == FA_DTYPE_BF16][i];
    return NULL;
}

int fa_runner_has_helpers(const fa_runner *r, fa_dtype t, int head_dim)
{
    helper_mod *h = helper_slot((fa_runner *)r, t, head_dim);
    return h && h->loaded;
}

static fa_status launch(fa_runner *r, CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned threads, unsigned smem, void **args, const char *what, fa_err *err)
{
    CUresult e = r->cu->cuLaunchKernel(f, gx, gy, gz, threads, 1, 1, smem, r->stream, args, NULL);
    return fa_cuda_check(r->cu, e, what, __FILE__, __LINE__, err);
}

/* Grid-stride kernels: enough blocks to fill the device, never more than the work. */
static fa_status launch_1d(fa_runner *r, CUfunction f, int64_t n, void **args, const char *what,
                           fa_err *err)
{
    int64_t blocks = (n + 255) / 256,
            cap = (int64_t)(r->info.sm_count > 0 ? r->info.sm_count : 1) * 8;
    blocks = blocks < 1 ? 1 : blocks > cap ? cap : blocks;
    return launch(r, f, (unsigned)blocks, 1, 1, 256, 0, args, what, err);
}

static fa_status sync_stream(fa_runner *r, fa_err *err)
{
    return FA_CU(r->cu, err, r->cu->cuStreamSynchronize(r->stream));
}

fa_status fa_runner_load_helpers(fa_runner *r, fa_dtype t, int head_dim, const void *cubin,
                                 size_t n, fa_err *err)
{
    (void)n;
    helper_mod *h = helper_slot(r, t, head_dim);
    if (!h)
        return FA_ERR(err, FA_INVALID, "no helper module slot for head dim %d", head_dim);
    if (h->loaded)
        return FA_OK;
    helper_mod m;
    memset(&m, 0, sizeof m);
    fa_status st = FA_CU(r->cu, err, r->cu->cuModuleLoadData(&m.mod, cubin));
    if (st != FA_OK)
        return st;
    struct {
        CUfunction *f;
        const char *name;
    } fns[5 + FA_SOFTMAX_INSTANCES] = {
        {&m.ref, "fa_ref_attention"},   {&m.fill, "fa_ref_fill"},
        {&m.cmp_o, "fa_ref_compare_o"}, {&m.cmp_lse, "fa_ref_compare_lse"},
        {&m.flush, "fa_ref_l2_flush"},
    };
    char names[FA_SOFTMAX_INSTANCES][48];
    for (int i = 0; i < FA_SOFTMAX_INSTANCES; i++) {
        snprintf(names[i], sizeof names[i], "fa_eager_softmax_t%d_v%d", softmax_tpr[i],
                 softmax_vpt[i]);
        fns[5 + i].f = &m.softmax[i];
        fns[5 + i].name = names[i];
    }
    for (size_t i = 0; st == FA_OK && i < sizeof fns / sizeof fns[0]; i++) {
        CUresult e = r->cu->cuModuleGetFunction(fns[i].f, m.mod, fns[i].name);
        if (e != CUDA_SUCCESS)
            st = FA_ERR(err, FA_INVALID, "helper module lacks kernel '%s' (stale cubin cache?)",
                        fns[i].name);
    }
    /* Ask the module what it was compiled with; any disagreement is a build bug. */
    CUfunction getcfg;
    CUdeviceptr cfg_dev = 0;
    int cfg[FA_REF_CONFIG_SLOTS] = {0};
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuModuleGetFunction(&getcfg, m.mod, "fa_ref_get_config"));
    if (st == FA_OK)
        st = dalloc(r, &cfg_dev, sizeof cfg, "helper config", err);
    if (st == FA_OK) {
        void *args[] = {&cfg_dev};
        st = launch(r, getcfg, 1, 1, 1, 1, 0, args, "fa_ref_get_config", err);
    }
    if (st == FA_OK)
        st = sync_stream(r, err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyDtoH(cfg, cfg_dev, sizeof cfg));
    dfree(r, &cfg_dev);
    if (st == FA_OK && (cfg[0] != FA_FWD_PARAMS_SIZE || cfg[4] != FA_SOFTMAX_ARGS_SIZE ||
                        cfg[5] != head_dim || cfg[6] != 2))
        st = FA_ERR(err, FA_INVALID,
                    "helper module disagrees with this build: params %d bytes (want %d), "
                    "softmax args %d (want %d), head dim %d (want %d), element %d bytes",
                    cfg[0], FA_FWD_PARAMS_SIZE, cfg[4], FA_SOFTMAX_ARGS_SIZE, cfg[5], head_dim,
                    cfg[6]);
    if (st == FA_OK) {
        m.ref_smem = cfg[1];
        m.ref_threads = cfg[2];
        m.ref_bm = cfg[3];
        if (m.ref_smem > r->info.smem_per_block_optin)
            st = FA_ERR(err, FA_UNSUPPORTED,
                        "the fp32 reference needs %d bytes of shared memory at head dim %d; "
                        "this GPU allows %d",
                        m.ref_smem, head_dim, r->info.smem_per_block_optin);
    }
    if (st == FA_OK)
        st = FA_CU(r->cu, err,
                   r->cu->cuFuncSetAttribute(m.ref, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                             m.ref_smem));
    if (st != FA_OK) {
        r->cu->cuModuleUnload(m.mod);
        return st;
    }
    m.loaded = 1;
    *h = m;
    return FA_OK;
}

/* ---- problem buffers ------------------------------------------------------------------- */

static int same_problem(const fa_problem *a, const fa_problem *b)
{
    char x[FA_PROBLEM_NAME_MAX], y[FA_PROBLEM_NAME_MAX];
    fa_problem_name(a, x, sizeof x);
    fa_problem_name(b, y, sizeof y);
    return strcmp(x, y) == 0 && a->seed == b->seed && fa_problem_scale(a) == fa_problem_scale(b);
}

typedef struct bufs {
    fa_tensors t;
    int have_t;
    CUdeviceptr q, k, v, o, o_ref, lse_ref, o_eager, lse_eager, cu_q, cu_k;
} bufs;

static void bufs_release(fa_runner *r, bufs *b)
{
    CUdeviceptr *all[] = {&b->q,       &b->k,       &b->v,         &b->o,    &b->o_ref,
                          &b->lse_ref, &b->o_eager, &b->lse_eager, &b->cu_q, &b->cu_k};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        dfree(r, all[i]);
    if (b->have_t)
        fa_tensors_release(&b->t);
    b->have_t = 0;
}

/* Q, K, V and the variant's O always; the fp32 references and the eager LSE for a check; the
 * eager O when the eager baseline runs. */
static fa_status bufs_alloc(fa_runner *r, const fa_problem *p, bufs *b, int with_refs,
                            int with_eager, fa_err *err)
{
    fa_status st = fa_tensors_init(&b->t, p, err);
    if (st != FA_OK)
        return st;
    b->have_t = 1;
    const fa_tensors *t = &b->t;
    const size_t e = 2; /* fp16 / bf16 */
    st = dalloc(r, &b->q, (size_t)t->q_elems * e, "Q", err);
    if (st == FA_OK)
        st = dalloc(r, &b->k, (size_t)t->k_elems * e, "K", err);
    if (st == FA_OK)
        st = dalloc(r, &b->v, (size_t)t->k_elems * e, "V", err);
    if (st == FA_OK)
        st = dalloc(r, &b->o, (size_t)t->q_elems * e, "O", err);
    if (st == FA_OK && with_refs) {
        st = dalloc(r, &b->o_ref, (size_t)t->q_elems * 4, "the fp32 reference O", err);
        if (st == FA_OK)
            st = dalloc(r, &b->lse_ref, (size_t)t->lse_elems * 4, "the fp32 reference LSE", err);
        if (st == FA_OK)
            st = dalloc(r, &b->lse_eager, (size_t)t->lse_elems * 4, "the eager LSE", err);
    }
    if (st == FA_OK && with_eager)
        st = dalloc(r, &b->o_eager, (size_t)t->q_elems * e, "the eager O", err);
    if (st == FA_OK && p->varlen) {
        size_t bytes = (size_t)(p->batch + 1) * sizeof(int32_t);
        st = dalloc(r, &b->cu_q, bytes, "cu_seqlens_q", err);
        if (st == FA_OK)
            st = dalloc(r, &b->cu_k, bytes, "cu_seqlens_k", err);
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->cu_q, t->cu_q, bytes));
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(b->cu_k, t->cu_k, bytes));
    }
    return st;
}

static fa_status fill_inputs(fa_runner *r, const helper_mod *h, const bufs *b, uint64_t seed,
                             fa_err *err)
{
    CUdeviceptr ptrs[3] = {b->q, b->k, b->v};
    long long n[3] = {b->t.q_elems, b->t.k_elems, b->t.k_elems};
    fa_status st = FA_OK;
    for (int i = 0; st == FA_OK && i < 3; i++) {
        /* One stream per tensor, so Q, K and V are independent draws of the one seed. */
        unsigned long long s = fa_mix64(seed + 0x632BE59BD9B4E019ull * (uint64_t)(i + 1));
        void *args[] = {&ptrs[i], &n[i], &s};
        st = launch_1d(r, h->fill, n[i], args, "fa_ref_fill", err);
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
    if (r->poisoned) {
        if (c->b.have_t)
            fa_tensors_release(&c->b.t); /* device memory went with the context */
    } else {
        bufs_release(r, &c->b);
    }
    memset(c, 0, sizeof *c);
}

static void inputs_free_all(fa_runner *r)
{
    for (int i = 0; r->inputs && i < FA_INPUT_CACHE_SLOTS; i++)
        if (r->inputs[i].used)
            inputs_drop(r, &r->inputs[i]);
    free(r->inputs);
    r->inputs = NULL;
}

/* Evict least recently used entries other than keep until the cache holds at most budget
 * bytes (a quarter of the device: the timed kernels need the rest). */
static void inputs_trim(fa_runner *r, const cached_inputs *keep)
{
    const int64_t budget = r->info.total_mem > 0 ? r->info.total_mem / 4 : (int64_t)1 << 30;
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

/* The shared inputs of problem p (filled from seed on first use; *used_seed is the seed they
 * were drawn from). */
static fa_status inputs_for_timing(fa_runner *r, const helper_mod *h, const fa_problem *p,
                                   uint64_t seed, bufs **out, uint64_t *used_seed, fa_err *err)
{
    if (!r->inputs && !(r->inputs = calloc(FA_INPUT_CACHE_SLOTS, sizeof *r->inputs)))
        return FA_ERR(err, FA_NOMEM, "out of memory");
    cached_inputs *slot = NULL;
    for (int i = 0; i < FA_INPUT_CACHE_SLOTS; i++) {
        cached_inputs *c = &r->inputs[i];
        if (c->used && same_problem(&c->p, p)) {
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
    fa_status st = bufs_alloc(r, p, &slot->b, 0, 0, err);
    if (st == FA_UNSUPPORTED) { /* out of memory: give back everything cached, try once more */
        bufs_release(r, &slot->b);
        eager_scratch_release(r);
        for (int i = 0; i < FA_INPUT_CACHE_SLOTS; i++)
            if (r->inputs[i].used)
                inputs_drop(r, &r->inputs[i]);
        st = bufs_alloc(r, p, &slot->b, 0, 0, err);
    }
    if (st == FA_OK)
        st = fill_inputs(r, h, &slot->b, seed, err);
    if (st == FA_OK)
        st = sync_stream(r, err);
    if (st != FA_OK) {
        bufs_release(r, &slot->b);
        memset(slot, 0, sizeof *slot);
        return st;
    }
    slot->used = 1;
    slot->p = *p;
    slot->seed = seed;
    slot->bytes = 2 * (slot->b.t.q_elems + slot->b.t.k_elems) * 2;
    slot->tick = ++r->input_tick;
    inputs_trim(r, slot);
    *out = &slot->b;
    *used_seed = seed;
    return FA_OK;
}

static fa_status poison(fa_runner *r, CUdeviceptr o, int64_t o_elems, CUdeviceptr lse,
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

static fa_status run_reference(fa_runner *r, const helper_mod *h, const bufs *b,
                               const fa_problem *p, fa_err *err)
{
    fa_fwd_params a;
    fa_tensors_params(&b->t, p, b->q, b->k, b->v, b->o_ref, b->lse_ref, b->cu_q, b->cu_k, &a);
    int causal = p->causal;
    void *args[] = {&a, &causal};
    unsigned gx = (unsigned)((b->t.max_q + h->ref_bm - 1) / h->ref_bm);
    return launch(r, h->ref, gx, (unsigned)p->heads_q, (unsigned)p->batch, (unsigned)h->ref_threads,
                  (unsigned)h->ref_smem, args, "fa_ref_attention", err);
}

typedef struct cmp_result {
    double max_abs, rel_l2;
    int64_t nonfinite, poison, mask;
} cmp_result;

static fa_status compare(fa_runner *r, CUfunction f, CUdeviceptr x, CUdeviceptr ref, int64_t n,
                         cmp_result *out, fa_err *err)
{
    uint64_t slots[FA_CMP_SLOTS];
    fa_status st = FA_CU(r->cu, err, r->cu->cuMemsetD8Async(r->cmp, 0, sizeof slots, r->stream));
    long long nn = n;
    void *args[] = {&x, &ref, &nn, &r->cmp};
    if (st == FA_OK)
        st = launch_1d(r, f, n, args, "fa_ref_compare", err);
    if (st == FA_OK)
        st = sync_stream(r, err);
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

/* ---- the eager baseline ---------------------------------------------------------------- */

typedef struct eager_plan {
    int hc;     /* per chunk: (batch, query head) pairs (fixed length) or kv heads (varlen) */
    int64_t ld; /* row pitch of S and P, a multiple of 8 (16-byte rows for the softmax) */
    size_t chunk_bytes;
    CUdeviceptr s, p;
    int npairs;       /* fixed length: batch * heads_q */
    CUdeviceptr ptrs; /* fixed length: 6 arrays of npairs device pointers (K Q S V P O) */
} eager_plan;

enum { PTR_K, PTR_Q, PTR_S, PTR_V, PTR_P, PTR_O, PTR_ARRAYS };

/*
 * Chunking: S and P of one chunk must fit the budget (default half the free memory), so an
 * N = 16k problem runs where materialising every head at once would not fit. Fixed-length
 * problems batch over (batch, query head) pairs with pointer arrays -- one cuBLAS call per
 * GEMM per chunk whatever the layout, as a framework's single bmm would be (BSHD heads of
 * different batch entries are not one stride apart, so strided batching would need a call per
 * batch entry and go launch-bound on short sequences). Varlen problems loop over sequences
 * (their lengths differ) with strided batching over the heads of a chunk.
 */
static fa_status eager_plan_alloc(fa_runner *r, const bufs *b, const fa_problem *p, eager_plan *pl,
                                  fa_err *err)
{
    const fa_tensors *t = &b->t;
    pl->ld = ((int64_t)t->max_k + 7) / 8 * 8;
    const size_t per_head = (size_t)t->max_q * (size_t)pl->ld * 2;
    size_t budget = (size_t)r->opts.eager_budget_bytes;
    if (budget == 0) {
        size_t free_b = 0, total_b = 0;
        if (r->cu->cuMemGetInfo(&free_b, &total_b) != CUDA_SUCCESS)
            free_b = 0;
        budget = free_b / 2;
    }
    const int64_t units = p->varlen ? t->heads_kv : (int64_t)t->batch * t->heads_q;
    int64_t hc = (int64_t)(budget / (2 * per_head));
    pl->hc = (int)(hc < 1 ? 1 : hc > units ? units : hc);
    pl->chunk_bytes = per_head * (size_t)pl->hc;
    fa_status st = FA_OK;
    if (r->eager_cap < pl->chunk_bytes) { /* grow the kept S and P */
        eager_scratch_release(r);
        st = dalloc(r, &r->eager_s, pl->chunk_bytes, "the eager scores S", err);
        if (st == FA_OK)
            st = dalloc(r, &r->eager_p, pl->chunk_bytes, "the eager probabilities P", err);
        if (st != FA_OK) {
            eager_scratch_release(r);
            return st;
        }
        r->eager_cap = pl->chunk_bytes;
    }
    pl->s = r->eager_s;
    pl->p = r->eager_p;
    if (p->varlen)
        return st;

    pl->npairs = (int)units;
    const size_t n = (size_t)pl->npairs;
    uint64_t *host = malloc(PTR_ARRAYS * n * sizeof *host);
    if (!host)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    const int g = t->heads_q / t->heads_kv;
    for (int bi = 0, j = 0; bi < t->batch; bi++)
        for (int h = 0; h < t->heads_q; h++, j++) {
            const int64_t qo = bi * t->q_batch + h * t->q_head;
            const int64_t ko = bi * t->k_batch + (h / g) * t->k_head;
            const uint64_t slot = (uint64_t)(j % pl->hc) * per_head;
            host[PTR_K * n + j] = b->k + 2 * (uint64_t)ko;
            host[PTR_Q * n + j] = b->q + 2 * (uint64_t)qo;
            host[PTR_S * n + j] = pl->s + slot;
            host[PTR_V * n + j] = b->v + 2 * (uint64_t)ko;
            host[PTR_P * n + j] = pl->p + slot;
            host[PTR_O * n + j] = b->o_eager + 2 * (uint64_t)qo;
        }
    st = dalloc(r, &pl->ptrs, PTR_ARRAYS * n * sizeof *host, "eager pointer arrays", err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyHtoD(pl->ptrs, host, PTR_ARRAYS * n * sizeof *host));
    free(host);
    return st;
}

static int64_t eager_plan_bytes(const eager_plan *pl)
{
    return 2 * (int64_t)pl->chunk_bytes + (int64_t)pl->npairs * PTR_ARRAYS * 8;
}

/* S and P stay with the runner (r->eager_s/p); only the pointer arrays are the plan's. */
static void eager_plan_release(fa_runner *r, eager_plan *pl)
{
    pl->s = pl->p = 0;
    dfree(r, &pl->ptrs);
}

static int softmax_instance(int64_t ld)
{
    for (int i = 0; i < FA_SOFTMAX_INSTANCES - 1; i++)
        if ((int64_t)softmax_tpr[i] * softmax_vpt[i] * 8 >= ld)
            return i;
    return FA_SOFTMAX_INSTANCES - 1; /* streaming fallback */
}

/* The masked softmax over n_rows = heads * sq rows of the S chunk into P; the row LSE goes to
 * lse (fp32, heads lse_head_stride apart) when lse is not 0. */
static fa_status eager_softmax(fa_runner *r, const helper_mod *h, const eager_plan *pl, int heads,
                               int sq, int sk, int causal, CUdeviceptr lse, int64_t lse_head_stride,
                               fa_err *err)
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
    void *args[] = {&a};
    return launch(r, h->softmax[inst], (unsigned)((a.n_rows + rows_pb - 1) / rows_pb), 1, 1,
                  (unsigned)block, 0, args, "fa_eager_softmax", err);
}

/*
 * Eager attention as a framework runs it, into b->o_eager: S = scale * Q K^T (cuBLAS, input
 * dtype out, fp32 accumulate), masked softmax into P (input dtype), O = P V (cuBLAS). cuBLAS
 * is column-major, so row-major S (sq x sk) is computed as its transpose S^T = K Q^T with K
 * read transposed, and O^T = V^T P^T likewise; strides or pointers address heads in place for
 * BSHD and BHSD alike, and GQA maps query head h to kv head h / g without copying K or V.
 */
static fa_status eager_run(fa_runner *r, const helper_mod *h, const bufs *b, const fa_problem *p,
                           const eager_plan *pl, CUdeviceptr lse_out, fa_err *err)
{
    const fa_tensors *t = &b->t;
    const cudaDataType dt = p->dtype == FA_DTYPE_BF16 ? CUDA_R_16BF : CUDA_R_16F;
    const int g = t->heads_q / t->heads_kv, D = t->head_dim;
    const float alpha = fa_problem_scale(p), one = 1.0f, zero = 0.0f;
    fa_status st = FA_OK;
    if (!p->varlen) {
        const int sq = t->max_q, sk = t->max_k, ld = (int)pl->ld;
        const void *const *arr = (const void *const *)(uintptr_t)pl->ptrs;
        const size_t n = (size_t)pl->npairs;
        for (int c0 = 0; st == FA_OK && c0 < pl->npairs; c0 += pl->hc) {
            const int nb = pl->npairs - c0 < pl->hc ? pl->npairs - c0 : pl->hc;
            st = FA_CUBLAS(err, r->bl->cublasGemmBatchedEx(
                                    r->blas, CUBLAS_OP_T, CUBLAS_OP_N, sk, sq, D, &alpha,
                                    arr + PTR_K * n + c0, dt, (int)t->k_row, arr + PTR_Q * n + c0,
                                    dt, (int)t->q_row, &zero, (void *const *)(arr + PTR_S * n + c0),
                                    dt, ld, nb, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
            /* Pairs run (batch, head) in order, so their LSE rows are lse_head apart. */
            if (st == FA_OK)
                st = eager_softmax(r, h, pl, nb, sq, sk, p->causal,
                                   lse_out ? lse_out + 4 * (uint64_t)c0 * t->lse_head : 0,
                                   t->lse_head, err);
            if (st == FA_OK)
                st = FA_CUBLAS(err,
                               r->bl->cublasGemmBatchedEx(
                                   r->blas, CUBLAS_OP_N, CUBLAS_OP_N, D, sq, sk, &one,
                                   arr + PTR_V * n + c0, dt, (int)t->k_row, arr + PTR_P * n + c0,
                                   dt, ld, &zero, (void *const *)(arr + PTR_O * n + c0), dt,
                                   (int)t->q_row, nb, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
        }
        return st;
    }
    for (int bi = 0; st == FA_OK && bi < t->batch; bi++) {
        const int sq = t->lens_q[bi], sk = t->lens_k[bi];
        if (sq == 0 || sk == 0)
            continue;
        const int64_t q_off = (int64_t)t->cu_q[bi] * t->q_row;
        const int64_t k_off = (int64_t)t->cu_k[bi] * t->k_row;
        const int64_t l_off = (int64_t)t->cu_q[bi];
        const int64_t ld = (sk + 7) / 8 * 8;
        for (int rg = 0; st == FA_OK && rg < g; rg++) {
            for (int c0 = 0; st == FA_OK && c0 < t->heads_kv; c0 += pl->hc) {
                /* kv heads c0.. with query heads c * g + rg: one GQA group offset at a time */
                const int nh = t->heads_kv - c0 < pl->hc ? t->heads_kv - c0 : pl->hc;
                const int64_t qh = (int64_t)c0 * g + rg;
                const char *kp = (const char *)(uintptr_t)b->k + 2 * (k_off + c0 * t->k_head);
                const char *vp = (const char *)(uintptr_t)b->v + 2 * (k_off + c0 * t->k_head);
                const char *qp = (const char *)(uintptr_t)b->q + 2 * (q_off + qh * t->q_head);
                char *op = (char *)(uintptr_t)b->o_eager + 2 * (q_off + qh * t->q_head);
                st = FA_CUBLAS(err,
                               r->bl->cublasGemmStridedBatchedEx(
                                   r->blas, CUBLAS_OP_T, CUBLAS_OP_N, sk, sq, D, &alpha, kp, dt,
                                   (int)t->k_row, t->k_head, qp, dt, (int)t->q_row, g * t->q_head,
                                   &zero, (void *)(uintptr_t)pl->s, dt, (int)ld, (int64_t)sq * ld,
                                   nh, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
                if (st == FA_OK)
                    st = eager_softmax(r, h, pl, nh, sq, sk, p->causal,
                                       lse_out ? lse_out + 4 * (uint64_t)(l_off + qh * t->lse_head)
                                               : 0,
                                       g * t->lse_head, err);
                if (st == FA_OK)
                    st = FA_CUBLAS(err,
                                   r->bl->cublasGemmStridedBatchedEx(
                                       r->blas, CUBLAS_OP_N, CUBLAS_OP_N, D, sq, sk, &one, vp, dt,
                                       (int)t->k_row, t->k_head, (const void *)(uintptr_t)pl->p, dt,
                                       (int)ld, (int64_t)sq * ld, &zero, op, dt, (int)t->q_row,
                                       g * t->q_head, nh, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
            }
        }
    }
    return st;
}

/* ---- the variant ----------------------------------------------------------------------- */

typedef struct vkernel {
    CUfunction fn; /* from the module cache: stays loaded after the job */
    unsigned gx, gy, gz, threads, smem;
} vkernel;

static void set_result(fa_measurement *m, fa_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_result(fa_measurement *m, fa_status st, const char *fmt, ...)
{
    va_list ap;
    m->status = st;
    va_start(ap, fmt);
    vsnprintf(m->message, sizeof m->message, fmt, ap);
    va_end(ap);
}

/* Load the variant's cubin and check it can launch here; anything it cannot do is a result
 * (FA_UNSUPPORTED / FA_INVALID in m), returned as the status. */
static fa_status vkernel_load(fa_runner *r, const fa_job *job, const fa_tensors *t, vkernel *vk,
                              fa_measurement *m)
{
    const fa_variant *v = &job->variant;
    char desc[256];
    memset(vk, 0, sizeof *vk);
    vk->threads = (unsigned)fa_variant_threads(v);
    vk->smem = (unsigned)fa_variant_smem_bytes(v);
    vk->gx = (unsigned)((t->max_q + v->block_m - 1) / v->block_m);
    vk->gy = (unsigned)t->heads_q;
    vk->gz = (unsigned)t->batch;
    if (v->block_m < 1 || vk->threads < 32) {
        set_result(m, FA_INVALID, "variant has block_m %d and %u threads", v->block_m, vk->threads);
        return m->status;
    }
    if ((int)vk->smem > r->info.smem_per_block_optin) {
        set_result(m, FA_UNSUPPORTED, "needs %u bytes of shared memory; this GPU allows %d",
                   vk->smem, r->info.smem_per_block_optin);
        return m->status;
    }
    fa_module_entry *me = NULL;
    CUresult e = CUDA_SUCCESS;
    fa_module_cache_get(&r->modules, r->cu, job->cubin, job->cubin_size, job->symbol, &me, &e);
    if (e == CUDA_ERROR_NOT_FOUND) {
        set_result(m, FA_INVALID, "no kernel '%s' in the variant's cubin",
                   job->symbol ? job->symbol : "");
        return m->status;
    }
    if (e != CUDA_SUCCESS) {
        fa_cuda_describe(r->cu, e, desc, sizeof desc);
        set_result(m, FA_UNSUPPORTED, "cubin does not load on %s (sm_%d): %s", r->info.name,
                   r->info.cc, desc);
        return m->status;
    }
    vk->fn = me->fn;
    /* The params struct's size is asserted in C and CUDA at compile time; this checks the
     * kernel actually built is the one that agrees (a stale cache entry would not). */
    size_t off = 0, size = 0;
    if (r->cu->cuFuncGetParamInfo &&
        r->cu->cuFuncGetParamInfo(vk->fn, 0, &off, &size) == CUDA_SUCCESS &&
        size != FA_FWD_PARAMS_SIZE) {
        set_result(m, FA_INVALID,
                   "kernel's parameter is %zu bytes but fa_fwd_params is %d: templates and "
                   "harness disagree",
                   size, FA_FWD_PARAMS_SIZE);
        return m->status;
    }
    if (me->smem_set != vk->smem)
        e = r->cu->cuFuncSetAttribute(vk->fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                      (int)vk->smem);
    if (e != CUDA_SUCCESS) {
        fa_cuda_describe(r->cu, e, desc, sizeof desc);
        set_result(m, FA_UNSUPPORTED, "cannot allow %u bytes of dynamic shared memory: %s",
                   vk->smem, desc);
        return m->status;
    }
    me->smem_set = vk->smem;
    int max_threads = 0, regs = 0;
    r->cu->cuFuncGetAttribute(&max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, vk->fn);
    r->cu->cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, vk->fn);
    if (max_threads > 0 && (unsigned)max_threads < vk->threads) {
        set_result(m, FA_UNSUPPORTED, "%d registers per thread allow %d threads per CTA, not %u",
                   regs, max_threads, vk->threads);
        return m->status;
    }
    return FA_OK;
}

/* After a failed launch or synchronisation: is the context still usable? A sticky error
 * (illegal address, misaligned access, launch failure, trap) poisons it for good. */
static void classify(fa_runner *r, CUresult e, const char *when, fa_measurement *m)
{
    char desc[256];
    fa_cuda_describe(r->cu, e, desc, sizeof desc);
    if (r->cu->cuCtxSynchronize() != CUDA_SUCCESS) {
        r->poisoned = 1;
        set_result(m, FA_FAULT, "%s: %s", when, desc);
    } else if (e == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES || e == CUDA_ERROR_INVALID_VALUE ||
               e == CUDA_ERROR_NOT_SUPPORTED) {
        set_result(m, FA_UNSUPPORTED, "launch refused: %s", desc);
    } else {
        set_result(m, FA_FAULT, "%s: %s", when, desc);
    }
}

static CUresult launch_variant(fa_runner *r, const vkernel *vk, fa_fwd_params *a)
{
    void *args[] = {a};
    return r->cu->cuLaunchKernel(vk->fn, vk->gx, vk->gy, vk->gz, vk->threads, 1, 1, vk->smem,
                                 r->stream, args, NULL);
}

/* ---- timing ---------------------------------------------------------------------------- */

/* One repetition of the thing being timed, enqueued on the runner's stream. */
typedef fa_status (*rep_fn)(fa_runner *r, void *ctx, fa_err *err);

static fa_status flush_l2(fa_runner *r, const helper_mod *h, fa_err *err)
{
    long long n = (long long)(r->flush_bytes / 16);
    unsigned v = ++r->flush_count; /* a different value each time: nothing to elide */
    void *args[] = {&r->flush_buf, &n, &v};
    return launch_1d(r, h->flush, n, args, "fa_ref_l2_flush", err);
}

static fa_status event_ms(fa_runner *r, CUevent a, CUevent b, double *ms, fa_err *err)
{
    float f = 0;
    fa_status st = FA_CU(r->cu, err, r->cu->cuEventElapsedTime(&f, a, b));
    *ms = f;
    return st;
}

/* A GPU that finished work for us this recently still runs at its working clocks: a timing
 * then needs only warmup_reps launches, not warmup_ms of GPU time (fa_harness.h). */
#define FA_WARM_GAP_S 0.2
/* Racing (fa_timing_opts.abandon_ms): repetitions after which the median decides, and how far
 * above the bound a single repetition must be to decide alone. */
#define FA_ABANDON_REPS 3
#define FA_ABANDON_ONE_REP 1.25

/*
 * The timing protocol: warm-up (at least warmup_reps launches, and warmup_ms of GPU time
 * unless the GPU was busy for us within FA_WARM_GAP_S), then batches of repetitions, each
 * preceded by an L2 flush outside its event pair; after each batch the statistics decide:
 * stop once min_reps are in and the relative standard error is below target, or at max_reps,
 * or past max_seconds with at least 3 reps. With abandon_ms set, the first repetitions are
 * judged one at a time: one above FA_ABANDON_ONE_REP x abandon_ms, or a median of
 * FA_ABANDON_REPS above abandon_ms, ends the timing early (*abandoned = 1).
 */
static fa_status time_reps(fa_runner *r, const helper_mod *h, rep_fn fn, void *ctx,
                           const fa_timing_opts *o, fa_time_stats *st_out, int *abandoned,
                           fa_err *err)
{
    const double t0 = fa_now_s();
    const int gpu_warm = r->last_busy_s > 0 && t0 - r->last_busy_s < FA_WARM_GAP_S;
    const double warmup_ms = gpu_warm ? 0 : o->warmup_ms;
    fa_status st = FA_OK;
    double warm_ms = 0, ms = 0;
    int warm = 0;
    *abandoned = 0;
    while (st == FA_OK) {
        st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[0], r->stream));
        if (st == FA_OK)
            st = fn(r, ctx, err);
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[1], r->stream));
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventSynchronize(r->ev[1]));
        if (st == FA_OK)
            st = event_ms(r, r->ev[0], r->ev[1], &ms, err);
        warm_ms += ms;
        warm++;
        if (warm >= o->warmup_reps && warm_ms >= warmup_ms)
            break;
        if (warm >= 10000 || fa_now_s() - t0 > o->max_seconds)
            break;
    }
    if (st != FA_OK)
        return st;
    const double est = warm_ms / warm;
    /* Batches of about 20 ms between host synchronisations, within the event pool; while a
     * race can still end the timing, one repetition at a time. */
    int batch = est > 0 ? (int)(20.0 / est) : FA_EV_PAIRS;
    batch = batch < 1 ? 1 : batch > FA_EV_PAIRS ? FA_EV_PAIRS : batch;
    const int cap = o->max_reps > 0 ? o->max_reps : 1;
    double *x = malloc((size_t)cap * sizeof *x);
    if (!x)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    int n = 0;
    const double t1 = fa_now_s();
    fa_time_stats s;
    memset(&s, 0, sizeof s);
    while (st == FA_OK) {
        const int racing = o->abandon_ms > 0 && n < FA_ABANDON_REPS;
        int nb = racing ? 1 : batch;
        nb = nb < cap - n ? nb : cap - n;
        for (int i = 0; st == FA_OK && i < nb; i++) {
            if (!o->no_flush)
                st = flush_l2(r, h, err);
            if (st == FA_OK)
                st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[2 * i], r->stream));
            if (st == FA_OK)
                st = fn(r, ctx, err);
            if (st == FA_OK)
                st = FA_CU(r->cu, err, r->cu->cuEventRecord(r->ev[2 * i + 1], r->stream));
        }
        if (st == FA_OK)
            st = FA_CU(r->cu, err, r->cu->cuEventSynchronize(r->ev[2 * nb - 1]));
        for (int i = 0; st == FA_OK && i < nb; i++)
            st = event_ms(r, r->ev[2 * i], r->ev[2 * i + 1], &x[n++], err);
        if (st != FA_OK)
            break;
        fa_stats_compute(x, n, &s);
        if (racing && (s.min_ms > FA_ABANDON_ONE_REP * o->abandon_ms ||
                       (n >= FA_ABANDON_REPS && s.median_ms > o->abandon_ms))) {
            *abandoned = 1;
            break;
        }
        if (n >= o->min_reps && s.rse <= o->target_rse)
            break;
        if (n >= cap)
            break;
        if (fa_now_s() - t1 >= o->max_seconds && n >= 3)
            break;
    }
    free(x);
    if (st == FA_OK)
        *st_out = s;
    return st;
}

typedef struct variant_rep {
    const vkernel *vk;
    fa_fwd_params *params;
} variant_rep;

static fa_status variant_rep_fn(fa_runner *r, void *ctx, fa_err *err)
{
    variant_rep *c = ctx;
    return fa_cuda_check(r->cu, launch_variant(r, c->vk, c->params), "variant launch", __FILE__,
                         __LINE__, err);
}

typedef struct eager_rep {
    const helper_mod *h;
    const bufs *b;
    const fa_problem *p;
    const eager_plan *pl;
} eager_rep;

static fa_status eager_rep_fn(fa_runner *r, void *ctx, fa_err *err)
{
    eager_rep *c = ctx;
    return eager_run(r, c->h, c->b, c->p, c->pl, 0, err);
}

/* ---- a job ----------------------------------------------------------------------------- */

static int64_t pick_bytes(int64_t tracked, int64_t measured)
{
    return measured > tracked + FA_MEM_GRANULE ? measured : tracked;
}

static int64_t free_bytes(fa_runner *r)
{
    size_t f = 0, t = 0;
    if (r->cu->cuMemGetInfo(&f, &t) != CUDA_SUCCESS)
        return -1;
    return (int64_t)f;
}

static void fail(fa_measurement *m, fa_status st, const fa_err *e)
{
    set_result(m, st, "%s", e->msg[0] ? e->msg : fa_status_str(st));
}

/* FlashAttention's criterion (fa_harness.h); the first failing figure names the reason. */
static void apply_criterion(fa_measurement *m, const cmp_result *co, const cmp_result *cl,
                            double eager_lse_err)
{
    const double o_lim = 2 * m->eager_max_abs_err + 1e-5, l_lim = 2 * eager_lse_err + 1e-5;
    if (co->poison || cl->poison)
        set_result(m, FA_MISMATCH, "%lld of O and %lld of LSE never written (still poison)",
                   (long long)co->poison, (long long)cl->poison);
    else if (co->nonfinite || cl->nonfinite)
        set_result(m, FA_MISMATCH, "%lld NaN/Inf in O, %lld in LSE", (long long)co->nonfinite,
                   (long long)cl->nonfinite);
    else if (cl->mask)
        set_result(m, FA_MISMATCH,
                   "%lld rows disagree with the reference on seeing no key (LSE -inf); check "
                   "the mask (causal is bottom-right aligned)",
                   (long long)cl->mask);
    else if (!(co->max_abs <= o_lim))
        set_result(m, FA_MISMATCH,
                   "max|O - O_ref32| = %.3g exceeds 2 x eager's %.3g + 1e-5 = %.3g (rel L2 %.3g)",
                   co->max_abs, m->eager_max_abs_err, o_lim, co->rel_l2);
    else if (!(cl->max_abs <= l_lim))
        set_result(m, FA_MISMATCH,
                   "max|LSE - LSE_ref32| = %.3g exceeds 2 x eager's %.3g + 1e-5 = %.3g",
                   cl->max_abs, eager_lse_err, l_lim);
}

static void apply_eager_sanity(fa_measurement *m, fa_dtype t, const cmp_result *co,
                               const cmp_result *cl)
{
    const double tol = fa_harness_eager_tolerance(t), ltol = fa_harness_eager_lse_tolerance(t);
    if (co->poison || cl->poison || co->nonfinite || cl->nonfinite || cl->mask)
        set_result(m, FA_MISMATCH,
                   "eager baseline: %lld/%lld unwritten O/LSE, %lld/%lld NaN/Inf, %lld LSE mask "
                   "errors",
                   (long long)co->poison, (long long)cl->poison, (long long)co->nonfinite,
                   (long long)cl->nonfinite, (long long)cl->mask);
    else if (!(co->rel_l2 <= tol))
        set_result(m, FA_MISMATCH, "eager baseline: rel L2 error %.3g exceeds %.3g (%s)",
                   co->rel_l2, tol, fa_dtype_name(t));
    else if (!(cl->max_abs <= ltol))
        set_result(m, FA_MISMATCH, "eager baseline: LSE error %.3g exceeds %.3g (%s)", cl->max_abs,
                   ltol, fa_dtype_name(t));
}

static void fill_timing(fa_measurement *m, const fa_time_stats *s, double flops)
{
    m->median_ms = s->median_ms;
    m->min_ms = s->min_ms;
    m->cv = s->cv;
    m->reps = s->reps;
    m->tflops = s->median_ms > 0 ? flops / (s->median_ms * 1e-3) / 1e12 : -1;
}

static uint64_t job_seed(fa_runner *r, const fa_job *job)
{
    if (job->check_seed)
        return job->check_seed;
    uint64_t s = fa_mix64(++r->seed_counter ^ (uint64_t)(fa_now_s() * 1e9));
    return s ? s : 1;
}

/* The job's protocol, or the defaults when it left them zero (racing carries over). */
static void resolve_timing(const fa_job *job, fa_timing_opts *o)
{
    if (job->timing.max_reps > 0) {
        *o = job->timing;
    } else {
        fa_timing_opts_default(o);
        o->abandon_ms = job->timing.abandon_ms;
        o->interleave_margin = job->timing.interleave_margin;
    }
}

fa_status fa_runner_run(fa_runner *r, const fa_job *job, fa_measurement *m, fa_harness_detail *dd,
                        fa_err *err)
{
    fa_harness_detail dloc;
    fa_harness_detail *d = dd ? dd : &dloc;
    fa_harness_detail_init(d);
    fa_measurement_init(m);
    m->build = job->build;
    const fa_problem *p = &job->problem;
    if (r->poisoned)
        return FA_ERR(err, FA_INVALID, "the runner's CUDA context is lost to an earlier fault");
    helper_mod *h = helper_slot(r, p->dtype, p->head_dim);
    if (!h || !h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    const int has_variant = job->cubin != NULL;
    if (has_variant && !fa_variant_matches(&job->variant, p)) {
        char vn[FA_VARIANT_NAME_MAX], pn[FA_PROBLEM_NAME_MAX];
        fa_variant_name(&job->variant, vn, sizeof vn);
        fa_problem_name(p, pn, sizeof pn);
        return FA_ERR(err, FA_INVALID, "variant %s does not implement problem %s", vn, pn);
    }
    const int want_check = (job->what & FA_JOB_CHECK) != 0;
    const int want_time = (job->what & FA_JOB_TIME) != 0;
    const int want_eager_time = (job->what & FA_JOB_EAGER_TIME) != 0 || (!has_variant && want_time);
    const int need_eager = want_check || want_eager_time;
    fa_timing_opts topt;
    resolve_timing(job, &topt);
    uint64_t seed = job_seed(r, job);
    /* Only a variant timed without a check may use the inputs shared across jobs. */
    const int shared_inputs = has_variant && !want_check && !need_eager;

    fa_err e;
    fa_err_clear(&e);
    bufs own;
    memset(&own, 0, sizeof own);
    bufs *b = &own;
    eager_plan pl;
    memset(&pl, 0, sizeof pl);
    vkernel vk;
    memset(&vk, 0, sizeof vk);
    CUdeviceptr lse = 0;
    cmp_result co, cl, eo, el;
    memset(&co, 0, sizeof co);
    memset(&cl, 0, sizeof cl);
    memset(&eo, 0, sizeof eo);
    memset(&el, 0, sizeof el);
    fa_time_stats ts;
    fa_fwd_params a;
    fa_status st;
    const double t_check = fa_now_s();

    if (need_eager && r->eager_why[0]) {
        set_result(m, FA_UNSUPPORTED, "%s", r->eager_why);
        goto done;
    }
    if (shared_inputs) {
        st = inputs_for_timing(r, h, p, seed, &b, &seed, &e);
    } else {
        st = bufs_alloc(r, p, b, want_check, need_eager, &e);
        if (st == FA_OK)
            st = fill_inputs(r, h, b, seed, &e);
    }
    m->check_seed = seed;
    if (st == FA_OK && want_check)
        st = run_reference(r, h, b, p, &e);
    if (st == FA_OK)
        st = sync_stream(r, &e);
    if (st != FA_OK) {
        fail(m, st, &e);
        goto done;
    }
    d->flops = fa_tensors_flops(&b->t, p);

    if (need_eager) {
        const int64_t before = free_bytes(r);
        st = eager_plan_alloc(r, b, p, &pl, &e);
        if (st == FA_OK && want_check)
            st = poison(r, b->o_eager, b->t.q_elems, b->lse_eager, b->t.lse_elems, &e);
        if (st == FA_OK)
            st = eager_run(r, h, b, p, &pl, want_check ? b->lse_eager : 0, &e);
        if (st == FA_OK)
            st = sync_stream(r, &e);
        if (st != FA_OK) {
            fail(m, st, &e);
            goto done;
        }
        const int64_t after = free_bytes(r);
        d->eager_heads_per_chunk = pl.hc;
        d->eager_tracked_bytes = eager_plan_bytes(&pl) + (int64_t)r->workspace_bytes;
        d->eager_measured_bytes =
            before >= 0 && after >= 0 ? before - after + (int64_t)r->workspace_bytes : -1;
        m->eager_peak_extra_bytes = pick_bytes(d->eager_tracked_bytes, d->eager_measured_bytes);
        if (want_check) {
            st = compare(r, h->cmp_o, b->o_eager, b->o_ref, b->t.q_elems, &eo, &e);
            if (st == FA_OK)
                st = compare(r, h->cmp_lse, b->lse_eager, b->lse_ref, b->t.lse_elems, &el, &e);
            if (st != FA_OK) {
                fail(m, st, &e);
                goto done;
            }
            m->eager_max_abs_err = eo.max_abs;
            d->eager_rel_l2_err = eo.rel_l2;
            d->eager_lse_max_err = el.max_abs;
        }
    }

    if (has_variant) {
        if (vkernel_load(r, job, &b->t, &vk, m) != FA_OK)
            goto done;
        const int64_t before = free_bytes(r);
        st = dalloc(r, &lse, (size_t)b->t.lse_elems * 4, "LSE", &e);
        if (st == FA_OK && want_check)
            st = poison(r, b->o, b->t.q_elems, lse, b->t.lse_elems, &e);
        if (st == FA_OK)
            st = sync_stream(r, &e);
        if (st != FA_OK) {
            fail(m, st, &e);
            goto done;
        }
        fa_tensors_params(&b->t, p, b->q, b->k, b->v, b->o, lse, b->cu_q, b->cu_k, &a);
        CUresult ce = launch_variant(r, &vk, &a);
        if (ce != CUDA_SUCCESS) {
            classify(r, ce, "launch", m);
            goto done;
        }
        ce = r->cu->cuStreamSynchronize(r->stream);
        if (ce != CUDA_SUCCESS) {
            classify(r, ce, "kernel", m);
            goto done;
        }
        const int64_t after = free_bytes(r);
        d->flash_tracked_bytes = b->t.lse_elems * 4;
        d->flash_measured_bytes = before >= 0 && after >= 0 ? before - after : -1;
        m->peak_extra_bytes = pick_bytes(d->flash_tracked_bytes, d->flash_measured_bytes);
        if (want_check) {
            st = compare(r, h->cmp_o, b->o, b->o_ref, b->t.q_elems, &co, &e);
            if (st == FA_OK)
                st = compare(r, h->cmp_lse, lse, b->lse_ref, b->t.lse_elems, &cl, &e);
            if (st != FA_OK) {
                fail(m, st, &e);
                goto done;
            }
            m->max_abs_err = co.max_abs;
            m->rel_l2_err = co.rel_l2;
            m->lse_max_err = cl.max_abs;
            m->nonfinite = co.nonfinite + cl.nonfinite;
            m->unwritten = co.poison + cl.poison;
            d->o_unwritten = co.poison;
            d->lse_unwritten = cl.poison;
            d->o_nonfinite = co.nonfinite;
            d->lse_nonfinite = cl.nonfinite;
            d->lse_mask_errors = cl.mask;
            apply_criterion(m, &co, &cl, d->eager_lse_max_err);
        }
        d->check_ms = 1e3 * (fa_now_s() - t_check);
        if (m->status == FA_OK && want_time) {
            variant_rep c = {&vk, &a};
            int raced = 0;
            st = time_reps(r, h, variant_rep_fn, &c, &topt, &ts, &raced, &e);
            if (st != FA_OK) {
                /* The check passed, so a failure now is the kernel's (a race that struck
                 * later, say); whether the context survived decides if the worker restarts. */
                if (r->cu->cuCtxSynchronize() != CUDA_SUCCESS)
                    r->poisoned = 1;
                set_result(m, FA_FAULT, "while timing: %s", e.msg);
                goto done;
            }
            fill_timing(m, &ts, d->flops);
            m->raced = raced;
            if (raced)
                set_result(m, FA_OK,
                           "raced out after %d repetitions: %.4g ms is past the bound %.4g ms "
                           "(cannot win)",
                           ts.reps, ts.reps >= FA_ABANDON_REPS ? ts.median_ms : ts.min_ms,
                           topt.abandon_ms);
        }
    } else if (want_check) {
        /* Eager-only: the figures describe the eager baseline itself. */
        m->max_abs_err = eo.max_abs;
        m->rel_l2_err = eo.rel_l2;
        m->lse_max_err = el.max_abs;
        m->nonfinite = eo.nonfinite + el.nonfinite;
        m->unwritten = eo.poison + el.poison;
        d->o_unwritten = eo.poison;
        d->lse_unwritten = el.poison;
        d->o_nonfinite = eo.nonfinite;
        d->lse_nonfinite = el.nonfinite;
        d->lse_mask_errors = el.mask;
        apply_eager_sanity(m, p->dtype, &eo, &el);
        d->check_ms = 1e3 * (fa_now_s() - t_check);
    }

    if (m->status == FA_OK && want_eager_time) {
        eager_rep c = {h, b, p, &pl};
        fa_timing_opts eopt = topt;
        eopt.abandon_ms = 0; /* the baseline is never raced */
        int raced = 0;
        st = time_reps(r, h, eager_rep_fn, &c, &eopt, &ts, &raced, &e);
        if (st != FA_OK) {
            fail(m, st, &e);
            goto done;
        }
        m->eager_median_ms = ts.median_ms;
        d->eager_min_ms = ts.min_ms;
        d->eager_cv = ts.cv;
        d->eager_reps = ts.reps;
        d->eager_tflops = ts.median_ms > 0 ? d->flops / (ts.median_ms * 1e-3) / 1e12 : -1;
        if (!has_variant) {
            fill_timing(m, &ts, d->flops);
            m->peak_extra_bytes = m->eager_peak_extra_bytes;
        }
    }

done:
    fa_module_cache_unpin_all(&r->modules);
    if (!r->poisoned) {
        dfree(r, &lse);
        eager_plan_release(r, &pl);
        bufs_release(r, &own);
        r->last_busy_s = fa_now_s();
    } else {
        if (own.have_t)
            fa_tensors_release(&own.t); /* device memory goes with the context */
        fa_module_cache_forget(&r->modules);
        inputs_free_all(r);
        eager_scratch_release(r);
    }
    return FA_OK;
}

/* ---- interleaved re-timing ------------------------------------------------------------- */

fa_status fa_runner_retime(fa_runner *r, const fa_job *jobs, int n, fa_measurement *ms,
                           int *culprit, fa_err *err)
{
    *culprit = -1;
    if (n < 1 || n > FA_RETIME_MAX)
        return FA_ERR(err, FA_INVALID, "interleaved re-timing takes 1 to %d jobs, not %d",
                      FA_RETIME_MAX, n);
    if (r->poisoned)
        return FA_ERR(err, FA_INVALID, "the runner's CUDA context is lost to an earlier fault");
    const fa_problem *p = &jobs[0].problem;
    for (int i = 0; i < n; i++) {
        if (!jobs[i].cubin)
            return FA_ERR(err, FA_INVALID, "job %d has no cubin: only variants are re-timed", i);
        if (!same_problem(p, &jobs[i].problem))
            return FA_ERR(err, FA_INVALID, "job %d's problem differs: finalists share a problem",
                          i);
        if (!fa_variant_matches(&jobs[i].variant, p))
            return FA_ERR(err, FA_INVALID, "job %d's variant does not implement the problem", i);
    }
    helper_mod *h = helper_slot(r, p->dtype, p->head_dim);
    if (!h || !h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    fa_timing_opts topt;
    resolve_timing(&jobs[0], &topt);

    vkernel vk[FA_RETIME_MAX];
    int active[FA_RETIME_MAX], raced[FA_RETIME_MAX];
    int ref[FA_RETIME_MAX];      /* a raced job: the fastest job when it was raced */
    double ratio[FA_RETIME_MAX]; /* ...and its median over that job's, same rounds */
    double *x[FA_RETIME_MAX];
    int nx[FA_RETIME_MAX];
    memset(vk, 0, sizeof vk);
    memset(x, 0, sizeof x);
    memset(nx, 0, sizeof nx);
    memset(raced, 0, sizeof raced);
    const int cap = topt.max_reps > 0 ? topt.max_reps : 1;
    fa_err e;
    fa_err_clear(&e);
    bufs *b = NULL;
    CUdeviceptr lse = 0;
    fa_fwd_params a;
    uint64_t seed = job_seed(r, &jobs[0]);
    fa_status st = inputs_for_timing(r, h, p, seed, &b, &seed, &e);
    if (st == FA_OK)
        st = dalloc(r, &lse, (size_t)b->t.lse_elems * 4, "LSE", &e);
    double flops = st == FA_OK ? fa_tensors_flops(&b->t, p) : 0;
    if (st == FA_OK)
        fa_tensors_params(&b->t, p, b->q, b->k, b->v, b->o, lse, b->cu_q, b->cu_k, &a);
    int n_active = 0;
    for (int i = 0; i < n; i++) {
        fa_measurement_init(&ms[i]);
        ms[i].build = jobs[i].build;
        ms[i].check_seed = seed;
        active[i] = 0;
        if (st != FA_OK) {
            fail(&ms[i], st, &e);
            continue;
        }
        if (vkernel_load(r, &jobs[i], &b->t, &vk[i], &ms[i]) != FA_OK)
            continue;
        x[i] = malloc((size_t)cap * sizeof *x[i]);
        if (!x[i]) {
            set_result(&ms[i], FA_NOMEM, "out of memory");
            continue;
        }
        active[i] = 1;
        n_active++;
    }
    /* Warm-up every finalist before the first timed round. */
    for (int i = 0; i < n && !r->poisoned; i++) {
        for (int w = 0; active[i] && w < topt.warmup_reps; w++) {
            CUresult ce = launch_variant(r, &vk[i], &a);
            if (ce == CUDA_SUCCESS)
                ce = r->cu->cuStreamSynchronize(r->stream);
            if (ce != CUDA_SUCCESS) {
                classify(r, ce, "warm-up", &ms[i]);
                active[i] = 0;
                n_active--;
                *culprit = i;
            }
        }
    }
    const double t0 = fa_now_s();
    const double budget_s = topt.max_seconds * (n_active > 0 ? n_active : 1);
    while (n_active > 0 && !r->poisoned) {
        /* One round: A B C ..., each synchronised so a fault is pinned on its job. */
        for (int i = 0; i < n && !r->poisoned; i++) {
            if (!active[i] || raced[i] || nx[i] >= cap)
                continue;
            CUresult ce = CUDA_SUCCESS;
            if (!topt.no_flush && flush_l2(r, h, &e) != FA_OK)
                ce = CUDA_ERROR_LAUNCH_FAILED;
            if (ce == CUDA_SUCCESS)
                ce = r->cu->cuEventRecord(r->ev[0], r->stream);
            if (ce == CUDA_SUCCESS)
                ce = launch_variant(r, &vk[i], &a);
            if (ce == CUDA_SUCCESS)
                ce = r->cu->cuEventRecord(r->ev[1], r->stream);
            if (ce == CUDA_SUCCESS)
                ce = r->cu->cuEventSynchronize(r->ev[1]);
            double t = 0;
            if (ce == CUDA_SUCCESS && event_ms(r, r->ev[0], r->ev[1], &t, &e) != FA_OK)
                ce = CUDA_ERROR_UNKNOWN;
            if (ce != CUDA_SUCCESS) {
                classify(r, ce, "interleaved timing", &ms[i]);
                active[i] = 0;
                n_active--;
                *culprit = i;
                continue;
            }
            x[i][nx[i]++] = t;
        }
        if (topt.interleave_margin > 0) { /* race the jobs against this round's fastest */
            double med[FA_RETIME_MAX];
            int bi = -1;
            for (int i = 0; i < n; i++) {
                med[i] = -1;
                if (!active[i] || raced[i] || nx[i] < FA_ABANDON_REPS)
                    continue;
                fa_time_stats s;
                fa_stats_compute(x[i], nx[i], &s);
                med[i] = s.median_ms;
                bi = bi < 0 || med[i] < med[bi] ? i : bi;
            }
            for (int i = 0; i < n; i++)
                if (med[i] > 0 && med[i] > topt.interleave_margin * med[bi]) {
                    raced[i] = 1;
                    ref[i] = bi;
                    ratio[i] = med[i] / med[bi];
                }
        }
        int done = 1, fewest = cap;
        for (int i = 0; i < n; i++) {
            if (!active[i] || raced[i])
                continue;
            fa_time_stats s;
            fa_stats_compute(x[i], nx[i], &s);
            if (nx[i] < cap && (nx[i] < topt.min_reps || s.rse > topt.target_rse))
                done = 0;
            fewest = nx[i] < fewest ? nx[i] : fewest;
        }
        if (done || (fa_now_s() - t0 >= budget_s && fewest >= 3))
            break;
    }
    /* A raced job's rounds ended early, and the group's clocks may drift over the later ones
     * (several percent seen on an H100): its median alone is not comparable with the others'.
     * It is stored as its ratio to the fastest job in the rounds they shared times that job's
     * final median (itself resolved the same way if it was raced later). */
    double final_ms[FA_RETIME_MAX];
    for (int i = 0; i < n; i++) {
        final_ms[i] = -1;
        if (active[i] && !raced[i] && nx[i] > 0) {
            fa_time_stats s;
            fa_stats_compute(x[i], nx[i], &s);
            final_ms[i] = s.median_ms;
        }
    }
    for (int pass = 0; pass < n; pass++) /* refs form chains in racing order: n passes resolve */
        for (int i = 0; i < n; i++)
            if (active[i] && raced[i] && final_ms[ref[i]] > 0)
                final_ms[i] = ratio[i] * final_ms[ref[i]];
    for (int i = 0; i < n; i++) {
        if (active[i] && !r->poisoned) {
            fa_time_stats s;
            fa_stats_compute(x[i], nx[i], &s);
            if (raced[i] && final_ms[i] > 0)
                s.median_ms = final_ms[i];
            fill_timing(&ms[i], &s, flops);
            ms[i].peak_extra_bytes = b->t.lse_elems * 4; /* tracked: the LSE (no delta taken) */
            ms[i].raced = raced[i];
            if (raced[i])
                set_result(&ms[i], FA_OK,
                           "raced out of the interleaved re-timing after %d rounds at %.3fx the "
                           "fastest; median = that ratio x the fastest's final median",
                           nx[i], ratio[i]);
        } else if (active[i]) {
            set_result(&ms[i], FA_INTERRUPTED,
                       "not measured: the worker was lost to job %d's "
                       "fault",
                       *culprit);
        }
        free(x[i]);
    }
    fa_module_cache_unpin_all(&r->modules);
    if (!r->poisoned) {
        dfree(r, &lse);
        r->last_busy_s = fa_now_s();
    } else {
        fa_module_cache_forget(&r->modules);
        inputs_free_all(r);
        eager_scratch_release(r);
    }
    return FA_OK;
}

/* ---- test hooks ------------------------------------------------------------------------ */

static fa_status download(fa_runner *r, CUdeviceptr src, int64_t n, int is16, fa_dtype t,
                          float **out, fa_err *err)
{
    *out = malloc((size_t)(n > 0 ? n : 1) * sizeof **out);
    if (!*out)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    if (!is16)
        return FA_CU(r->cu, err, r->cu->cuMemcpyDtoH(*out, src, (size_t)n * 4));
    uint16_t *tmp = malloc((size_t)(n > 0 ? n : 1) * 2);
    if (!tmp)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    fa_status st = FA_CU(r->cu, err, r->cu->cuMemcpyDtoH(tmp, src, (size_t)n * 2));
    for (int64_t i = 0; st == FA_OK && i < n; i++)
        (*out)[i] = fa_half_to_float(tmp[i], t);
    free(tmp);
    return st;
}

fa_status fa_runner_dump_references(fa_runner *r, const fa_problem *p, uint64_t seed,
                                    int with_eager, fa_runner_dump *out, fa_err *err)
{
    memset(out, 0, sizeof *out);
    helper_mod *h = helper_slot(r, p->dtype, p->head_dim);
    if (!h || !h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    if (with_eager && r->eager_why[0])
        return FA_ERR(err, FA_UNSUPPORTED, "%s", r->eager_why);
    bufs b;
    memset(&b, 0, sizeof b);
    eager_plan pl;
    memset(&pl, 0, sizeof pl);
    fa_status st = bufs_alloc(r, p, &b, 1, with_eager, err);
    if (st == FA_OK)
        st = fill_inputs(r, h, &b, seed, err);
    if (st == FA_OK)
        st = poison(r, b.o_ref, b.t.q_elems * 2, b.lse_ref, b.t.lse_elems, err);
    if (st == FA_OK)
        st = run_reference(r, h, &b, p, err);
    if (st == FA_OK && with_eager) {
        st = eager_plan_alloc(r, &b, p, &pl, err);
        if (st == FA_OK)
            st = poison(r, b.o_eager, b.t.q_elems, b.lse_eager, b.t.lse_elems, err);
        if (st == FA_OK)
            st = eager_run(r, h, &b, p, &pl, b.lse_eager, err);
    }
    if (st == FA_OK)
        st = sync_stream(r, err);
    const fa_dtype t = p->dtype;
    if (st == FA_OK)
        st = download(r, b.q, b.t.q_elems, 1, t, &out->q, err);
    if (st == FA_OK)
        st = download(r, b.k, b.t.k_elems, 1, t, &out->k, err);
    if (st == FA_OK)
        st = download(r, b.v, b.t.k_elems, 1, t, &out->v, err);
    if (st == FA_OK)
        st = download(r, b.o_ref, b.t.q_elems, 0, t, &out->o_ref, err);
    if (st == FA_OK)
        st = download(r, b.lse_ref, b.t.lse_elems, 0, t, &out->lse_ref, err);
    if (st == FA_OK && with_eager)
        st = download(r, b.o_eager, b.t.q_elems, 1, t, &out->o_eager, err);
    if (st == FA_OK && with_eager)
        st = download(r, b.lse_eager, b.t.lse_elems, 0, t, &out->lse_eager, err);
    eager_plan_release(r, &pl);
    if (st == FA_OK) {
        out->t = b.t; /* the dump takes over the host arrays of the layout */
        b.have_t = 0;
    }
    bufs_release(r, &b);
    if (st != FA_OK)
        fa_runner_dump_release(out);
    return st;
}

void fa_runner_dump_release(fa_runner_dump *d)
{
    if (!d)
        return;
    free(d->q);
    free(d->k);
    free(d->v);
    free(d->o_ref);
    free(d->lse_ref);
    free(d->o_eager);
    free(d->lse_eager);
    fa_tensors_release(&d->t);
    memset(d, 0, sizeof *d);
}
