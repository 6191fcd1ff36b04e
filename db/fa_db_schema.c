/*
 * This file implements the schema of the results database as an array of forward
 * migrations indexed by PRAGMA user_version: migrations[i] takes a database from version i
 * to i + 1. All pending ones run in one transaction, so a database is always at exactly one
 * version. A migration, once released, is never edited -- add a new one.
 *
 *   v1  devices, runs, variants, problems, measurements and a first winners view (the single
 *       best ok measurement per key)
 *   v2  peers and ceilings tables, runs.host, and the winners view as documented in fa_db.h
 *       (latest measurement per variant and problem, averaged over the key's problems,
 *       runner-up and margin)
 *   v3  kernel families and ops: variants become (name, family, op, params text, dtype,
 *       head_dim, causal, varlen, threads, smem_dynamic) with no per-family columns (the v2
 *       sm80 columns fold into params, "block_m=128 block_n=64 warps=4 stages=2 q_in_regs=1",
 *       the text fa_variant_params_text writes); problems get op (default 'fwd') and nullable
 *       decode fields (page_size, cache_seqlen); the winners view is keyed by op too and adds
 *       it (and the winner's family) as its last columns. The variants table is rebuilt
 *       (SQLite cannot drop NOT NULL columns): fa_db_migrate runs migrations with foreign
 *       keys off and checks them before committing, as SQLite's ALTER TABLE page prescribes.
 *   v4  the winners view's first step keeps only the rows of variants with an ok row for the
 *       arch (all of their rows, so a variant's latest row still decides): a tuning run stores
 *       a refusal per illegal variant and problem, 125k of a full hd128 job's 129k rows, which
 *       the view ranked for nothing (2.0 s against 0.16 s on that database, the same winners).
 *
 * tests/db/fixtures/v1.sql is a version-1 database built from migrations[0]; the migration
 * test upgrades it and compares the schema with a fresh one; v2_real.sql and v3_real.sql
 * (real H200 runs) do the same for the v2 -> v3 and v3 -> v4 steps, winners compared.
 */
#include "fa_db_internal.h"

/* The winners view as v3 made it, in two parts around its first step's WHERE clause: v4
 * keeps it and adds one condition there (released migrations keep their exact text). */
#define WINNERS_VIEW_V3_HEAD                                                                       \
    "CREATE VIEW winners AS\n"                                                                     \
    "WITH latest AS (\n"                                                                           \
    "    SELECT m.*,\n"                                                                            \
    "           ROW_NUMBER() OVER (PARTITION BY m.arch, m.variant_id, m.problem_id\n"              \
    "                              ORDER BY r.started_at DESC, r.uuid DESC,\n"                     \
    "                                       m.measured_at DESC, m.id DESC) AS rn\n"                \
    "    FROM measurements m\n"                                                                    \
    "    JOIN runs r ON r.id = m.run_id\n"                                                         \
    "    JOIN devices d ON d.id = r.device_id\n"                                                   \
    "    WHERE d.name <> '(compile only)'\n"
#define WINNERS_VIEW_V3_TAIL                                                                       \
    "),\n"                                                                                         \
    "per_variant AS (\n"                                                                           \
    "    SELECT l.arch, p.op, p.dtype, p.head_dim, p.causal, p.varlen, p.gqa, p.bucket,\n"         \
    "           l.variant_id,\n"                                                                   \
    "           COUNT(*) AS problems,\n"                                                           \
    "           SUM(l.status <> 'ok' OR l.tflops IS NULL) AS bad,\n"                               \
    "           AVG(l.tflops) AS tflops,\n"                                                        \
    "           AVG(l.median_ms) AS median_ms,\n"                                                  \
    "           AVG(l.eager_median_ms) AS eager_ms,\n"                                             \
    "           AVG(l.eager_median_ms / l.median_ms) AS speedup,\n"                                \
    "           MAX(l.peak_extra_bytes) AS peak_extra_bytes,\n"                                    \
    "           MAX(l.eager_peak_extra_bytes) AS eager_peak_extra_bytes,\n"                        \
    "           MAX(l.registers) AS registers,\n"                                                  \
    "           MAX(l.smem_static) AS smem_static,\n"                                              \
    "           MAX(l.spill_stores + l.spill_loads) AS spill_bytes\n"                              \
    "    FROM latest l\n"                                                                          \
    "    JOIN problems p ON p.id = l.problem_id\n"                                                 \
    "    WHERE l.rn = 1\n"                                                                         \
    "    GROUP BY l.arch, p.op, p.dtype, p.head_dim, p.causal, p.varlen, p.gqa, p.bucket,\n"       \
    "             l.variant_id\n"                                                                  \
    "),\n"                                                                                         \
    "ranked AS (\n"                                                                                \
    "    SELECT pv.*, v.name AS variant, v.family, v.smem_dynamic,\n"                              \
    "           ROW_NUMBER() OVER key_w AS rank,\n"                                                \
    "           COUNT(*) OVER (PARTITION BY pv.arch, pv.op, pv.dtype, pv.head_dim, pv.causal,\n"   \
    "                                       pv.varlen, pv.gqa, pv.bucket) AS candidates\n"         \
    "    FROM per_variant pv\n"                                                                    \
    "    JOIN variants v ON v.id = pv.variant_id\n"                                                \
    "    WHERE pv.bad = 0\n"                                                                       \
    "    WINDOW key_w AS (PARTITION BY pv.arch, pv.op, pv.dtype, pv.head_dim, pv.causal,\n"        \
    "                                  pv.varlen, pv.gqa, pv.bucket\n"                             \
    "                     ORDER BY pv.problems DESC, pv.tflops DESC, pv.median_ms ASC,\n"          \
    "                              v.name ASC)\n"                                                  \
    ")\n"                                                                                          \
    "SELECT w.arch, w.dtype, w.head_dim, w.causal, w.varlen, w.gqa, w.bucket,\n"                   \
    "       w.variant, w.problems, w.candidates, w.tflops, w.median_ms, w.eager_ms,\n"             \
    "       w.speedup, w.peak_extra_bytes, w.eager_peak_extra_bytes, w.registers,\n"               \
    "       w.smem_static + w.smem_dynamic AS smem_bytes, w.spill_bytes,\n"                        \
    "       r2.variant AS runner_up, r2.tflops AS runner_up_tflops,\n"                             \
    "       CASE WHEN r2.tflops > 0 THEN w.tflops / r2.tflops - 1 END AS margin,\n"                \
    "       w.op, w.family\n"                                                                      \
    "FROM ranked w\n"                                                                              \
    "LEFT JOIN ranked r2\n"                                                                        \
    "       ON r2.arch = w.arch AND r2.op = w.op AND r2.dtype = w.dtype\n"                         \
    "      AND r2.head_dim = w.head_dim AND r2.causal = w.causal AND r2.varlen = w.varlen\n"       \
    "      AND r2.gqa = w.gqa AND r2.bucket = w.bucket AND r2.rank = 2\n"                          \
    "WHERE w.rank = 1;\n"

static const char *const migrations[] = {
    /* v0 -> v1 */
    "CREATE TABLE devices (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL,\n"
    "    arch TEXT NOT NULL,\n"
    "    cc INTEGER NOT NULL,\n"
    "    sm_count INTEGER NOT NULL,\n"
    "    clock_khz INTEGER NOT NULL,\n"
    "    mem_clock_khz INTEGER NOT NULL,\n"
    "    memory_bytes INTEGER NOT NULL,\n"
    "    l2_bytes INTEGER NOT NULL,\n"
    "    driver_version INTEGER NOT NULL,\n"
    "    cuda_version INTEGER NOT NULL,\n"
    "    nvrtc_version INTEGER NOT NULL,\n"
    "    UNIQUE (name, arch, cc, sm_count, clock_khz, mem_clock_khz, memory_bytes, l2_bytes,\n"
    "            driver_version, cuda_version, nvrtc_version)\n"
    ");\n"
    "CREATE TABLE runs (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    uuid TEXT NOT NULL UNIQUE,\n"
    "    device_id INTEGER NOT NULL REFERENCES devices(id),\n"
    "    fa_tune_version TEXT NOT NULL,\n"
    "    source_hash TEXT NOT NULL,\n"
    "    command_line TEXT NOT NULL,\n"
    "    started_at TEXT NOT NULL,\n"
    "    ended_at TEXT,\n"
    "    status TEXT NOT NULL DEFAULT 'running'\n"
    ");\n"
    "CREATE TABLE variants (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    family TEXT NOT NULL,\n"
    "    dtype TEXT NOT NULL,\n"
    "    head_dim INTEGER NOT NULL,\n"
    "    block_m INTEGER NOT NULL,\n"
    "    block_n INTEGER NOT NULL,\n"
    "    warps INTEGER NOT NULL,\n"
    "    stages INTEGER NOT NULL,\n"
    "    q_in_regs INTEGER NOT NULL,\n"
    "    causal INTEGER NOT NULL,\n"
    "    varlen INTEGER NOT NULL,\n"
    "    threads INTEGER NOT NULL,\n"
    "    smem_dynamic INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE problems (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    dtype TEXT NOT NULL,\n"
    "    head_dim INTEGER NOT NULL,\n"
    "    causal INTEGER NOT NULL,\n"
    "    varlen INTEGER NOT NULL,\n"
    "    batch INTEGER NOT NULL,\n"
    "    heads_q INTEGER NOT NULL,\n"
    "    heads_kv INTEGER NOT NULL,\n"
    "    gqa INTEGER NOT NULL,\n"
    "    seqlen_q INTEGER NOT NULL,\n"
    "    seqlen_k INTEGER NOT NULL,\n"
    "    bucket INTEGER NOT NULL,\n"
    "    layout TEXT NOT NULL,\n"
    "    softmax_scale REAL NOT NULL,\n"
    "    seed INTEGER NOT NULL\n"
    ");\n"
    "CREATE TABLE measurements (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    uuid TEXT NOT NULL UNIQUE,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    variant_id INTEGER NOT NULL REFERENCES variants(id),\n"
    "    problem_id INTEGER NOT NULL REFERENCES problems(id),\n"
    "    arch TEXT NOT NULL,\n"
    "    status TEXT NOT NULL,\n"
    "    message TEXT NOT NULL DEFAULT '',\n"
    "    median_ms REAL,\n"
    "    min_ms REAL,\n"
    "    cv REAL,\n"
    "    reps INTEGER,\n"
    "    tflops REAL,\n"
    "    max_abs_err REAL,\n"
    "    rel_l2_err REAL,\n"
    "    eager_max_abs_err REAL,\n"
    "    lse_max_err REAL,\n"
    "    nonfinite INTEGER,\n"
    "    unwritten INTEGER,\n"
    "    check_seed INTEGER,\n"
    "    peak_extra_bytes INTEGER,\n"
    "    eager_median_ms REAL,\n"
    "    eager_peak_extra_bytes INTEGER,\n"
    "    registers INTEGER,\n"
    "    smem_static INTEGER,\n"
    "    stack_bytes INTEGER,\n"
    "    spill_stores INTEGER,\n"
    "    spill_loads INTEGER,\n"
    "    compile_ms REAL,\n"
    "    cache_hit INTEGER,\n"
    "    measured_at TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX measurements_by_pair ON measurements (arch, variant_id, problem_id);\n"
    "CREATE INDEX measurements_by_run ON measurements (run_id);\n"
    "CREATE VIEW winners AS\n"
    "WITH ranked AS (\n"
    "    SELECT m.arch, p.dtype, p.head_dim, p.causal, p.varlen, p.gqa, p.bucket,\n"
    "           v.name AS variant, m.tflops, m.median_ms,\n"
    "           ROW_NUMBER() OVER (PARTITION BY m.arch, p.dtype, p.head_dim, p.causal,\n"
    "                                           p.varlen, p.gqa, p.bucket\n"
    "                              ORDER BY m.tflops DESC, m.median_ms, v.name) AS rank\n"
    "    FROM measurements m\n"
    "    JOIN variants v ON v.id = m.variant_id\n"
    "    JOIN problems p ON p.id = m.problem_id\n"
    "    WHERE m.status = 'ok' AND m.tflops IS NOT NULL\n"
    ")\n"
    "SELECT arch, dtype, head_dim, causal, varlen, gqa, bucket, variant, tflops, median_ms\n"
    "FROM ranked WHERE rank = 1;\n",

    /* v1 -> v2 */
    "CREATE TABLE peers (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    problem_id INTEGER NOT NULL REFERENCES problems(id),\n"
    "    peer TEXT NOT NULL,\n"
    "    version TEXT NOT NULL,\n"
    "    median_ms REAL,\n"
    "    tflops REAL,\n"
    "    peak_extra_bytes INTEGER,\n"
    "    measured_at TEXT NOT NULL,\n"
    "    UNIQUE (run_id, peer, problem_id)\n"
    ");\n"
    "CREATE TABLE ceilings (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    run_id INTEGER NOT NULL REFERENCES runs(id),\n"
    "    name TEXT NOT NULL,\n"
    "    dtype TEXT NOT NULL,\n"
    "    median_ms REAL,\n"
    "    tflops REAL,\n"
    "    measured_at TEXT NOT NULL,\n"
    "    UNIQUE (run_id, name)\n"
    ");\n"
    "ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT '';\n"
    "DROP VIEW winners;\n"
    /* Step 1: the latest measurement per (arch, variant, problem), compile-only rows aside. */
    "CREATE VIEW winners AS\n"
    "WITH latest AS (\n"
    "    SELECT m.*,\n"
    "           ROW_NUMBER() OVER (PARTITION BY m.arch, m.variant_id, m.problem_id\n"
    "                              ORDER BY r.started_at DESC, r.uuid DESC,\n"
    "                                       m.measured_at DESC, m.id DESC) AS rn\n"
    "    FROM measurements m\n"
    "    JOIN runs r ON r.id = m.run_id\n"
    "    JOIN devices d ON d.id = r.device_id\n"
    "    WHERE d.name <> '(compile only)'\n"
    "),\n"
    /* Step 2: per variant and key, over the key's problems. */
    "per_variant AS (\n"
    "    SELECT l.arch, p.dtype, p.head_dim, p.causal, p.varlen, p.gqa, p.bucket,\n"
    "           l.variant_id,\n"
    "           COUNT(*) AS problems,\n"
    "           SUM(l.status <> 'ok' OR l.tflops IS NULL) AS bad,\n"
    "           AVG(l.tflops) AS tflops,\n"
    "           AVG(l.median_ms) AS median_ms,\n"
    "           AVG(l.eager_median_ms) AS eager_ms,\n"
    "           AVG(l.eager_median_ms / l.median_ms) AS speedup,\n"
    "           MAX(l.peak_extra_bytes) AS peak_extra_bytes,\n"
    "           MAX(l.eager_peak_extra_bytes) AS eager_peak_extra_bytes,\n"
    "           MAX(l.registers) AS registers,\n"
    "           MAX(l.smem_static) AS smem_static,\n"
    "           MAX(l.spill_stores + l.spill_loads) AS spill_bytes\n"
    "    FROM latest l\n"
    "    JOIN problems p ON p.id = l.problem_id\n"
    "    WHERE l.rn = 1\n"
    "    GROUP BY l.arch, p.dtype, p.head_dim, p.causal, p.varlen, p.gqa, p.bucket,\n"
    "             l.variant_id\n"
    "),\n"
    /* Step 3: rank the qualifying variants; ties fall to the lower median, then the name. */
    "ranked AS (\n"
    "    SELECT pv.*, v.name AS variant, v.smem_dynamic,\n"
    "           ROW_NUMBER() OVER key_w AS rank,\n"
    "           COUNT(*) OVER (PARTITION BY pv.arch, pv.dtype, pv.head_dim, pv.causal,\n"
    "                                       pv.varlen, pv.gqa, pv.bucket) AS candidates\n"
    "    FROM per_variant pv\n"
    "    JOIN variants v ON v.id = pv.variant_id\n"
    "    WHERE pv.bad = 0\n"
    "    WINDOW key_w AS (PARTITION BY pv.arch, pv.dtype, pv.head_dim, pv.causal, pv.varlen,\n"
    "                                  pv.gqa, pv.bucket\n"
    "                     ORDER BY pv.problems DESC, pv.tflops DESC, pv.median_ms ASC,\n"
    "                              v.name ASC)\n"
    ")\n"
    "SELECT w.arch, w.dtype, w.head_dim, w.causal, w.varlen, w.gqa, w.bucket,\n"
    "       w.variant, w.problems, w.candidates, w.tflops, w.median_ms, w.eager_ms,\n"
    "       w.speedup, w.peak_extra_bytes, w.eager_peak_extra_bytes, w.registers,\n"
    "       w.smem_static + w.smem_dynamic AS smem_bytes, w.spill_bytes,\n"
    "       r2.variant AS runner_up, r2.tflops AS runner_up_tflops,\n"
    "       CASE WHEN r2.tflops > 0 THEN w.tflops / r2.tflops - 1 END AS margin\n"
    "FROM ranked w\n"
    "LEFT JOIN ranked r2\n"
    "       ON r2.arch = w.arch AND r2.dtype = w.dtype AND r2.head_dim = w.head_dim\n"
    "      AND r2.causal = w.causal AND r2.varlen = w.varlen AND r2.gqa = w.gqa\n"
    "      AND r2.bucket = w.bucket AND r2.rank = 2\n"
    "WHERE w.rank = 1;\n",

    /* v2 -> v3 */
    "DROP VIEW winners;\n"
    "CREATE TABLE variants_v3 (\n"
    "    id INTEGER PRIMARY KEY,\n"
    "    name TEXT NOT NULL UNIQUE,\n"
    "    family TEXT NOT NULL,\n"
    "    op TEXT NOT NULL DEFAULT 'fwd',\n"
    "    dtype TEXT NOT NULL,\n"
    "    head_dim INTEGER NOT NULL,\n"
    "    causal INTEGER NOT NULL,\n"
    "    varlen INTEGER NOT NULL,\n"
    "    params TEXT NOT NULL DEFAULT '',\n"
    "    threads INTEGER,\n"
    "    smem_dynamic INTEGER\n"
    ");\n"
    "INSERT INTO variants_v3 (id, name, family, op, dtype, head_dim, causal, varlen, params,\n"
    "                         threads, smem_dynamic)\n"
    "SELECT id, name, family, 'fwd', dtype, head_dim, causal, varlen,\n"
    "       'block_m=' || block_m || ' block_n=' || block_n || ' warps=' || warps ||\n"
    "       ' stages=' || stages || ' q_in_regs=' || q_in_regs,\n"
    "       threads, smem_dynamic\n"
    "FROM variants;\n"
    "DROP TABLE variants;\n"
    "ALTER TABLE variants_v3 RENAME TO variants;\n"
    "ALTER TABLE problems ADD COLUMN op TEXT NOT NULL DEFAULT 'fwd';\n"
    "ALTER TABLE problems ADD COLUMN page_size INTEGER;\n"
    "ALTER TABLE problems ADD COLUMN cache_seqlen INTEGER;\n" WINNERS_VIEW_V3_HEAD
        WINNERS_VIEW_V3_TAIL,
    /* v3 -> v4 */
    "DROP VIEW winners;\n" WINNERS_VIEW_V3_HEAD
    "      AND (m.arch, m.variant_id) IN (SELECT arch, variant_id FROM measurements\n"
    "                                     WHERE status = 'ok')\n" WINNERS_VIEW_V3_TAIL,
};

_Static_assert(sizeof migrations / sizeof migrations[0] == FA_DB_SCHEMA_VERSION,
               "one migration per schema version");

int fa_db_migration_count(void)
{
    return (int)(sizeof migrations / sizeof migrations[0]);
}

const char *fa_db_migration_sql(int i)
{
    return i >= 0 && i < fa_db_migration_count() ? migrations[i] : NULL;
}

fa_status fa_db_migrate(fa_db *db, fa_err *err)
{
    fa_status st = FA_OK;
    int in_tx = 0;
    int version = 0, fk_on = 0;
    char *errmsg = NULL;

    /* A migration may rebuild a table others reference (v3: variants), which SQLite allows
     * only with foreign keys off; the pragma is a no-op inside a transaction, so it is set
     * here and restored below, and the keys are checked before the commit. */
    FA_DB_CHECK(db, fa_db_exec_int(db->h, "PRAGMA foreign_keys", &fk_on),
                "cannot read the foreign key setting of", err);
    if (fk_on)
        FA_DB_CHECK(db, sqlite3_exec(db->h, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL),
                    "cannot open", err);
    st = fa_db_begin(db, err);
    if (st != FA_OK)
        goto cleanup;
    in_tx = 1;
    /* Read again under the write lock: another process may have migrated meanwhile. */
    FA_DB_CHECK(db, fa_db_exec_int(db->h, "PRAGMA user_version", &version),
                "cannot read the schema version", err);
    if (version < 0) {
        st = FA_ERR(err, FA_DB, "'%s' has schema version %d: not an fa-tune database", db->path,
                    version);
        goto cleanup;
    }
    if (version > FA_DB_SCHEMA_VERSION) {
        st = FA_ERR(err, FA_DB,
                    "'%s' has schema version %d, newer than this fa-tune understands (%d): "
                    "use a newer fa-tune",
                    db->path, version, FA_DB_SCHEMA_VERSION);
        goto cleanup;
    }
    for (int v = version; v < FA_DB_SCHEMA_VERSION; v++) {
        int rc = sqlite3_exec(db->h, migrations[v], NULL, NULL, &errmsg);
        if (rc != SQLITE_OK) {
            char what[96];
            snprintf(what, sizeof what, "cannot migrate the schema from version %d to %d", v,
                     v + 1);
            st = FA_DB_FAIL(db, rc, what, err);
            goto cleanup;
        }
    }
    if (version < FA_DB_SCHEMA_VERSION) {
        int dangling = 0;
        FA_DB_CHECK(
            db, fa_db_exec_int(db->h, "SELECT COUNT(*) FROM pragma_foreign_key_check", &dangling),
            "cannot check the foreign keys of", err);
        if (dangling) {
            st = FA_ERR(err, FA_DB, "'%s': %d rows lost their references while migrating", db->path,
                        dangling);
            goto cleanup;
        }
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", FA_DB_SCHEMA_VERSION);
        FA_DB_CHECK(db, sqlite3_exec(db->h, pragma, NULL, NULL, NULL),
                    "cannot set the schema version", err);
    }
    st = fa_db_commit(db, err);
    in_tx = 0;
    if (st == FA_OK)
        db->version = FA_DB_SCHEMA_VERSION;

cleanup:
    sqlite3_free(errmsg);
    if (in_tx)
        fa_db_rollback(db);
    if (fk_on)
        sqlite3_exec(db->h, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    return st;
}
