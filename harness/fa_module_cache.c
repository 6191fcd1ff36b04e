/* This file implements the worker's cache of loaded variant modules (fa_module_cache.h). */
#include "fa_module_cache.h"

#include <stdlib.h>
#include <string.h>

static void entry_free(fa_module_entry *x)
{
    free(x->cubin);
    free(x->symbol);
    memset(x, 0, sizeof *x);
}

static int entry_matches(const fa_module_entry *x, const void *cubin, size_t size,
                         const char *symbol)
{
    return x->cubin && x->size == size && !strcmp(x->symbol, symbol) &&
           !memcmp(x->cubin, cubin, size);
}

/* A free slot, else the least recently used unpinned one (unloaded first); NULL when every
 * slot is pinned. */
static fa_module_entry *victim(fa_module_cache *c, const fa_cuda *cu)
{
    fa_module_entry *best = NULL;
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++) {
        fa_module_entry *x = &c->e[i];
        if (!x->cubin)
            return x;
        if (!x->pinned && (!best || x->tick < best->tick))
            best = x;
    }
    if (best) {
        cu->cuModuleUnload(best->mod);
        entry_free(best);
    }
    return best;
}

void fa_module_cache_get(fa_module_cache *c, const fa_cuda *cu, const void *cubin, size_t size,
                         const char *symbol, fa_module_entry **out, CUresult *res)
{
    *out = NULL;
    symbol = symbol ? symbol : "";
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++) {
        fa_module_entry *x = &c->e[i];
        if (entry_matches(x, cubin, size, symbol)) {
            x->tick = ++c->tick;
            x->pinned = 1;
            c->hits++;
            *out = x;
            *res = CUDA_SUCCESS;
            return;
        }
    }
    fa_module_entry *x = victim(c, cu);
    if (!x) {
        *res = CUDA_ERROR_OUT_OF_MEMORY; /* more pinned modules than slots: a caller bug */
        return;
    }
    CUmodule mod = NULL;
    CUfunction fn = NULL;
    *res = cu->cuModuleLoadData(&mod, cubin);
    if (*res != CUDA_SUCCESS)
        return;
    if (cu->cuModuleGetFunction(&fn, mod, symbol) != CUDA_SUCCESS) {
        cu->cuModuleUnload(mod);
        *res = CUDA_ERROR_NOT_FOUND;
        return;
    }
    x->cubin = malloc(size ? size : 1);
    x->symbol = malloc(strlen(symbol) + 1);
    if (!x->cubin || !x->symbol) { /* no room to remember it: unload, report out of memory */
        cu->cuModuleUnload(mod);
        entry_free(x);
        *res = CUDA_ERROR_OUT_OF_MEMORY;
        return;
    }
    memcpy(x->cubin, cubin, size);
    strcpy(x->symbol, symbol);
    x->size = size;
    x->mod = mod;
    x->fn = fn;
    x->tick = ++c->tick;
    x->pinned = 1;
    c->loads++;
    *out = x;
}

void fa_module_cache_unpin_all(fa_module_cache *c)
{
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        c->e[i].pinned = 0;
}

void fa_module_cache_clear(fa_module_cache *c, const fa_cuda *cu)
{
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        if (c->e[i].cubin) {
            cu->cuModuleUnload(c->e[i].mod);
            entry_free(&c->e[i]);
        }
}

void fa_module_cache_forget(fa_module_cache *c)
{
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        entry_free(&c->e[i]);
}
