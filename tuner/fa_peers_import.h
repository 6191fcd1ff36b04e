/*
 * fa_peers_import.h -- load peer measurements (bench/peers.py's JSON lines) into the results
 * database, so reports draw fa-tune and the libraries it is measured against side by side.
 *
 * Each line is one JSON object (parsed by cJSON: a key inside a string is not a key, lines may
 * be of any length; a line holding a NUL byte, a repeated key or trailing text is refused). A
 * peer row has "peer" (torch_sdpa_flash, ...), the problem fields (dtype, head_dim, causal,
 * varlen, batch, heads_q, heads_kv, seqlen_q, seqlen_k, layout), "median_ms", "tflops",
 * "peak_extra_bytes" and "versions"; a row with "error" (the backend refused the shape) is
 * skipped and counted. A ceiling row has "peer" starting with "gemm_" (a dense GEMM measured
 * in the same call), "dtype", "median_ms", "tflops".
 *
 * Decode (bench/peers.py --decode): a row with "op": "decode" is a peer on a decode problem,
 * keyed like fa-tune's own (fa_problem.h: op decode, bshd, every sequence's cache seqlen_k
 * rows, "page_size" 0 unless given), its rate "tbps" (TB/s of K/V read, required; "tflops" is
 * not read) stored where a decode measurement keeps its rate. The row "peer": "copy" (or
 * "copy_...") is the device copy bandwidth: "median_ms" and "tbps", stored as a ceiling of that
 * name (dtype bf16 unless given), which the report's decode plots draw. A "copy..." row that
 * names an "op" (peers.py's "copy_same_bytes": a copy of one shape's K/V bytes, which
 * bench/compare_decode.py reads) is not the device's ceiling: it is counted, not stored.
 * Every number is checked
 * against its range
 * (an integer field must be a whole number): a value out of range is an error naming the
 * file, line and field, never wrapped or cast.
 */
#ifndef FA_PEERS_IMPORT_H
#define FA_PEERS_IMPORT_H

#include "fa_db.h"

typedef struct fa_peers_import_stats {
    int peers, ceilings, skipped;
    int shape_copies; /* per-shape copies (a "copy" row with an "op"): read, not stored */
} fa_peers_import_stats;

/* One row of a peers file, checked. */
typedef struct fa_peer_row {
    int ceiling; /* a "gemm_" or "copy" row: only peer, dtype, median_ms and tflops are set
                    (a copy row's tflops is its TB/s) */
    char peer[FA_DB_NAME_MAX];
    char version[256]; /* free text; the database keeps it whole */
    fa_problem p;
    double median_ms, tflops;
    int64_t peak_extra_bytes; /* -1: not given */
} fa_peer_row;

/* Read and check the whole file. *rows (caller frees) gets the rows to store, *n their count;
 * st counts them and the skipped rows. FA_INVALID with "FILE:LINE: ..." for a bad line (nothing
 * is returned then); FA_IO if the file cannot be read. Touches no database. */
fa_status fa_peers_read(const char *path, fa_peer_row **rows, int *n, fa_peers_import_stats *st,
                        fa_err *err);

/* Store rows into run_id of db. Each row is its own write: call it inside fa_db_batch_begin /
 * fa_db_batch_end to store all or none. Recording the same (run, peer, problem) again replaces
 * the numbers. */
fa_status fa_peers_store(fa_db *db, int64_t run_id, const fa_peer_row *rows, int n, fa_err *err);

/* fa_peers_read, then fa_peers_store in one transaction: a bad line or a failed write leaves
 * the database as it was. */
fa_status fa_peers_import(fa_db *db, int64_t run_id, const char *path, fa_peers_import_stats *st,
                          fa_err *err);

#endif /* FA_PEERS_IMPORT_H */
