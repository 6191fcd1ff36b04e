/*
 * fa_peers_import.h -- load peer measurements (bench/peers.py's JSON lines) into the results
 * database, so reports draw fa-tune and the libraries it is measured against side by side.
 *
 * Each line is one flat JSON object. A peer row has "peer" (torch_sdpa_flash, ...), the
 * problem fields (dtype, head_dim, causal, varlen, batch, heads_q, heads_kv, seqlen_q,
 * seqlen_k, layout), "median_ms", "tflops", "peak_extra_bytes" and "versions"; a row with
 * "error" (the backend refused the shape) is skipped and counted. A ceiling row has "peer"
 * starting with "gemm_" (a dense GEMM measured in the same call), "dtype", "median_ms",
 * "tflops".
 */
#ifndef FA_PEERS_IMPORT_H
#define FA_PEERS_IMPORT_H

#include "fa_db.h"

typedef struct fa_peers_import_stats {
    int peers, ceilings, skipped;
} fa_peers_import_stats;

/* Import the file into run_id of db in one transaction per row. FA_INVALID with
 * "FILE:LINE: ..." for a malformed line (rows before it stay stored). */
fa_status fa_peers_import(fa_db *db, int64_t run_id, const char *path, fa_peers_import_stats *st,
                          fa_err *err);

/* Find the string or number value of "key" in a flat JSON object line. Numbers and strings
 * (unescaped, up to n-1 bytes) are copied as text into buf; 0 if absent or null. Exposed for
 * tests. */
int fa_json_get(const char *line, const char *key, char *buf, size_t n);

#endif /* FA_PEERS_IMPORT_H */
