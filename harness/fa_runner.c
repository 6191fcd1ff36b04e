/*
 * This file implements the GPU side of the harness (see fa_runner.h): the context, helper
 * modules, one job with FlashAttention's criterion and the memory accounting, and the test
 * hooks. Its other parts are the files fa_runner_internal.h lists.
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
#include "fa_retime_trace.h"
#include "fa_runner_internal.h"
#include "fa_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

fa_status rn_dalloc(fa_runner *r, CUdeviceptr *p, size_t bytes, const char *what, fa_err *err)
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

void rn_dfree(fa_runner *r, CUdeviceptr *p)
{
    if (*p && !r->poisoned) /* after a fault the memory went with the context */
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
        rn_dalloc(r, &r->workspace, r->workspace_bytes, "the cuBLAS workspace", &e) != FA_OK ||
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
    /* Programmatic dependent launch exists from cc 9.0; FA_NO_PDL=1 turns it off (an A/B of
       the early launches on one build). A kernel launched early must wait in-kernel
       (griddepcontrol.wait), which only code compiled for sm_90 or later has: on such a device
       fa-tune runs kernels compiled for sm_90 / sm_90a alone (a job for another arch only
       compiles), so every kernel this runner loads there has its wait. */
    r->pdl = r->info.cc >= 90 && !fa_env_on("FA_NO_PDL");
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
        st = rn_dalloc(r, &r->flush_buf, r->flush_bytes, "the L2 flush buffer", err);
    }
    if (st == FA_OK)
        st = rn_dalloc(r, &r->cmp, FA_CMP_SLOTS * sizeof(uint64_t), "comparison slots", err);
    if (st != FA_OK) {
        fa_runner_free(r);
        return st == FA_UNSUPPORTED ? FA_CUDA_ERROR : st;
    }
    setup_cublas(r);
    r->seed_counter = fa_mix64((uint64_t)getpid() ^ (uint64_t)(fa_now_s() * 1e9));
    *out = r;
    return FA_OK;
}

double rn_prof(fa_runner *r, int ph, double t0)
{
    const double now = fa_now_s();
    r->prof_s[ph] += now - t0;
    r->prof_n[ph]++;
    return now;
}

/* FA_PROFILE=1: where this runner's time went, one line on stderr when it is freed. */
static void print_profile(const fa_runner *r)
{
    static const char *names[RN_PROF_N] = {"inputs",    "reference", "eager-check", "load",
                                           "check",     "warm-up",   "repetitions", "eager-time",
                                           "re-timing", "release"};
    if (!fa_profile_on())
        return;
    double total = 0;
    long jobs = 0;
    for (int i = 0; i < RN_PROF_N; i++) {
        total += r->prof_s[i];
        jobs += r->prof_n[i];
    }
    if (jobs == 0)
        return; /* a worker that only answered a device probe */
    fprintf(stderr, "fa-tune profile (device %d): %.1f s in jobs:", r->info.ordinal, total);
    for (int i = 0; i < RN_PROF_N; i++)
        if (r->prof_n[i] > 0)
            fprintf(stderr, " %s %.1f s (%ld)", names[i], r->prof_s[i], r->prof_n[i]);
    fprintf(stderr, "; kernels: %d found loaded, %d from a loaded cubin, %d cubins loaded\n",
            r->modules.hits, r->modules.shared, r->modules.loads);
}

void rn_release_kept(fa_runner *r)
{
    if (r->poisoned || !r->cu || !r->ctx_retained)
        fa_module_cache_forget(&r->modules);
    else
        fa_module_cache_clear(&r->modules, r->cu);
    rn_inputs_free_all(r);
    rn_check_set_drop(r, NULL);
    rn_eager_scratch_release(r);
}

void fa_runner_free(fa_runner *r)
{
    if (!r)
        return;
    print_profile(r);
    rn_release_kept(r);
    if (r->cu && r->ctx_retained) {
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 8; i++)
                if (r->helpers[t][i].loaded)
                    r->cu->cuModuleUnload(r->helpers[t][i].mod);
        if (r->blas)
            r->bl->cublasDestroy(r->blas);
        rn_dfree(r, &r->workspace);
        rn_dfree(r, &r->flush_buf);
        rn_dfree(r, &r->cmp);
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

helper_mod *rn_helper_slot(fa_runner *r, fa_dtype t, int head_dim)
{
    for (int i = 0; i < fa_num_head_dims && i < 8; i++)
        if (fa_head_dims[i] == head_dim)
            return &r->helpers[t == FA_DTYPE_BF16][i];
    return NULL;
}

int fa_runner_has_helpers(const fa_runner *r, fa_dtype t, int head_dim)
{
    helper_mod *h = rn_helper_slot((fa_runner *)r, t, head_dim);
    return h && h->loaded;
}

fa_status rn_launch(fa_runner *r, CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                    unsigned threads, unsigned smem, void **args, const char *what, fa_err *err)
{
    CUresult e = r->cu->cuLaunchKernel(f, gx, gy, gz, threads, 1, 1, smem, r->stream, args, NULL);
    return fa_cuda_check(r->cu, e, what, __FILE__, __LINE__, err);
}

/* Grid-stride kernels: enough blocks to fill the device, never more than the work. */
fa_status rn_launch_1d(fa_runner *r, CUfunction f, int64_t n, void **args, const char *what,
                       fa_err *err)
{
    int64_t blocks = (n + 255) / 256,
            cap = (int64_t)(r->info.sm_count > 0 ? r->info.sm_count : 1) * 8;
    blocks = blocks < 1 ? 1 : blocks > cap ? cap : blocks;
    return rn_launch(r, f, (unsigned)blocks, 1, 1, 256, 0, args, what, err);
}

fa_status rn_sync_stream(fa_runner *r, fa_err *err)
{
    return FA_CU(r->cu, err, r->cu->cuStreamSynchronize(r->stream));
}

fa_status fa_runner_load_helpers(fa_runner *r, fa_dtype t, int head_dim, const void *cubin,
                                 size_t n, fa_err *err)
{
    (void)n;
    helper_mod *h = rn_helper_slot(r, t, head_dim);
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
    } fns[7 + FA_SOFTMAX_INSTANCES] = {
        {&m.ref, "fa_ref_attention"},    {&m.fill, "fa_ref_fill"},
        {&m.cmp_o, "fa_ref_compare_o"},  {&m.cmp_lse, "fa_ref_compare_lse"},
        {&m.flush, "fa_ref_l2_flush"},   {&m.idle, "fa_ref_gpu_idle"},
        {&m.pad, "fa_eager_varlen_pad"},
    };
    char names[FA_SOFTMAX_INSTANCES][48];
    for (int i = 0; i < FA_SOFTMAX_INSTANCES; i++) {
        snprintf(names[i], sizeof names[i], "fa_eager_softmax_t%d_v%d", softmax_tpr[i],
                 softmax_vpt[i]);
        fns[7 + i].f = &m.softmax[i];
        fns[7 + i].name = names[i];
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
        st = rn_dalloc(r, &cfg_dev, sizeof cfg, "helper config", err);
    if (st == FA_OK) {
        void *args[] = {&cfg_dev};
        st = rn_launch(r, getcfg, 1, 1, 1, 1, 0, args, "fa_ref_get_config", err);
    }
    if (st == FA_OK)
        st = rn_sync_stream(r, err);
    if (st == FA_OK)
        st = FA_CU(r->cu, err, r->cu->cuMemcpyDtoH(cfg, cfg_dev, sizeof cfg));
    rn_dfree(r, &cfg_dev);
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

void rn_fail(fa_measurement *m, fa_status st, const fa_err *e)
{
    rn_set_result(m, st, "%s", e->msg[0] ? e->msg : fa_status_str(st));
}

/* FlashAttention's criterion (fa_harness.h); the first failing figure names the reason. */
/* The figures of a check (O's and LSE's comparisons) into the measurement and the detail. */
static void store_errors(fa_measurement *m, fa_harness_detail *d, const cmp_result *o,
                         const cmp_result *lse)
{
    m->max_abs_err = o->max_abs;
    m->rel_l2_err = o->rel_l2;
    m->lse_max_err = lse->max_abs;
    m->nonfinite = o->nonfinite + lse->nonfinite;
    m->unwritten = o->poison + lse->poison;
    d->o_unwritten = o->poison;
    d->lse_unwritten = lse->poison;
    d->o_nonfinite = o->nonfinite;
    d->lse_nonfinite = lse->nonfinite;
    d->lse_mask_errors = lse->mask;
}

static void apply_criterion(fa_measurement *m, const cmp_result *co, const cmp_result *cl,
                            double eager_lse_err)
{
    const double o_lim = 2 * m->eager_max_abs_err + 1e-5, l_lim = 2 * eager_lse_err + 1e-5;
    if (co->poison || cl->poison)
        rn_set_result(m, FA_MISMATCH, "%lld of O and %lld of LSE never written (still poison)",
                      (long long)co->poison, (long long)cl->poison);
    else if (co->nonfinite || cl->nonfinite)
        rn_set_result(m, FA_MISMATCH, "%lld NaN/Inf in O, %lld in LSE", (long long)co->nonfinite,
                      (long long)cl->nonfinite);
    else if (cl->mask)
        rn_set_result(m, FA_MISMATCH,
                      "%lld rows disagree with the reference on seeing no key (LSE -inf); check "
                      "the mask (causal is bottom-right aligned)",
                      (long long)cl->mask);
    else if (!(co->max_abs <= o_lim))
        rn_set_result(
            m, FA_MISMATCH,
            "max|O - O_ref32| = %.3g exceeds 2 x eager's %.3g + 1e-5 = %.3g (rel L2 %.3g)",
            co->max_abs, m->eager_max_abs_err, o_lim, co->rel_l2);
    else if (!(cl->max_abs <= l_lim))
        rn_set_result(m, FA_MISMATCH,
                      "max|LSE - LSE_ref32| = %.3g exceeds 2 x eager's %.3g + 1e-5 = %.3g",
                      cl->max_abs, eager_lse_err, l_lim);
}

static void apply_eager_sanity(fa_measurement *m, fa_dtype t, const cmp_result *co,
                               const cmp_result *cl)
{
    const double tol = fa_harness_eager_tolerance(t), ltol = fa_harness_eager_lse_tolerance(t);
    if (co->poison || cl->poison || co->nonfinite || cl->nonfinite || cl->mask)
        rn_set_result(m, FA_MISMATCH,
                      "eager baseline: %lld/%lld unwritten O/LSE, %lld/%lld NaN/Inf, %lld LSE mask "
                      "errors",
                      (long long)co->poison, (long long)cl->poison, (long long)co->nonfinite,
                      (long long)cl->nonfinite, (long long)cl->mask);
    else if (!(co->rel_l2 <= tol))
        rn_set_result(m, FA_MISMATCH, "eager baseline: rel L2 error %.3g exceeds %.3g (%s)",
                      co->rel_l2, tol, fa_dtype_name(t));
    else if (!(cl->max_abs <= ltol))
        rn_set_result(m, FA_MISMATCH, "eager baseline: LSE error %.3g exceeds %.3g (%s)",
                      cl->max_abs, ltol, fa_dtype_name(t));
}

void rn_fill_timing(fa_measurement *m, const fa_time_stats *s, double flops)
{
    m->median_ms = s->median_ms;
    m->min_ms = s->min_ms;
    m->cv = s->cv;
    m->reps = s->reps;
    m->tflops = s->median_ms > 0 ? flops / (s->median_ms * 1e-3) / 1e12 : -1;
}

uint64_t rn_job_seed(fa_runner *r, const fa_job *job)
{
    if (job->check_seed)
        return job->check_seed;
    uint64_t s = fa_mix64(++r->seed_counter ^ (uint64_t)(fa_now_s() * 1e9));
    return s ? s : 1;
}

/* The job's protocol, or the defaults when it left them zero (racing carries over). */
void rn_resolve_timing(const fa_job *job, fa_timing_opts *o)
{
    if (job->timing.max_reps > 0) {
        *o = job->timing;
    } else {
        fa_timing_opts_default(o);
        o->abandon_ms = job->timing.abandon_ms;
        o->interleave_margin = job->timing.interleave_margin;
        o->gap_us = job->timing.gap_us;
    }
}

/* What one fa_runner_run shares between its phases: the job, what it asks for, the buffers,
 * the variant and the figures. Each phase returns 1 to go on, 0 when the job is over (m says
 * why); fa_runner_run then releases what the phases took (run_end). */
typedef struct run_ctx {
    fa_runner *r;
    const fa_job *job;
    const fa_problem *p;
    fa_measurement *m;
    fa_harness_detail *d;
    helper_mod *h;
    int has_variant, want_check, want_time, want_eager_time, need_eager;
    int shared_inputs, pure_check, probe, retry;
    int eager_ran; /* run_eager_check ran the eager baseline in this job (not a kept set's) */
    fa_timing_opts topt;
    uint64_t seed;
    check_set *cs; /* a kept check set the job reuses, or NULL */
    fa_err e;
    bufs own;
    bufs *b; /* &own, the kept check set's or the shared timing inputs */
    eager_plan pl;
    vkernel vk;
    CUdeviceptr lse;
    cmp_result co, cl, eo, el;
    fa_time_stats ts;
    fa_fwd_params a;
    double t_check, t;
    int64_t flash_before; /* free memory before the variant's LSE, for its peak */
} run_ctx;

/* The job's checks before any GPU work, and what it asks for. */
static fa_status run_begin(run_ctx *c, fa_err *err)
{
    fa_runner *r = c->r;
    const fa_job *job = c->job;
    const fa_problem *p = c->p;
    if (r->poisoned)
        return FA_ERR(err, FA_INVALID, "the runner's CUDA context is lost to an earlier fault");
    c->h = rn_helper_slot(r, p->dtype, p->head_dim);
    if (!c->h || !c->h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    c->has_variant = job->cubin != NULL;
    if (c->has_variant && !fa_variant_matches(&job->variant, p)) {
        char vn[FA_VARIANT_NAME_MAX], pn[FA_PROBLEM_NAME_MAX];
        fa_variant_name(&job->variant, vn, sizeof vn);
        fa_problem_name(p, pn, sizeof pn);
        return FA_ERR(err, FA_INVALID, "variant %s does not implement problem %s", vn, pn);
    }
    c->want_check = (job->what & FA_JOB_CHECK) != 0;
    c->want_time = (job->what & FA_JOB_TIME) != 0;
    c->want_eager_time = (job->what & FA_JOB_EAGER_TIME) != 0 || (!c->has_variant && c->want_time);
    c->need_eager = c->want_check || c->want_eager_time;
    rn_resolve_timing(job, &c->topt);
    c->seed = rn_job_seed(r, job);
    /* Only a variant timed without a check may use the inputs shared across jobs; a check
     * alone may use its problem's kept check set (fa_runner_inputs.c). */
    c->shared_inputs = c->has_variant && !c->want_check && !c->need_eager;
    c->pure_check = c->has_variant && c->want_check && !c->want_time && !c->want_eager_time;
    const uint64_t asked = job->what & FA_JOB_SEED_PICKED ? 0 : job->check_seed;
    c->cs = c->pure_check && !r->check_retry ? rn_check_set_find(r, p, asked) : NULL;
    fa_err_clear(&c->e);
    c->b = &c->own;
    c->t_check = fa_now_s();
    return FA_OK;
}

/* Inputs (a kept check set, the shared timing inputs, or fresh ones) and the fp32 reference. */
static int run_inputs(run_ctx *c)
{
    fa_runner *r = c->r;
    fa_status st;
    if (c->need_eager && r->eager_why[0]) {
        rn_set_result(c->m, FA_UNSUPPORTED, "%s", r->eager_why);
        return 0;
    }
    c->t = c->t_check;
    if (c->cs) {
        c->b = &c->cs->b;
        c->seed = c->cs->seed;
        st = FA_OK;
    } else if (c->shared_inputs) {
        st = rn_inputs_for_timing(r, c->h, c->p, c->seed, &c->b, &c->seed, &c->e);
    } else {
        st = rn_bufs_alloc_room(r, c->p, c->b, c->want_check, c->need_eager, &c->e);
        if (st == FA_OK)
            st = rn_fill_inputs(r, c->h, c->b, c->seed, &c->e);
        if (st == FA_OK)
            st = rn_sync_stream(r, &c->e);
    }
    c->m->check_seed = c->seed;
    c->t = rn_prof(r, RN_PROF_INPUTS, c->t);
    if (st == FA_OK && c->want_check && !c->cs) {
        st = rn_run_reference(r, c->h, c->b, c->p, &c->e);
        if (st == FA_OK)
            st = rn_sync_stream(r, &c->e);
        c->t = rn_prof(r, RN_PROF_REFERENCE, c->t);
    }
    if (st != FA_OK) {
        rn_fail(c->m, st, &c->e);
        return 0;
    }
    c->d->flops = fa_tensors_flops(&c->b->t, c->p);
    return 1;
}

/* The eager baseline's run, memory and errors (the yardstick of the criterion), or the
 * figures a kept check set holds. */
static int run_eager_check(run_ctx *c)
{
    fa_runner *r = c->r;
    fa_measurement *m = c->m;
    fa_harness_detail *d = c->d;
    bufs *b = c->b;
    fa_status st;
    if (c->cs) { /* the eager figures of the kept check set */
        c->eo = c->cs->eo;
        c->el = c->cs->el;
        m->eager_max_abs_err = c->eo.max_abs;
        m->eager_peak_extra_bytes = c->cs->eager_peak;
        d->eager_heads_per_chunk = c->cs->eager_d.eager_heads_per_chunk;
        d->eager_tracked_bytes = c->cs->eager_d.eager_tracked_bytes;
        d->eager_measured_bytes = c->cs->eager_d.eager_measured_bytes;
        d->eager_rel_l2_err = c->eo.rel_l2;
        d->eager_lse_max_err = c->el.max_abs;
        return 1;
    }
    if (!c->need_eager)
        return 1;
    const int64_t before = free_bytes(r);
    st = rn_eager_plan_alloc(r, b, c->p, &c->pl, &c->e);
    if (st == FA_OK && c->want_check)
        st = rn_poison(r, b->o_eager, b->t.q_elems, b->lse_eager, b->t.lse_elems, &c->e);
    if (st == FA_OK)
        st = rn_eager_run(r, c->h, b, c->p, &c->pl, c->want_check ? b->lse_eager : 0, &c->e);
    if (st == FA_OK)
        st = rn_sync_stream(r, &c->e);
    if (st != FA_OK) {
        rn_fail(m, st, &c->e);
        return 0;
    }
    c->eager_ran = 1;
    const int64_t after = free_bytes(r);
    d->eager_heads_per_chunk = c->pl.hc;
    d->eager_tracked_bytes = rn_eager_plan_bytes(&c->pl) + (int64_t)r->workspace_bytes;
    d->eager_measured_bytes =
        before >= 0 && after >= 0 ? before - after + (int64_t)r->workspace_bytes : -1;
    m->eager_peak_extra_bytes = pick_bytes(d->eager_tracked_bytes, d->eager_measured_bytes);
    if (c->want_check) {
        st = rn_compare(r, c->h->cmp_o, b->o_eager, b->o_ref, b->t.q_elems, &c->eo, &c->e);
        if (st == FA_OK)
            st = rn_compare(r, c->h->cmp_lse, b->lse_eager, b->lse_ref, b->t.lse_elems, &c->el,
                            &c->e);
        if (st != FA_OK) {
            rn_fail(m, st, &c->e);
            return 0;
        }
        m->eager_max_abs_err = c->eo.max_abs;
        d->eager_rel_l2_err = c->eo.rel_l2;
        d->eager_lse_max_err = c->el.max_abs;
    }
    c->t = rn_prof(r, RN_PROF_EAGER_CHECK, c->t);
    return 1;
}

/* The variant: load it, launch it once and compare (a check, or a job that times nothing),
 * then keep the check set of a pure check or, on a kept set's mismatch, ask for a retry. */
static int run_variant_check(run_ctx *c)
{
    fa_runner *r = c->r;
    fa_measurement *m = c->m;
    fa_harness_detail *d = c->d;
    bufs *b = c->b;
    fa_status st;
    const fa_status ld = rn_vkernel_load(r, c->job, &b->t, &c->vk, m);
    c->t = rn_prof(r, RN_PROF_LOAD, c->t);
    if (ld != FA_OK)
        return 0;
    /* A check launches once, untimed, and compares; so does a job that times nothing. A
     * timing-only job goes straight to its repetitions: a standalone launch would only
     * repeat the warm-up's work (about 23 s of GPU time on the full hd128 sweep), and the
     * memory the kernel takes is measured around the repetitions instead. */
    c->probe = c->want_check || !c->want_time;
    c->flash_before = free_bytes(r);
    st = rn_dalloc(r, &c->lse, (size_t)b->t.lse_elems * 4, "LSE", &c->e);
    if (st == FA_OK && c->want_check)
        st = rn_poison(r, b->o, b->t.q_elems, c->lse, b->t.lse_elems, &c->e);
    if (st == FA_OK)
        st = rn_sync_stream(r, &c->e);
    if (st != FA_OK) {
        rn_fail(m, st, &c->e);
        return 0;
    }
    rn_bufs_params(b, c->p, b->o, c->lse, &c->a);
    d->flash_tracked_bytes = b->t.lse_elems * 4 + (int64_t)c->vk.plan.scratch_bytes;
    if (c->probe) {
        CUresult ce = rn_launch_variant(r, &c->vk, &c->a);
        if (ce != CUDA_SUCCESS) {
            rn_classify(r, ce, "launch", m);
            return 0;
        }
        ce = r->cu->cuStreamSynchronize(r->stream);
        if (ce != CUDA_SUCCESS) {
            rn_classify(r, ce, "kernel", m);
            return 0;
        }
        c->vk.entry->launched = 1;
        const int64_t after = free_bytes(r);
        d->flash_measured_bytes = c->flash_before >= 0 && after >= 0 ? c->flash_before - after : -1;
        m->peak_extra_bytes = pick_bytes(d->flash_tracked_bytes, d->flash_measured_bytes);
    }
    if (c->want_check) {
        st = rn_compare(r, c->h->cmp_o, b->o, b->o_ref, b->t.q_elems, &c->co, &c->e);
        if (st == FA_OK)
            st = rn_compare(r, c->h->cmp_lse, c->lse, b->lse_ref, b->t.lse_elems, &c->cl, &c->e);
        if (st != FA_OK) {
            rn_fail(m, st, &c->e);
            return 0;
        }
        store_errors(m, d, &c->co, &c->cl);
        apply_criterion(m, &c->co, &c->cl, d->eager_lse_max_err);
    }
    d->check_ms = 1e3 * (fa_now_s() - c->t_check);
    c->t = rn_prof(r, RN_PROF_CHECK, c->t);
    if (c->pure_check && m->status == FA_OK && !c->cs) {
        rn_check_set_keep(r, c->p, c->seed, &c->own, &c->eo, &c->el, d, m->eager_peak_extra_bytes);
    } else if (c->cs && m->status == FA_MISMATCH) { /* confirm on fresh inputs */
        rn_check_set_drop(r, c->cs);
        c->retry = 1;
        return 0;
    }
    return 1;
}

/* The variant's timed repetitions (raced against the bound), once it passed. */
static int run_variant_time(run_ctx *c)
{
    fa_runner *r = c->r;
    fa_measurement *m = c->m;
    fa_harness_detail *d = c->d;
    if (m->status != FA_OK || !c->want_time)
        return 1;
    variant_rep vr = {&c->vk, &c->a};
    int raced = 0;
    fa_status st = rn_time_reps(r, c->h, rn_variant_rep_fn, &vr, &c->topt, c->vk.entry->launched,
                                RN_PROF_REPS, &c->ts, &raced, &c->e);
    if (st != FA_OK) {
        /* The check passed, so a failure now is the kernel's (a race that struck
         * later, say); whether the context survived decides if the worker restarts. */
        if (r->cu->cuCtxSynchronize() != CUDA_SUCCESS)
            r->poisoned = 1;
        rn_set_result(m, FA_FAULT, "while timing: %s", c->e.msg);
        return 0;
    }
    c->vk.entry->launched = 1;
    if (!c->probe) {
        const int64_t after = free_bytes(r);
        d->flash_measured_bytes = c->flash_before >= 0 && after >= 0 ? c->flash_before - after : -1;
        m->peak_extra_bytes = pick_bytes(d->flash_tracked_bytes, d->flash_measured_bytes);
    }
    rn_fill_timing(m, &c->ts, d->flops);
    m->raced = raced;
    fa_retime_trace_timing(c->job, &c->ts, raced);
    if (raced)
        rn_set_result(m, FA_OK,
                      "raced out after %d repetitions: %.4g ms is past the bound %.4g ms "
                      "(cannot win)",
                      c->ts.reps, c->ts.reps >= FA_ABANDON_REPS ? c->ts.median_ms : c->ts.min_ms,
                      c->topt.abandon_ms);
    c->t = fa_now_s();
    return 1;
}

/* Eager-only: the figures describe the eager baseline itself. */
static void run_eager_only_check(run_ctx *c)
{
    store_errors(c->m, c->d, &c->eo, &c->el);
    apply_eager_sanity(c->m, c->p->dtype, &c->eo, &c->el);
    c->d->check_ms = 1e3 * (fa_now_s() - c->t_check);
}

/* The eager baseline's timed repetitions (never raced). The eager run of run_eager_check, with
 * the same plan and inputs moments before, has paid its first-launch costs (cuBLAS's kernels
 * load lazily), so on a warm GPU the timing needs no warm-up launch (rn_time_reps'
 * fn_launched). The variants' timings of the full hd128 halving run already skip theirs, so
 * its 0.8 s of warm-up were mostly these launches: one eager run (about 5 ms) per problem. */
static int run_eager_time(run_ctx *c)
{
    fa_measurement *m = c->m;
    fa_harness_detail *d = c->d;
    if (m->status != FA_OK || !c->want_eager_time)
        return 1;
    eager_rep er = {c->h, c->b, c->p, &c->pl};
    fa_timing_opts eopt = c->topt;
    eopt.abandon_ms = 0; /* the baseline is never raced */
    int raced = 0;
    fa_status st = rn_time_reps(c->r, c->h, rn_eager_rep_fn, &er, &eopt, c->eager_ran,
                                RN_PROF_EAGER_TIME, &c->ts, &raced, &c->e);
    if (st != FA_OK) {
        rn_fail(m, st, &c->e);
        return 0;
    }
    m->eager_median_ms = c->ts.median_ms;
    d->eager_min_ms = c->ts.min_ms;
    d->eager_cv = c->ts.cv;
    d->eager_reps = c->ts.reps;
    d->eager_tflops = c->ts.median_ms > 0 ? d->flops / (c->ts.median_ms * 1e-3) / 1e12 : -1;
    if (!c->has_variant) {
        rn_fill_timing(m, &c->ts, d->flops);
        m->peak_extra_bytes = m->eager_peak_extra_bytes;
    }
    return 1;
}

/* What every job gives back, however it ended. */
static void run_end(run_ctx *c)
{
    fa_runner *r = c->r;
    fa_module_cache_unpin_all(&r->modules);
    rn_vkernel_release(r, &c->vk);
    rn_dfree(r, &c->lse);
    rn_eager_plan_release(r, &c->pl);
    rn_bufs_release(r, &c->own);
    if (r->poisoned)
        rn_release_kept(r);
    else
        r->last_busy_s = fa_now_s();
}

fa_status fa_runner_run(fa_runner *r, const fa_job *job, fa_measurement *m, fa_harness_detail *dd,
                        fa_err *err)
{
    fa_harness_detail dloc;
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.job = job;
    c.p = &job->problem;
    c.m = m;
    c.d = dd ? dd : &dloc;
    fa_harness_detail_init(c.d);
    fa_measurement_init(m);
    m->build = job->build;
    fa_status st = run_begin(&c, err);
    if (st != FA_OK)
        return st;

    int go = run_inputs(&c) && run_eager_check(&c);
    if (go && c.has_variant)
        go = run_variant_check(&c) && run_variant_time(&c);
    else if (go && c.want_check)
        run_eager_only_check(&c);
    if (go)
        run_eager_time(&c);
    const double t_end = fa_now_s();
    run_end(&c);
    rn_prof(r, RN_PROF_RELEASE, t_end);

    if (c.retry && !r->poisoned) { /* a failure on a kept check set: the verdict of fresh inputs */
        r->check_retry = 1;
        st = fa_runner_run(r, job, m, dd, err);
        r->check_retry = 0;
        return st;
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
    helper_mod *h = rn_helper_slot(r, p->dtype, p->head_dim);
    if (!h || !h->loaded)
        return FA_ERR(err, FA_INVALID, "no helper module loaded for %s head dim %d",
                      fa_dtype_name(p->dtype), p->head_dim);
    if (with_eager && r->eager_why[0])
        return FA_ERR(err, FA_UNSUPPORTED, "%s", r->eager_why);
    bufs b;
    memset(&b, 0, sizeof b);
    eager_plan pl;
    memset(&pl, 0, sizeof pl);
    fa_status st = rn_bufs_alloc(r, p, &b, 1, with_eager, err);
    if (st == FA_OK)
        st = rn_fill_inputs(r, h, &b, seed, err);
    if (st == FA_OK)
        st = rn_poison(r, b.o_ref, b.t.q_elems * 2, b.lse_ref, b.t.lse_elems, err);
    if (st == FA_OK)
        st = rn_run_reference(r, h, &b, p, err);
    if (st == FA_OK && with_eager) {
        st = rn_eager_plan_alloc(r, &b, p, &pl, err);
        if (st == FA_OK)
            st = rn_poison(r, b.o_eager, b.t.q_elems, b.lse_eager, b.t.lse_elems, err);
        if (st == FA_OK)
            st = rn_eager_run(r, h, &b, p, &pl, b.lse_eager, err);
    }
    if (st == FA_OK)
        st = rn_sync_stream(r, err);
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
    rn_eager_plan_release(r, &pl);
    if (st == FA_OK) {
        out->t = b.t; /* the dump takes over the host arrays of the layout */
        b.have_t = 0;
    }
    rn_bufs_release(r, &b);
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
