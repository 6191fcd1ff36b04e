/*
 * This file tests the decode part of an emitted header: it includes the checked-in golden
 * header of tests/emit/fixtures/decode.sql (emit.golden_decode proves it equals what
 * `fa-tune emit` writes today) and checks that fa_dispatch_lookup_decode answers each decode
 * key with its winner (tiles, splits, kernel), falls back like the forward lookup (nearest
 * bucket, nearest gqa, same head dim, default, unsupported), that two winners differing only
 * in splits share one kernel, that the scratch a problem needs is the splitkv family's plan
 * (fa_plan_splitkv_splits / _scratch, the functions the family plans with), that the
 * forward lookup still answers forward keys only, and that FA_DISPATCH_FOR_EACH_DECODE_VARIANT
 * and _COMBINE list each instance once. Built as C99.
 *
 * The decode keys have the seqlen_q bucket (1, 4: 2-4, 16: 5-16) and the paging (page_size > 0)
 * too: a paged seqlen_q 4 problem gets the paged seqlen_q 4 winner, not the seqlen_q 1
 * contiguous one of the same cache bucket; a key the table lacks takes the nearest seqlen_q
 * bucket first, then the nearest cache bucket, then the other paging.
 *
 * The fixture's decode table (see decode.sql; q = seqlen_q bucket, p = paged):
 *   sm80: bf16 hd128 gqa1 q1 b2048 m16n64w4s3k0
 *   sm90: bf16 hd128 gqa4 q1 b4096 m16n64w4s3k0, q1 b131072 m16n64w4s3k8,
 *         q4 p b4096 m16n64w4s3k8 (seqlen_q 2 and 4, 64-row pages);
 *         bf16 hd128 causal gqa4 q4 p b1024 m16n64w4s2k2f (fused)
 */
#include <stdio.h>
#include <string.h>

#include "decode.h.golden"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "line %d: %s\n", __LINE__, #cond);                                     \
        }                                                                                          \
    } while (0)

static fa_dispatch_decode_choice look(int cc, int dtype, int hd, int causal, int gqa, int sq,
                                      int sk)
{
    return fa_dispatch_lookup_decode(cc, dtype, hd, causal, gqa, sq, sk, 0);
}

static fa_dispatch_decode_choice look_paged(int cc, int dtype, int hd, int causal, int gqa, int sq,
                                            int sk, int page_size)
{
    return fa_dispatch_lookup_decode(cc, dtype, hd, causal, gqa, sq, sk, page_size);
}

static const char *name_of(const fa_dispatch_decode_choice *c)
{
    return c->entry ? c->entry->name : "";
}

/* Records what the decode X-macros list. */
static int n_split, n_combine, n_causal;
#define COUNT(T, D, M, N, W, S, C)                                                                 \
    n_split++;                                                                                     \
    n_causal += (C) && (M) == 16 && (N) == 64 && (W) == 4 && (S) == 2 && (D) == 128;
#define COUNT_COMBINE(T, D) n_combine += (D) == 128;

int main(void)
{
    fa_dispatch_decode_choice c, c2;
    fa_fwd_params p;
    int n;
    const fa_dispatch_decode_kernel *k = fa_dispatch_decode_kernels(&n);

    CHECK(FA_DISPATCH_NUM_DECODE_ENTRIES == 5 && n == 3 && FA_DISPATCH_NUM_DECODE_KERNELS == 3);
    CHECK(fa_dispatch_decode_q_bucket(1) == 1 && fa_dispatch_decode_q_bucket(2) == 4 &&
          fa_dispatch_decode_q_bucket(4) == 4 && fa_dispatch_decode_q_bucket(5) == 16 &&
          fa_dispatch_decode_q_bucket(16) == 16);

    /* Exact keys on sm90 (the cache bucket of max(seqlen_q, seqlen_k)). */
    c = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 4000);
    CHECK(c.source == FA_DISPATCH_EXACT && c.cc == 90 && c.block_m == 16 && c.block_n == 64 &&
          c.warps == 4 && c.stages == 3 && c.splits == 0 && c.fuse == 0 &&
          !strcmp(name_of(&c), "decode_splitkv_hd128_bf16_m16n64w4s3k0"));
    CHECK(c.threads == (int)fa_plan_splitkv_threads(4) &&
          c.smem_bytes == (int)fa_plan_splitkv_smem(128, 16, 64, 4, 3));
    c2 = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 131072);
    CHECK(c2.source == FA_DISPATCH_EXACT && c2.splits == 8 && c2.fuse == 0 &&
          !strcmp(name_of(&c2), "decode_splitkv_hd128_bf16_m16n64w4s3k8"));
    /* Splits and fuse change the plan, not the kernel: both rows name one instance. */
    CHECK(c.kernel >= 0 && c.kernel == c2.kernel && k[c.kernel].arch == c.arch &&
          k[c.kernel].stages == 3 && k[c.kernel].causal == 0);
    c = look_paged(90, FA_DISPATCH_BF16, 128, 1, 4, 4, 1000, 64);
    CHECK(c.source == FA_DISPATCH_EXACT && c.stages == 2 && c.splits == 2 && c.fuse == 1 &&
          c.entry->fuse == 1 && c.kernel >= 0 && k[c.kernel].causal == 1 &&
          k[c.kernel].stages == 2);

    /* Seqlen_q and paging are keys: a paged seqlen_q 4 (or 3: bucket 4) problem gets its own
     * winner (8 splits), not the seqlen_q 1 contiguous one of its cache bucket (auto). */
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 4, 4096, 64);
    CHECK(c.source == FA_DISPATCH_EXACT && c.splits == 8 && c.q_bucket == 4 && c.paged == 1 &&
          c.entry && c.entry->q_bucket == 4 && c.entry->paged == 1 && c.entry->bucket == 4096 &&
          !strcmp(name_of(&c), "decode_splitkv_hd128_bf16_m16n64w4s3k8"));
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 3, 4096, 16);
    CHECK(c.source == FA_DISPATCH_EXACT && c.splits == 8 && c.entry && c.entry->q_bucket == 4);
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 4096, 0);
    CHECK(c.source == FA_DISPATCH_EXACT && c.splits == 0 && c.entry && c.entry->q_bucket == 1 &&
          c.entry->paged == 0);
    /* Their fallbacks: the seqlen_q bucket before the paging (a contiguous seqlen_q 4 problem
     * takes the paged seqlen_q 4 row), the paging last (a paged seqlen_q 1 problem takes the
     * contiguous seqlen_q 1 row), seqlen_q 8 (bucket 16) the nearest bucket, 4. Each names an
     * instance the header has: any splitkv kernel runs any decode problem. */
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 4, 4096, 0);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 8 && c.entry &&
          c.entry->q_bucket == 4 && c.entry->paged == 1 && c.kernel >= 0);
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 4096, 64);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 0 && c.entry &&
          c.entry->q_bucket == 1 && c.entry->paged == 0 && c.kernel >= 0);
    c = look_paged(90, FA_DISPATCH_BF16, 128, 0, 4, 8, 4096, 64);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 8 && c.q_bucket == 16 && c.entry &&
          c.entry->q_bucket == 4 && c.kernel >= 0);
    c = look_paged(90, FA_DISPATCH_BF16, 128, 1, 4, 1, 1000, 0); /* the causal row is q4 paged */
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 2 && c.kernel >= 0);

    /* Fallbacks. */
    c = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 40000); /* b65536: nearer 131072 than 4096 */
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 8);
    c = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 8192);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 0);
    c = look(90, FA_DISPATCH_BF16, 128, 0, 8, 1, 4096);
    CHECK(c.source == FA_DISPATCH_NEAREST_GQA && c.splits == 0 && c.kernel >= 0);
    c = look(90, FA_DISPATCH_FP16, 128, 0, 4, 1, 4096);
    CHECK(c.source == FA_DISPATCH_SAME_HEAD_DIM && c.kernel == -1); /* no fp16 instance */
    c = look(90, FA_DISPATCH_BF16, 64, 0, 4, 1, 4096);
    CHECK(c.source == FA_DISPATCH_DEFAULT && c.block_m == 16 && c.block_n == 128 && c.splits == 0 &&
          c.kernel == -1 && c.entry == 0);
    c = look(90, FA_DISPATCH_BF16, 80, 0, 4, 1, 4096);
    CHECK(c.source == FA_DISPATCH_UNSUPPORTED && c.arch == -1);
    c = look(90, 5, 128, 0, 4, 1, 4096);
    CHECK(c.source == FA_DISPATCH_UNSUPPORTED);
    /* sm80's own table; cc 86 falls back to it. */
    c = look(86, FA_DISPATCH_BF16, 128, 0, 1, 1, 2048);
    CHECK(c.source == FA_DISPATCH_EXACT && c.cc == 80 && c.kernel >= 0 &&
          k[c.kernel].arch == c.arch);

    /* The forward lookup keeps to the forward table. */
    {
        fa_dispatch_choice f = fa_dispatch_lookup(90, FA_DISPATCH_BF16, 128, 0, 0, 4, 4096);
        CHECK(f.source == FA_DISPATCH_NEAREST_GQA && f.block_m == 128 &&
              FA_DISPATCH_NUM_ENTRIES == 2);
    }

    /* Scratch: the family's plan for a few shapes, 132 and 108 multiprocessors. */
    memset(&p, 0, sizeof p);
    fa_dispatch_params_bshd(&p, 0, 0, 0, 0, 0, 1, 32, 8, 1, 131072, 128, 0.08f);
    c = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 131072);
    CHECK(fa_dispatch_decode_plan_splits(&c, &p, 132) == 8);
    CHECK(fa_dispatch_decode_plan_scratch(&c, &p, 132) ==
          fa_plan_splitkv_scratch(8, 1, 32, 1, 128));
    CHECK(fa_dispatch_decode_plan_scratch(&c, &p, 132) == 4352 + 8ull * 32 * 129 * 4);
    p.batch = 2;
    p.seqlen_k = 4096;
    c = look(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 4096);
    {
        int s132 = fa_plan_splitkv_splits(0, 2, 32, 8, 1, 4096, 16, 64, 132);
        int s108 = fa_plan_splitkv_splits(0, 2, 32, 8, 1, 4096, 16, 64, 108);
        CHECK(s132 > 1 && fa_dispatch_decode_plan_splits(&c, &p, 132) == s132);
        CHECK(fa_dispatch_decode_plan_scratch(&c, &p, 132) ==
              fa_plan_splitkv_scratch(s132, 2, 32, 1, 128));
        CHECK(fa_dispatch_decode_plan_scratch(&c, &p, 108) ==
              fa_plan_splitkv_scratch(s108, 2, 32, 1, 128));
    }
    p.batch = 64; /* 64 * 8 CTAs fill the device: one split, no scratch */
    CHECK(fa_dispatch_decode_plan_splits(&c, &p, 132) == 1 &&
          fa_dispatch_decode_plan_scratch(&c, &p, 132) == 0);
    p.seqlen_q = 4; /* the causal row: 2 splits of 1000 keys, seqlen_q 4 */
    p.seqlen_k = 1000;
    p.batch = 3;
    c = look_paged(90, FA_DISPATCH_BF16, 128, 1, 4, 4, 1000, 64);
    CHECK(fa_dispatch_decode_plan_scratch(&c, &p, 132) ==
          fa_plan_splitkv_scratch(2, 3, 32, 4, 128));

    FA_DISPATCH_FOR_EACH_DECODE_VARIANT(COUNT)
    FA_DISPATCH_FOR_EACH_DECODE_COMBINE(COUNT_COMBINE)
    CHECK(n_split == 2 && n_causal == 1 && n_combine == 1);

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("lookup_decode: decode keys get their winners; scratch is the family's plan\n");
    return failures != 0;
}
