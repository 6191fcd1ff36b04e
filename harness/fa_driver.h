/*
 * fa_driver.h -- the CUDA Driver API and cuBLAS, loaded at run time.
 *
 * This file implements nothing itself; it declares the function tables fa_driver.c fills.
 * fa-tune must start, compile and answer `info` on a machine with no GPU driver, so it never
 * links libcuda or libcublas: libcuda.so.1 is dlopen()ed and every entry point is resolved
 * through cuGetProcAddress at the ABI version of the headers we compiled against (the
 * prototypes come from cuda.h via __typeof__, so a signature can never drift from the
 * header); libcublas.so.<major> is dlopen()ed the same way when the eager baseline needs it.
 *
 * Ownership: fa_cuda_load/fa_cublas_load allocate a table the caller frees with
 * fa_cuda_free/fa_cublas_free (NULL is a no-op). Loading a table does not initialise CUDA:
 * the caller calls cuInit. A process that will fork GPU workers must not call cuInit itself.
 */
#ifndef FA_DRIVER_H
#define FA_DRIVER_H

#include <cublas_v2.h>
#include <cuda.h>

#include "fa_status.h"

/* Every Driver API entry point the harness uses. X(name) with the cuda.h spelling; cuda.h
 * maps some names to versioned symbols (cuMemAlloc -> cuMemAlloc_v2), which is what the
 * table's members are called after preprocessing, consistently. */
#define FA_CUDA_FUNCS(X)                                                                           \
    X(cuInit)                                                                                      \
    X(cuDriverGetVersion)                                                                          \
    X(cuGetErrorName)                                                                              \
    X(cuGetErrorString)                                                                            \
    X(cuDeviceGetCount)                                                                            \
    X(cuDeviceGet)                                                                                 \
    X(cuDeviceGetName)                                                                             \
    X(cuDeviceGetAttribute)                                                                        \
    X(cuDeviceTotalMem)                                                                            \
    X(cuDevicePrimaryCtxRetain)                                                                    \
    X(cuDevicePrimaryCtxRelease)                                                                   \
    X(cuCtxSetCurrent)                                                                             \
    X(cuCtxSynchronize)                                                                            \
    X(cuModuleLoadData)                                                                            \
    X(cuModuleUnload)                                                                              \
    X(cuModuleGetFunction)                                                                         \
    X(cuFuncSetAttribute)                                                                          \
    X(cuFuncGetAttribute)                                                                          \
    X(cuLaunchKernel)                                                                              \
    X(cuMemAlloc)                                                                                  \
    X(cuMemFree)                                                                                   \
    X(cuMemGetInfo)                                                                                \
    X(cuMemcpyHtoD)                                                                                \
    X(cuMemcpyDtoH)                                                                                \
    X(cuMemcpyDtoDAsync)                                                                           \
    X(cuMemsetD8Async)                                                                             \
    X(cuMemsetD16Async)                                                                            \
    X(cuMemsetD32Async)                                                                            \
    X(cuStreamCreate)                                                                              \
    X(cuStreamDestroy)                                                                             \
    X(cuStreamSynchronize)                                                                         \
    X(cuEventCreate)                                                                               \
    X(cuEventDestroy)                                                                              \
    X(cuEventRecord)                                                                               \
    X(cuEventSynchronize)                                                                          \
    X(cuEventElapsedTime)

/* Optional entry points: NULL when the driver predates them. */
#define FA_CUDA_OPTIONAL_FUNCS(X)                                                                  \
    X(cuFuncGetParamInfo)                                                                          \
    X(cuLaunchKernelEx)                                                                            \
    X(cuTensorMapEncodeTiled)

#define FA_CUDA_MEMBER(name) __typeof__(name) *name;

typedef struct fa_cuda {
    void *lib;          /* dlopen handle */
    int driver_version; /* cuDriverGetVersion, e.g. 13000; valid after load */
    FA_CUDA_FUNCS(FA_CUDA_MEMBER)
    FA_CUDA_OPTIONAL_FUNCS(FA_CUDA_MEMBER)
} fa_cuda;

/* Load libcuda.so.1 (or $FA_TUNE_LIBCUDA) and resolve the table. FA_NO_DEVICE with a
 * one-line reason ("no CUDA driver: libcuda.so.1: cannot open shared object file") when the
 * library or an entry point is missing. *out is written only on success. */
fa_status fa_cuda_load(fa_cuda **out, fa_err *err);
void fa_cuda_free(fa_cuda *d);

/* Turn a CUresult into FA_OK or FA_CUDA_ERROR with "what: message (CUDA_ERROR_NAME)" in err.
 * Out-of-memory keeps FA_CUDA_ERROR; callers that treat it as a result test the code. */
fa_status fa_cuda_check(const fa_cuda *d, CUresult r, const char *what, const char *file, int line,
                        fa_err *err);
/* "CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered" into buf. */
void fa_cuda_describe(const fa_cuda *d, CUresult r, char *buf, size_t n);

/* The checking macro of the harness: FA_CU(d, err, d->cuMemAlloc(&p, n)). */
#define FA_CU(d, err, call) fa_cuda_check((d), (call), #call, __FILE__, __LINE__, (err))

/* cuBLAS: exported names are the versioned ones (cublasCreate_v2), which is what the
 * cublas_api.h macros expand to, so X(cublasCreate) resolves "cublasCreate_v2". */
#define FA_CUBLAS_FUNCS(X)                                                                         \
    X(cublasCreate)                                                                                \
    X(cublasDestroy)                                                                               \
    X(cublasGetVersion)                                                                            \
    X(cublasSetStream)                                                                             \
    X(cublasSetWorkspace)                                                                          \
    X(cublasSetMathMode)                                                                           \
    X(cublasGemmStridedBatchedEx)                                                                  \
    X(cublasGemmBatchedEx)

typedef struct fa_cublas {
    void *lib;
    FA_CUBLAS_FUNCS(FA_CUDA_MEMBER)
} fa_cublas;

/* Load libcublas.so.<CUBLAS_VER_MAJOR> (or $FA_TUNE_LIBCUBLAS). FA_UNSUPPORTED with the reason
 * when absent: the eager baseline is then unavailable, nothing else is affected. */
fa_status fa_cublas_load(fa_cublas **out, fa_err *err);
void fa_cublas_free(fa_cublas *b);
/* FA_OK or FA_CUDA_ERROR with "what: CUBLAS_STATUS_..." in err. */
fa_status fa_cublas_check(cublasStatus_t s, const char *what, const char *file, int line,
                          fa_err *err);
#define FA_CUBLAS(err, call) fa_cublas_check((call), #call, __FILE__, __LINE__, (err))

#endif /* FA_DRIVER_H */
