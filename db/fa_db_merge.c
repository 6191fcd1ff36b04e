/*
 * This file implements `fa-tune db merge`: folding another results database into this one.
 *
 * The other file is opened read-only through fa_db_open, so it gets the same checks (SQLite,
 * intact, schema not newer) and an older schema is upgraded in memory. Its bytes are then
 * attached to this connection as the in-memory schema `merge_src`, and one transaction
 * copies rows by natural key: devices by every field, variants and problems by name, runs by
 * uuid, measurements by uuid, peers by (run, peer, problem), ceilings by (run, name). Ids
 * are remapped through those keys, so merging the same file twice adds nothing, and runs
 * from different nodes never collide (random 128-bit run uuids).
 *
 * These statements name an attached schema that exists only during a merge, so they are
 * prepared per merge rather than cached on the handle; they bind nothing.
 */
#include "fa_db_internal.h"

#include <string.h>
#include <sys/stat.h>

static const struct merge_step {
    const char *sql;
    size_t stat_offset; /* which fa_db_merge_stats counter its changes add to */
    int counts;
} merge_steps[] = {
    {"INSERT OR IGNORE INTO main.devices (name, arch, cc, sm_count, clock_khz, mem_clock_khz,"
     " memory_bytes, l2_bytes, driver_version, cuda_version, nvrtc_version)"
     " SELECT name, arch, cc, sm_count, clock_khz, mem_clock_khz, memory_bytes, l2_bytes,"
     " driver_version, cuda_version, nvrtc_version FROM merge_src.devices ORDER BY id",
     offsetof(fa_db_merge_stats, devices), 1},
    {"INSERT OR IGNORE INTO main.variants (name, family, op, dtype, head_dim, causal, varlen,"
     " params, threads, smem_dynamic)"
     " SELECT name, family, op, dtype, head_dim, causal, varlen, params, threads, smem_dynamic"
     " FROM merge_src.variants ORDER BY id",
     offsetof(fa_db_merge_stats, variants), 1},
    {"INSERT OR IGNORE INTO main.problems (name, op, dtype, head_dim, causal, varlen, batch,"
     " heads_q, heads_kv, gqa, seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed,"
     " page_size, cache_seqlen)"
     " SELECT name, op, dtype, head_dim, causal, varlen, batch, heads_q, heads_kv, gqa,"
     " seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed, page_size, cache_seqlen"
     " FROM merge_src.problems ORDER BY id",
     offsetof(fa_db_merge_stats, problems), 1},
    {"INSERT OR IGNORE INTO main.runs (uuid, device_id, fa_tune_version, source_hash,"
     " command_line, started_at, ended_at, status, host)"
     " SELECT r.uuid, md.id, r.fa_tune_version, r.source_hash, r.command_line, r.started_at,"
     " r.ended_at, r.status, r.host"
     " FROM merge_src.runs r"
     " JOIN merge_src.devices sd ON sd.id = r.device_id"
     " JOIN main.devices md ON md.name = sd.name AND md.arch = sd.arch AND md.cc = sd.cc"
     "  AND md.sm_count = sd.sm_count AND md.clock_khz = sd.clock_khz"
     "  AND md.mem_clock_khz = sd.mem_clock_khz AND md.memory_bytes = sd.memory_bytes"
     "  AND md.l2_bytes = sd.l2_bytes AND md.driver_version = sd.driver_version"
     "  AND md.cuda_version = sd.cuda_version AND md.nvrtc_version = sd.nvrtc_version"
     " ORDER BY r.id",
     offsetof(fa_db_merge_stats, runs), 1},
    /* A run we hold as unfinished that the other file saw finish: take its end. Not an added
     * row, and a second merge finds nothing to change. */
    {"UPDATE main.runs SET ended_at = s.ended_at, status = s.status"
     " FROM merge_src.runs s"
     " WHERE s.uuid = main.runs.uuid AND main.runs.ended_at IS NULL"
     " AND s.ended_at IS NOT NULL",
     0, 0},
    {"INSERT OR IGNORE INTO main.measurements (uuid, run_id, variant_id, problem_id, arch,"
     " status, message, median_ms, min_ms, cv, reps, tflops, max_abs_err, rel_l2_err,"
     " eager_max_abs_err, lse_max_err, nonfinite, unwritten, check_seed, peak_extra_bytes,"
     " eager_median_ms, eager_peak_extra_bytes, registers, smem_static, stack_bytes,"
     " spill_stores, spill_loads, compile_ms, cache_hit, measured_at)"
     " SELECT m.uuid, mr.id, mv.id, mp.id, m.arch, m.status, m.message, m.median_ms, m.min_ms,"
     " m.cv, m.reps, m.tflops, m.max_abs_err, m.rel_l2_err, m.eager_max_abs_err,"
     " m.lse_max_err, m.nonfinite, m.unwritten, m.check_seed, m.peak_extra_bytes,"
     " m.eager_median_ms, m.eager_peak_extra_bytes, m.registers, m.smem_static,"
     " m.stack_bytes, m.spill_stores, m.spill_loads, m.compile_ms, m.cache_hit, m.measured_at"
     " FROM merge_src.measurements m"
     " JOIN merge_src.runs sr ON sr.id = m.run_id JOIN main.runs mr ON mr.uuid = sr.uuid"
     " JOIN merge_src.variants sv ON sv.id = m.variant_id"
     " JOIN main.variants mv ON mv.name = sv.name"
     " JOIN merge_src.problems sp ON sp.id = m.problem_id"
     " JOIN main.problems mp ON mp.name = sp.name"
     " ORDER BY m.id",
     offsetof(fa_db_merge_stats, measurements), 1},
    {"INSERT OR IGNORE INTO main.peers (run_id, problem_id, peer, version, median_ms, tflops,"
     " peak_extra_bytes, measured_at)"
     " SELECT mr.id, mp.id, pe.peer, pe.version, pe.median_ms, pe.tflops,"
     " pe.peak_extra_bytes, pe.measured_at"
     " FROM merge_src.peers pe"
     " JOIN merge_src.runs sr ON sr.id = pe.run_id JOIN main.runs mr ON mr.uuid = sr.uuid"
     " JOIN merge_src.problems sp ON sp.id = pe.problem_id"
     " JOIN main.problems mp ON mp.name = sp.name"
     " ORDER BY pe.id",
     offsetof(fa_db_merge_stats, peers), 1},
    {"INSERT OR IGNORE INTO main.ceilings (run_id, name, dtype, median_ms, tflops,"
     " measured_at)"
     " SELECT mr.id, c.name, c.dtype, c.median_ms, c.tflops, c.measured_at"
     " FROM merge_src.ceilings c"
     " JOIN merge_src.runs sr ON sr.id = c.run_id JOIN main.runs mr ON mr.uuid = sr.uuid"
     " ORDER BY c.id",
     offsetof(fa_db_merge_stats, ceilings), 1},
};

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

fa_status fa_db_merge(fa_db *db, const char *other_path, fa_db_merge_stats *added, fa_err *err)
{
    static const char what[] = "cannot merge into";
    fa_status st = fa_db_require_writable(db, what, err);
    fa_db *other = NULL;
    unsigned char *bytes = NULL;
    sqlite3_int64 size = 0;
    sqlite3_stmt *s = NULL;
    int attached = 0, in_tx = 0;
    fa_db_merge_stats stats;
    memset(&stats, 0, sizeof stats);
    if (st != FA_OK)
        return st;
    if (!other_path || !*other_path)
        return FA_ERR(err, FA_INVALID, "%s '%s': no database to merge given", what, db->path);
    if (same_file(db->path, other_path))
        return FA_ERR(err, FA_INVALID, "cannot merge '%s' into itself", other_path);

    st = fa_db_open(other_path, FA_DB_READONLY, &other, err);
    if (st != FA_OK)
        goto cleanup;
    bytes = fa_db_snapshot(other, &size);
    if (!bytes) {
        st = FA_ERR(err, FA_NOMEM, "cannot read '%s' into memory to merge it", other_path);
        goto cleanup;
    }
    fa_db_close(other);
    other = NULL;

    FA_DB_CHECK(db,
                sqlite3_exec(db->h, "ATTACH DATABASE ':memory:' AS merge_src", NULL, NULL, NULL),
                what, err);
    attached = 1;
    int rc = sqlite3_deserialize(db->h, "merge_src", bytes, size, size,
                                 SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
    bytes = NULL; /* SQLite owns (and on failure has freed) the buffer */
    FA_DB_CHECK(db, rc, what, err);

    if ((st = fa_db_begin(db, err)) != FA_OK)
        goto cleanup;
    in_tx = 1;
    for (size_t i = 0; i < sizeof merge_steps / sizeof merge_steps[0]; i++) {
        FA_DB_CHECK(db, sqlite3_prepare_v2(db->h, merge_steps[i].sql, -1, &s, NULL), what, err);
        FA_DB_CHECK(db, sqlite3_step(s), what, err);
        if (merge_steps[i].counts)
            *(int64_t *)((char *)&stats + merge_steps[i].stat_offset) += sqlite3_changes(db->h);
        sqlite3_finalize(s);
        s = NULL;
    }
    st = fa_db_commit(db, err);
    in_tx = 0;
    if (st == FA_OK && added)
        *added = stats;

cleanup:
    sqlite3_finalize(s);
    if (in_tx)
        fa_db_rollback(db);
    if (attached)
        sqlite3_exec(db->h, "DETACH DATABASE merge_src", NULL, NULL, NULL);
    sqlite3_free(bytes);
    fa_db_close(other);
    return st;
}
