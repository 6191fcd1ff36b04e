/*
 * fa_module_cache.h -- loaded variant modules kept across jobs in one worker.
 *
 * The tuning engine times one variant on every problem of its class, one job each, so the
 * same cubin arrives many times in a row. Loading it each time (cuModuleLoadData, the
 * function lookup, the shared-memory attribute) costs about a millisecond of host time per
 * job and a first launch that pays lazy loading again. This cache keeps the most recently
 * used modules loaded, keyed by the kernel's name and the cubin's size and fa_content_hash
 * (fa_util.h), the identity the worker's ledger gives a cubin too (fa_cubin_store.h). The
 * hash comes with the job (computed once per compile output), so a lookup reads no cubin
 * bytes, and the cache keeps no copy of them.
 *
 * A kernel whose cubin is already loaded for another kernel (a compile batch's cubin holds
 * several) takes its function from that module instead of loading the cubin again.
 *
 * This file implements nothing itself; it declares what fa_module_cache.c does. The cache is
 * single-threaded like its runner. A module is unloaded when its last entry is evicted, and by
 * fa_module_cache_clear; after a fault poisons the context, fa_module_cache_forget drops
 * them without calling the driver (the modules went with the context).
 */
#ifndef FA_MODULE_CACHE_H
#define FA_MODULE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fa_driver.h"

/* Kernels kept ready. More than FA_RETIME_MAX (fa_runner.h): an interleaved re-timing pins
 * all of its finalists' kernels at once. */
#define FA_MODULE_CACHE_SLOTS 80

/* One loaded cubin. A cold tune compiles up to FA_COMPILE_BATCH variants in one NVRTC program
 * and every one of them gets the whole program's cubin, so up to 8 kernels of a class share one
 * image: it is loaded once for all of them and unloaded when the last is evicted. */
typedef struct fa_module_image {
    uint64_t hash; /* the key: fa_content_hash and size of the cubin */
    size_t size;
    CUmodule mod;
    int refs; /* entries that use it; 0: a free slot */
} fa_module_image;

typedef struct fa_module_entry {
    fa_module_image *img; /* the loaded cubin the kernel lives in; NULL: a free slot */
    char *symbol;         /* owned */
    CUfunction fn;
    unsigned long long tick; /* last use */
    unsigned smem_set;       /* dynamic shared memory already allowed on fn */
    int pinned;              /* in use by the current job: never evicted */
    int launched;            /* has run to completion since loading: no first-launch costs left */
} fa_module_entry;

typedef struct fa_module_cache {
    fa_module_entry e[FA_MODULE_CACHE_SLOTS];
    fa_module_image img[FA_MODULE_CACHE_SLOTS]; /* at most one per entry */
    unsigned long long tick;
    int loads, hits, shared; /* modules loaded, kernels found, kernels taken from a loaded image */
} fa_module_cache;

/*
 * The entry for (cubin, symbol), hash being the cubin's fa_content_hash (0: computed here):
 * found, or made in a free or least recently used slot (never a pinned one) from the cubin's
 * loaded module, which is loaded first if no entry holds it. The entry comes back pinned;
 * fa_module_cache_unpin_all releases every pin at the end of a job. On a load failure *res is
 * the driver's error and nothing is cached; *out is NULL. On a missing kernel name, *res is
 * CUDA_ERROR_NOT_FOUND.
 */
void fa_module_cache_get(fa_module_cache *c, const fa_cuda *cu, const void *cubin, size_t size,
                         uint64_t hash, const char *symbol, fa_module_entry **out, CUresult *res);
void fa_module_cache_unpin_all(fa_module_cache *c);
/* Unload every module (the context must be usable). */
void fa_module_cache_clear(fa_module_cache *c, const fa_cuda *cu);
/* Forget every module without touching the driver (after the context was lost). */
void fa_module_cache_forget(fa_module_cache *c);

#endif /* FA_MODULE_CACHE_H */
