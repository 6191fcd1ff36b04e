/*
 * fa_test_kernels.h -- planted "variants" for the harness's GPU tests, compiled with
 * fa_compile_source like any variant: each takes `const __grid_constant__ fa_fwd_params` and
 * is launched with a variant's geometry (block_m 64, 8 warps = the fp32 reference's CTA).
 *
 * This file implements the test-only kernel source; it is a C string, not a template, because
 * it must never ship in the binary's embedded templates.
 *   fa_test_good       correct: the reference's algorithm, writing the input dtype
 *   fa_test_skip_tile  correct except that one CTA returns early: a tile of O/LSE unwritten --
 *                      the last row block of sequence 0, head 0 (not the grid's last block:
 *                      under varlen the grid is sized for the longest sequence, and its last
 *                      block holds no rows of a shorter sequence 0, so skipping it skipped
 *                      nothing)
 *   fa_test_nan        correct, then one NaN written into O
 *   fa_test_wrong      the softmax scale off by 5%: finite, fully written, numerically wrong
 *   fa_test_slow       correct, computing everything twice: a variant racing should drop
 *   fa_test_fault      writes to a low address no allocation ever has: an illegal address
 *   fa_test_hang       one thread sleeps for ever: the watchdog's case
 */
#ifndef FA_TEST_KERNELS_H
#define FA_TEST_KERNELS_H

#include <stdio.h>

#include "fa_variant.h"
#include "fa_test_variant.h"

#define FA_TEST_KERNELS_BODY                                                                       \
    "#include \"fa_reference.cuh\"\n"                                                              \
    "extern \"C\" __global__ void __launch_bounds__(256)\n"                                        \
    "fa_test_good(const __grid_constant__ fa_fwd_params p)\n"                                      \
    "{ fa_ref_attention_cta<ELEM, ELEM, HD>(p, CAUSAL); }\n"                                       \
    "extern \"C\" __global__ void __launch_bounds__(256)\n"                                        \
    "fa_test_skip_tile(const __grid_constant__ fa_fwd_params p)\n"                                 \
    "{\n"                                                                                          \
    "    const int last = (fa_ref_locate(p, 0, 0).sq - 1) / FA_REF_BM;\n"                          \
    "    if (blockIdx.x == last && blockIdx.y == 0 && blockIdx.z == 0) return;\n"                  \
    "    fa_ref_attention_cta<ELEM, ELEM, HD>(p, CAUSAL);\n"                                       \
    "}\n"                                                                                          \
    "extern \"C\" __global__ void __launch_bounds__(256)\n"                                        \
    "fa_test_nan(const __grid_constant__ fa_fwd_params p)\n"                                       \
    "{\n"                                                                                          \
    "    fa_ref_attention_cta<ELEM, ELEM, HD>(p, CAUSAL);\n"                                       \
    "    if (blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0 && threadIdx.x == 0)\n"         \
    "        reinterpret_cast<ELEM *>(p.o)[0] = "                                                  \
    "fa_ref_elem<ELEM>::from(__int_as_float(0x7fc00000));\n"                                       \
    "}\n"                                                                                          \
    "extern \"C\" __global__ void __launch_bounds__(256)\n"                                        \
    "fa_test_wrong(const __grid_constant__ fa_fwd_params p)\n"                                     \
    "{\n"                                                                                          \
    "    fa_fwd_params q = p;\n"                                                                   \
    "    q.softmax_scale *= 1.05f;\n"                                                              \
    "    fa_ref_attention_cta<ELEM, ELEM, HD>(q, CAUSAL);\n"                                       \
    "}\n"                                                                                          \
    "extern \"C\" __global__ void __launch_bounds__(256)\n"                                        \
    "fa_test_slow(const __grid_constant__ fa_fwd_params p)\n"                                      \
    "{\n"                                                                                          \
    "    for (int r = 0; r < 2 + (p.batch < 0); r++)\n"                                            \
    "        fa_ref_attention_cta<ELEM, ELEM, HD>(p, CAUSAL);\n"                                   \
    "}\n"                                                                                          \
    "extern \"C\" __global__ void fa_test_fault(const __grid_constant__ fa_fwd_params p)\n"        \
    "{\n"                                                                                          \
    "    if (threadIdx.x == 0)\n"                                                                  \
    "        *reinterpret_cast<volatile float *>(0x100ull + (p.o & 0xf0ull)) = 1.f;\n"             \
    "}\n"                                                                                          \
    "extern \"C\" __global__ void fa_test_hang(const __grid_constant__ fa_fwd_params p)\n"         \
    "{\n"                                                                                          \
    "    if (blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0 && threadIdx.x == 0)\n"         \
    "        for (;;) { __nanosleep(1000000); if (p.batch < 0) break; }\n"                         \
    "}\n"

/* The translation unit for one (dtype, head dim, causal) mode. */
static inline void fa_test_kernel_source(char *buf, size_t n, fa_dtype t, int head_dim, int causal)
{
    snprintf(buf, n, "#define ELEM %s\n#define HD %d\n#define CAUSAL %d\n%s",
             t == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", head_dim, causal,
             FA_TEST_KERNELS_BODY);
}

/* The launch geometry the planted kernels expect for a problem's mode: 64 rows and 256
 * threads per CTA, and (through BLOCK_N 64, 3 stages) at least the reference's shared memory
 * for head dims up to 128. */
static inline fa_variant fa_test_variant(fa_dtype t, int head_dim, int causal, int varlen)
{
    fa_variant v = {0};
    v.family = fa_family_sm80();
    v.dtype = t;
    v.head_dim = head_dim;
    fa_test_set(&v, "block_m", 64);
    fa_test_set(&v, "block_n", 64);
    fa_test_set(&v, "warps", 8);
    fa_test_set(&v, "stages", 3);
    v.causal = causal;
    v.varlen = varlen;
    return v;
}

#endif /* FA_TEST_KERNELS_H */
