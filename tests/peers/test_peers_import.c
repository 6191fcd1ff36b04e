/*
 * This file implements the CPU test of the peers import (tuner/fa_peers_import.c): the JSON
 * line scanner, peer and ceiling rows landing in the database with their numbers, refused
 * shapes skipped, and a malformed line named by file and line.
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

int main(void)
{
    char buf[64];
    CHECK(fa_json_get("{\"a\": 1.5, \"b\": \"x,y\", \"c\": null}", "a", buf, sizeof buf) &&
          !strcmp(buf, "1.5"));
    CHECK(fa_json_get("{\"a\": 1.5, \"b\": \"x,y\", \"c\": null}", "b", buf, sizeof buf) &&
          !strcmp(buf, "x,y"));
    CHECK(!fa_json_get("{\"a\": 1.5, \"c\": null}", "c", buf, sizeof buf));
    CHECK(!fa_json_get("{\"a\": 1.5}", "zz", buf, sizeof buf));

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
    fclose(f);
    f = fopen(bad, "w");
    CHECK(f);
    fprintf(f, "{\"peer\": \"torch_sdpa_flash\", %s, \"median_ms\": 0.9, \"tflops\": 1}\n", common);
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
    CHECK(fa_peers_import(db, run_id, good, &st, &err) == FA_OK);
    CHECK(st.peers == 2 && st.ceilings == 1 && st.skipped == 1);
    int n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK(n == 2);
    double ceiling = 0;
    int found = 0;
    CHECK(fa_db_ceiling_best(db, "sm90", FA_DTYPE_BF16, &ceiling, &found, &err) == FA_OK);
    CHECK(found && ceiling == 776.0);
    /* importing the same file again replaces, never duplicates */
    CHECK(fa_peers_import(db, run_id, good, &st, &err) == FA_OK);
    n = 0;
    CHECK(fa_db_peers(db, "sm90", count_peer, &n, &err) == FA_OK);
    CHECK(n == 2);

    fa_status s = fa_peers_import(db, run_id, bad, &st, &err);
    CHECK(s == FA_INVALID && strstr(err.msg, "bad.jsonl:2:") && strstr(err.msg, "'batch'"));
    s = fa_peers_import(db, run_id, "/nonexistent/peers.jsonl", &st, &err);
    CHECK(s == FA_IO && strstr(err.msg, "cannot read"));
    fa_db_close(db);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    printf("peers import: ok\n");
    return 0;
}
