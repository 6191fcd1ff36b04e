/*
 * This file implements run-time loading of the CUDA driver and cuBLAS (see fa_driver.h):
 * dlopen, cuGetProcAddress at the header's CUDA_VERSION, dlsym for cuBLAS, and the error
 * translation every Driver API and cuBLAS call of the harness goes through.
 */
#include "fa_driver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_toolkit.h"

#define FA_STR_(x) #x
#define FA_XSTR(x) FA_STR_(x) /* stringify after macro expansion: the exported symbol name */

fa_status fa_cuda_load(fa_cuda **out, fa_err *err)
{
    const char *path = getenv("FA_TUNE_LIBCUDA");
    if (!path || !*path)
        path = "libcuda.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *why = dlerror();
        return FA_ERR(err, FA_NO_DEVICE, "no CUDA driver (%s)", why ? why : path);
    }
    /* cuGetProcAddress_v2 exists since CUDA 12.0; it hands out each entry point at the ABI
     * of a given CUDA version, which is how the headers' versioned macros stay honest. */
    __typeof__(cuGetProcAddress) *gpa;
    *(void **)&gpa = dlsym(lib, "cuGetProcAddress_v2"); /* POSIX's idiom; pedantic-clean */
    if (!gpa) {
        dlclose(lib);
        return FA_ERR(err, FA_NO_DEVICE,
                      "no usable CUDA driver ('%s' has no cuGetProcAddress_v2: driver older than "
                      "CUDA 12.0)",
                      path);
    }
    fa_cuda *d = calloc(1, sizeof *d);
    if (!d) {
        dlclose(lib);
        return FA_ERR(err, FA_NOMEM, "out of memory");
    }
    d->lib = lib;
    CUdriverProcAddressQueryResult q;
    CUresult r;
#define FA_RESOLVE(name)                                                                           \
    r = gpa(#name, (void **)&d->name, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &q);              \
    if (r == CUDA_ERROR_STUB_LIBRARY) {                                                            \
        fa_cuda_free(d);                                                                           \
        return FA_ERR(err, FA_NO_DEVICE, "no CUDA driver ('%s' is the toolkit's stub library)",    \
                      path);                                                                       \
    }                                                                                              \
    if (r != CUDA_SUCCESS || !d->name) {                                                           \
        fa_cuda_free(d);                                                                           \
        return FA_ERR(err, FA_NO_DEVICE,                                                           \
                      "no usable CUDA driver ('%s' lacks %s for CUDA %d.%d: error %d, query %d)",  \
                      path, #name, CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10, (int)r, (int)q); \
    }
    FA_CUDA_FUNCS(FA_RESOLVE)
#undef FA_RESOLVE
#define FA_RESOLVE_OPTIONAL(name)                                                                  \
    if (gpa(#name, (void **)&d->name, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &q) !=            \
        CUDA_SUCCESS)                                                                              \
        d->name = NULL;
    FA_CUDA_OPTIONAL_FUNCS(FA_RESOLVE_OPTIONAL)
#undef FA_RESOLVE_OPTIONAL
    /* cuDriverGetVersion works before cuInit. A stub library answers with an error. */
    if (d->cuDriverGetVersion(&d->driver_version) != CUDA_SUCCESS)
        d->driver_version = 0;
    *out = d;
    return FA_OK;
}

void fa_cuda_free(fa_cuda *d)
{
    if (!d)
        return;
    if (d->lib)
        dlclose(d->lib);
    free(d);
}

void fa_cuda_describe(const fa_cuda *d, CUresult r, char *buf, size_t n)
{
    const char *name = NULL, *text = NULL;
    if (d && d->cuGetErrorName(r, &name) != CUDA_SUCCESS)
        name = NULL;
    if (d && d->cuGetErrorString(r, &text) != CUDA_SUCCESS)
        text = NULL;
    if (name && text)
        snprintf(buf, n, "%s (%s)", text, name);
    else
        snprintf(buf, n, "CUDA error %d", (int)r);
}

/* "d->cuMemAlloc_v2(&p, n)" -> "cuMemAlloc": the call text minus the table and the version. */
static void call_name(const char *what, char *buf, size_t n)
{
    const char *s = strstr(what, "->");
    s = s ? s + 2 : what;
    size_t len = strcspn(s, "(");
    const char *v = strstr(s, "_v");
    if (v && (size_t)(v - s) < len)
        len = (size_t)(v - s);
    if (len >= n)
        len = n - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
}

fa_status fa_cuda_check(const fa_cuda *d, CUresult r, const char *what, const char *file, int line,
                        fa_err *err)
{
    if (r == CUDA_SUCCESS)
        return FA_OK;
    char name[64], desc[256];
    call_name(what, name, sizeof name);
    fa_cuda_describe(d, r, desc, sizeof desc);
    return fa_err_set(err, FA_CUDA_ERROR, file, line, "%s: %s", name, desc);
}

fa_status fa_cublas_load(fa_cublas **out, fa_err *err)
{
    /* From the toolkit fa-tune finds (fa_toolkit.h), or $FA_TUNE_LIBCUBLAS: an installed
     * fa-tune has no RUNPATH and cuBLAS is often not on the loader's path. */
    const char *soname = "libcublas.so." FA_XSTR(CUBLAS_VER_MAJOR);
    char path[4096], first_error[512];
    void *lib = fa_toolkit_dlopen(soname, "FA_TUNE_LIBCUBLAS", path, sizeof path, first_error,
                                  sizeof first_error);
    if (!lib)
        return FA_ERR(err, FA_UNSUPPORTED, "no cuBLAS for the eager baseline (%s)", first_error);
    fa_cublas *b = calloc(1, sizeof *b);
    if (!b) {
        dlclose(lib);
        return FA_ERR(err, FA_NOMEM, "out of memory");
    }
    b->lib = lib;
#define FA_RESOLVE(name)                                                                           \
    *(void **)&b->name = dlsym(lib, FA_XSTR(name));                                                \
    if (!b->name) {                                                                                \
        fa_cublas_free(b);                                                                         \
        return FA_ERR(err, FA_UNSUPPORTED, "'%s' lacks %s", path, FA_XSTR(name));                  \
    }
    FA_CUBLAS_FUNCS(FA_RESOLVE)
#undef FA_RESOLVE
    *out = b;
    return FA_OK;
}

void fa_cublas_free(fa_cublas *b)
{
    if (!b)
        return;
    if (b->lib)
        dlclose(b->lib);
    free(b);
}

static const char *cublas_status_name(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
        return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
        return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
        return "CUBLAS_STATUS_LICENSE_ERROR";
    default:
        return "CUBLAS_STATUS_UNKNOWN";
    }
}

fa_status fa_cublas_check(cublasStatus_t s, const char *what, const char *file, int line,
                          fa_err *err)
{
    if (s == CUBLAS_STATUS_SUCCESS)
        return FA_OK;
    char name[64];
    call_name(what, name, sizeof name);
    return fa_err_set(err, FA_CUDA_ERROR, file, line, "%s: %s (%d)", name, cublas_status_name(s),
                      (int)s);
}
