/*
 * test_kernel.h -- the engine tests' kernel source.
 *
 * This file implements a small template kernel for the engine's tests, compiled through
 * fa_compile_source so they do not depend on the real kernel. It uses what every real
 * template uses: a toolkit header (cuda_bf16.h, found at run time), an embedded template
 * header (fa_params.h, an in-memory NVRTC header), a __grid_constant__ params struct, and
 * static shared memory whose size the resource report must show.
 */
#ifndef FA_TEST_KERNEL_H
#define FA_TEST_KERNEL_H

static const char *const fa_test_kernel_src =
    "#include <cuda_bf16.h>\n"
    "#include \"fa_params.h\"\n"
    "template <typename T, int N>\n"
    "__global__ void fa_test_reverse(const __grid_constant__ fa_fwd_params p) {\n"
    "    __shared__ float tile[N];\n"
    "    T *o = reinterpret_cast<T *>(p.o);\n"
    "    tile[threadIdx.x] = static_cast<float>(o[threadIdx.x]) * p.softmax_scale;\n"
    "    __syncthreads();\n"
    "    o[threadIdx.x] = static_cast<T>(tile[N - 1 - threadIdx.x]);\n"
    "}\n";

/* The instance's static shared memory: N floats. */
#define FA_TEST_KERNEL_EXPR "fa_test_reverse<__nv_bfloat16, 128>"
#define FA_TEST_KERNEL_SMEM 512

/* The same kernel with a type error in it. */
static const char *const fa_test_broken_src =
    "#include \"fa_params.h\"\n"
    "template <int N>\n"
    "__global__ void fa_test_broken(const __grid_constant__ fa_fwd_params p) {\n"
    "    float *o = reinterpret_cast<float *>(p.o);\n"
    "    o[threadIdx.x] = undefined_thing<N>(o);\n"
    "}\n";
#define FA_TEST_BROKEN_EXPR "fa_test_broken<4>"

#endif /* FA_TEST_KERNEL_H */
