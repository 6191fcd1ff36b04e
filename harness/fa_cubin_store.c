/* This file implements the worker's cubin ledger and store (fa_cubin_store.h). */
#include "fa_cubin_store.h"

#include <stdlib.h>
#include <string.h>

#include "fa_util.h"

uint64_t fa_cubin_hash(const void *bytes, size_t size)
{
    /* Four independent lanes of multiply-xor over 8-byte words (one lane's multiply latency
     * would bound it to a few GB/s), the tail byte by byte, folded with fa_mix64. */
    const unsigned char *p = bytes;
    uint64_t h[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                     0x27D4EB2F165667C5ull};
    size_t i = 0;
    for (; i + 32 <= size; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            h[k] = (h[k] ^ w) * 0xFF51AFD7ED558CCDull;
            h[k] ^= h[k] >> 29;
        }
    uint64_t t = size;
    for (; i < size; i++)
        t = (t ^ p[i]) * 0x100000001B3ull;
    return fa_mix64(fa_mix64(h[0] ^ fa_mix64(h[1] ^ fa_mix64(h[2] ^ fa_mix64(h[3])))) ^ t);
}

int fa_cubin_ledger_place(fa_cubin_ledger *l, const void *cubin, size_t size, int *send)
{
    const uint64_t h = fa_cubin_hash(cubin, size);
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
