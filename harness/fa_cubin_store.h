/*
 * fa_cubin_store.h -- a variant's cubin crosses the worker's socket once, not with every job.
 *
 * The tuning engine times one variant on several problems, and a cold compile gives each of up
 * to FA_COMPILE_BATCH variants the whole batch's cubin (~400 KB on the hd128 job), so sending
 * the cubin with every job moved about 2 GB through the socket on the full hd128 job with
 * halving (the child's reads of those payloads: 0.6 s of a 22 s warm run on an H100,
 * bench/results/2026-12-07_session30). Instead the parent keeps a ledger of the cubins the
 * child holds, by content, and the child a store of them in the same slots: a job names its
 * cubin's slot and carries the bytes only when the child does not hold them yet.
 *
 * The parent decides every slot, so the two sides never disagree: the child stores what it is
 * told where it is told. The ledger evicts the least recently placed slot, so the cubins of
 * one message (up to FA_RETIME_MAX of an interleaved re-timing) never evict one another:
 * FA_CUBIN_SLOTS is larger. A content's identity is its size and its fa_content_hash
 * (fa_util.h), which the compiler computes once per output (fa_compile_output.cubin_hash) and
 * a job carries, so placing a job does not read its ~400 KB again.
 *
 * This file declares what fa_cubin_store.c implements. Single-threaded, like a worker.
 */
#ifndef FA_CUBIN_STORE_H
#define FA_CUBIN_STORE_H

#include <stddef.h>
#include <stdint.h>

#define FA_CUBIN_SLOTS 96

/* The parent's side. All zero is an empty ledger (a fresh child). */
typedef struct fa_cubin_ledger {
    struct {
        uint64_t hash, size;
        unsigned long long tick; /* last placed; 0: empty */
    } slot[FA_CUBIN_SLOTS];
    unsigned long long tick;
} fa_cubin_ledger;

/* The slot that holds the cubin of this size and fa_content_hash in the child, and *send = 0;
 * or the slot it goes to (an empty or the least recently placed one), recorded as held, and
 * *send = 1: the caller sends the bytes with the job. */
int fa_cubin_ledger_place(fa_cubin_ledger *l, uint64_t hash, size_t size, int *send);

/* The child's side. All zero is an empty store. */
typedef struct fa_cubin_store {
    void *bytes[FA_CUBIN_SLOTS];
    size_t size[FA_CUBIN_SLOTS];
} fa_cubin_store;

/* Keep a copy of the bytes in slot (replacing what was there): the copy, or NULL (a bad slot,
 * or no memory). */
const void *fa_cubin_store_put(fa_cubin_store *s, uint32_t slot, const void *bytes, size_t size);
/* The bytes held in slot, or NULL when it holds nothing of that size. */
const void *fa_cubin_store_get(const fa_cubin_store *s, uint32_t slot, size_t size);
void fa_cubin_store_clear(fa_cubin_store *s);

#endif /* FA_CUBIN_STORE_H */
