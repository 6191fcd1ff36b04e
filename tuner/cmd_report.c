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
#include "fa_options.h"
#include "fa_report.h"

static const char *const cmd = "report";

static int opt_arch(const char *name, const fa_option *opt, const char *val)
{
    if (!strcmp(val, "native"))
        return fa_cli_usage_error(name,
                                  "--arch native is not accepted here: name the arch the results "
                                  "were stored for (%s)",
                                  fa_arch_list());
    return fa_cli_arch(name, val, opt->dst);
}

static int opt_format(const char *name, const fa_option *opt, const char *val)
{
    fa_report_options *o = opt->dst;
    fa_err err;
    fa_err_clear(&err);
    if (fa_report_formats_parse(val, &o->formats, &err) != FA_OK)
        return fa_cli_usage_error(name, "--format: %s", err.msg);
    return 0;
}

/* Read the command line into *arch and o. Returns -1 to go on, else the exit code. */
static int parse_options(const fa_arch **arch, fa_report_options *o, int argc, char **argv)
{
    char db_help[96], outro[512];
    snprintf(db_help, sizeof db_help, "results database (default %s), opened read-only",
             FA_DB_DEFAULT_PATH);
    snprintf(outro, sizeof outro,
             "environment:\n"
             "  FA_GNUPLOT=PATH   the gnuplot to run (default: gnuplot on PATH; install it with\n"
             "                    '%s')\n"
             "\n"
             "TFLOP/s = 4*B*Hq*Nq*Nk*D / time, halved for causal with Nq = Nk.\n"
             "exit codes: 0 ok, 1 nothing stored for the arch, no gnuplot or a file cannot be\n"
             "written, 2 usage error.\n",
             FA_REPORT_GNUPLOT_INSTALL);
    const fa_option opts[] = {
        {.kind = FA_OPT_GROUP, .help = "required"},
        {.kind = FA_OPT_CALLBACK,
         .name = "arch",
         .cb = opt_arch,
         .dst = arch,
         .takes_value = 1,
         .metavar = "ARCH",
         .help = fa_arch_list()},
        {.kind = FA_OPT_STRING,
         .name = "output",
         .short_name = 'o',
         .dst = &o->out_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a folder",
         .metavar = "DIR",
         .help = "output folder (created if missing); each file in it is\nwritten to a "
                 "temporary file and renamed over the old one\n(a symlink there is replaced, not "
                 "followed); a folder that\nwould put a file over the database is refused"},
        {.kind = FA_OPT_GROUP, .help = "options"},
        {.kind = FA_OPT_STRING,
         .name = "db",
         .dst = &o->db_path,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file",
         .metavar = "FILE",
         .help = db_help},
        {.kind = FA_OPT_STRING,
         .name = "problem",
         .dst = &o->problem,
         .flags = FA_OPT_NONEMPTY,
         .what = "a problem name",
         .metavar = "NAME",
         .help = "the heatmap and convergence problem, e.g.\nb4_h16_kv16_q4096_k4096_d128_bf16 "
                 "('fa-tune db list' shows\nthem; default: the problem with the most variants "
                 "measured ok)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "format",
         .cb = opt_format,
         .dst = o,
         .takes_value = 1,
         .metavar = "LIST",
         .help = "png, svg or png,svg (default png,svg)"},
        {.kind = FA_OPT_END}};
    const fa_opt_cmd c = {
        .name = cmd,
        .usage = "usage: fa-tune report --arch ARCH -o DIR [options]\n",
        .intro =
            "Draws what the results database knows about one GPU arch with gnuplot, as PNG and\n"
            "SVG, and writes DIR/index.html and DIR/index.md showing every plot, the winners\n"
            "table and the provenance (GPU, driver, fa-tune version, date of the data):\n"
            "  tflops_*        TFLOP/s vs seqlen per (head dim, dtype, causal): fa-tune's best\n"
            "                  variant, eager, every peer stored, and the measured GEMM ceiling\n"
            "  speedup_*       the same over eager\n"
            "  memory_*        peak extra memory vs seqlen: flash vs eager vs peers (log y)\n"
            "  decode_*        decode K/V TB/s vs cache rows per (dtype, head dim, heads,\n"
            "                  new tokens, paging): fa-tune, the peers stored, the copy ceiling\n"
            "  heatmap_FAMILY  BLOCK_M x BLOCK_N TFLOP/s of one problem per kernel family,\n"
            "                  failed cells marked\n"
            "  convergence     best TFLOP/s so far vs time, one line per run and strategy\n"
            "  compile_time    histogram of NVRTC compile times\n"
            "A database with only compile-only results (no GPU of the arch) gives compile_time,\n"
            "registers_FAMILY (registers and shared memory per tile), the spilling variants and "
            "the\n"
            "command that times them on a GPU.\n"
            "Beside each image are the .dat file and the .gp script that drew it: edit the\n"
            "script and run 'gnuplot NAME.gp' in DIR to restyle.\n",
        .outro = outro,
        .opts = opts};
    int rc = fa_opt_parse(&c, argc, argv);
    if (rc >= 0)
        return rc;
    if (!*arch)
        return fa_cli_usage_error(cmd, "--arch is required (%s)", fa_arch_list());
    if (!o->out_dir)
        return fa_cli_usage_error(cmd, "-o DIR is required: the folder to write the report to");
    return -1;
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
    int rc = parse_options(&arch, &o, argc, argv);
    if (rc >= 0)
        return rc;
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
    else {
        char decode[96] = "";
        if (summary.decode_panels || summary.decode_winners)
            snprintf(decode, sizeof decode, "; decode: %d panels, %d winners",
                     summary.decode_panels, summary.decode_winners);
        fprintf(stderr, "fa-tune report: %d plots for %s (%d panels, %d winners%s%s%s) in '%s'\n",
                summary.plots, o.arch, summary.panels, summary.winners, decode,
                summary.problem[0] ? "; heatmap of " : "", problem, o.out_dir);
    }
    printf("%s\n", summary.index_path);
    return FA_EXIT_OK;
}
