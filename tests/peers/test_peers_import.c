/*
 * This file implements the CPU test of the peers import (tuner/fa_peers_import.c): peer and
 * ceiling rows landing in the database with their numbers, refused shapes skipped, a key's
 * name inside a string value and a line over 8 KB read right, a malformed or out-of-range line
 * named by file, line and field, and a failed import storing nothing (all or nothing); the
 * decode rows of bench/peers.py --decode stored under fa-tune's decode problem names with
 * their TB/s, and its copy row as a ceiling the GEMM ceiling lookup leaves out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_db.h"
#include "fa_peers_import.h"
#include "fa_check.h"

static int count_peer(const fa_db_peer *p, void *user)
{
    int *n = user;
    if (!strcmp(p->peer, "torch_sdpa_flash")) {
        CHECK(p->problem.head_dim == 128 && p->problem.seqlen_q == 4096 && p->problem.causal);
        CHECK(p->tflops > 285.0 && p->tflops < 285.2);
        CHECK(p->problem.layout == FA_LAYOUT_BHSD);
        CHECK(strstr(p->version, "torch 2.11.0"));
    }
    (*n)++;
    return 0;
}

/* The decode rows of bench/peers.py --decode: keyed like fa-tune's own decode problem. */
static int check_decode_peer(const fa_db_peer *p, void *user)
{
    int *n = user;
    fa_problem want = {.dtype = FA_DTYPE_BF16,
                       .head_dim = 128,
                       .batch = 64,
                       .heads_q = 32,
                       .heads_kv = 8,
                       .seqlen_q = 1,
                       .seqlen_k = 4096,
                       .layout = FA_LAYOUT_BSHD,
                       .op = FA_OP_DECODE};
    char name[FA_PROBLEM_NAME_MAX];
    fa_problem_name(&want, name, sizeof name);
    CHECK_MSG(!strcmp(p->problem_name, name), "'%s', want '%s'", p->problem_name, name);
    CHECK(p->problem.op == FA_OP_DECODE && p->problem.page_size == 0 &&
          p->problem.layout == FA_LAYOUT_BSHD && p->problem.cache_lens == FA_CACHE_FIXED);
    if (!strcmp(p->peer, "torch_sdpa_cudnn"))
        CHECK_MSG(p->tflops > 4.2949 && p->tflops < 4.2950 && p->median_ms == 0.25, "%g",
                  p->tflops);
    else
        CHECK(!strcmp(p->peer, "torch_sdpa_flash") && p->tflops > 2.1474 && p->tflops < 2.1475);
    (*n)++;
    return 0;
}

static int check_copy(const fa_db_ceiling *c, void *user)
{
    int *n = user;
    CHECK(!strcmp(c->name, "copy") && c->tflops == 4.25 && c->median_ms == 2.0);
    (*n)++;
    return 0;
}

/* bench/peers.py --decode's rows: two peers on one decode problem, a refused shape, the copy
 * row; stored as decode peers and a copy ceiling that the GEMM ceiling lookup leaves out. */
static void test_decode(const char *dir)
{
    char db_path[256], path[256];
    snprintf(db_path, sizeof db_path, "%s/decode.db", dir);
    snprintf(path, sizeof path, "%s/decode.jsonl", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fprintf(f, "{\"peer\": \"copy\", \"median_ms\": 2.0, \"bytes\": 8500000000, \"tbps\": 4.25, "
               "\"versions\": \"torch 2.11.0\"}\n");
    const char *shape = "\"op\": \"decode\", \"dtype\": \"bf16\", \"head_dim\": 128, \"causal\": "
                        "0, \"varlen\": 0, \"batch\": 64, \"heads_q\": 32, \"heads_kv\": 8, "
                        "\"seqlen_q\": 1, \"seqlen_k\": 4096, \"page_size\": 0, \"layout\": "
                        "\"bhsd\", \"kv_bytes\": 1073741824.0";
    fprintf(f, "{\"peer\": \"torch_sdpa_cudnn\", %s, \"median_ms\": 0.25, \"tbps\": 4.294967296}\n",
            shape);
    fprintf(f, "{\"peer\": \"torch_sdpa_flash\", %s, \"median_ms\": 0.5, \"tbps\": 2.147483648}\n",
            shape);
    fprintf(f, "{\"peer\": \"torch_sdpa_flash\", %s, \"error\": \"No available kernel\"}\n", shape);
    fclose(f);
    fa_err err = {0};
    fa_db *db = NULL;
    CHECK(fa_db_open(db_path, FA_DB_CREATE, &db, &err) == FA_OK);
    fa_db_device dev = {.cc = 90};
    snprintf(dev.name, sizeof dev.name, "NVIDIA H200");
    snprintf(dev.arch, sizeof dev.arch, "sm90");
    int64_t device_id = 0, run_id = 0;
    CHECK(fa_db_device_upsert(db, &dev, &device_id, &err) == FA_OK);
    CHECK(fa_db_run_begin(db, device_id, "test", "", "test", &run_id, &err) == FA_OK);
    fa_peers_import_stats st;
    CHECK_OK(fa_peers_import(db, run_id, path, &st, &err), &err);
    CHECK_MSG(st.peers == 2 && st.ceilings == 1 && st.skipped == 1, "%d %d %d", st.peers,
              st.ceilings, st.skipped);
    int n = 0;
    CHECK(fa_db_peers(db, "sm90", check_decode_peer, &n, &err) == FA_OK);
    CHECK_MSG(n == 2, "%d decode peer rows", n);
    n = 0;
    CHECK(fa_db_ceilings(db, "sm90", check_copy, &n, &err) == FA_OK);
    CHECK(n == 1);
    /* the copy bandwidth (TB/s) is no FLOP-rate ceiling of a forward panel */
    double best = 0;
    int found = 1;
    CHECK(fa_db_ceiling_best(db, "sm90", FA_DTYPE_BF16, &best, &found, &err) == FA_OK);
    CHECK_MSG(!found, "the copy row is a GEMM ceiling of %g", best);
    fa_db_close(db);
}

int main(void)
{
    char dir[] = "/tmp/fa_peers_XXXXXX";
    CHECK(mkdtemp(dir));
    char db_path[256], good[256], bad[256];
    snprintf(db_path, sizeof db_path, "%s/p.db", dir);
    snprintf(good, sizeof good, "%s/good.jsonl", dir);
    snprintf(bad, sizeof bad, "%s/bad.jsonl", dir);
    FILE *f = fopen(good, "w");
    CHECK(f);
    fprintf(f, "{\"peer\": \"gemm_bf16_8192\", \"median_ms\": 1.4, \"min_ms\": 1.39, "
               "\"dtype\": \"bf16\", \"tflops\": 776.0}\n");
    const char *common = "\"dtype\": \"bf16\", \"head_dim\": 128, \"causal\": 1, \"varlen\": 0, "
                         "\"batch\": 4, \"heads_q\": 16, \"heads_kv\": 16, \"seqlen_q\": 4096, "
                         "\"seqlen_k\": 4096, \"layout\": \"bhsd\", \"versions\": \"torch "
                         "2.11.0+cu130, CUDA 13.0, cuDNN 91900, NVIDIA H100 80GB HBM3\"";
    fprintf(f,
            "{\"peer\": \"torch_sdpa_flash\", %s, \"median_ms\": 0.9, \"tflops\": 285.1, "
            "\"peak_extra_bytes\": 0}\n\n",
            common);
    fprintf(f,
            "{\"peer\": \"torch_sdpa_cudnn\", %s, \"median_ms\": 0.5, \"tflops\": 532.8, "
            "\"peak_extra_bytes\": 1048576}\n",
            common);
    fprintf(f, "{\"peer\": \"torch_sdpa_efficient\", %s, \"error\": \"No available kernel\"}\n",
            common);
    /* A string value that spells a key before the key itself ("head_dim" here), and a line
     * over 8 KB: a substring scan read the first as the field, a fixed buffer cut the second. */
    fprintf(f,
            "{\"note\": \"head_dim\", \"peer\": \"torch_eager\", %s, \"median_ms\": 2.0, "
            "\"tflops\": 100.0, \"pad\": \"",
            common + strlen("\"dtype\": \"bf16\", "));
    for (int i = 0; i < 12000; i++)
        fputc('x', f);
    fprintf(f, "\"}\n");
    fclose(f);
    f = fopen(bad, "w");
    CHECK(f);
    fprintf(f, "{\"peer\": \"torch_sdpa_math\", %s, \"median_ms\": 0.9, \"tflops\": 1}\n", common);
    fprintf(f, "{\"peer\": \"torch_sdpa_flash\", \"head_dim\": 128, \"median_ms\": 1, "
               "\"tflops\": 1}\n");
    fclose(f);

    fa_err err = {0};
    fa_db *db = NULL;
    CHECK(fa_db_open(db_path, FA_DB_CREATE, &db, &err) == FA_OK);
    fa_db_device dev = {0};
    snprintf(dev.name, sizeof dev.name, "NVIDIA H100 80GB HBM3");
    snprintf(dev.arch, sizeof dev.arch, "sm90");
    dev.cc = 90;
    int64_t device_id = 0, run_id = 0;
    CHECK(fa_db_device_upsert(db, &dev, &device_id, &err) == FA_OK);
    CHECK(fa_db_run_begin(db, device_id, "test", "", "test", &run_id, &err) == FA_OK);

    fa_peers_import_stats st;
    CHECK_OK(fa_peers_import(db, run_id, good, &st, &err), &err);
    CHECK_MSG(st.peers == 3 && st.ceilings == 1 && st.skipped == 1, "%d %d %d", st.peers,
              st.ceilings, st.skipped);
    int n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK(n == 3);
    double ceiling = 0;
    int found = 0;
    CHECK(fa_db_ceiling_best(db, "sm90", FA_DTYPE_BF16, &ceiling, &found, &err) == FA_OK);
    CHECK(found && ceiling == 776.0);
    /* importing the same file again replaces, never duplicates */
    CHECK_OK(fa_peers_import(db, run_id, good, &st, &err), &err);
    n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK(n == 3);

    /* Line 1 of bad is good and new (cudnn): a failed import stores it not (all or nothing). */
    fa_status s = fa_peers_import(db, run_id, bad, &st, &err);
    CHECK_MSG(s == FA_INVALID && strstr(err.msg, "bad.jsonl:2:") && strstr(err.msg, "'batch'"),
              "%s", err.msg);
    n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK_MSG(n == 3, "%d peer rows after a failed import", n);

    /* Each bad field alone on line 2, after a good line: its message, and nothing stored. */
    static const struct {
        const char *key, *value, *want;
    } cases[] = {
        {"head_dim", "4294967424",
         "field 'head_dim': expected an integer in [1, 1024], got 4294967424"},
        {"head_dim", "128.5", "field 'head_dim': expected an integer"},
        {"head_dim", "\"128\"", "field 'head_dim': expected an integer"},
        {"peak_extra_bytes", "1e30", "field 'peak_extra_bytes': expected an integer in [-1, "},
        {"median_ms", "1e999", "field 'median_ms'"},
        {"median_ms", "-1", "field 'median_ms': expected a number above 0"},
        {"causal", "2", "field 'causal': expected an integer in [0, 1], got 2"},
        {"layout", "\"nchw\"", "field 'layout': expected bshd or bhsd, got 'nchw'"},
        {"layout", "\"\\u001b[2J\"", "got '\\x1b[2J'"},
        {"seqlen_q", "99999999999", "field 'seqlen_q'"},
        {"batch", "4, \"batch\": 8", "field 'batch' given twice"},
    };
    static const char *const base[][2] = {
        {"peer", "\"flash_attn\""}, {"dtype", "\"bf16\""},
        {"head_dim", "128"},        {"batch", "4"},
        {"heads_q", "16"},          {"heads_kv", "16"},
        {"seqlen_q", "4096"},       {"seqlen_k", "4096"},
        {"median_ms", "0.9"},       {"tflops", "1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f = fopen(bad, "w");
        CHECK(f);
        fprintf(f, "{\"peer\": \"torch_sdpa_math\", %s, \"median_ms\": 3, \"tflops\": 9}\n",
                common);
        int used = 0;
        fputc('{', f);
        for (size_t k = 0; k < sizeof base / sizeof base[0]; k++) {
            int mine = !strcmp(base[k][0], cases[i].key);
            used |= mine;
            fprintf(f, "%s\"%s\": %s", k ? ", " : "", base[k][0],
                    mine ? cases[i].value : base[k][1]);
        }
        if (!used)
            fprintf(f, ", \"%s\": %s", cases[i].key, cases[i].value);
        fputs("}\n", f);
        fclose(f);
        s = fa_peers_import(db, run_id, bad, &st, &err);
        CHECK_MSG(s == FA_INVALID && strstr(err.msg, "bad.jsonl:2: ") &&
                      strstr(err.msg, cases[i].want),
                  "case %zu: %s", i, err.msg);
    }
    /* Not one object, trailing text, a NUL byte: named by line. */
    static const char *const raw[] = {"[1, 2]\n", "{\"peer\": \"a\"} x\n", "{\"peer\": \"a\"\n",
                                      "{\"peer\": \"a\0\"}\n"};
    static const size_t raw_len[] = {7, 16, 13, 15};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        f = fopen(bad, "w");
        CHECK(f);
        fputs("\n", f);
        fwrite(raw[i], 1, raw_len[i], f);
        fclose(f);
        s = fa_peers_import(db, run_id, bad, &st, &err);
        CHECK_MSG(s == FA_INVALID && strstr(err.msg, "bad.jsonl:2: "), "raw %zu: %s", i, err.msg);
    }
    n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK_MSG(n == 3, "%d peer rows after failed imports", n);
    s = fa_peers_import(db, run_id, "/nonexistent/peers.jsonl", &st, &err);
    CHECK(s == FA_IO && strstr(err.msg, "cannot read"));
    fa_db_close(db);
    test_decode(dir);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("peers import: ok\n");
    return 0;
}
