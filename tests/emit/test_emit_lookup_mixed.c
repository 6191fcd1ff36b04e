/*
 * This file tests the lookup of an emitted header that holds winners of two kernel families:
 * it includes the checked-in golden header of tests/emit/fixtures/mixed.sql (emit.golden_mixed
 * proves it equals what `fa-tune emit` writes today) and checks that a key of an sm90a winner
 * gets that sm90a kernel with the sm90a family's launch geometry (threads, shared memory from
 * templates/sm90a/fa_plan_sm90a.h), that another key -- in the same mode, or another mode --
 * gets its sm80 kernel, that the tables' family columns are filled, and that the header's
 * instance list names the sm90a instances through X##_SM90A (PackGQA ones through
 * X##_SM90A_PACK_GQA). A PackGQA winner's key gets its PackGQA kernel, whose fallback column
 * names its twin without PackGQA (a kernel of the table too, no winner of its own). Built as
 * C99.
 *
 * The fixture's table (see mixed.sql):
 *   sm80: bf16 hd128 gqa1 b1024 sm80 m128n64w4s2
 *   sm90: bf16 hd128 gqa1 b1024 sm80 m128n64w4s2; bf16 hd128 causal gqa1 b1024 sm80
 *         m128n64w4s2, b4096 sm90a m192n128s2pe; fp16 hd64 gqa1 b2048 sm90a m192n128s2ovpe;
 *         bf16 hd128 gqa4 b512 sm90a m128n128s2pg (kernels: its own and m128n128s2)
 */
#include <stdio.h>
#include <string.h>

#include "mixed.h.golden"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            fprintf(stderr, "line %d: %s\n", __LINE__, #cond);                                     \
        }                                                                                          \
    } while (0)

/* The lookup's answer for a key, and the kernel it names (0 if none). */
static const fa_dispatch_kernel *look_gqa(fa_dispatch_choice *c, int cc, int dtype, int hd,
                                          int causal, int gqa, int seqlen)
{
    *c = fa_dispatch_lookup(cc, dtype, hd, causal, 0, gqa, seqlen);
    return c->kernel >= 0 ? &fa_dispatch_kernels(0)[c->kernel] : 0;
}

static const fa_dispatch_kernel *look(fa_dispatch_choice *c, int cc, int dtype, int hd, int causal,
                                      int seqlen)
{
    *c = fa_dispatch_lookup(cc, dtype, hd, causal, 0, 1, seqlen);
    return c->kernel >= 0 ? &fa_dispatch_kernels(0)[c->kernel] : 0;
}

/* Records what FA_DISPATCH_FOR_EACH_VARIANT lists. */
static int n_sm80, n_sm90a, sm90a_persistent, sm90a_overlap, n_pack, pack_plain;
#define COUNT(T, D, M, N, W, S, Q, C, V) n_sm80++;
#define COUNT_SM90A(T, D, M, N, S, O, P, E, C, V)                                                  \
    n_sm90a++;                                                                                     \
    sm90a_persistent += (E);                                                                       \
    sm90a_overlap += (O) && (M) == 192 && (N) == 128 && (S) == 2;                                  \
    pack_plain += (M) == 128 && (N) == 128 && !(O) && !(E) && !(C);
#define COUNT_SM90A_PACK_GQA(T, D, M, N, S, O, P, E, C, V)                                         \
    n_pack += (D) == 128 && (M) == 128 && (N) == 128 && (S) == 2 && !(O) && !(P) && !(E) &&        \
              !(C) && !(V);

int main(void)
{
    fa_dispatch_choice c;
    const fa_dispatch_kernel *k;
    int i, n;
    const fa_dispatch_entry *e = fa_dispatch_entries(&n);

    /* The sm90a winner's key: its sm90a kernel, launched as the sm90a family says. */
    k = look(&c, 90, FA_DISPATCH_BF16, 128, 1, 4096);
    CHECK(c.source == FA_DISPATCH_EXACT && c.family == FA_DISPATCH_FAMILY_SM90A);
    CHECK(c.entry && !strcmp(c.entry->name, "fwd_sm90a_hd128_bf16_causal_m192n128s2pe"));
    CHECK(c.block_m == 192 && c.block_n == 128 && c.stages == 2 && c.persistent == 1 &&
          c.overlap == 0 && c.pingpong == 0);
    CHECK(c.threads == (int)fa_plan_sm90a_threads(3) && c.warps * 32 == c.threads);
    CHECK(c.smem_bytes == (int)fa_plan_sm90a_smem(128, 3, 128, 2, 1));
    CHECK(k && k->family == FA_DISPATCH_FAMILY_SM90A && k->causal == 1 && k->block_m == 192 &&
          k->persistent == 1 && k->smem_bytes == c.smem_bytes && k->threads == c.threads &&
          !strcmp(k->name, c.entry->name));
    /* The nearest bucket of that mode (8192 -> 4096) is still the sm90a row ... */
    k = look(&c, 90, FA_DISPATCH_BF16, 128, 1, 8000);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.family == FA_DISPATCH_FAMILY_SM90A && k &&
          k->family == FA_DISPATCH_FAMILY_SM90A);
    /* ... and the same mode's other key (b1024) is the sm80 row, with sm80 geometry. */
    k = look(&c, 90, FA_DISPATCH_BF16, 128, 1, 1000);
    CHECK(c.source == FA_DISPATCH_EXACT && c.family == FA_DISPATCH_FAMILY_SM80);
    CHECK(c.entry && !strcmp(c.entry->name, "fwd_sm80_hd128_bf16_causal_m128n64w4s2"));
    CHECK(c.threads == 128 && c.smem_bytes == FA_SM80_SMEM_BYTES(128, 128, 64, 2));
    CHECK(k && k->family == FA_DISPATCH_FAMILY_SM80 && k->causal == 1 && k->block_m == 128);
    /* Another mode: sm80 (non-causal bf16 hd128) and sm90a with overlap (fp16 hd64). */
    k = look(&c, 90, FA_DISPATCH_BF16, 128, 0, 1024);
    CHECK(c.source == FA_DISPATCH_EXACT && c.family == FA_DISPATCH_FAMILY_SM80 && k &&
          k->family == FA_DISPATCH_FAMILY_SM80 && k->causal == 0);
    k = look(&c, 90, FA_DISPATCH_FP16, 64, 0, 2048);
    CHECK(c.source == FA_DISPATCH_EXACT && c.family == FA_DISPATCH_FAMILY_SM90A && c.overlap == 1 &&
          c.persistent == 1 && k && k->family == FA_DISPATCH_FAMILY_SM90A && k->overlap == 1 &&
          k->head_dim == 64 && k->dtype == FA_DISPATCH_FP16);
    /* The PackGQA winner's key (gqa 4): its PackGQA kernel, and as its fallback the same tiles
       without PackGQA -- a kernel of the table with no winner of its own. */
    k = look_gqa(&c, 90, FA_DISPATCH_BF16, 128, 0, 4, 512);
    CHECK(c.source == FA_DISPATCH_EXACT && c.family == FA_DISPATCH_FAMILY_SM90A && c.pack_gqa == 1);
    CHECK(c.entry && !strcmp(c.entry->name, "fwd_sm90a_hd128_bf16_m128n128s2pg") &&
          c.entry->pack_gqa == 1 && c.block_m == 128 && c.block_n == 128 && c.persistent == 0);
    CHECK(c.threads == (int)fa_plan_sm90a_threads(2) &&
          c.smem_bytes == (int)fa_plan_sm90a_smem(128, 2, 128, 2, 0));
    CHECK(k && k->pack_gqa == 1 && !strcmp(k->name, c.entry->name) && k->fallback >= 0 &&
          k->fallback < FA_DISPATCH_NUM_KERNELS && k->fallback != c.kernel);
    if (k && k->fallback >= 0 && k->fallback < FA_DISPATCH_NUM_KERNELS) {
        const fa_dispatch_kernel *f = &fa_dispatch_kernels(0)[k->fallback];
        CHECK(!strcmp(f->name, "fwd_sm90a_hd128_bf16_m128n128s2") && f->pack_gqa == 0 &&
              f->fallback == -1 && f->arch == k->arch && f->family == FA_DISPATCH_FAMILY_SM90A &&
              f->block_m == 128 && f->block_n == 128 && f->stages == 2 && f->overlap == 0 &&
              f->persistent == 0 && f->causal == 0 && f->varlen == 0 && f->threads == k->threads &&
              f->smem_bytes == k->smem_bytes);
        for (i = 0; i < n; i++) /* the twin is no winner: only the PackGQA row names it */
            CHECK(strcmp(e[i].name, f->name) != 0);
    }
    /* g 32 still fits 128 rows (4 tokens a tile): the nearest gqa is the PackGQA row. */
    k = look_gqa(&c, 90, FA_DISPATCH_BF16, 128, 0, 32, 512);
    CHECK(c.source == FA_DISPATCH_NEAREST_GQA && c.pack_gqa == 1 && k && k->pack_gqa == 1);
    CHECK(fa_plan_sm90a_pack_tokens(128, 32, 1) == 4 &&
          fa_plan_sm90a_pack_tokens(128, 256, 1) == 0);
    /* The other kernels have no fallback; MHA keeps its sm80 row. */
    for (i = 0; i < FA_DISPATCH_NUM_KERNELS; i++)
        CHECK(fa_dispatch_kernels(0)[i].pack_gqa || fa_dispatch_kernels(0)[i].fallback == -1);
    k = look_gqa(&c, 90, FA_DISPATCH_BF16, 128, 0, 1, 512);
    CHECK(c.family == FA_DISPATCH_FAMILY_SM80 && c.pack_gqa == 0 && k && k->pack_gqa == 0);

    /* A mode without winners falls back to tiles the header does not carry (c.kernel -1). */
    k = look(&c, 90, FA_DISPATCH_FP16, 128, 0, 1024);
    CHECK(c.source == FA_DISPATCH_SAME_HEAD_DIM && !k);
    /* The sm80 table has no sm90a row; its default tiles are sm80's. */
    k = look(&c, 80, FA_DISPATCH_BF16, 128, 1, 4096);
    CHECK(c.source == FA_DISPATCH_SAME_HEAD_DIM && c.family == FA_DISPATCH_FAMILY_SM80 && !k);
    k = look(&c, 80, FA_DISPATCH_BF16, 256, 0, 4096);
    CHECK(c.source == FA_DISPATCH_DEFAULT && c.family == FA_DISPATCH_FAMILY_SM80 && !k);

    /* Every row's family column agrees with its name; sm90a rows say warps = threads / 32. */
    for (i = 0; i < n; i++) {
        int sm90a = strncmp(e[i].name, "fwd_sm90a_", 10) == 0;
        CHECK(e[i].family == (sm90a ? FA_DISPATCH_FAMILY_SM90A : FA_DISPATCH_FAMILY_SM80));
        CHECK(e[i].threads == e[i].warps * 32 && (!sm90a || e[i].q_in_regs == 0));
    }
    CHECK(n == 6 && FA_DISPATCH_NUM_ENTRIES == 6 && FA_DISPATCH_NUM_VARIANTS == 6 &&
          FA_DISPATCH_NUM_KERNELS == 7);
    CHECK(!strcmp(FA_DISPATCH_CUDA_ARCHITECTURES, "80;90a"));

    FA_DISPATCH_FOR_EACH_VARIANT(COUNT)
    CHECK(n_sm80 == 2 && n_sm90a == 3 && sm90a_persistent == 2 && sm90a_overlap == 1);
    CHECK(n_pack == 1 && pack_plain == 1); /* the PackGQA instance and its twin, once each */

    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    else
        printf("lookup (mixed families): sm90a keys get sm90a kernels, others sm80; the PackGQA "
               "key its PackGQA kernel with its twin as fallback\n");
    return failures != 0;
}
