/*
 * This file implements the CPU test of the worker's cubin ledger and store
 * (harness/fa_cubin_store.c), the two halves that let a cubin cross the worker's socket once:
 *   - the content hash (fa_util.h): equal bytes in other buffers hash alike, one changed byte
 *     anywhere (first, middle, the tail past the last 32-byte block) or another length does
 *     not, and it is never 0;
 *   - the ledger: the same bytes (a batch sibling's copy) are held, not sent again; other bytes
 *     of the same size are sent to another slot;
 *   - whole messages: a parent's ledger and a child's store driven through random messages of
 *     up to FA_RETIME_MAX jobs over more cubins than slots; after each message every job's
 *     cubin, as the child resolved it, still holds that job's bytes (no cubin of a message
 *     evicts another of the same message: under ASan that would also be a use after free);
 *   - the store refuses a slot it does not hold, a size that differs, a slot out of range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FA_CHECK_COUNT
#include "fa_check.h"
#include "fa_cubin_store.h"
#include "fa_harness.h"
#include "fa_util.h"

#define H(p, n) fa_content_hash((p), (n))

#define POOL 300

static unsigned char *pool[POOL];
static size_t pool_size[POOL];

static uint64_t rng = 0x1234567;
static unsigned next_rand(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (unsigned)(rng >> 33);
}

static void test_hash(void)
{
    unsigned char a[1000], b[1000];
    for (int i = 0; i < 1000; i++)
        a[i] = (unsigned char)(i * 37 + 11);
    memcpy(b, a, sizeof b);
    CHECK(fa_content_hash(a, sizeof a) == fa_content_hash(b, sizeof b));
    const int at[] = {0, 17, 500, 990, 999}; /* 990..999: the tail past the last block */
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        b[at[k]] ^= 1;
        CHECK(fa_content_hash(a, sizeof a) != fa_content_hash(b, sizeof b));
        b[at[k]] ^= 1;
    }
    CHECK(fa_content_hash(a, 999) != fa_content_hash(a, 1000));
    CHECK(fa_content_hash(a, 0) == fa_content_hash(b, 0));
    CHECK(fa_content_hash(a, 0) != 0 && fa_content_hash(a, sizeof a) != 0); /* 0: not computed */
}

static void test_ledger(void)
{
    fa_cubin_ledger l;
    memset(&l, 0, sizeof l);
    unsigned char a[256], a2[256], c[256];
    memset(a, 7, sizeof a);
    memcpy(a2, a, sizeof a2);
    memset(c, 8, sizeof c);
    int send = -1;
    const int sa = fa_cubin_ledger_place(&l, H(a, sizeof a), sizeof a, &send);
    CHECK(send == 1 && sa >= 0 && sa < FA_CUBIN_SLOTS);
    CHECK(fa_cubin_ledger_place(&l, H(a2, sizeof a2), sizeof a2, &send) == sa && send == 0);
    const int sc = fa_cubin_ledger_place(&l, H(c, sizeof c), sizeof c, &send);
    CHECK(send == 1 && sc != sa);
    CHECK(fa_cubin_ledger_place(&l, H(a, 128), 128, &send) != sa && send == 1); /* another size */
}

/* One message of n jobs (pool indices in v): the parent places all, then the child resolves
 * all in order, then the runner would use them all. */
static void message(fa_cubin_ledger *l, fa_cubin_store *st, const int *v, int n, long *sent)
{
    uint32_t slot[FA_RETIME_MAX];
    int send[FA_RETIME_MAX];
    const void *got[FA_RETIME_MAX];
    for (int i = 0; i < n; i++) {
        slot[i] = (uint32_t)fa_cubin_ledger_place(l, H(pool[v[i]], pool_size[v[i]]),
                                                  pool_size[v[i]], &send[i]);
        *sent += send[i];
    }
    for (int i = 0; i < n; i++)
        got[i] = send[i] ? fa_cubin_store_put(st, slot[i], pool[v[i]], pool_size[v[i]])
                         : fa_cubin_store_get(st, slot[i], pool_size[v[i]]);
    for (int i = 0; i < n; i++)
        CHECK(got[i] && !memcmp(got[i], pool[v[i]], pool_size[v[i]]));
}

static void test_messages(void)
{
    for (int i = 0; i < POOL; i++) { /* sizes repeat, so equal sizes must not be confused */
        pool_size[i] = 64 + 8 * (size_t)(i % 7) + (size_t)(i % 3);
        pool[i] = malloc(pool_size[i]);
        for (size_t k = 0; k < pool_size[i]; k++)
            pool[i][k] = (unsigned char)next_rand();
    }
    memcpy(pool[1], pool[0], pool_size[0]); /* 0 and 1 hold the same bytes: batch siblings */
    pool_size[1] = pool_size[0];
    fa_cubin_ledger l;
    memset(&l, 0, sizeof l);
    fa_cubin_store st;
    memset(&st, 0, sizeof st);
    long sent = 0, jobs = 0;
    int v[FA_RETIME_MAX];
    for (int m = 0; m < 2000; m++) {
        const int n = m % 3 ? 1 : 1 + (int)(next_rand() % FA_RETIME_MAX);
        /* mostly a working set smaller than the slots, sometimes all of the pool */
        const int span = m % 5 ? 40 : POOL;
        for (int i = 0; i < n; i++)
            v[i] = (int)(next_rand() % (unsigned)span);
        message(&l, &st, v, n, &sent);
        jobs += n;
    }
    CHECK(sent < jobs / 2); /* the point: most jobs find their cubin held */
    /* a full message of distinct cubins, none of them held */
    for (int i = 0; i < FA_RETIME_MAX; i++)
        v[i] = POOL - 1 - i;
    message(&l, &st, v, FA_RETIME_MAX, &sent);
    /* batch siblings share a slot */
    int s0, s1;
    const int a = fa_cubin_ledger_place(&l, H(pool[0], pool_size[0]), pool_size[0], &s0);
    CHECK(fa_cubin_ledger_place(&l, H(pool[1], pool_size[1]), pool_size[1], &s1) == a && s1 == 0);
    fa_cubin_store_clear(&st);
    for (int i = 0; i < POOL; i++)
        free(pool[i]);
}

static void test_store(void)
{
    fa_cubin_store st;
    memset(&st, 0, sizeof st);
    unsigned char a[100];
    memset(a, 3, sizeof a);
    CHECK(fa_cubin_store_get(&st, 5, sizeof a) == NULL); /* not held */
    const void *p = fa_cubin_store_put(&st, 5, a, sizeof a);
    CHECK(p && p != (const void *)a && !memcmp(p, a, sizeof a));
    CHECK(fa_cubin_store_get(&st, 5, sizeof a) == p);
    CHECK(fa_cubin_store_get(&st, 5, sizeof a - 1) == NULL); /* another size */
    CHECK(fa_cubin_store_put(&st, FA_CUBIN_SLOTS, a, sizeof a) == NULL);
    CHECK(fa_cubin_store_get(&st, FA_CUBIN_SLOTS, sizeof a) == NULL);
    fa_cubin_store_clear(&st);
    CHECK(fa_cubin_store_get(&st, 5, sizeof a) == NULL);
}

int main(void)
{
    CHECK(FA_CUBIN_SLOTS > FA_RETIME_MAX); /* a message's cubins never evict one another */
    test_hash();
    test_ledger();
    test_messages();
    test_store();
    printf("cubin store: %d failure(s)\n", fa_check_failures);
    return fa_check_failures ? 1 : 0;
}
