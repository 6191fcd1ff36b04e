/*
 * fa_db.h -- the results database: every measurement fa-tune takes, with provenance, the
 * winners per GPU arch, resume, merge and export. db/ is the only code that includes
 * sqlite3.h; everything else uses this header.
 *
 * Schema (version FA_DB_SCHEMA_VERSION, PRAGMA user_version; see fa_db_schema.c):
 *   devices       one row per distinct (GPU model, clocks, memory, driver, CUDA, NVRTC)
 *   runs          one fa-tune invocation: uuid (random 128-bit, so runs merged from several
 *                 nodes never collide), device, fa-tune version, source hash, command line,
 *                 host, start, end, status
 *   variants      one row per variant name (the name is the key): (v3) its kernel family and
 *                 op, its family's parameters as text ("block_m=128 block_n=64 ..."), the
 *                 mode columns (dtype, head_dim, causal, varlen); no per-family columns
 *   problems      one row per problem name (fa_problem_name; the key), (v3) op, shape, gqa,
 *                 bucket, and nullable op fields (page_size, cache_seqlen: decode: the page
 *                 size, 0 contiguous, and the longest cache; the cache-length distribution is
 *                 in the name, "_uniform" or "_lens<id>")
 *   measurements  one row per timing of one variant on one problem in one run (uuid key);
 *                 its tflops column holds the problem's op rate: TFLOP/s, or for decode TB/s
 *                 of K/V read (fa_problem.h), so winners of either op rank by their own rate;
 *                 status token: ok, mismatch, unsupported, compile_error, fault (fa_status_token)
 *   peers         (v2) other libraries' numbers on the same problem in the same run
 *   ceilings      (v2) measured throughput ceilings (e.g. a dense GEMM) per run
 *   winners       a view, see "Winners" below
 *
 * Compile-only sweeps (no GPU) store their build figures under a device row named
 * FA_DB_COMPILE_ONLY ("(compile only)") for the target arch: see fa_db_device_compile_only().
 *
 * Seqlen bucket: fa_seqlen_bucket(max(seqlen_q, seqlen_k)) -- the smallest power of two
 * >= the longer sequence, at least 128 (fa_problem.h).
 *
 * Winners (per arch, op, dtype, head_dim, causal, varlen, gqa, seqlen bucket; the winner may
 * come from any family), defined as:
 *   1. per (arch, variant, problem) only the latest measurement counts (latest run start,
 *      then the latest row), so a re-timing or a rerun with --force supersedes older numbers
 *      and a fixed kernel re-measured ok is no longer held back by an old mismatch; rows of
 *      compile-only runs (device FA_DB_COMPILE_ONLY, status "compiled") never count; nor do
 *      the rows of a variant with no `ok` row for the arch (it cannot qualify; since schema v4
 *      the view skips them first: most rows of older runs are refusals);
 *   2. a variant qualifies for a key if that latest measurement is `ok` on every problem of
 *      the key it was measured on;
 *   3. qualifying variants rank by problems covered (desc), mean TFLOP/s over those problems
 *      (desc), mean median ms (asc), then variant name (asc) -- deterministic, ties included.
 *   The runner-up is the rank-2 variant; margin = tflops / runner_up_tflops - 1.
 *
 * Errors: every call returns an fa_status and fills err (may be NULL); messages name the file:
 *   FA_IO         the path is a directory, cannot be created/read, the disk is full
 *   FA_NOT_FOUND  the file does not exist and FA_DB_CREATE was not given
 *   FA_DB         not an SQLite file, corrupt/truncated, schema newer than this fa-tune
 *   FA_BUSY       another process held the lock longer than the busy timeout
 *   FA_INVALID    bad argument (NULL where a value is needed, writing a read-only handle)
 * A failed call leaves the file's bytes as they were: every write is one transaction.
 *
 * Concurrency: a handle is used by one thread at a time; open one per thread or process, and
 * never use a handle across fork() (open a new one in the child). Several processes may write
 * one file: writes take BEGIN IMMEDIATE and wait up to the busy timeout (default 15000 ms;
 * environment FA_DB_BUSY_TIMEOUT_MS overrides it: milliseconds in [0, 86400000], anything else
 * fails fa_db_open with FA_INVALID), then fail with FA_BUSY. A callback must
 * not start the same query again on the same handle (FA_INVALID); other calls are fine.
 *
 * Ownership: the caller owns every struct it passes; rows handed to a callback live until
 * the callback returns (copy what you keep). Callbacks return 0 to go on, non-zero to stop
 * early (the iterating call still returns FA_OK).
 */
#ifndef FA_DB_H
#define FA_DB_H

#include <stdint.h>
#include <stdio.h>

#include "fa_problem.h"
#include "fa_result.h"
#include "fa_status.h"
#include "fa_variant.h"

/* Schema version this build writes; older files are migrated forward on open, newer ones are
 * refused untouched. */
#define FA_DB_SCHEMA_VERSION 4

/* Default file, in the working directory. */
#define FA_DB_DEFAULT_PATH "fa-tune.db"

/* Device name used for compile-only sweeps. */
#define FA_DB_COMPILE_ONLY "(compile only)"

/* Fixed-size text fields (with the NUL). */
#define FA_DB_NAME_MAX 128   /* device names, peer names, ceiling names */
#define FA_DB_ARCH_MAX 16    /* "sm90a" */
#define FA_DB_UUID_MAX 37    /* "0f8fad5b-d9cb-469f-a165-70867728950e" */
#define FA_DB_HASH_MAX 72    /* source hash (hex sha256 fits) */
#define FA_DB_VERSION_MAX 64 /* "0.1.0", "2.5.1+cu124" */
#define FA_DB_TIME_MAX 32    /* "2026-11-21T17:25:49.123Z" (UTC) */
#define FA_DB_STATUS_MAX 24  /* status tokens */
#define FA_DB_CMDLINE_MAX 1024
#define FA_DB_MESSAGE_MAX 256

typedef struct fa_db fa_db;

/* Open flags. Read-write without FA_DB_CREATE needs an existing file. */
enum {
    FA_DB_READONLY = 1 << 0, /* never changes the content (at most it checkpoints rows another
                                writer committed, see fa_db.c): no WAL setup, no migration of the
                                file (an older schema is upgraded in a private in-memory copy);
                                works on a chmod 444 file and in a read-only directory; leaves no
                                -wal or -shm file it made behind (fa_db.c says how) */
    FA_DB_CREATE = 1 << 1    /* create the file if missing (ignored with FA_DB_READONLY) */
};

/* Open (and if needed create and migrate) the database at path. Read-write handles use WAL (the
 * switch is made at the handle's first write, so a handle that writes nothing changes no byte),
 * busy_timeout, foreign keys and synchronous=NORMAL (fa_db.c says why); the file is checked (PRAGMA
 * quick_check, linear in its size: milliseconds for a sweep's database) before anything is written.
 * A read-only open of a WAL file in a read-only directory reads it as immutable, unless a crashed
 * writer left rows in its -wal that only a read-write open can recover (FA_DB, saying so). On
 * success *out owns the handle (fa_db_close it); on failure *out is untouched and the file's bytes
 * are unchanged (a file this call created is removed again). */
fa_status fa_db_open(const char *path, unsigned flags, fa_db **out, fa_err *err);

/* Close a handle; NULL is a no-op. */
void fa_db_close(fa_db *db);

/* The path the handle was opened with (owned by the handle). */
const char *fa_db_path(const fa_db *db);

/* The schema version of the open database (always FA_DB_SCHEMA_VERSION after a successful
 * open) and the version the file had before it was opened (0 for a new file). */
int fa_db_schema_version(const fa_db *db);
int fa_db_schema_version_on_disk(const fa_db *db);

/* ---- devices --------------------------------------------------------------------------- */

/* A device as stored. Unknown numbers are 0. Versions are integers as the libraries report
 * them: driver 12040 (cuDriverGetVersion), CUDA 12040 (CUDA_VERSION), NVRTC 12040
 * (major * 1000 + minor * 10). */
typedef struct fa_db_device {
    int64_t id;                /* set by queries; ignored by fa_db_device_upsert */
    char name[FA_DB_NAME_MAX]; /* "NVIDIA H100 80GB HBM3", or FA_DB_COMPILE_ONLY */
    char arch[FA_DB_ARCH_MAX]; /* "sm90" */
    int cc;                    /* compute capability * 10 */
    int sm_count;
    int clock_khz;     /* SM clock */
    int mem_clock_khz; /* memory clock */
    int64_t memory_bytes;
    int64_t l2_bytes;
    int driver_version;
    int cuda_version;
    int nvrtc_version;
} fa_db_device;

/* Fill *dev as the pseudo-device of a compile-only sweep for arch: name FA_DB_COMPILE_ONLY,
 * arch and cc from the arch table, the given versions, all hardware figures 0. */
void fa_db_device_compile_only(const fa_arch *arch, int cuda_version, int nvrtc_version,
                               fa_db_device *dev);

/* Insert the device if no identical row exists; *device_id gets its id either way. Every
 * field is part of the identity, so a driver upgrade makes a new row (provenance stays
 * exact). */
fa_status fa_db_device_upsert(fa_db *db, const fa_db_device *dev, int64_t *device_id, fa_err *err);

/* ---- runs ------------------------------------------------------------------------------ */

/* Start a run: a new row with a fresh random uuid, the host name, start time (UTC) and
 * status "running". *run_id gets the local row id used by the calls below. In the same
 * transaction, every "running" run of this host whose process is gone becomes "interrupted"
 * (its end time stays unknown): until fa_db_run_end or fa_db_close the handle holds a lock that
 * the kernel drops when the process dies, and a run whose lock nobody holds is dead
 * (fa_db_runlock.c; runs of other hosts are never marked; Linux only). */
fa_status fa_db_run_begin(fa_db *db, int64_t device_id, const char *fa_tune_version,
                          const char *source_hash, const char *command_line, int64_t *run_id,
                          fa_err *err);

/* Finish a run: end time and status token (fa_status_token: "ok", "interrupted", "error"...).
 * A run that never ends (killed) keeps "running" and no end time until the next run on its host
 * starts and marks it "interrupted" (fa_db_run_begin); its measurements stay. */
fa_status fa_db_run_end(fa_db *db, int64_t run_id, fa_status status, fa_err *err);

/* ---- writing results ------------------------------------------------------------------- */

/* Make the writes that follow on db one transaction, all stored or none: the calls below
 * (runs, devices, records, peers) join it instead of committing each. fa_db_batch_end with
 * commit = 1 commits (FA_DB if a write inside had failed: nothing is stored); commit = 0
 * discards every write since fa_db_batch_begin. Batches do not nest; closing the handle with
 * a batch open discards it. */
fa_status fa_db_batch_begin(fa_db *db, fa_err *err);
fa_status fa_db_batch_end(fa_db *db, int commit, fa_err *err);

/* Store one measurement of variant v on problem p compiled for arch (fa_arch name, e.g.
 * "sm90"), in one transaction: the variant and problem rows are inserted if new, then the
 * measurement (fresh uuid, status token fa_status_token(m->status), time now). Negative
 * "not measured" figures (-1) are stored as NULL and read back as -1. Call it as soon as a
 * variant is measured. */
fa_status fa_db_record(fa_db *db, int64_t run_id, const char *arch, const fa_variant *v,
                       const fa_problem *p, const fa_measurement *m, fa_err *err);
/* The same for n measurements of v, ms[i] on ps[i], in one transaction: all are stored or
 * none. A commit costs a disk sync, so outcomes known at once (a variant unsupported on every
 * problem of its class) go together. */
fa_status fa_db_record_many(fa_db *db, int64_t run_id, const char *arch, const fa_variant *v,
                            const fa_problem *ps, const fa_measurement *ms, int n, fa_err *err);

/* Resume: has this device, with this source hash, already measured variant `variant` on
 * problem `problem` (fa_variant_name / fa_problem_name) for arch? Any stored status counts (a
 * mismatch is a result too). Works on read-only handles. */
fa_status fa_db_has_measurement(fa_db *db, int64_t device_id, const char *arch,
                                const char *source_hash, const char *variant, const char *problem,
                                int *found, fa_err *err);

/* Resume: the fastest `ok` median (ms) of what fa_db_has_measurement finds, or -1 when none
 * of those rows is ok (exhaustive's family gate judges a resumed family by it). Works on
 * read-only handles. */
fa_status fa_db_best_ok_ms(fa_db *db, int64_t device_id, const char *arch, const char *source_hash,
                           const char *variant, const char *problem, double *ms, fa_err *err);

/* Has variant `variant` any `ok` measurement for arch, from any device, run or source? Only
 * such a variant can be a winner, so only its refusals need a row on every problem (a refusal
 * row supersedes its older ok rows there): tuning stores the others' refusals once per class
 * (fa_tune.h). Works on read-only handles. */
fa_status fa_db_variant_has_ok(fa_db *db, const char *arch, const char *variant, int *has,
                               fa_err *err);

/* Another library's number on problem p in this run. peer names: "torch_sdpa_flash",
 * "torch_sdpa_efficient", "cudnn", "flash_attn", "torch_eager"...; version free text
 * ("2.5.1+cu124"). tflops by the FLOP convention of fa_problem.h; peak_extra_bytes -1 when
 * unknown. Recording the same (run, peer, problem) again replaces the numbers. */
fa_status fa_db_record_peer(fa_db *db, int64_t run_id, const fa_problem *p, const char *peer,
                            const char *version, double median_ms, double tflops,
                            int64_t peak_extra_bytes, fa_err *err);

/* A measured throughput ceiling of the run's device, e.g. name "gemm_bf16_8192" (an
 * 8192^3 bf16 GEMM through cuBLAS) for dtype bf16, rate in TFLOP/s; reports draw "% of ceiling"
 * from it. A ceiling named "copy" (or "copy_...") is the device copy bandwidth instead, its
 * rate in TB/s (read + write bytes per second, bench/peers.py --decode): the decode plots draw
 * it, and fa_db_ceiling_best leaves it out. Recording the same (run, name) again replaces the
 * numbers. */
fa_status fa_db_record_ceiling(fa_db *db, int64_t run_id, const char *name, fa_dtype dtype,
                               double median_ms, double tflops, fa_err *err);

/* 1 if name ("copy", "copy_...") names the device copy bandwidth rather than a FLOP ceiling
 * (the rule fa_db_ceiling_best's query applies in SQL). */
int fa_db_is_copy_ceiling(const char *name);

/* ---- reading --------------------------------------------------------------------------- */

/* Which measurements a query visits. Zero-initialise, then set what narrows it
 * (fa_db_filter f = {0}): NULL strings and 0 ints mean "any". */
typedef struct fa_db_filter {
    const char *arch;    /* "sm90" */
    const char *variant; /* exact variant name */
    const char *problem; /* exact problem name */
    const char *status;  /* exact status token, e.g. "ok" */
    int head_dim;
    /* 1: only (variant, problem) pairs with at least one "ok" row, every row of them (so
     * their latest row still says what they are now). Runs before the tuner stored a
     * refusal once per class stored an "unsupported" row per illegal variant and problem:
     * the full hd128 job's 129k rows hold 3.7k of such pairs, and its summary read the rest
     * for nothing (2.6 s against 0.17 s). */
    int timed_pairs;
} fa_db_filter;

/* One measurement joined with its variant, problem, run and device: a flat row. */
typedef struct fa_db_row {
    int64_t id;
    char uuid[FA_DB_UUID_MAX];
    char arch[FA_DB_ARCH_MAX];
    char variant_name[FA_VARIANT_NAME_MAX];
    fa_variant variant; /* parsed from the name; family NULL if this binary lacks it */
    char family[32];    /* (v3) as stored: "sm80" */
    char op[16];        /* "fwd" */
    char params[256];   /* the family's parameters, "block_m=128 block_n=64 ..." */
    char problem_name[FA_PROBLEM_NAME_MAX];
    fa_problem problem;
    int gqa;
    int bucket;
    char status[FA_DB_STATUS_MAX]; /* token as stored */
    fa_measurement m;              /* m.status parsed from the token (FA_ERROR if unknown) */
    char measured_at[FA_DB_TIME_MAX];
    char run_uuid[FA_DB_UUID_MAX];
    char source_hash[FA_DB_HASH_MAX];
    char fa_tune_version[FA_DB_VERSION_MAX];
    char device_name[FA_DB_NAME_MAX];
} fa_db_row;

typedef int (*fa_db_row_fn)(const fa_db_row *row, void *user);

/* Visit measurements matching filter (NULL: all) in a stable order: arch, problem name,
 * variant name, run start, row id. */
fa_status fa_db_measurements(fa_db *db, const fa_db_filter *filter, fa_db_row_fn fn, void *user,
                             fa_err *err);

/* One entry of the winners view (definition at the top of this file). */
typedef struct fa_db_winner {
    char arch[FA_DB_ARCH_MAX];
    fa_dtype dtype;
    int head_dim, causal, varlen, gqa, bucket;
    char variant_name[FA_VARIANT_NAME_MAX];
    fa_variant variant; /* parsed from the name */
    int problems;       /* problems of the key the winner's figures average over */
    int candidates;     /* qualifying variants in the key */
    double tflops;      /* mean over those problems */
    double median_ms;   /* mean */
    double eager_ms;    /* mean eager median over problems where eager was timed; -1 if none */
    double speedup;     /* mean of eager_ms / median_ms per problem; -1 if no eager timing */
    int64_t peak_extra_bytes;       /* max over the problems; -1 unknown */
    int64_t eager_peak_extra_bytes; /* max; -1 unknown */
    int registers;                  /* per thread; -1 unknown */
    int smem_bytes;                 /* static (ptxas) + dynamic (the variant's); -1 unknown */
    int spill_bytes;                /* stores + loads; -1 unknown */
    char runner_up_name[FA_VARIANT_NAME_MAX]; /* "" when there is no runner-up */
    double runner_up_tflops;                  /* -1 when none */
    double margin;                            /* tflops / runner_up_tflops - 1; -1 when none */
    /* fa_db_decode_winners only (0 from fa_db_winners): the decode key's seqlen_q bucket
     * (fa_decode_q_bucket: 1, 4 or 16) and whether the cache is paged (page_size > 0). */
    int q_bucket, paged;
} fa_db_winner;

typedef int (*fa_db_winner_fn)(const fa_db_winner *w, void *user);

/* Visit the winners of arch (NULL: every arch) sorted by arch, dtype (fp16 first), head_dim,
 * causal, varlen, gqa, bucket -- the same DB always gives the same sequence. */
fa_status fa_db_winners(fa_db *db, const char *arch, fa_db_winner_fn fn, void *user, fa_err *err);

/* The decode op's winners of arch (NULL: every arch) by the rules of the winners view, but keyed
 * by (arch, dtype, head_dim, causal, gqa, seqlen_q bucket, paged, cache bucket): a seqlen_q 4 or
 * paged problem gets its own winner instead of sharing one with seqlen_q 1 contiguous ones
 * (the view keys decode problems like forward ones). Sorted by arch, dtype (fp16 first),
 * head_dim, causal, gqa, q_bucket, paged, bucket; varlen, eager and resource figures are 0 or
 * -1 (unknown). */
fa_status fa_db_decode_winners(fa_db *db, const char *arch, fa_db_winner_fn fn, void *user,
                               fa_err *err);

/* A peer row joined with its problem and run. */
typedef struct fa_db_peer {
    char arch[FA_DB_ARCH_MAX]; /* the run device's arch */
    char peer[FA_DB_NAME_MAX];
    char version[FA_DB_VERSION_MAX];
    char problem_name[FA_PROBLEM_NAME_MAX];
    fa_problem problem;
    int gqa, bucket;
    double median_ms, tflops;
    int64_t peak_extra_bytes; /* -1 unknown */
    char run_uuid[FA_DB_UUID_MAX];
} fa_db_peer;

typedef int (*fa_db_peer_fn)(const fa_db_peer *p, void *user);

/* Visit peers measured on devices of arch (NULL: all), by peer, problem name, run start. */
fa_status fa_db_peers(fa_db *db, const char *arch, fa_db_peer_fn fn, void *user, fa_err *err);

/* A ceiling row joined with its run's device. */
typedef struct fa_db_ceiling {
    char arch[FA_DB_ARCH_MAX];
    char device_name[FA_DB_NAME_MAX];
    char name[FA_DB_NAME_MAX];
    fa_dtype dtype;
    double median_ms, tflops;
    char run_uuid[FA_DB_UUID_MAX];
} fa_db_ceiling;

typedef int (*fa_db_ceiling_fn)(const fa_db_ceiling *c, void *user);

/* Visit ceilings for arch (NULL: all) by name then run start. */
fa_status fa_db_ceilings(fa_db *db, const char *arch, fa_db_ceiling_fn fn, void *user, fa_err *err);

/* The best FLOP-rate ceiling for (arch, dtype): the highest tflops of any ceiling row but the
 * copy ones (TB/s, see fa_db_record_ceiling). *found is 0 (and *tflops untouched) when none is
 * stored. */
fa_status fa_db_ceiling_best(fa_db *db, const char *arch, fa_dtype dtype, double *tflops,
                             int *found, fa_err *err);

/* A run with its device: provenance for emitted headers and report footers. */
typedef struct fa_db_run {
    int64_t id;
    char uuid[FA_DB_UUID_MAX];
    fa_db_device device;
    char fa_tune_version[FA_DB_VERSION_MAX];
    char source_hash[FA_DB_HASH_MAX];
    char command_line[FA_DB_CMDLINE_MAX]; /* truncated to fit */
    char host[FA_DB_NAME_MAX];            /* "" for runs stored before schema v2 */
    char started_at[FA_DB_TIME_MAX];
    char ended_at[FA_DB_TIME_MAX]; /* "" while running or after a crash */
    char status[FA_DB_STATUS_MAX]; /* "running", "ok", "interrupted", ... */
    int64_t measurements;          /* rows stored by the run */
} fa_db_run;

typedef int (*fa_db_run_fn)(const fa_db_run *r, void *user);

/* Visit runs whose device is of arch, or that measured anything for arch (NULL: all runs),
 * by start time then uuid. */
fa_status fa_db_runs(fa_db *db, const char *arch, fa_db_run_fn fn, void *user, fa_err *err);

/* Per (arch, problem) counts of measurements by status: `fa-tune db list`. other counts the
 * statuses not named here (none today). spilled is not a status: the rows of any status that
 * built a cubin whose ptxas report shows spill stores or loads (fa_compile_spills). */
typedef struct fa_db_summary {
    char arch[FA_DB_ARCH_MAX];
    char problem_name[FA_PROBLEM_NAME_MAX];
    int64_t total, ok, compiled, mismatch, unsupported, compile_error, fault, other;
    int64_t spilled;
    int64_t variants; /* distinct variants measured */
} fa_db_summary;

typedef int (*fa_db_summary_fn)(const fa_db_summary *s, void *user);

/* Visit the summary for arch (NULL: all) by arch then problem name. */
fa_status fa_db_summaries(fa_db *db, const char *arch, fa_db_summary_fn fn, void *user,
                          fa_err *err);

/* ---- merge and export ------------------------------------------------------------------ */

/* Rows a merge added, per table. */
typedef struct fa_db_merge_stats {
    int64_t devices, runs, variants, problems, measurements, peers, ceilings;
} fa_db_merge_stats;

/* Fold the database at other_path (opened read-only, any schema version from 1 to ours) into
 * db in one transaction. Rows are matched by natural keys (device fields, run uuid, variant
 * and problem names, measurement uuid, (run, peer, problem), (run, ceiling name)), so merging
 * the same file twice adds nothing the second time. *added (may be NULL) gets the counts. */
fa_status fa_db_merge(fa_db *db, const char *other_path, fa_db_merge_stats *added, fa_err *err);

typedef enum fa_db_format { FA_DB_FORMAT_CSV = 0, FA_DB_FORMAT_JSON = 1 } fa_db_format;

/* Parse "csv" / "json"; FA_INVALID otherwise. */
fa_status fa_db_format_parse(const char *s, fa_db_format *out);

/* Write the measurements matching filter (NULL: all) to out, one flat row per measurement in
 * fa_db_measurements order. CSV: RFC 4180, a header row, empty cells for unknown values.
 * JSON: an array of objects with the CSV header's keys, null for unknown values
 * (pandas.read_json / read_csv read both). FA_IO if writing out fails. */
fa_status fa_db_export(fa_db *db, fa_db_format fmt, const fa_db_filter *filter, FILE *out,
                       fa_err *err);

#endif /* FA_DB_H */
