/*
 * This file implements a shared library that lets bench/peers.py run fa-tune's attention in its
 * own process, beside SDPA's cuDNN and flash backends: the same buffers, the same timer and the
 * same GPU state, through exactly what a user ships -- a dispatch header emitted with
 * `fa-tune emit --embed-cubin` and its Driver API launcher.
 *
 * Why in-process: one GPU process's kernels keep one speed, but the next process may run the
 * same kernel on the same inputs up to 12% faster or slower (bench/results/2026-12-06_session20:
 * hd256 m128n80s2ov at 8k read 700-723 or 778-790 TFLOP/s by process, CV 0.4% within one).
 * Timed in separate processes, fa-tune and a peer each draw their own; timed in one, the ratio
 * is the kernels'.
 *
 * Build (bench/gpu_run.sh's h2hp stage):
 *   fa-tune emit --arch sm90 --embed-cubin --db grid.db -o DIR/fa_dispatch.h
 *   gcc -std=c99 -O2 -shared -fPIC -IDIR -I$CUDA/include bench/fa_header_peer.c \
 *       -o DIR/libfa_header_peer.so -L$CUDA/lib64/stubs -lcuda
 *
 * Tensors are PyTorch's contiguous (batch, heads, seqlen, head_dim) (BHSD, as peers.py makes
 * them), O likewise, LSE (batch, heads_q, seqlen_q) fp32. The module loads into the calling
 * thread's current context (PyTorch's primary context) on the first call.
 */
#include "fa_dispatch.h"

#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static fa_dispatch_module module;
static CUresult load_result = CUDA_ERROR_NOT_INITIALIZED;
static int load_tried;

/* Loads the header's cubins into the current context once; the load's CUresult. */
static CUresult ensure_loaded(void)
{
    if (!load_tried) {
        load_tried = 1;
        load_result = cuInit(0);
        if (load_result == CUDA_SUCCESS)
            load_result = fa_dispatch_load(&module, 0);
    }
    return load_result;
}

/* Fills p for BHSD tensors: the header's BSHD parameters with the strides of BHSD. */
static void params_bhsd(fa_fwd_params *p, uint64_t q, uint64_t k, uint64_t v, uint64_t o,
                        uint64_t lse, int batch, int heads_q, int heads_kv, int seqlen_q,
                        int seqlen_k, int head_dim, float scale)
{
    memset(p, 0, sizeof *p); /* the decode fields (cache lengths, block table) stay 0 */
    fa_dispatch_params_bshd(p, q, k, v, o, lse, batch, heads_q, heads_kv, seqlen_q, seqlen_k,
                            head_dim, scale);
    p->q_row_stride = p->o_row_stride = head_dim;
    p->q_head_stride = p->o_head_stride = (int64_t)seqlen_q * head_dim;
    p->q_batch_stride = p->o_batch_stride = (int64_t)heads_q * seqlen_q * head_dim;
    p->k_row_stride = p->v_row_stride = head_dim;
    p->k_head_stride = p->v_head_stride = (int64_t)seqlen_k * head_dim;
    p->k_batch_stride = p->v_batch_stride = (int64_t)heads_kv * seqlen_k * head_dim;
}

/* The variant the header's lookup picks for this problem on a GPU of compute capability
 * cc * 10 (90 for an H100 / H200), written to name (at most n bytes); returns the lookup's
 * source (FA_DISPATCH_EXACT .. FA_DISPATCH_DEFAULT) or FA_DISPATCH_UNSUPPORTED (-1), and -2 if
 * the header has no kernel of those tiles. Needs no GPU. */
int fa_peer_lookup(int cc, int bf16, int head_dim, int causal, int heads_q, int heads_kv,
                   int seqlen_q, int seqlen_k, char *name, int n)
{
    const int gqa = heads_kv > 0 && heads_q % heads_kv == 0 ? heads_q / heads_kv : 0;
    const fa_dispatch_choice c =
        fa_dispatch_lookup(cc, bf16 ? FA_DISPATCH_BF16 : FA_DISPATCH_FP16, head_dim, causal, 0, gqa,
                           seqlen_q > seqlen_k ? seqlen_q : seqlen_k);
    if (name && n > 0)
        name[0] = '\0';
    if (c.source == FA_DISPATCH_UNSUPPORTED)
        return FA_DISPATCH_UNSUPPORTED;
    if (c.kernel < 0)
        return -2;
    if (name && n > 0)
        snprintf(name, (size_t)n, "%s", fa_dispatch_kernels(NULL)[c.kernel].name);
    return c.source;
}

/* Runs attention on stream (a CUstream as an integer; 0: the legacy default stream) with the
 * variant the lookup picks for the loaded arch. Returns a CUresult: CUDA_SUCCESS, the load's
 * error (no GPU, no cubin for it), or the launcher's (CUDA_ERROR_NOT_FOUND: no kernel of the
 * head dim). */
int fa_peer_run(uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse, int bf16, int batch,
                int heads_q, int heads_kv, int seqlen_q, int seqlen_k, int head_dim, int causal,
                float scale, uint64_t stream)
{
    if (ensure_loaded() != CUDA_SUCCESS)
        return (int)load_result;
    fa_fwd_params p;
    params_bhsd(&p, q, k, v, o, lse, batch, heads_q, heads_kv, seqlen_q, seqlen_k, head_dim, scale);
    return (int)fa_dispatch_launch(&module, bf16 ? FA_DISPATCH_BF16 : FA_DISPATCH_FP16, causal, 0,
                                   &p, (CUstream)(uintptr_t)stream, NULL);
}

/* ---- decode (a header with decode winners; else every call says CUDA_ERROR_NOT_SUPPORTED)
 * q and o (batch, heads_q, seqlen_q, head_dim), k and v contiguous caches (batch, heads_kv,
 * seqlen_k, head_dim), every sequence at seqlen_k keys: bench/peers.py --decode's tensors. */

/* As fa_peer_lookup, for the decode op (the name has the splits: ...k0f). */
int fa_peer_decode_lookup(int cc, int bf16, int head_dim, int causal, int heads_q, int heads_kv,
                          int seqlen_q, int seqlen_k, char *name, int n)
{
    if (name && n > 0)
        name[0] = '\0';
#ifdef FA_DISPATCH_NUM_DECODE_ENTRIES
    const int gqa = heads_kv > 0 && heads_q % heads_kv == 0 ? heads_q / heads_kv : 0;
    const fa_dispatch_decode_choice c =
        fa_dispatch_lookup_decode(cc, bf16 ? FA_DISPATCH_BF16 : FA_DISPATCH_FP16, head_dim, causal,
                                  gqa, seqlen_q, seqlen_k, 0);
    if (c.source == FA_DISPATCH_UNSUPPORTED)
        return FA_DISPATCH_UNSUPPORTED;
    if (c.kernel < 0)
        return -2;
    if (name && n > 0)
        snprintf(name, (size_t)n, "%s",
                 c.entry ? c.entry->name : fa_dispatch_decode_kernels(NULL)[c.kernel].name);
    return c.source;
#else
    (void)cc, (void)bf16, (void)head_dim, (void)causal, (void)heads_q, (void)heads_kv;
    (void)seqlen_q, (void)seqlen_k;
    return -2;
#endif
}

/* Bytes of scratch fa_peer_run_decode needs for this problem (0: none, or no module). */
uint64_t fa_peer_decode_scratch(int bf16, int batch, int heads_q, int heads_kv, int seqlen_q,
                                int seqlen_k, int head_dim, int causal)
{
#ifdef FA_DISPATCH_NUM_DECODE_ENTRIES
    if (ensure_loaded() != CUDA_SUCCESS)
        return 0;
    fa_fwd_params p;
    params_bhsd(&p, 0, 0, 0, 0, 0, batch, heads_q, heads_kv, seqlen_q, seqlen_k, head_dim, 1.f);
    return fa_dispatch_decode_scratch_bytes(&module, bf16 ? FA_DISPATCH_BF16 : FA_DISPATCH_FP16,
                                            causal, &p);
#else
    (void)bf16, (void)batch, (void)heads_q, (void)heads_kv, (void)seqlen_q, (void)seqlen_k;
    (void)head_dim, (void)causal;
    return 0;
#endif
}

/* Runs decode with the variant the lookup picks (split, then combine or fused) on stream;
 * scratch: scratch_bytes of device memory, zeroed once before the first call (the launcher's
 * rule). bshd: q, o, k and v in FlashAttention's layout, (batch, seqlen, heads, dim) in memory
 * (peers.py --kv-layout bshd), else PyTorch's (BHSD). Returns a CUresult, as fa_peer_run. */
static int run_decode(int bshd, uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse,
                      int bf16, int batch, int heads_q, int heads_kv, int seqlen_q, int seqlen_k,
                      int head_dim, int causal, float scale, uint64_t scratch,
                      uint64_t scratch_bytes, uint64_t stream)
{
#ifdef FA_DISPATCH_NUM_DECODE_ENTRIES
    if (ensure_loaded() != CUDA_SUCCESS)
        return (int)load_result;
    fa_fwd_params p;
    if (bshd) {
        memset(&p, 0, sizeof p); /* the decode fields (cache lengths, block table) stay 0 */
        fa_dispatch_params_bshd(&p, q, k, v, o, lse, batch, heads_q, heads_kv, seqlen_q, seqlen_k,
                                head_dim, scale);
    } else {
        params_bhsd(&p, q, k, v, o, lse, batch, heads_q, heads_kv, seqlen_q, seqlen_k, head_dim,
                    scale);
    }
    return (int)fa_dispatch_launch_decode(&module, bf16 ? FA_DISPATCH_BF16 : FA_DISPATCH_FP16,
                                          causal, &p, (CUdeviceptr)scratch, scratch_bytes,
                                          (CUstream)(uintptr_t)stream, NULL);
#else
    (void)bshd, (void)q, (void)k, (void)v, (void)o, (void)lse, (void)bf16, (void)batch;
    (void)heads_q, (void)heads_kv, (void)seqlen_q, (void)seqlen_k, (void)head_dim, (void)causal;
    (void)scale, (void)scratch, (void)scratch_bytes, (void)stream;
    return (int)CUDA_ERROR_NOT_SUPPORTED;
#endif
}

int fa_peer_run_decode(uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse, int bf16,
                       int batch, int heads_q, int heads_kv, int seqlen_q, int seqlen_k,
                       int head_dim, int causal, float scale, uint64_t scratch,
                       uint64_t scratch_bytes, uint64_t stream)
{
    return run_decode(0, q, k, v, o, lse, bf16, batch, heads_q, heads_kv, seqlen_q, seqlen_k,
                      head_dim, causal, scale, scratch, scratch_bytes, stream);
}

/* As fa_peer_run_decode, on tensors in FlashAttention's layout (BSHD in memory). */
int fa_peer_run_decode_bshd(uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse, int bf16,
                            int batch, int heads_q, int heads_kv, int seqlen_q, int seqlen_k,
                            int head_dim, int causal, float scale, uint64_t scratch,
                            uint64_t scratch_bytes, uint64_t stream)
{
    return run_decode(1, q, k, v, o, lse, bf16, batch, heads_q, heads_kv, seqlen_q, seqlen_k,
                      head_dim, causal, scale, scratch, scratch_bytes, stream);
}
