/*
 * fa_report_data.h -- what the files of the report share: the figures extracted from the
 * database (fa_report_data, filled by fa_report_data.c), the list of plots, the temporary-file
 * helper, and the writers of .dat files, gnuplot scripts and index pages. Nothing here is
 * installed; fa_report.h is the public face.
 *
 * Extraction rules (the index page states them too):
 *   - per (variant, problem) only the latest measurement counts (latest run start, then the
 *     latest row), as in the winners view; compile-only sweeps never count for speed;
 *   - fa-tune's figure for a problem is its best latest-ok measurement; the eager figures
 *     come from that same measurement (timed side by side), else from the latest one that
 *     timed eager;
 *   - each kernel family's best latest-ok measurement of a problem is that family's figure
 *     (its own series beside fa-tune's best of all families);
 *   - a panel is (dtype, head dim, causal, varlen, gqa); its x is max(seqlen_q, seqlen_k);
 *     several problems on one x (different batch or heads) are averaged (TFLOP/s) or maxed
 *     (memory); peers are matched on the same panel and x, the latest run per problem;
 *   - decode problems stay out of the panels: a decode panel is one mode (dtype, head dim,
 *     heads q/kv, seqlen_q, page size, cache lengths), one point per problem (x: batch x
 *     seqlen_k) at the best latest-ok variant's TB/s (the tflops column of a decode row); the
 *     copy bandwidth is the highest ceiling named "copy" (TB/s). Decode peers (bench/peers.py
 *     --decode, imported) are drawn there, on the point of their problem's batch and seqlen_k
 *     (the latest run per problem), never in the forward panels.
 */
#ifndef FA_REPORT_DATA_H
#define FA_REPORT_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "fa_db.h"
#include "fa_family.h"
#include "fa_report.h"

#define FA_REPORT_MAX_PEERS 16
#define FA_REPORT_MAX_FAMILIES 8 /* kernel families drawn as their own series */
#define FA_REPORT_STEM_MAX 96
#define FA_REPORT_TEXT_MAX 512

/* One x of a panel. NAN where a value is unknown. */
typedef struct fa_report_point {
    int seqlen;
    int problems;                                 /* fa-tune problems averaged here */
    double tflops;                                /* fa-tune's best, mean over problems */
    double eager_tflops;                          /* mean */
    double flash_mib, eager_mib;                  /* peak extra memory, max over problems */
    char variant[FA_VARIANT_NAME_MAX];            /* winner of the first problem ("-" if none) */
    char family[32];                              /* its family ("-" if none) */
    double family_tflops[FA_REPORT_MAX_FAMILIES]; /* each family's best (d->families), mean */
    double peer_tflops[FA_REPORT_MAX_PEERS];      /* mean */
    double peer_mib[FA_REPORT_MAX_PEERS];         /* max */
} fa_report_point;

typedef struct fa_report_panel {
    fa_dtype dtype;
    int head_dim, causal, varlen, gqa;
    char stem[FA_REPORT_STEM_MAX];  /* "hd128_bf16_causal" */
    char label[FA_REPORT_STEM_MAX]; /* "hd128 bf16 causal" */
    fa_report_point *points;        /* by seqlen */
    int n_points;
    int has_ratio;             /* some series has a value where eager has one: a speed-up to draw */
    int has_memory;            /* some positive memory figure to draw (log scale) */
    unsigned peers_present;    /* bit i: peer i has a TFLOP/s value in this panel */
    unsigned families_present; /* bit j: family j (d->families) has a TFLOP/s value here */
    unsigned peers_memory;     /* bit i: peer i has a memory value in this panel */
    double ceiling;            /* best GEMM ceiling of the dtype, NAN if none */
    double max_tflops;         /* the largest TFLOP/s of any series, 0 if none */
    double min_mib;            /* the smallest positive memory figure, NAN if none */
} fa_report_panel;

/* One heatmap cell: a pair of the family's tile axes (sm80: BLOCK_M, BLOCK_N) seen on the
 * heatmap's problem. */
typedef struct fa_report_cell {
    int block_m, block_n;
    double tflops;                     /* best latest-ok over the other parameters; NAN */
    char status[FA_DB_STATUS_MAX];     /* "ok", or the most common failure ("unsupported") */
    char variant[FA_VARIANT_NAME_MAX]; /* the best variant, "-" if none */
    char rest[32];                     /* its other parameters, "w4s2q" */
} fa_report_cell;

/* One family's tile heatmap on one problem. Families tile differently (sm90a's BLOCK_M is 64
 * rows per consumer warpgroup, its BLOCK_N range is not sm80's), so each has its own grid on
 * its own axes (fa_family.tile_axes) and is never merged with another's. */
typedef struct fa_report_heatmap {
    const fa_family *family;           /* a registry entry (static) */
    char problem[FA_PROBLEM_NAME_MAX]; /* the problem it is drawn for */
    fa_report_cell *cells;             /* row-major: block_ms x block_ns */
    int n_cells;
    int *block_ms, n_block_ms;     /* rows, ascending */
    int *block_ns, n_block_ns;     /* columns, ascending */
    char note[FA_REPORT_TEXT_MAX]; /* not "": no heatmap of this family, and why (no cells) */
} fa_report_heatmap;

/* One measurement of the chosen problem on the way to the best. */
typedef struct fa_report_step {
    double elapsed_s; /* since the run started */
    double tflops;    /* this measurement (ok ones only) */
    double best;      /* best so far in the run */
} fa_report_step;

typedef struct fa_report_series {
    char run_uuid[FA_DB_UUID_MAX];
    char strategy[32]; /* from the run's command line (--strategy X), default exhaustive */
    char label[128];   /* "exhaustive, run 0f8fad5b" */
    fa_report_step *steps;
    int n_steps;
} fa_report_series;

/* One tile of a compile-only report: a family's (BLOCK_M, BLOCK_N) pair (its tile axes) and
 * its compiled variants. */
typedef struct fa_report_tile {
    const fa_family *family; /* a registry entry; tiles of different families never merge */
    int block_m, block_n;
    int variants;           /* compiled (a cubin, spilling or not) */
    int reg_min, reg_max;   /* registers per thread over them */
    int smem_min, smem_max; /* shared memory bytes per block, static + dynamic */
    int spilling;           /* how many of them spill */
} fa_report_tile;

/* A compiled variant that spills registers (ineligible to win). */
typedef struct fa_report_spill {
    char variant[FA_VARIANT_NAME_MAX];
    int registers, smem_bytes, spill_stores, spill_loads;
} fa_report_spill;

/* One decode problem of a decode panel: its K/V cache and fa-tune's best rate on it. */
typedef struct fa_report_dpoint {
    int batch, seqlen_k;
    long long rows;                        /* batch x seqlen_k: K/V rows read per kv head */
    double tbps;                           /* the best latest-ok variant's TB/s of K/V read, NAN */
    char variant[FA_VARIANT_NAME_MAX];     /* that variant ("-" if none) */
    double peer_tbps[FA_REPORT_MAX_PEERS]; /* each peer's TB/s on the problem, NAN if none */
} fa_report_dpoint;

/* A decode panel: the decode problems of one mode (dtype, head dim, heads q/kv, new tokens,
 * paging, cache-length distribution), by K/V rows then batch. Its rate is TB/s of K and V read
 * (fa_problem.h), which the device's copy bandwidth bounds. */
typedef struct fa_report_dpanel {
    fa_problem mode; /* the mode's fields; batch and seqlen_k are those of the first problem */
    char stem[FA_REPORT_STEM_MAX];  /* "hd128_bf16_h32kv8_q1_paged64" */
    char label[FA_REPORT_STEM_MAX]; /* "hd128 bf16 32/8 heads, 1 new token, paged 64" */
    fa_report_dpoint *points;
    int n_points;
    double max_tbps;        /* the largest rate, fa-tune's or a peer's; 0 if none */
    unsigned peers_present; /* bit k: peer k has a TB/s value in this panel */
} fa_report_dpanel;

typedef enum fa_report_plot_kind {
    FA_PLOT_TFLOPS,
    FA_PLOT_SPEEDUP,
    FA_PLOT_MEMORY,
    FA_PLOT_HEATMAP,
    FA_PLOT_CONVERGENCE,
    FA_PLOT_COMPILE,
    FA_PLOT_REGISTERS, /* compile-only reports: registers and shared memory per tile */
    FA_PLOT_DECODE     /* a decode panel: K/V TB/s against the copy bandwidth */
} fa_report_plot_kind;

typedef struct fa_report_plot {
    fa_report_plot_kind kind;
    int panel;               /* index into panels (dpanels for FA_PLOT_DECODE), else -1 */
    int heatmap;             /* FA_PLOT_HEATMAP: index into heatmaps (-1 for a note), else -1 */
    const fa_family *family; /* FA_PLOT_HEATMAP, FA_PLOT_REGISTERS: the family drawn, else NULL */
    char stem[FA_REPORT_STEM_MAX];
    char title[FA_REPORT_TEXT_MAX]; /* when skipped: why it is not drawn */
    int skipped;                    /* nothing to draw: no files, a note on the index page */
} fa_report_plot;

typedef struct fa_report_data {
    char arch[FA_DB_ARCH_MAX];
    char db_path[1024];
    /* provenance, for every footer */
    char gpus[FA_REPORT_TEXT_MAX];   /* distinct device names, ", "-joined */
    char drivers[128];               /* "12.4" */
    char versions[128];              /* distinct fa-tune versions */
    char data_date[FA_DB_TIME_MAX];  /* max measured_at */
    char footer[FA_REPORT_TEXT_MAX]; /* the footer line */
    int n_peers;
    char peers[FA_REPORT_MAX_PEERS][FA_DB_NAME_MAX];            /* sorted */
    char peer_versions[FA_REPORT_MAX_PEERS][FA_DB_VERSION_MAX]; /* of the latest row */
    char peer_version[FA_DB_VERSION_MAX]; /* the version all peers share, "" if they differ */
    /* bit k: peer k has a forward figure (TFLOP/s or memory) in some panel; only these peers
     * get a column in the forward data files (a decode-only peer's would be empty) */
    unsigned forward_peers;
    /* the forward families with a latest-ok measurement, registry order: each is a series of
     * the speed plots (fa_report_point.family_tflops) */
    const fa_family *families[FA_REPORT_MAX_FAMILIES];
    int n_families;
    fa_report_panel *panels;
    int n_panels;
    /* decode: one panel per mode; copy_tbps is the best "copy" ceiling (a device copy's read
     * + write TB/s), NAN when the database stores none */
    fa_report_dpanel *dpanels;
    int n_dpanels;
    double copy_tbps;
    /* heatmaps and convergence: one problem (a family with no measurement of it draws its
     * heatmap on its own best-covered problem, unless --problem named it) */
    char problem[FA_PROBLEM_NAME_MAX]; /* "" when no problem has an ok measurement */
    fa_report_heatmap *heatmaps;       /* one per family measured, registry order */
    int n_heatmaps;
    fa_report_series *series;
    int n_series;
    /* compile times, ms, one per (run, variant) compiled (not a cache hit), ascending */
    double *compile_ms;
    int n_compile;
    fa_db_winner *winners; /* fa_db_winners order */
    int n_winners;
    int n_measurements;        /* timed forward measurements (a device row with a time) */
    int n_decode_measurements; /* timed decode measurements (the decode panels') */
    int n_decode_winners;      /* decode keys with a winner (the winners table is forward) */
    /* compile-only: the database holds builds for the arch but no timings and no peers; the
     * report then draws compile time and resources per tile and says how to time them */
    int compile_only;
    int n_built;                          /* distinct variants compiled */
    char timing_cmds[FA_REPORT_TEXT_MAX]; /* one command a line that times them on a GPU */
    fa_report_tile *tiles;                /* by family (registry order), block_m, then block_n */
    int n_tiles;
    fa_report_spill *spills; /* by name */
    int n_spills;
    fa_report_plot *plots;
    int n_plots;
} fa_report_data;

/* The FLOP convention sentence every report prints. */
extern const char fa_report_flop_convention[];

/* Read everything for arch from db. problem: the heatmap/convergence problem (NULL: the one
 * with the most variants measured ok). A database with only compile-only results for the arch
 * gives a compile-only report (d->compile_only). FA_NOT_FOUND when there is nothing for the
 * arch or the problem has no measurement. On success *d owns arrays (fa_report_data_release). */
fa_status fa_report_data_load(fa_db *db, const char *arch, const char *problem, fa_report_data *d,
                              fa_err *err);
void fa_report_data_release(fa_report_data *d);

/* ---- helpers (exposed for the unit tests) ---------------------------------------------- */

/* "2026-11-21T17:25:49.123Z" (also a space for T, no Z, no fraction) -> seconds since the
 * epoch, UTC. Returns 0 and writes *out on success, -1 otherwise. */
int fa_report_parse_time(const char *s, double *out);

/* The tuning strategy of a command line: the word after --strategy (or --strategy=X);
 * "exhaustive" when absent. Written to buf (n bytes). */
void fa_report_strategy(const char *command_line, char *buf, size_t n);

/* A "nice" histogram bin width (1, 2, 2.5 or 5 times a power of ten) splitting [0, max] into
 * about `bins` bins. */
double fa_report_nice_width(double max, int bins);

/* The forward data files' column (1-based, as gnuplot counts) of peer k, which must be in
 * d->forward_peers, and of family j's best after the peers: seqlen, fa_tune and eager come
 * first. */
int fa_report_peer_column(const fa_report_data *d, int k);
int fa_report_family_column(const fa_report_data *d, int j);

/* Human label of a peer name ("torch_sdpa_flash" -> "PyTorch SDPA flash (FA2)"). */
const char *fa_report_peer_label(const char *peer);
/* A known peer's own colour ("#1f77b4" for torch_sdpa_cudnn), the same in every report; NULL
 * for a peer fa-tune does not know. */
const char *fa_report_peer_fixed_color(const char *peer);
/* A peer's label with its version when the peers' versions differ, into buf. */
const char *fa_report_peer_text(const fa_report_data *d, int k, char *buf, size_t n);

/* The distinct rows (block_m) and columns (block_n) of family f's tiles, ascending, as new
 * arrays *ms[*nm] and *ns[*nn] (the caller frees both). -1, and nothing to free, when out of
 * memory. */
int fa_report_tile_grid(const fa_report_data *d, const fa_family *f, int **ms, int *nm, int **ns,
                        int *nn);
/* The position of x in set[n]; -1 if absent. */
int fa_report_grid_index(const int *set, int n, int x);

/* The label of family f's tile axis i (0: heatmap rows, 1: columns), "-" if it has none. */
const char *fa_report_tile_label(const fa_family *f, int i);
/* The labels of f's axes other than its tile axes, ", "-joined ("warps, stages, Q in
 * registers"): what a heatmap cell is the best over. Into buf (n bytes). */
void fa_report_other_axes(const fa_family *f, char *buf, size_t n);

/* A double as the .dat files and scripts write it: "%.6g", "NaN" for NAN and +-inf. buf >= 32
 * bytes. */
const char *fa_report_num(double x, char *buf);

/* ---- files ------------------------------------------------------------------------------ */

/* A file written under a temporary name (dir/.name.tmp) and renamed into place by commit. */
typedef struct fa_report_file {
    FILE *f;
    char tmp[4096];
    char path[4096];
} fa_report_file;

/* Create dir and its parents (mode 0777 minus umask); FA_IO naming the part that failed. */
fa_status fa_report_mkdirs(const char *dir, fa_err *err);
fa_status fa_report_file_open(fa_report_file *rf, const char *dir, const char *name, fa_err *err);
/* Flush, close and rename; FA_IO if anything failed (the temporary is removed). */
fa_status fa_report_file_commit(fa_report_file *rf, fa_err *err);
/* Close and remove the temporary; safe on a file never opened or already committed. */
void fa_report_file_abort(fa_report_file *rf);

/* ---- writers ---------------------------------------------------------------------------- */

/* The .dat file of plot p (name: p->stem + ".dat"). */
fa_status fa_report_dat_write(const fa_report_data *d, const fa_report_plot *p, FILE *f);
/* The gnuplot script of plot p: reads p->stem.dat, writes <out>.png / <out>.svg, where the
 * gnuplot variable `out` defaults to p->stem. */
fa_status fa_report_gp_write(const fa_report_data *d, const fa_report_plot *p, unsigned formats,
                             FILE *f);
/* index.html / index.md. `formats` says which images exist. */
fa_status fa_report_index_html(const fa_report_data *d, unsigned formats, FILE *f);
fa_status fa_report_index_md(const fa_report_data *d, unsigned formats, FILE *f);

/* Run `gnuplot script` with dir as the working directory and `out` set to out_stem. FA_ERROR
 * with the end of gnuplot's stderr when it fails. */
fa_status fa_report_gnuplot_run(const char *gnuplot, const char *dir, const char *script,
                                const char *out_stem, fa_err *err);

#endif /* FA_REPORT_DATA_H */
