/*
 * This file implements db_fill, the test helper that writes a small, known results database
 * for the CLI tests (test_db_cli.sh): an sm90 sweep over two problems with a mismatch, a
 * fault and a compile error among the variants, a peer and a GEMM ceiling, and one sm80 row.
 *
 * With a third argument "decode" it also stores one measurement on a decode problem (paged,
 * uniform cache lengths), whose rate is TB/s of K/V read.
 *
 * usage: db_fill OUT.db [SOURCE_HASH [decode]]
 */
#include "db_test.h"

static int must(fa_status st, const fa_err *err)
{
    if (st != FA_OK) {
        fprintf(stderr, "db_fill: %s\n", err->msg);
        exit(1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4 || (argc == 4 && strcmp(argv[3], "decode") != 0)) {
        fprintf(stderr, "usage: db_fill OUT.db [SOURCE_HASH [decode]]\n");
        return 2;
    }
    fa_err err;
    int64_t dev, run;
    fa_db *db = test_open_run(argv[1], argc > 2 ? argv[2] : "fill", &dev, &run);
    fa_problem p[2] = {test_problem(FA_DTYPE_BF16, 128, 1, 2048, 16, 16),
                       test_problem(FA_DTYPE_BF16, 128, 1, 4096, 16, 16)};
    static const fa_status outcome[8] = {FA_OK, FA_OK,    FA_MISMATCH, FA_OK,
                                         FA_OK, FA_FAULT, FA_OK,       FA_COMPILE_ERROR};
    for (int j = 0; j < 2; j++) {
        for (int i = 0; i < 8; i++) {
            fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, i);
            int ok = outcome[i] == FA_OK;
            fa_measurement m = test_measurement(outcome[i], ok ? 200 + 10 * i + j : -1,
                                                ok ? 1.0 + j - 0.05 * i : -1);
            must(fa_db_record(db, run, "sm90", &v, &p[j], &m, &err), &err);
        }
        must(fa_db_record_peer(db, run, &p[j], "torch_sdpa_flash", "2.5.1", 1.2 + j, 180 + j, -1,
                               &err),
             &err);
    }
    must(fa_db_record_ceiling(db, run, "gemm_bf16_8192", FA_DTYPE_BF16, 1.6, 700.0, &err), &err);
    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, 0);
    fa_measurement m = test_measurement(FA_OK, 150, 2.0);
    must(fa_db_record(db, run, "sm80", &v, &p[0], &m, &err), &err);
    if (argc == 4) {
        fa_problem d = test_problem(FA_DTYPE_BF16, 128, 1, 4096, 32, 8);
        d.op = FA_OP_DECODE;
        d.seqlen_q = 1;
        d.page_size = 64;
        d.cache_lens = FA_CACHE_UNIFORM;
        fa_measurement dm = test_measurement(FA_OK, 3.875, 0.125);
        must(fa_db_record(db, run, "sm80", &v, &d, &dm, &err), &err);
    }
    must(fa_db_run_end(db, run, FA_OK, &err), &err);
    fa_db_close(db);
    return 0;
}
