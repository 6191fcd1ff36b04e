/* This file implements `fa-tune report`: speed, memory, tile and tuning plots drawn with
 * gnuplot from the results database, and an index page. The work is fa_report_write
 * (reports/); this file parses options, finds gnuplot, and prints the outcome: the index
 * path on stdout, a summary on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_db.h"
#include "fa_escape.h"
#include "fa_report.h"

static const char *const cmd = "report";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fa-tune report --arch ARCH -o DIR [options]\n"
            "\n"
            "Draws what the results database knows about one GPU arch with gnuplot, as PNG and\n"
            "SVG, and writes DIR/index.html and DIR/index.md showing every plot, the winners\n"
            "table and the provenance (GPU, driver, fa-tune version, date of the data):\n"
            "  tflops_*        TFLOP/s vs seqlen per (head dim, dtype, causal): fa-tune's best\n"
            "                  variant, eager, every peer stored, and the measured GEMM ceiling\n"
            "  speedup_*       the same over eager\n"
            "  memory_*        peak extra memory vs seqlen: flash vs eager vs peers (log y)\n"
            "  heatmap         BLOCK_M x BLOCK_N TFLOP/s of one problem, failed cells marked\n"
            "  convergence     best TFLOP/s so far vs time, one line per run and strategy\n"
            "  compile_time    histogram of NVRTC compile times\n"
            "A database with only compile-only results (no GPU of the arch) gives compile_time,\n"
            "registers (registers and shared memory per tile), the spilling variants and the\n"
            "command that times them on a GPU.\n"
            "Beside each image are the .dat file and the .gp script that drew it: edit the\n"
            "script and run 'gnuplot NAME.gp' in DIR to restyle.\n"
            "\n"
            "required:\n"
            "  --arch ARCH        %s\n"
            "  -o, --output DIR   output folder (created if missing); each file in it is\n"
            "                     written to a temporary file and renamed over the old one\n"
            "                     (a symlink there is replaced, not followed); a folder that\n"
            "                     would put a file over the database is refused\n"
            "\n"
            "options:\n"
            "  --db FILE          results database (default %s), opened read-only\n"
            "  --problem NAME     the heatmap and convergence problem, e.g.\n"
            "                     b4_h16_kv16_q4096_k4096_d128_bf16 ('fa-tune db list' shows\n"
            "                     them; default: the problem with the most variants measured ok)\n"
            "  --format LIST      png, svg or png,svg (default png,svg)\n"
            "\n"
            "environment:\n"
            "  FA_GNUPLOT=PATH    the gnuplot to run (default: gnuplot on PATH; install it with\n"
            "                     '%s')\n"
            "\n"
            "TFLOP/s = 4*B*Hq*Nq*Nk*D / time, halved for causal with Nq = Nk.\n"
            "exit codes: 0 ok, 1 nothing stored for the arch, no gnuplot or a file cannot be "
            "written, 2 usage "
            "error.\n",
            fa_arch_list(), FA_DB_DEFAULT_PATH, FA_REPORT_GNUPLOT_INSTALL);
}

int cmd_report(int argc, char **argv)
{
    const fa_arch *arch = NULL;
    fa_report_options o;
    fa_report_summary summary;
    char gnuplot[4096];
    fa_err err;
    memset(&o, 0, sizeof o);
    fa_err_clear(&err);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (fa_cli_is_help(a)) {
            usage(stdout);
            return FA_EXIT_OK;
        } else if (!strcmp(a, "--arch")) {
            if (val && !strcmp(val, "native"))
                return fa_cli_usage_error(cmd,
                                          "--arch native is not accepted here: name the arch "
                                          "the results were stored for (%s)",
                                          fa_arch_list());
            int rc = fa_cli_arch(cmd, val, &arch);
            if (rc)
                return rc;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!val || !*val)
                return fa_cli_usage_error(cmd, "%s needs a folder", a);
            o.out_dir = val;
        } else if (!strcmp(a, "--db")) {
            if (!val || !*val)
                return fa_cli_usage_error(cmd, "--db needs a file");
            o.db_path = val;
        } else if (!strcmp(a, "--problem")) {
            if (!val || !*val)
                return fa_cli_usage_error(cmd, "--problem needs a problem name");
            o.problem = val;
        } else if (!strcmp(a, "--format")) {
            if (fa_report_formats_parse(val, &o.formats, &err) != FA_OK)
                return fa_cli_usage_error(cmd, "--format: %s", err.msg);
        } else {
            return fa_cli_usage_error(cmd, "unknown option '%s'", a);
        }
        i++; /* every option takes a value */
    }
    if (!arch)
        return fa_cli_usage_error(cmd, "--arch is required (%s)", fa_arch_list());
    if (!o.out_dir)
        return fa_cli_usage_error(cmd, "-o DIR is required: the folder to write the report to");
    o.arch = arch->name;

    if (fa_report_gnuplot_find(getenv("FA_GNUPLOT"), gnuplot, sizeof gnuplot, &err) != FA_OK)
        return fa_cli_fail(cmd, &err);
    o.gnuplot = gnuplot;
    if (fa_report_write(&o, &summary, &err) != FA_OK)
        return fa_cli_fail(cmd, &err);

    char problem[sizeof summary.problem];
    fa_esc_term(problem, sizeof problem, summary.problem); /* a name from the database */
    if (summary.compile_only)
        fprintf(stderr,
                "fa-tune report: %d plots for %s in '%s': compile-only results, no timings yet "
                "(the index page gives the command that makes them on a GPU)\n",
                summary.plots, o.arch, o.out_dir);
    else
        fprintf(stderr, "fa-tune report: %d plots for %s (%d panels, %d winners%s%s) in '%s'\n",
                summary.plots, o.arch, summary.panels, summary.winners,
                summary.problem[0] ? "; heatmap of " : "", problem, o.out_dir);
    printf("%s\n", summary.index_path);
    return FA_EXIT_OK;
}
