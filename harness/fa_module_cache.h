/*
 * fa_module_cache.h -- loaded variant modules kept across jobs in one worker.
 *
 * The tuning engine times one variant on every problem of its class, one job each, so the
 * same cubin arrives many times in a row. Loading it each time (cuModuleLoadData, the
 * function lookup, the shared-memory attribute) costs about a millisecond of host time per
 * job and a first launch that pays lazy loading again. This cache keeps the most recently
 * used modules loaded, keyed by the cubin's exact bytes and the kernel's name: a lookup
 * compares bytes, so two different cubins can never share an entry.
 *
 * This file implements nothing itself; it declares what fa_module_cache.c does. The cache is
 * single-threaded like its runner. Entries are unloaded on eviction and by
 * fa_module_cache_clear; after a fault poisons the context, fa_module_cache_forget drops
 * them without calling the driver (the modules went with the context).
 */
#ifndef FA_MODULE_CACHE_H
#define FA_MODULE_CACHE_H

#include <stddef.h>

#include "fa_driver.h"

/* Modules kept loaded. More than FA_RETIME_MAX (fa_runner.h): an interleaved re-timing pins
 * all of its finalists' modules at once. */
#define FA_MODULE_CACHE_SLOTS 80

typedef struct fa_module_entry {
    void *cubin; /* owned copy: the key */
    size_t size;
    char *symbol; /* owned */
    CUmodule mod;
    CUfunction fn;
    unsigned long long tick; /* last use */
    unsigned smem_set;       /* dynamic shared memory already allowed on fn */
    int pinned;              /* in use by the current job: never evicted */
    int launched;            /* has run to completion since loading: no first-launch costs left */
} fa_module_entry;

typedef struct fa_module_cache {
    fa_module_entry e[FA_MODULE_CACHE_SLOTS];
    unsigned long long tick;
    int loads, hits; /* counters for tests */
} fa_module_cache;

/*
 * The entry for (cubin, symbol): found, or loaded into a free or least recently used slot
 * (never a pinned one). The entry comes back pinned; fa_module_cache_unpin_all releases every
 * pin at the end of a job. On a load failure *res is the driver's error and nothing is
 * cached; *out is NULL. On a missing kernel name, *res is CUDA_ERROR_NOT_FOUND.
 */
void fa_module_cache_get(fa_module_cache *c, const fa_cuda *cu, const void *cubin, size_t size,
                         const char *symbol, fa_module_entry **out, CUresult *res);
void fa_module_cache_unpin_all(fa_module_cache *c);
/* Unload every module (the context must be usable). */
void fa_module_cache_clear(fa_module_cache *c, const fa_cuda *cu);
/* Free the host copies without touching the driver (after the context was lost). */
void fa_module_cache_forget(fa_module_cache *c);

#endif /* FA_MODULE_CACHE_H */
