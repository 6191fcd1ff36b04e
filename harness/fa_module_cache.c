/* This file implements the worker's cache of loaded variant modules (fa_module_cache.h). */
#include "fa_module_cache.h"

#include <stdlib.h>
#include <string.h>

#include "fa_util.h"

static int image_matches(const fa_module_image *m, uint64_t hash, size_t size)
{
    return m->refs > 0 && m->hash == hash && m->size == size;
}

/* Drop one entry's hold on its image; the last one out unloads it (unless the context is
 * gone: cu NULL). */
static void image_release(fa_module_image *m, const fa_cuda *cu)
{
    if (--m->refs > 0)
        return;
    if (cu)
        cu->cuModuleUnload(m->mod);
    memset(m, 0, sizeof *m);
}

static void entry_free(fa_module_entry *x, const fa_cuda *cu)
{
    if (x->img)
        image_release(x->img, cu);
    free(x->symbol);
    memset(x, 0, sizeof *x);
}

/* A free slot, else the least recently used unpinned one (released first); NULL when every
 * slot is pinned. */
static fa_module_entry *victim(fa_module_cache *c, const fa_cuda *cu)
{
    fa_module_entry *best = NULL;
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++) {
        fa_module_entry *x = &c->e[i];
        if (!x->img)
            return x;
        if (!x->pinned && (!best || x->tick < best->tick))
            best = x;
    }
    if (best)
        entry_free(best, cu);
    return best;
}

static fa_module_image *image_find(fa_module_cache *c, uint64_t hash, size_t size)
{
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        if (image_matches(&c->img[i], hash, size))
            return &c->img[i];
    return NULL;
}

/* Load the cubin into a free image slot. There is one: images never outnumber entries, and
 * the caller has just freed an entry. The driver copies what it needs from the image, so
 * nothing here keeps the bytes. */
static fa_module_image *image_load(fa_module_cache *c, const fa_cuda *cu, const void *cubin,
                                   size_t size, uint64_t hash, CUresult *res)
{
    fa_module_image *m = NULL;
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS && !m; i++)
        if (c->img[i].refs == 0)
            m = &c->img[i];
    if (!m) {
        *res = CUDA_ERROR_OUT_OF_MEMORY;
        return NULL;
    }
    *res = cu->cuModuleLoadData(&m->mod, cubin);
    if (*res != CUDA_SUCCESS) {
        m->mod = NULL;
        return NULL;
    }
    m->hash = hash;
    m->size = size;
    c->loads++;
    return m;
}

void fa_module_cache_get(fa_module_cache *c, const fa_cuda *cu, const void *cubin, size_t size,
                         uint64_t hash, const char *symbol, fa_module_entry **out, CUresult *res)
{
    *out = NULL;
    symbol = symbol ? symbol : "";
    if (!hash)
        hash = fa_content_hash(cubin, size);
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++) {
        fa_module_entry *x = &c->e[i];
        if (x->img && !strcmp(x->symbol, symbol) && image_matches(x->img, hash, size)) {
            x->tick = ++c->tick;
            x->pinned = 1;
            c->hits++;
            *out = x;
            *res = CUDA_SUCCESS;
            return;
        }
    }
    /* Another kernel of the same cubin is loaded: hold its image before choosing a victim,
     * which may be the image's last other holder. */
    fa_module_image *m = image_find(c, hash, size);
    if (m)
        m->refs++;
    fa_module_entry *x = victim(c, cu);
    if (!x) {
        if (m)
            image_release(m, cu);
        *res = CUDA_ERROR_OUT_OF_MEMORY; /* more pinned kernels than slots: a caller bug */
        return;
    }
    if (m) {
        c->shared++;
    } else {
        m = image_load(c, cu, cubin, size, hash, res);
        if (!m)
            return;
        m->refs = 1;
    }
    x->img = m; /* the entry holds the image from here: entry_free releases it */
    x->symbol = malloc(strlen(symbol) + 1);
    if (!x->symbol) { /* no room to remember it: release, report out of memory */
        entry_free(x, cu);
        *res = CUDA_ERROR_OUT_OF_MEMORY;
        return;
    }
    strcpy(x->symbol, symbol);
    if (cu->cuModuleGetFunction(&x->fn, m->mod, symbol) != CUDA_SUCCESS) {
        entry_free(x, cu); /* a module loaded only for this kernel is unloaded again */
        *res = CUDA_ERROR_NOT_FOUND;
        return;
    }
    x->tick = ++c->tick;
    x->pinned = 1;
    *res = CUDA_SUCCESS;
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
        entry_free(&c->e[i], cu);
}

void fa_module_cache_forget(fa_module_cache *c)
{
    for (int i = 0; i < FA_MODULE_CACHE_SLOTS; i++)
        entry_free(&c->e[i], NULL);
}
