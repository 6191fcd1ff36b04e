/*
 * This file implements the statement cache: the SQL text of every statement db/ runs more
 * than once, prepared on first use and kept on the handle until fa_db_close. Queries take
 * their optional filters as `(?n IS NULL OR column = ?n)`, so one statement serves every
 * combination and every value is bound. The exception: STMT_Q_MEASUREMENTS_OF, the
 * measurements query with arch and variant given, where that form would keep SQLite off the
 * indexes.
 */
#include "fa_db_internal.h"

/* STMT_Q_MEASUREMENTS and STMT_Q_MEASUREMENTS_OF: the columns (read_row reads them in this
 * order), the joins, the filters after arch and variant, the order. */
#define Q_MEASUREMENTS_SELECT                                                                      \
    "SELECT m.id, m.uuid, m.arch, v.name, v.dtype, v.head_dim, v.family, v.op,"                    \
    " v.params, NULL, NULL, v.causal, v.varlen,"                                  /* 12 */         \
    " p.name, p.dtype, p.head_dim, p.causal, p.varlen, p.batch, p.heads_q,"       /* 19 */         \
    " p.heads_kv, p.gqa, p.seqlen_q, p.seqlen_k, p.bucket, p.layout,"             /* 25 */         \
    " p.softmax_scale, p.seed, m.status, m.message, m.median_ms, m.min_ms, m.cv," /* 32 */         \
    " m.reps, m.tflops, m.max_abs_err, m.rel_l2_err, m.eager_max_abs_err,"        /* 37 */         \
    " m.lse_max_err, m.nonfinite, m.unwritten, m.check_seed, m.peak_extra_bytes," /* 42 */         \
    " m.eager_median_ms, m.eager_peak_extra_bytes, m.registers, m.smem_static,"   /* 46 */         \
    " m.stack_bytes, m.spill_stores, m.spill_loads, m.compile_ms, m.cache_hit,"   /* 51 */         \
    " m.measured_at, r.uuid, r.source_hash, r.fa_tune_version, d.name,"           /* 56 */         \
    " p.op, p.page_size"                                                          /* 58 */         \
    " FROM measurements m"                                                                         \
    " JOIN variants v ON v.id = m.variant_id"                                                      \
    " JOIN problems p ON p.id = m.problem_id"                                                      \
    " JOIN runs r ON r.id = m.run_id"                                                              \
    " JOIN devices d ON d.id = r.device_id"
#define Q_MEASUREMENTS_FILTERS                                                                     \
    " AND (?3 IS NULL OR p.name = ?3) AND (?4 IS NULL OR m.status = ?4)"                           \
    " AND (?5 = 0 OR p.head_dim = ?5)"                                                             \
    " AND (?6 = 0 OR EXISTS (SELECT 1 FROM measurements t WHERE t.arch = m.arch"                   \
    " AND t.variant_id = m.variant_id AND t.problem_id = m.problem_id AND t.status = 'ok'))"
#define Q_MEASUREMENTS_ORDER " ORDER BY m.arch, p.name, v.name, r.started_at, m.id"

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",

    [STMT_DEVICE_INSERT] =
        "INSERT OR IGNORE INTO devices (name, arch, cc, sm_count, clock_khz, mem_clock_khz,"
        " memory_bytes, l2_bytes, driver_version, cuda_version, nvrtc_version)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [STMT_DEVICE_SELECT] =
        "SELECT id FROM devices WHERE name = ?1 AND arch = ?2 AND cc = ?3 AND sm_count = ?4"
        " AND clock_khz = ?5 AND mem_clock_khz = ?6 AND memory_bytes = ?7 AND l2_bytes = ?8"
        " AND driver_version = ?9 AND cuda_version = ?10 AND nvrtc_version = ?11",

    [STMT_RUN_INSERT] =
        "INSERT INTO runs (uuid, device_id, fa_tune_version, source_hash, command_line,"
        " started_at, host) VALUES (?1, ?2, ?3, ?4, ?5,"
        " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?6)",
    [STMT_RUN_END] = "UPDATE runs SET ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),"
                     " status = ?2 WHERE id = ?1",
    [STMT_RUNS_RUNNING] = "SELECT id, uuid FROM runs WHERE status = 'running' AND ended_at IS NULL"
                          " AND host = ?1 AND host <> '' ORDER BY id",
    [STMT_RUN_MARK_INTERRUPTED] =
        "UPDATE runs SET status = 'interrupted' WHERE id = ?1 AND status = 'running'",

    [STMT_VARIANT_INSERT] =
        "INSERT OR IGNORE INTO variants (name, family, op, dtype, head_dim, causal, varlen,"
        " params, threads, smem_dynamic)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [STMT_VARIANT_SELECT] = "SELECT id FROM variants WHERE name = ?1",

    [STMT_PROBLEM_INSERT] =
        "INSERT OR IGNORE INTO problems (name, dtype, head_dim, causal, varlen, batch,"
        " heads_q, heads_kv, gqa, seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed, op,"
        " page_size, cache_seqlen)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
        " ?18)",
    [STMT_PROBLEM_SELECT] = "SELECT id FROM problems WHERE name = ?1",

    [STMT_MEASUREMENT_INSERT] =
        "INSERT INTO measurements (uuid, run_id, variant_id, problem_id, arch, status,"
        " message, median_ms, min_ms, cv, reps, tflops, max_abs_err, rel_l2_err,"
        " eager_max_abs_err, lse_max_err, nonfinite, unwritten, check_seed,"
        " peak_extra_bytes, eager_median_ms, eager_peak_extra_bytes, registers, smem_static,"
        " stack_bytes, spill_stores, spill_loads, compile_ms, cache_hit, measured_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
        " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29,"
        " strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    [STMT_HAS_MEASUREMENT] =
        "SELECT 1 FROM measurements m"
        " JOIN runs r ON r.id = m.run_id"
        " JOIN variants v ON v.id = m.variant_id"
        " JOIN problems p ON p.id = m.problem_id"
        " WHERE r.device_id = ?1 AND m.arch = ?2 AND r.source_hash = ?3 AND v.name = ?4"
        " AND p.name = ?5 LIMIT 1",
    [STMT_BEST_OK_MS] =
        "SELECT MIN(m.median_ms) FROM measurements m"
        " JOIN runs r ON r.id = m.run_id"
        " JOIN variants v ON v.id = m.variant_id"
        " JOIN problems p ON p.id = m.problem_id"
        " WHERE r.device_id = ?1 AND m.arch = ?2 AND r.source_hash = ?3 AND v.name = ?4"
        " AND p.name = ?5 AND m.status = 'ok' AND m.median_ms > 0",
    [STMT_HAS_OK] = "SELECT 1 FROM measurements m JOIN variants v ON v.id = m.variant_id"
                    " WHERE m.arch = ?1 AND v.name = ?2 AND m.status = 'ok' LIMIT 1",

    [STMT_PEER_UPSERT] =
        "INSERT INTO peers (run_id, problem_id, peer, version, median_ms, tflops,"
        " peak_extra_bytes, measured_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        " ON CONFLICT (run_id, peer, problem_id) DO UPDATE SET version = excluded.version,"
        " median_ms = excluded.median_ms, tflops = excluded.tflops,"
        " peak_extra_bytes = excluded.peak_extra_bytes, measured_at = excluded.measured_at",
    [STMT_CEILING_UPSERT] =
        "INSERT INTO ceilings (run_id, name, dtype, median_ms, tflops, measured_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        " ON CONFLICT (run_id, name) DO UPDATE SET dtype = excluded.dtype,"
        " median_ms = excluded.median_ms, tflops = excluded.tflops,"
        " measured_at = excluded.measured_at",

    [STMT_Q_MEASUREMENTS] = Q_MEASUREMENTS_SELECT
    " WHERE (?1 IS NULL OR m.arch = ?1) AND (?2 IS NULL OR v.name = ?2)" Q_MEASUREMENTS_FILTERS
        Q_MEASUREMENTS_ORDER,
    /* One variant of one arch: the same query with both as plain equalities, so that
       SQLite finds the rows through the variant's name and measurements_by_pair (the
       optional form above scans every row: 39 ms a call on a full hd128 run's
       database, once per winner in `fa-tune emit`, against 1 ms). */
    [STMT_Q_MEASUREMENTS_OF] = Q_MEASUREMENTS_SELECT
    " WHERE m.arch = ?1 AND v.name = ?2" Q_MEASUREMENTS_FILTERS Q_MEASUREMENTS_ORDER,
    [STMT_Q_WINNERS] =
        "SELECT arch, dtype, head_dim, causal, varlen, gqa, bucket, variant, problems,"
        " candidates, tflops, median_ms, eager_ms, speedup, peak_extra_bytes,"
        " eager_peak_extra_bytes, registers, smem_bytes, spill_bytes, runner_up,"
        " runner_up_tflops, margin"
        " FROM winners WHERE (?1 IS NULL OR arch = ?1)"
        " ORDER BY arch, CASE dtype WHEN 'fp16' THEN 0 ELSE 1 END, dtype, head_dim, causal,"
        " varlen, gqa, bucket",
    /* The winners view's rules (fa_db.h "Winners") over decode problems only, keyed by the
     * seqlen_q bucket (fa_decode_q_bucket) and paged too; the columns of STMT_Q_WINNERS, then
     * q_bucket and paged. */
    [STMT_Q_DECODE_WINNERS] =
        "WITH latest AS ("
        " SELECT m.arch, m.variant_id, m.problem_id, m.status, m.tflops, m.median_ms,"
        "  ROW_NUMBER() OVER (PARTITION BY m.arch, m.variant_id, m.problem_id"
        "   ORDER BY r.started_at DESC, r.uuid DESC, m.measured_at DESC, m.id DESC) AS rn"
        " FROM measurements m JOIN runs r ON r.id = m.run_id JOIN devices d ON d.id = r.device_id"
        " WHERE d.name <> '(compile only)' AND (?1 IS NULL OR m.arch = ?1)"
        /* only decode problems, and variants timed ok on some problem: the rest cannot win,
           and the refusals a run stores per problem were most of the rows ranked */
        "  AND m.problem_id IN (SELECT id FROM problems WHERE op = 'decode')"
        "  AND (m.arch, m.variant_id) IN (SELECT arch, variant_id FROM measurements"
        "   WHERE status = 'ok')),"
        " per_variant AS ("
        " SELECT l.arch, p.dtype, p.head_dim, p.causal, p.gqa, p.bucket, l.variant_id,"
        "  CASE WHEN p.seqlen_q <= 1 THEN 1 WHEN p.seqlen_q <= 4 THEN 4 ELSE 16 END AS q_bucket,"
        "  COALESCE(p.page_size, 0) > 0 AS paged, COUNT(*) AS problems,"
        "  SUM(l.status <> 'ok' OR l.tflops IS NULL) AS bad, AVG(l.tflops) AS tflops,"
        "  AVG(l.median_ms) AS median_ms"
        " FROM latest l JOIN problems p ON p.id = l.problem_id"
        " WHERE l.rn = 1 AND p.op = 'decode'"
        " GROUP BY l.arch, p.dtype, p.head_dim, p.causal, p.gqa, q_bucket, paged, p.bucket,"
        "  l.variant_id),"
        " ranked AS ("
        " SELECT pv.*, v.name AS variant,"
        "  ROW_NUMBER() OVER (PARTITION BY pv.arch, pv.dtype, pv.head_dim, pv.causal, pv.gqa,"
        "   pv.q_bucket, pv.paged, pv.bucket"
        "   ORDER BY pv.problems DESC, pv.tflops DESC, pv.median_ms ASC, v.name ASC) AS rank,"
        "  COUNT(*) OVER (PARTITION BY pv.arch, pv.dtype, pv.head_dim, pv.causal, pv.gqa,"
        "   pv.q_bucket, pv.paged, pv.bucket) AS candidates"
        " FROM per_variant pv JOIN variants v ON v.id = pv.variant_id WHERE pv.bad = 0)"
        " SELECT w.arch, w.dtype, w.head_dim, w.causal, 0, w.gqa, w.bucket, w.variant,"
        " w.problems, w.candidates, w.tflops, w.median_ms, NULL, NULL, NULL, NULL, NULL, NULL,"
        " NULL, r2.variant, r2.tflops,"
        " CASE WHEN r2.tflops > 0 THEN w.tflops / r2.tflops - 1 END, w.q_bucket, w.paged"
        " FROM ranked w LEFT JOIN ranked r2 ON r2.arch = w.arch AND r2.dtype = w.dtype"
        " AND r2.head_dim = w.head_dim AND r2.causal = w.causal AND r2.gqa = w.gqa"
        " AND r2.q_bucket = w.q_bucket AND r2.paged = w.paged AND r2.bucket = w.bucket"
        " AND r2.rank = 2"
        " WHERE w.rank = 1"
        " ORDER BY w.arch, CASE w.dtype WHEN 'fp16' THEN 0 ELSE 1 END, w.dtype, w.head_dim,"
        " w.causal, w.gqa, w.q_bucket, w.paged, w.bucket",
    [STMT_Q_PEERS] =
        "SELECT d.arch, pe.peer, pe.version, p.name, p.dtype, p.head_dim, p.causal, p.varlen,"
        " p.batch, p.heads_q, p.heads_kv, p.gqa, p.seqlen_q, p.seqlen_k, p.bucket, p.layout,"
        " p.softmax_scale, p.seed, pe.median_ms, pe.tflops, pe.peak_extra_bytes, r.uuid,"
        " p.op, p.page_size"
        " FROM peers pe"
        " JOIN problems p ON p.id = pe.problem_id"
        " JOIN runs r ON r.id = pe.run_id"
        " JOIN devices d ON d.id = r.device_id"
        " WHERE (?1 IS NULL OR d.arch = ?1)"
        " ORDER BY pe.peer, p.name, r.started_at, r.uuid",
    [STMT_Q_CEILINGS] = "SELECT d.arch, d.name, c.name, c.dtype, c.median_ms, c.tflops, r.uuid"
                        " FROM ceilings c"
                        " JOIN runs r ON r.id = c.run_id"
                        " JOIN devices d ON d.id = r.device_id"
                        " WHERE (?1 IS NULL OR d.arch = ?1)"
                        " ORDER BY c.name, r.started_at, r.uuid",
    [STMT_Q_CEILING_BEST] = "SELECT MAX(c.tflops) FROM ceilings c"
                            " JOIN runs r ON r.id = c.run_id"
                            " JOIN devices d ON d.id = r.device_id"
                            " WHERE d.arch = ?1 AND c.dtype = ?2 AND c.tflops IS NOT NULL"
                            /* fa_db_is_copy_ceiling's rule */
                            " AND c.name != 'copy' AND c.name NOT LIKE 'copy!_%' ESCAPE '!'",
    [STMT_Q_RUNS] =
        "SELECT r.id, r.uuid, d.id, d.name, d.arch, d.cc, d.sm_count, d.clock_khz,"
        " d.mem_clock_khz, d.memory_bytes, d.l2_bytes, d.driver_version, d.cuda_version,"
        " d.nvrtc_version, r.fa_tune_version, r.source_hash, r.command_line, r.host,"
        " r.started_at, r.ended_at, r.status,"
        " (SELECT COUNT(*) FROM measurements m WHERE m.run_id = r.id)"
        " FROM runs r JOIN devices d ON d.id = r.device_id"
        " WHERE ?1 IS NULL OR d.arch = ?1"
        " OR EXISTS (SELECT 1 FROM measurements m WHERE m.run_id = r.id AND m.arch = ?1)"
        " ORDER BY r.started_at, r.uuid",
    [STMT_Q_SUMMARIES] =
        "SELECT m.arch, p.name, COUNT(*), SUM(m.status = 'ok'), SUM(m.status = 'mismatch'),"
        " SUM(m.status = 'unsupported'), SUM(m.status = 'compile_error'),"
        " SUM(m.status = 'fault'), COUNT(DISTINCT m.variant_id), SUM(m.status = 'compiled'),"
        /* spills as fa_compile_spills() defines them (NULL where nothing was built) */
        " SUM(m.spill_stores > 0 OR m.spill_loads > 0)"
        " FROM measurements m JOIN problems p ON p.id = m.problem_id"
        " WHERE ?1 IS NULL OR m.arch = ?1"
        " GROUP BY m.arch, p.name ORDER BY m.arch, p.name",
};

const char *fa_db_stmt_sql(fa_db_stmt_id id)
{
    return (unsigned)id < STMT_COUNT ? stmt_sql[id] : NULL;
}

fa_status fa_db_stmt(fa_db *db, fa_db_stmt_id id, sqlite3_stmt **out, fa_err *err)
{
    sqlite3_stmt *s = db->stmts[id];
    if (!s) {
        int rc = sqlite3_prepare_v3(db->h, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(s);
            return FA_DB_FAIL(db, rc, "cannot prepare a statement on", err);
        }
        db->stmts[id] = s;
    } else if (sqlite3_stmt_busy(s)) {
        return FA_ERR(err, FA_INVALID,
                      "cannot query '%s': a query was started again from inside its own callback",
                      db->path);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    *out = s;
    return FA_OK;
}
