/*
 * This file implements modes_fixture_db, the test helper that writes the database of the
 * bench/compare_modes.py and peers.py --from-db tests: the default tuning job's bf16 problems
 * at head dim 128 (fa_problem_axes_default: fixed and varlen, GQA 1, 4, 8, causal and not,
 * N = 512..16k) as fa-tune itself builds and stores them (names, seeds), each timed ok by one
 * sm80 and one sm90a variant of its class. The FLOPs behind each timing are fa-tune's own:
 * fa_problem_flops over the lengths the harness draws (fa_problem_varlen_lengths from the
 * problem's seed, lens_k = lens_q), so peers.py's Python copy of that rule is checked against
 * the C one through the database (tflops * median_ms).
 *
 * The synthetic device: sm80 reaches 300 * N / (N + 600) TFLOP/s (causal: N + 1500), sm90a
 * 600 * N / (N + 2000) (causal: N + 4000), both 0.9x on varlen: sm80 wins at N = 512, sm90a
 * from 2k up.
 *
 * usage: modes_fixture_db OUT.db
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/db_test.h"
#include "fa_problem_set.h"

static double rate(const char *family, const fa_problem *p)
{
    double n = p->seqlen_q, t;
    if (!strcmp(family, "sm80"))
        t = 300.0 * n / (n + (p->causal ? 1500.0 : 600.0));
    else
        t = 600.0 * n / (n + (p->causal ? 4000.0 : 2000.0));
    return p->varlen ? 0.9 * t : t;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: modes_fixture_db OUT.db\n");
        return 2;
    }
    remove(argv[1]);
    fa_problem_axes ax;
    fa_problem_axes_default(128, &ax);
    ax.n_dtypes = 1; /* bf16 */
    fa_problem *ps = NULL;
    int n = 0;
    fa_err err;
    if (fa_problem_set_build(&ax, &ps, &n, &err) != FA_OK) {
        fprintf(stderr, "modes_fixture_db: %s\n", err.msg);
        return 1;
    }
    int64_t dev, run;
    fa_db *db = test_open_run(argv[1], "f00dfeed", &dev, &run);
    static const char *const families[] = {"sm80", "sm90a"};
    static const char *const suffix[] = {"m128n64w4s2q", "m128n176s2"};
    for (int i = 0; i < n; i++) {
        const fa_problem *p = &ps[i];
        int *lens = calloc((size_t)p->batch, sizeof *lens);
        if (!lens)
            return 1;
        fa_problem_varlen_lengths(p, p->seed, p->seqlen_q, lens);
        double flops = fa_problem_flops(p, p->varlen ? lens : NULL, p->varlen ? lens : NULL);
        free(lens);
        for (int f = 0; f < 2; f++) {
            char name[FA_VARIANT_NAME_MAX];
            snprintf(name, sizeof name, "fwd_%s_hd128_bf16%s%s_%s", families[f],
                     p->causal ? "_causal" : "", p->varlen ? "_varlen" : "", suffix[f]);
            fa_variant v;
            if (fa_variant_parse(name, &v, &err) != FA_OK) {
                fprintf(stderr, "modes_fixture_db: %s\n", err.msg);
                return 1;
            }
            double tflops = rate(families[f], p);
            fa_measurement m = test_measurement(FA_OK, tflops, flops / (tflops * 1e9));
            if (fa_db_record(db, run, "sm90", &v, p, &m, &err) != FA_OK) {
                fprintf(stderr, "modes_fixture_db: %s\n", err.msg);
                return 1;
            }
        }
    }
    if (fa_db_run_end(db, run, FA_OK, &err) != FA_OK) {
        fprintf(stderr, "modes_fixture_db: %s\n", err.msg);
        return 1;
    }
    fa_db_close(db);
    free(ps);
    printf("%d problems\n", n);
    return 0;
}
