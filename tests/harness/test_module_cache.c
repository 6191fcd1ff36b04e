/*
 * This file implements the CPU test of the worker's module cache (harness/fa_module_cache.c)
 * against a stub driver table that counts loads and unloads:
 *   - the same cubin bytes and kernel name hit; other bytes load anew, even at the same address
 *     (the key is the content, not the pointer);
 *   - a job's precomputed hash (fa_compile_output.cubin_hash) finds what a hash computed here
 *     found, and the key is that hash: another hash loads anew, even for the same bytes;
 *   - another kernel of a loaded cubin (a compile batch's) takes its function from the loaded
 *     module: one load, and the module stays until the last of its kernels is evicted, also
 *     when the kernel evicted to make room was that module's only other one;
 *   - a full cache evicts the least recently used unpinned module and unloads it;
 *   - a pinned module (in use by the current job) is never evicted, and with every slot
 *     pinned the lookup fails rather than unload one in use;
 *   - a load failure and a missing kernel leave nothing cached (the module unloaded);
 *   - clear unloads every module, forget unloads none (a lost context).
 */
#include <stdio.h>
#include <string.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_module_cache.h"
#include "fa_util.h"

static int loads, unloads, live;
static CUresult load_result = CUDA_SUCCESS;

static CUresult CUDAAPI stub_load(CUmodule *m, const void *image)
{
    (void)image;
    if (load_result != CUDA_SUCCESS)
        return load_result;
    loads++;
    live++;
    *m = (CUmodule)(size_t)loads;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI stub_unload(CUmodule m)
{
    (void)m;
    unloads++;
    live--;
    return CUDA_SUCCESS;
}

static CUresult CUDAAPI stub_get_function(CUfunction *f, CUmodule m, const char *name)
{
    if (!strcmp(name, "missing"))
        return CUDA_ERROR_NOT_FOUND;
    *f = (CUfunction)m;
    return CUDA_SUCCESS;
}

static fa_module_entry *get(fa_module_cache *c, const fa_cuda *cu, const void *cubin, size_t n,
                            const char *sym, CUresult *r)
{
    fa_module_entry *e = NULL;
    fa_module_cache_get(c, cu, cubin, n, 0, sym, &e, r);
    return e;
}

static fa_module_entry *get_hashed(fa_module_cache *c, const fa_cuda *cu, const void *cubin,
                                   size_t n, uint64_t hash, const char *sym, CUresult *r)
{
    fa_module_entry *e = NULL;
    fa_module_cache_get(c, cu, cubin, n, hash, sym, &e, r);
    return e;
}

int main(void)
{
    fa_cuda cu;
    memset(&cu, 0, sizeof cu);
    cu.cuModuleLoadData = stub_load;
    cu.cuModuleUnload = stub_unload;
    cu.cuModuleGetFunction = stub_get_function;
    static fa_module_cache c; /* large: not on the stack */
    CUresult r;
    int before;

    /* hits by content and name */
    char a[64] = "cubin A", b[64] = "cubin B";
    fa_module_entry *ea = get(&c, &cu, a, sizeof a, "k", &r);
    CHECK(ea && r == CUDA_SUCCESS && loads == 1 && ea->pinned);
    fa_module_cache_unpin_all(&c);
    CHECK(get(&c, &cu, a, sizeof a, "k", &r) == ea && loads == 1 && c.hits == 1);
    fa_module_entry *eo = get(&c, &cu, a, sizeof a, "other", &r); /* another kernel, same cubin */
    CHECK(eo && eo != ea && eo->img == ea->img && loads == 1 && c.shared == 1);
    memcpy(a, "cubin a", 8); /* same address, new bytes: a new module */
    CHECK(get(&c, &cu, a, sizeof a, "k", &r) != ea && loads == 2);
    CHECK(get(&c, &cu, b, sizeof b, "k", &r) && loads == 3);
    fa_module_cache_unpin_all(&c);

    /* the hash a job carries is the key */
    fa_module_entry *eb = get(&c, &cu, b, sizeof b, "k", &r);
    CHECK(eb && loads == 3);
    fa_module_cache_unpin_all(&c);
    CHECK(get_hashed(&c, &cu, b, sizeof b, fa_content_hash(b, sizeof b), "k", &r) == eb &&
          loads == 3);
    fa_module_cache_unpin_all(&c);
    fa_module_entry *ex = get_hashed(&c, &cu, b, sizeof b, 12345, "k", &r);
    CHECK(ex && ex != eb && ex->img != eb->img && loads == 4);
    CHECK(get_hashed(&c, &cu, a, sizeof a, 12345, "k", &r) == ex && loads == 4);
    fa_module_cache_unpin_all(&c);

    /* a shared module lives until its last kernel goes */
    fa_module_cache_clear(&c, &cu);
    CHECK(live == 0);
    loads = unloads = 0;
    char batch[64] = "batch cubin", filler[FA_MODULE_CACHE_SLOTS][16];
    get(&c, &cu, batch, sizeof batch, "k0", &r);
    fa_module_cache_unpin_all(&c);
    get(&c, &cu, batch, sizeof batch, "k1", &r);
    fa_module_cache_unpin_all(&c);
    CHECK(loads == 1 && live == 1);
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS - 1; i++) { /* fills the cache, evicts k0 */
        snprintf(filler[i], sizeof filler[i], "filler %d", i);
        get(&c, &cu, filler[i], sizeof filler[i], "k", &r);
        fa_module_cache_unpin_all(&c);
    }
    CHECK(loads == FA_MODULE_CACHE_SLOTS && unloads == 0); /* k1 still holds the batch */
    before = loads;
    /* k2 of the batch evicts k1, its module's only other kernel: taken over, not reloaded */
    fa_module_entry *e2 = get(&c, &cu, batch, sizeof batch, "k2", &r);
    CHECK(e2 && r == CUDA_SUCCESS && loads == before && unloads == 0);
    fa_module_cache_unpin_all(&c);
    char fresh[16] = "fresh";
    get(&c, &cu, fresh, sizeof fresh, "k", &r); /* evicts filler 0, the least recently used */
    fa_module_cache_unpin_all(&c);
    CHECK(loads == before + 1 && unloads == 1 && live == FA_MODULE_CACHE_SLOTS);
    /* a missing kernel in a loaded module leaves the module to its other kernel */
    CHECK(get(&c, &cu, batch, sizeof batch, "missing", &r) == NULL && r == CUDA_ERROR_NOT_FOUND);
    CHECK(unloads == 2); /* filler 1 made room; the batch's module stayed */
    CHECK(get(&c, &cu, batch, sizeof batch, "k2", &r) == e2 && loads == before + 1);
    fa_module_cache_unpin_all(&c);

    /* a full cache evicts the least recently used, unloading it */
    char img[FA_MODULE_CACHE_SLOTS + 8][16];
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS + 8; i++)
        snprintf(img[i], sizeof img[i], "image %d", i);
    fa_module_cache_clear(&c, &cu);
    CHECK(live == 0);
    loads = unloads = 0;
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++) {
        get(&c, &cu, img[i], sizeof img[i], "k", &r);
        fa_module_cache_unpin_all(&c);
    }
    CHECK(loads == FA_MODULE_CACHE_SLOTS && unloads == 0);
    get(&c, &cu, img[0], sizeof img[0], "k", &r); /* image 0 used again: image 1 is now LRU */
    fa_module_cache_unpin_all(&c);
    get(&c, &cu, img[FA_MODULE_CACHE_SLOTS], sizeof img[0], "k", &r);
    fa_module_cache_unpin_all(&c);
    CHECK(unloads == 1 && live == FA_MODULE_CACHE_SLOTS);
    before = loads;
    get(&c, &cu, img[0], sizeof img[0], "k", &r); /* still cached */
    CHECK(loads == before);
    get(&c, &cu, img[1], sizeof img[1], "k", &r); /* evicted: loads again */
    CHECK(loads == before + 1);
    fa_module_cache_unpin_all(&c);

    /* pinned modules are never evicted; all pinned: the lookup fails, nothing unloaded */
    fa_module_cache_clear(&c, &cu);
    loads = unloads = 0;
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        CHECK(get(&c, &cu, img[i], sizeof img[i], "k", &r) != NULL);
    CHECK(get(&c, &cu, img[FA_MODULE_CACHE_SLOTS], sizeof img[0], "k", &r) == NULL &&
          r != CUDA_SUCCESS && unloads == 0);
    fa_module_cache_unpin_all(&c);

    /* failures cache nothing */
    fa_module_cache_clear(&c, &cu);
    loads = unloads = 0;
    load_result = CUDA_ERROR_INVALID_IMAGE;
    CHECK(get(&c, &cu, a, sizeof a, "k", &r) == NULL && r == CUDA_ERROR_INVALID_IMAGE);
    load_result = CUDA_SUCCESS;
    CHECK(get(&c, &cu, a, sizeof a, "missing", &r) == NULL && r == CUDA_ERROR_NOT_FOUND);
    CHECK(live == 0); /* the module whose kernel was missing was unloaded */
    CHECK(get(&c, &cu, a, sizeof a, "k", &r) != NULL && loads == 2);
    fa_module_cache_unpin_all(&c);

    /* forget: after a lost context nothing may be unloaded */
    int u = unloads;
    fa_module_cache_forget(&c);
    CHECK(unloads == u);
    CHECK(get(&c, &cu, a, sizeof a, "k", &r) != NULL && loads == 3); /* empty again */
    fa_module_cache_clear(&c, &cu);

    printf("module cache: %d failure(s)\n", fa_check_failures);
    return fa_check_failures ? 1 : 0;
}
