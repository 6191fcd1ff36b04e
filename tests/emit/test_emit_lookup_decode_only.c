/*
 * This file tests a header that serves decode only: it includes the checked-in golden header
 * of tests/emit/fixtures/decode.sql with decode_only.sql applied (every forward measurement
 * dropped; emit.golden_decode_only proves it equals what `fa-tune emit` writes today) and
 * checks that the forward table is empty (a placeholder row, a count of 0, no instances), that
 * the forward lookup answers with the default tiles and no instance, and that the decode
 * lookup answers as in a header with forward winners: the paged seqlen_q 4 winner for a paged
 * seqlen_q 4 problem, the nearest bucket for a key the table lacks. Built as C99 with the
 * project's warnings.
 */
#include <stdio.h>
#include <string.h>

#define FA_CHECK_COUNT /* report every failed check, then fail */
#include "decode_only.h.golden"
#include "fa_check.h"

static int n_variants;
#define COUNT_VARIANT(T, D, M, N, W, S, Q, C, V) n_variants++;

int main(void)
{
    int n = -1, i;
    const fa_dispatch_arch *archs = fa_dispatch_archs(&n);
    fa_dispatch_choice f;
    fa_dispatch_decode_choice c;

    /* The forward part: no rows, no instances, on both archs. */
    CHECK(n == 2 && FA_DISPATCH_NUM_ENTRIES == 0 && FA_DISPATCH_NUM_KERNELS == 0 &&
          FA_DISPATCH_NUM_VARIANTS == 0 && FA_DISPATCH_MAX_KERNELS >= 1);
    for (i = 0; i < 2; i++)
        CHECK(archs[i].num_entries == 0 && archs[i].num_kernels == 0);
    n = -1;
    (void)fa_dispatch_entries(&n);
    CHECK(n == 0);
    n = -1;
    (void)fa_dispatch_kernels(&n);
    CHECK(n == 0);
    FA_DISPATCH_FOR_EACH_VARIANT(COUNT_VARIANT)
    CHECK(n_variants == 0);
    f = fa_dispatch_lookup(90, FA_DISPATCH_BF16, 128, 0, 0, 1, 4096);
    CHECK(f.source == FA_DISPATCH_DEFAULT && f.kernel == -1 && f.entry == 0 && f.block_m == 128);

    /* The decode part: as in decode.h.golden. */
    CHECK(FA_DISPATCH_NUM_DECODE_ENTRIES == 5 && FA_DISPATCH_NUM_DECODE_KERNELS == 3);
    c = fa_dispatch_lookup_decode(90, FA_DISPATCH_BF16, 128, 0, 4, 4, 4096, 64);
    CHECK(c.source == FA_DISPATCH_EXACT && c.splits == 8 && c.kernel >= 0 && c.entry &&
          c.entry->q_bucket == 4 && c.entry->paged == 1 &&
          !strcmp(c.entry->name, "decode_splitkv_hd128_bf16_m16n64w4s3k8"));
    c = fa_dispatch_lookup_decode(90, FA_DISPATCH_BF16, 128, 0, 4, 1, 4096, 0);
    CHECK(c.source == FA_DISPATCH_EXACT && c.splits == 0 && c.kernel >= 0);
    c = fa_dispatch_lookup_decode(90, FA_DISPATCH_BF16, 128, 0, 4, 16, 8192, 32);
    CHECK(c.source == FA_DISPATCH_NEAREST_BUCKET && c.splits == 8 && c.kernel >= 0);
    c = fa_dispatch_lookup_decode(80, FA_DISPATCH_BF16, 128, 0, 1, 1, 2048, 0);
    CHECK(c.source == FA_DISPATCH_EXACT && c.cc == 80 && c.kernel >= 0);

    if (fa_check_failures)
        fprintf(stderr, "%d failure(s)\n", fa_check_failures);
    else
        printf("lookup_decode_only: no forward rows; decode keys get their winners\n");
    return fa_check_failures != 0;
}
