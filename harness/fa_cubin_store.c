/* This file implements the worker's cubin ledger and store (fa_cubin_store.h). */
#include "fa_cubin_store.h"

#include <stdlib.h>
#include <string.h>

int fa_cubin_ledger_place(fa_cubin_ledger *l, uint64_t h, size_t size, int *send)
{
    int victim = 0;
    for (int i = 0; i < FA_CUBIN_SLOTS; i++) {
        if (l->slot[i].tick && l->slot[i].hash == h && l->slot[i].size == size) {
            l->slot[i].tick = ++l->tick;
            *send = 0;
            return i;
        }
        if (l->slot[i].tick < l->slot[victim].tick)
            victim = i;
    }
    l->slot[victim].hash = h;
    l->slot[victim].size = size;
    l->slot[victim].tick = ++l->tick;
    *send = 1;
    return victim;
}

const void *fa_cubin_store_put(fa_cubin_store *s, uint32_t slot, const void *bytes, size_t size)
{
    if (slot >= FA_CUBIN_SLOTS)
        return NULL;
    void *copy = malloc(size ? size : 1);
    free(s->bytes[slot]);
    s->bytes[slot] = copy;
    s->size[slot] = copy ? size : 0;
    if (copy)
        memcpy(copy, bytes, size);
    return copy;
}

const void *fa_cubin_store_get(const fa_cubin_store *s, uint32_t slot, size_t size)
{
    if (slot >= FA_CUBIN_SLOTS || !s->bytes[slot] || s->size[slot] != size)
        return NULL;
    return s->bytes[slot];
}

void fa_cubin_store_clear(fa_cubin_store *s)
{
    for (int i = 0; i < FA_CUBIN_SLOTS; i++)
        free(s->bytes[i]);
    memset(s, 0, sizeof *s);
}
