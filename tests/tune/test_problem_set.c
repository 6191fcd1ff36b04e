/*
 * This file implements the CPU test of user varlen lengths (--seqlens-file): the file format
 * and its errors (FILE:LINE naming the bad token), the 64-quantile distribution built from
 * it, the lengths a problem draws (only the file's values, cut at the problem's maximum,
 * reproducible from the seed), the grid's batch (as many sequences as fill the token budget
 * on average), and the problem name that keeps results of different files apart; a length of
 * 0 is read (decode caches may be empty) but refused by a varlen problem.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_check.h"
#include "fa_problem_set.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/fa_problem_set_XXXXXX";
    CHECK(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/lens.txt", dir);
    fa_err err = {0};
    fa_varlen_dist d;

    /* 1..128: quantile i is the sorted value at (i + 0.5) * 128 / 64 = 2i + 1, i.e. 2i + 2 */
    int v[128];
    for (int i = 0; i < 128; i++)
        v[127 - i] = i + 1; /* unsorted on purpose */
    fa_varlen_dist_from(v, 128, &d);
    CHECK(d.id != 0);
    for (int i = 0; i < FA_VARLEN_QUANTILES; i++)
        CHECK(d.q[i] == 2 * i + 2);
    CHECK(fabs(fa_varlen_dist_mean(&d, 1 << 20) - 65.0) < 1e-9);
    CHECK(fabs(fa_varlen_dist_mean(&d, 10) - (2 + 4 + 6 + 8 + 10 + 59 * 10) / 64.0) < 1e-9);

    /* The file: spaces, commas, newlines, comments; the same lengths give the same id. */
    write_file(path, "# document lengths\n300, 1200 5000\n\n800 # trailing comment\n");
    int count = 0, lo = 0, hi = 0;
    CHECK(fa_seqlens_file_read(path, &d, &count, &lo, &hi, &err) == FA_OK);
    CHECK(count == 4 && lo == 300 && hi == 5000);
    fa_varlen_dist again;
    int w[] = {5000, 800, 1200, 300};
    fa_varlen_dist_from(w, 4, &again);
    CHECK(again.id == d.id && !memcmp(again.q, d.q, sizeof d.q));

    /* A problem draws only the file's lengths, cut at its maximum, reproducibly. */
    fa_problem p = {0};
    p.dtype = FA_DTYPE_BF16;
    p.head_dim = 128;
    p.varlen = 1;
    p.batch = 200;
    p.heads_q = p.heads_kv = 16;
    p.seqlen_q = p.seqlen_k = 1024;
    p.lengths = d;
    int a[200], b[200], seen1024 = 0, seen300 = 0;
    fa_problem_varlen_lengths(&p, 99, p.seqlen_q, a);
    fa_problem_varlen_lengths(&p, 99, p.seqlen_q, b);
    CHECK(!memcmp(a, b, sizeof a));
    for (int i = 0; i < 200; i++) {
        CHECK(a[i] == 300 || a[i] == 800 || a[i] == 1024); /* 1200 and 5000 cut at 1024 */
        seen1024 += a[i] == 1024;
        seen300 += a[i] == 300;
    }
    CHECK(seen1024 > 50 && seen300 > 20); /* half the quantiles are >= 1200, a quarter 300 */
    char name[FA_PROBLEM_NAME_MAX], want[32];
    fa_problem_name(&p, name, sizeof name);
    snprintf(want, sizeof want, "_varlen_lens%08x", (unsigned)d.id);
    CHECK(strstr(name, want) != NULL);
    p.lengths.id = 0; /* without: the uniform [N/2, N] draw and the plain name */
    fa_problem_varlen_lengths(&p, 99, p.seqlen_q, a);
    for (int i = 0; i < 200; i++)
        CHECK(a[i] >= 512 && a[i] <= 1024);
    fa_problem_name(&p, name, sizeof name);
    CHECK(strstr(name, "_lens") == NULL);

    /* The grid: varlen problems get the distribution and a batch that fills the budget on
     * average (16384 tokens / mean(300, 800, 1024, 1024) = 16384 / 787 = 20.8 -> 21 at
     * N = 1024); fixed-length problems are untouched. */
    fa_problem_axes ax;
    fa_problem_axes_default(128, &ax);
    ax.n_dtypes = ax.n_causal = ax.n_gqa = 1;
    ax.n_seqlens = 1;
    ax.seqlens[0] = 1024;
    ax.lengths = &d;
    fa_problem *ps = NULL;
    int np = 0;
    CHECK(fa_problem_set_build(&ax, &ps, &np, &err) == FA_OK);
    CHECK(np == 2);
    for (int i = 0; i < np; i++) {
        if (ps[i].varlen) {
            double mean = fa_varlen_dist_mean(&d, 1024);
            CHECK(ps[i].lengths.id == d.id && ps[i].batch == (int)lround(16384 / mean));
            CHECK(ps[i].batch == 21);
        } else {
            CHECK(ps[i].lengths.id == 0 && ps[i].batch == 16);
        }
    }
    /* A shapes file's varlen problems take the distribution and a new seed (new name). */
    fa_problem q = ps[0].varlen ? ps[1] : ps[0];
    q.varlen = 1;
    uint64_t before = fa_problem_seed(&q);
    q.seed = before;
    fa_problem_set_use_lengths(&q, 1, &d);
    CHECK(q.lengths.id == d.id && q.seed != before && q.seed == fa_problem_seed(&q));
    free(ps);

    /* Bad files name the line and the token; an empty one says so. */
    write_file(path, "100 200\n300 12x\n");
    CHECK(fa_seqlens_file_read(path, &d, NULL, NULL, NULL, &err) == FA_INVALID);
    CHECK(strstr(err.msg, "lens.txt:2: '12x' is not a sequence length"));
    write_file(path, "100 -1\n");
    CHECK(fa_seqlens_file_read(path, &d, NULL, NULL, NULL, &err) == FA_INVALID);
    CHECK(strstr(err.msg, "lens.txt:1: '-1' is not a sequence length (an integer from 0 to"));
    /* A length of 0 is read (a decode problem's empty cache); a varlen problem refuses it. */
    write_file(path, "100 0\n");
    CHECK(fa_seqlens_file_read(path, &d, &count, &lo, &hi, &err) == FA_OK);
    CHECK(count == 2 && lo == 0 && hi == 100);
    fa_problem z = {.dtype = FA_DTYPE_BF16,
                    .head_dim = 128,
                    .varlen = 1,
                    .batch = 4,
                    .heads_q = 8,
                    .heads_kv = 8,
                    .seqlen_q = 128,
                    .seqlen_k = 128,
                    .lengths = d};
    CHECK(fa_problem_check(&z, &err) == FA_INVALID);
    CHECK(strstr(err.msg, "varlen length distribution holds length 0"));
    z.varlen = 0;
    z.op = FA_OP_DECODE;
    z.seqlen_q = 1;
    CHECK(fa_problem_check(&z, &err) == FA_OK);
    write_file(path, "# nothing\n\n");
    CHECK(fa_seqlens_file_read(path, &d, NULL, NULL, NULL, &err) == FA_INVALID);
    CHECK(strstr(err.msg, "lists no length"));
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    CHECK(fa_seqlens_file_read(path, &d, NULL, NULL, NULL, &err) == FA_IO);
    CHECK(strstr(err.msg, "cannot read seqlens file"));

    /* The nearest GQA ratio (halving's rung 1), by quotient: 4 is between 2 and 8 (a tie: the
       larger, 8) and nearer 8 than 1; 3 is nearer 4 than 2; 16 ties with 1 at 4 (16 wins). */
    CHECK(fa_gqa_nearer(8, 2, 4) && !fa_gqa_nearer(2, 8, 4));
    CHECK(fa_gqa_nearer(8, 1, 4) && !fa_gqa_nearer(1, 8, 4));
    CHECK(fa_gqa_nearer(4, 2, 3) && !fa_gqa_nearer(2, 4, 3));
    CHECK(fa_gqa_nearer(16, 1, 4) && !fa_gqa_nearer(1, 16, 4));
    CHECK(fa_gqa_nearer(4, 32, 4) && !fa_gqa_nearer(4, 4, 4));
    CHECK(fa_gqa_nearer(1 << 24, 1, 1 << 23));

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("problem set: ok\n");
    return 0;
}
