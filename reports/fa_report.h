/*
 * fa_report.h -- `fa-tune report`: the plots people judge a tuner by, drawn with gnuplot from
 * the results database, and an index page (HTML and Markdown) that shows them with the
 * winners table.
 *
 * For one arch, fa_report_write() reads the database (read-only) and writes into a folder:
 *
 *   tflops_<panel>.*     TFLOP/s vs seqlen per panel (dtype, head dim, causal[, varlen, gqa]):
 *                        fa-tune's best variant per problem, each kernel family's best (a
 *                        line per family when there are several), eager, every peer, and the
 *                        GEMM ceiling measured on the device (with a "% of ceiling" axis)
 *   speedup_<panel>.*    the same series divided by eager
 *   memory_<panel>.*     peak extra device memory vs seqlen, flash vs eager vs peers, log y
 *   heatmap_<family>.*   per kernel family, TFLOP/s of one problem on the family's own tile
 *                        axes (sm80: BLOCK_M x BLOCK_N; sm90a: BLOCK_M = 64 x consumer
 *                        warpgroups, x BLOCK_N), failed cells marked
 *   convergence.*        best-so-far TFLOP/s vs time since the run started, one line per run
 *   compile_time.*       histogram of NVRTC compile times (cache hits left out)
 *   registers_<family>.* compile-only databases (no timings yet) only: registers and shared
 *                        memory per tile of each kernel family, on its own tile axes; the
 *                        index page then lists the tiles (with their family) and the spilling
 *                        variants and gives the command that times them
 *   index.html, index.md every image, the winners table and the provenance footer
 *
 * Every image comes with the `.dat` file it was drawn from and the `.gp` script that drew it,
 * so `gnuplot tflops_hd128_bf16_causal.gp` in that folder redraws it after a restyle. The
 * `.dat` files are deterministic: the same database gives the same bytes. Every file is
 * written under a temporary name in the folder and renamed into place when complete.
 */
#ifndef FA_REPORT_H
#define FA_REPORT_H

#include <stddef.h>

#include "fa_status.h"

/* Image formats (bits). */
enum { FA_REPORT_PNG = 1 << 0, FA_REPORT_SVG = 1 << 1 };

/* Size of every image, in pixels (PNG) and SVG user units. */
#define FA_REPORT_WIDTH 1024
#define FA_REPORT_HEIGHT 640

/* The install hint every "gnuplot not found" error carries. */
#define FA_REPORT_GNUPLOT_INSTALL "apt-get install gnuplot-nox"

typedef struct fa_report_options {
    const char *db_path; /* NULL: FA_DB_DEFAULT_PATH */
    const char *arch;    /* "sm90": the arch name measurements were stored under */
    const char *out_dir; /* created (with parents) if missing */
    const char *problem; /* problem name for the heatmaps and convergence plot; NULL: the
                            problem with the most variants measured ok (a family with no ok
                            measurement of it: that family's own best-covered problem) */
    unsigned formats;    /* FA_REPORT_PNG | FA_REPORT_SVG; 0 means both */
    const char *gnuplot; /* gnuplot executable (fa_report_gnuplot_find) */
} fa_report_options;

/* What a report contains, for the caller's summary line. */
typedef struct fa_report_summary {
    int plots;             /* images drawn (per format) */
    int panels;            /* (dtype, head dim, causal, ...) panels */
    int winners;           /* rows of the winners table */
    int decode_panels;     /* decode modes drawn */
    int decode_winners;    /* decode keys with a winner */
    int compile_only;      /* 1: no timings, only compile results were drawn */
    char problem[128];     /* the heatmap/convergence problem; "" when there was none */
    char index_path[4096]; /* out_dir/index.html */
} fa_report_summary;

/* Parse a comma-separated format list ("png,svg", "svg"). FA_INVALID naming the bad word. */
fa_status fa_report_formats_parse(const char *s, unsigned *out, fa_err *err);

/* Find gnuplot: `env` (the value of FA_GNUPLOT, may be NULL or "") is used as given when it
 * contains a '/', else looked up on PATH like the default name "gnuplot". On success the full
 * path is written to path (n bytes). FA_NOT_FOUND otherwise, the message naming what was
 * looked for and the install command (FA_REPORT_GNUPLOT_INSTALL). */
fa_status fa_report_gnuplot_find(const char *env, char *path, size_t n, fa_err *err);

/* Write the report described by o. FA_NOT_FOUND when the database holds nothing for the arch
 * (the message says which command produces it) or names no such
 * --problem; FA_IO for files that cannot be written; FA_ERROR when gnuplot fails (its own
 * message included). *summary (may be NULL) is written on success only. */
fa_status fa_report_write(const fa_report_options *o, fa_report_summary *summary, fa_err *err);

#endif /* FA_REPORT_H */
