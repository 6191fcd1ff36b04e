/*
 * This file implements the gnuplot scripts of the report. Each script is standalone -- it
 * reads its .dat file from the folder it is run in and draws the PNG and/or SVG -- so a user
 * can restyle it and run `gnuplot <name>.gp` again. fa-tune runs the same script with the
 * gnuplot variable `out` set to a temporary name and renames the images into place.
 *
 * Looks: a 1024x640 canvas, the legend outside the plot area on the right (it never covers
 * data), text drawn literally (noenhanced: variant names are full of underscores), one colour
 * per series that stays the same on every plot, and the provenance footer in small grey type.
 */
#include "fa_report_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fa_escape.h"

#define COLOR_FA_TUNE "#d62728"
#define COLOR_EAGER "#7f7f7f"

/* One colour per kernel family slot (d->families, registry order): reds and oranges near
 * fa-tune's own, dashed, so they read as parts of it. */
static const char *const family_colors[] = {"#fd8d3c", "#67000d", "#fdae6b", "#a50f15"};

/* Peers fa-tune does not know (fa_report_peer_fixed_color) take these by their place. */
static const char *const peer_colors[] = {"#bcbd22", "#393b79", "#637939", "#843c39"};

/* The convergence plot's runs: a palette of their own, so no run reads as a peer. */
static const char *const run_colors[] = {"#1b9e77", "#d95f02", "#7570b3",
                                         "#e7298a", "#66a61e", "#e6ab02"};

/* Every string from the database reaches the script through one of these two: as a
 * single-quoted string (no backquote or @macro substitution inside) or as comment text, each
 * escaped by fa_escape.h so that no byte of it can end the line it is on. */
#define ESC_MAX (4 * FA_REPORT_TEXT_MAX)

static void gp_str(FILE *f, const char *s)
{
    char e[ESC_MAX];
    fprintf(f, "'%s'", fa_esc_gp_str(e, sizeof e, s));
}

static void gp_comment(FILE *f, const char *s)
{
    char e[ESC_MAX];
    fputs(fa_esc_gp_comment(e, sizeof e, s), f);
}

static void preamble(const fa_report_data *d, const fa_report_plot *p, unsigned formats, FILE *f)
{
    fprintf(f, "# fa-tune report: ");
    gp_comment(f, p->title);
    fprintf(f, "\n# Draws ");
    gp_comment(f, p->stem);
    fprintf(f, ".dat (same folder). Restyle freely, then redraw with\n#     gnuplot ");
    gp_comment(f, p->stem);
    fprintf(f, ".gp\n");
    char images[2 * FA_REPORT_STEM_MAX + 16];
    if (formats == (FA_REPORT_PNG | FA_REPORT_SVG))
        snprintf(images, sizeof images, "%s.png and %s.svg", p->stem, p->stem);
    else
        snprintf(images, sizeof images, "%s.%s", p->stem, formats & FA_REPORT_PNG ? "png" : "svg");
    fprintf(f, "# which writes ");
    gp_comment(f, images);
    fprintf(f, " beside it. Unknown values in the data are NaN.\n");
    fprintf(f, "if (!exists(\"out\")) out = ");
    gp_str(f, p->stem);
    fprintf(f, "\nset encoding utf8\n");
    fprintf(f, "datafile = ");
    gp_str(f, p->stem);
    fprintf(f, ".'.dat'\n");
    fprintf(f, "footer = ");
    gp_str(f, d->footer);
    /* the title centred on the canvas, not the plot area: a wide legend cannot push it off */
    fprintf(f, "\ntitle = ");
    gp_str(f, p->title);
    fprintf(f, "\nset label 97 title at screen 0.5, screen 0.965 center font ',13'\n");
    fprintf(f, "set tmargin 3.5\n");
    fprintf(f, "set label 99 footer at screen 0.01, screen 0.025 left font ',8' "
               "textcolor rgb '#666666'\n");
    fprintf(f, "set bmargin 6\n");
    fprintf(f, "set border 3 lc rgb '#444444'\n");
    fprintf(f, "set tics nomirror out\n");
    fprintf(f, "set grid back lc rgb '#e0e0e0' lw 1 dt 1\n");
    fprintf(f, "set key outside right top vertical Left reverse noautotitle spacing 1.3 "
               "samplen 3 box lc rgb '#cccccc'\n");
    fprintf(f, "pos(x) = x > 0 ? x : NaN\n");
}

/* Ticks at every power of two in the data's range: 512, 1k, 2k ... 16k. */
static void seqlen_axis(const fa_report_panel *pa, FILE *f)
{
    int lo = pa->n_points ? pa->points[0].seqlen : 512;
    int hi = pa->n_points ? pa->points[pa->n_points - 1].seqlen : 16384;
    if (lo < 1)
        lo = 1;
    if (hi < lo)
        hi = lo;
    fprintf(f, "set logscale x 2\n");
    fprintf(f, "set xrange [%g:%g]\n", lo / 1.3, hi * 1.3);
    fprintf(f, "set xtics (");
    int first = 1;
    long t = 1;
    while (t < lo)
        t *= 2;
    if (t > hi) /* a single odd seqlen: tick it as is */
        t = lo;
    for (; t <= hi; t *= 2) {
        if (t % 1024 == 0)
            fprintf(f, "%s'%ldk' %ld", first ? "" : ", ", t / 1024, t);
        else
            fprintf(f, "%s'%ld' %ld", first ? "" : ", ", t, t);
        first = 0;
    }
    fprintf(f, ")\n");
    if (pa->varlen)
        fprintf(f, "set xlabel 'max sequence length N (tokens; varlen lengths in [N/2, N])'\n");
    else
        fprintf(f, "set xlabel 'sequence length N (tokens; Nq = Nk = N)'\n");
}

static const char *peer_dash(const char *peer)
{
    return strstr(peer, "eager") ? "dt 2 " : "";
}

/* The first format's terminal; the caller writes the `plot` command after it, and
 * term_end() redraws it on the other format with `replot` (every setting stays in force). */
static void term_begin(unsigned formats, FILE *f)
{
    const int png = (formats & FA_REPORT_PNG) != 0;
    fprintf(f, "\nset terminal %s size %d,%d noenhanced font 'Sans,10' background rgb 'white'\n",
            png ? "pngcairo" : "svg", FA_REPORT_WIDTH, FA_REPORT_HEIGHT);
    fprintf(f, "set output out.'%s'\n", png ? ".png" : ".svg");
}

static void term_end(unsigned formats, FILE *f)
{
    fprintf(f, "\n");
    if ((formats & FA_REPORT_PNG) && (formats & FA_REPORT_SVG)) {
        fprintf(f,
                "\nset terminal svg size %d,%d noenhanced font 'Sans,10' "
                "background rgb 'white'\n",
                FA_REPORT_WIDTH, FA_REPORT_HEIGHT);
        fprintf(f, "set output out.'.svg'\nreplot\n");
    }
    fprintf(f, "set output\n");
}

/* Where a plot's grey note (label 98) sits above the provenance line: the line plots' height,
 * and the grids', lower, below the key under the grid. */
#define NOTE_Y_LINES 0.055
#define NOTE_Y_GRID 0.047

/* The grey note in the bottom-left corner (label 98). */
static void footnote(const char *text, double y, FILE *f)
{
    fprintf(f, "set label 98 ");
    gp_str(f, text);
    fprintf(f, " at screen 0.01, screen %g left font ',8' textcolor rgb '#666666'\n", y);
}

/* "its parameters s = stages, ov = overlap, ...": the short form cells use (fa_variant_params_
 * short) for the family's axes other than the tile's. */
static void abbrev_key(const fa_family *fam, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "its parameters (");
    for (int i = 0, k = 0; i < fam->naxes && used < n; i++) {
        if (i == fam->tile_axes[0] || i == fam->tile_axes[1] || !fam->axes[i].abbrev)
            continue;
        int w = snprintf(buf + used, n - used, "%s%s = %s", k++ ? ", " : "", fam->axes[i].abbrev,
                         fam->axes[i].label);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used < n)
        snprintf(buf + used, n - used, ")");
}

/* One `, \`-continued line of a plot command. */
static void plot_sep(int *first, FILE *f)
{
    fprintf(f, "%s", *first ? "plot " : ", \\\n     ");
    *first = 0;
}

static const char *peer_color(const char *peer, int k)
{
    const char *fixed = fa_report_peer_fixed_color(peer);
    return fixed ? fixed : peer_colors[k % (int)(sizeof peer_colors / sizeof peer_colors[0])];
}

/* A peer's series from column col of the datafile: with points only when the x values
 * repeat (a line would join two shapes at one x and read as a trend). */
static void peer_series(const fa_report_data *d, int k, int col, int points_only, int *first,
                        FILE *f)
{
    char label[256];
    plot_sep(first, f);
    fprintf(f,
            "datafile using 1:(pos($%d)) with %s lw 1.5 %spt %d ps 0.9 lc rgb '%s' "
            "title ",
            col, points_only ? "points" : "linespoints", points_only ? "" : peer_dash(d->peers[k]),
            9 + 2 * (k % 4), peer_color(d->peers[k], k));
    gp_str(f, fa_report_peer_text(d, k, label, sizeof label));
}

/* Each kernel family's best as its own line, from the columns after the peers', when the
 * report holds more than one family (with one, fa-tune's line is that family's). */
static void family_lines(const fa_report_data *d, const fa_report_panel *pa, int *first, FILE *f)
{
    char title[128];
    if (d->n_families < 2)
        return;
    for (int j = 0; j < d->n_families; j++) {
        if (!(pa->families_present & (1u << j)))
            continue;
        plot_sep(first, f);
        fprintf(f,
                "datafile using 1:(pos($%d)) with linespoints lw 1.8 dt 4 pt %d ps 0.9 lc rgb "
                "'%s' title ",
                fa_report_family_column(d, j), 4 + 2 * (j % 4),
                family_colors[j % (int)(sizeof family_colors / sizeof family_colors[0])]);
        snprintf(title, sizeof title, "fa-tune, %s family only", d->families[j]->name);
        gp_str(f, title);
    }
}

/* fa-tune's line once more, untitled, so it is drawn on top of peers with equal figures. */
static void fa_tune_on_top(int *first, FILE *f)
{
    plot_sep(first, f);
    fprintf(f, "datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb "
               "'" COLOR_FA_TUNE "' notitle");
}

/* After the peers' lines: their shared version as a line of text in the legend. */
static void peer_version_entry(const fa_report_data *d, unsigned peers, int *first, FILE *f)
{
    if (!peers || !d->peer_version[0])
        return;
    char text[128];
    snprintf(text, sizeof text, "(peers: version %s)", d->peer_version);
    plot_sep(first, f);
    fprintf(f, "NaN with lines lc rgb '#ffffff' title ");
    gp_str(f, text);
}

/* The legend under the plot, for plots with few entries and no room to spare at the side. */
static void key_below(FILE *f)
{
    fprintf(f, "set key at screen 0.5, screen 0.078 center center horizontal Left reverse "
               "width 2\n");
    fprintf(f, "set bmargin 8\n");
}

/* An axis maximum a little above x, on a round step. */
static double round_up(double x)
{
    double step = fa_report_nice_width(x, 7);
    return ceil(x * 1.04 / step) * step;
}

static void plot_tflops(const fa_report_data *d, const fa_report_plot *p, unsigned formats, FILE *f)
{
    const fa_report_panel *pa = &d->panels[p->panel];
    char b[32];
    int first = 1;
    seqlen_axis(pa, f);
    footnote(fa_report_flop_convention, NOTE_Y_LINES, f);
    fprintf(f, "set ylabel 'TFLOP/s (forward)'\n");
    double top = pa->max_tflops;
    if (!isnan(pa->ceiling) && pa->ceiling > top)
        top = pa->ceiling;
    top = top > 0 ? round_up(top) : 1;
    fprintf(f, "set yrange [0:%s]\n", fa_report_num(top, b));
    fprintf(f, "ceiling = %s\n", fa_report_num(pa->ceiling, b));
    if (!isnan(pa->ceiling)) {
        fprintf(f, "set y2label '%% of the measured %s GEMM ceiling'\n", fa_dtype_name(pa->dtype));
        fprintf(f, "set link y2 via y*100.0/ceiling inverse y*ceiling/100.0\n");
        fprintf(f, "set y2tics %s format '%%g%%%%' nomirror out\n",
                fa_report_num(fa_report_nice_width(top * 100.0 / pa->ceiling, 7), b));
    }
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb "
               "'" COLOR_FA_TUNE "' title 'fa-tune (best variant per problem)'");
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:(pos($3)) with linespoints lw 1.5 pt 5 ps 0.9 lc rgb "
               "'" COLOR_EAGER "' title 'eager (cuBLAS + softmax + cuBLAS)'");
    family_lines(d, pa, &first, f);
    for (int k = 0; k < d->n_peers; k++)
        if (pa->peers_present & (1u << k))
            peer_series(d, k, fa_report_peer_column(d, k), 0, &first, f);
    peer_version_entry(d, pa->peers_present, &first, f);
    if (!isnan(pa->ceiling)) {
        plot_sep(&first, f);
        fprintf(f,
                "ceiling with lines dt 3 lw 2 lc rgb '#000000' title sprintf('%s GEMM "
                "ceiling (measured): %%.0f TFLOP/s', ceiling)",
                fa_dtype_name(pa->dtype));
    }
    fa_tune_on_top(&first, f);
    term_end(formats, f);
}

/* A decode panel: fa-tune's K/V TB/s over batch x cache length, and the copy bandwidth. */
static void plot_decode(const fa_report_data *d, const fa_report_plot *p, unsigned formats, FILE *f)
{
    const fa_report_dpanel *dp = &d->dpanels[p->panel];
    char b[32];
    int first = 1;
    long long lo = dp->n_points ? dp->points[0].rows : 1;
    long long hi = dp->n_points ? dp->points[dp->n_points - 1].rows : 1;
    fprintf(f, "set logscale x 2\n");
    fprintf(f, "set xrange [%g:%g]\n", (double)(lo > 0 ? lo : 1) / 1.3, (double)hi * 1.3);
    fprintf(f, "set format x '%%.0s%%c'\n");
    fprintf(f, "set xlabel 'K/V rows read per kv head: batch x cache length'\n");
    fprintf(f, "set ylabel 'K/V read (TB/s)'\n");
    double top = dp->max_tbps;
    if (!isnan(d->copy_tbps) && d->copy_tbps > top)
        top = d->copy_tbps;
    top = top > 0 ? round_up(top) : 1;
    fprintf(f, "set yrange [0:%s]\n", fa_report_num(top, b));
    fprintf(f, "copy = %s\n", fa_report_num(d->copy_tbps, b));
    /* points sorted by rows: two shapes of one batch x cache length (1 x 128k and 128 x 1k)
       share an x, and lines would zig-zag between them */
    int repeats = 0;
    for (int i = 1; i < dp->n_points; i++)
        repeats |= dp->points[i].rows == dp->points[i - 1].rows;
    const char *with = repeats ? "points" : "linespoints";
    footnote(repeats ? "TB/s = K and V bytes (2*B*Hkv*Nk*D*element bytes) / median time; a "
                       "point is one (batch, cache length); shapes share an x here, so no lines "
                       "join them"
                     : "TB/s = K and V bytes (2*B*Hkv*Nk*D*element bytes) / median time; a "
                       "point is one (batch, cache length)",
             NOTE_Y_LINES, f);
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f,
            "datafile using 1:(pos($4)) with %s lw 2.5 pt 7 ps 1.1 lc rgb "
            "'" COLOR_FA_TUNE "' title 'fa-tune (best variant per problem)'",
            with);
    int col = 6; /* the peers' columns follow the winner's name (write_decode) */
    for (int k = 0; k < d->n_peers; k++)
        if (dp->peers_present & (1u << k))
            peer_series(d, k, col++, repeats, &first, f);
    peer_version_entry(d, dp->peers_present, &first, f);
    if (!isnan(d->copy_tbps)) {
        plot_sep(&first, f);
        fprintf(f, "copy with lines dt 3 lw 2 lc rgb '#000000' title sprintf('device copy "
                   "bandwidth (measured): %%.2f TB/s', copy)");
    }
    if (dp->peers_present) { /* fa-tune on top of peers with equal figures */
        plot_sep(&first, f);
        fprintf(f,
                "datafile using 1:(pos($4)) with %s lw 2.5 pt 7 ps 1.1 lc rgb '" COLOR_FA_TUNE
                "' notitle",
                with);
    }
    term_end(formats, f);
}

static void plot_speedup(const fa_report_data *d, const fa_report_plot *p, unsigned formats,
                         FILE *f)
{
    const fa_report_panel *pa = &d->panels[p->panel];
    int first = 1;
    seqlen_axis(pa, f);
    fprintf(f, "set ylabel 'speed-up over eager (x, ratio of TFLOP/s)'\n");
    fprintf(f, "set yrange [0:*]\n");
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb "
               "'" COLOR_FA_TUNE "' title 'fa-tune (best variant per problem)'");
    family_lines(d, pa, &first, f);
    for (int k = 0; k < d->n_peers; k++)
        if (pa->peers_present & (1u << k))
            peer_series(d, k, fa_report_peer_column(d, k), 0, &first, f);
    peer_version_entry(d, pa->peers_present, &first, f);
    plot_sep(&first, f);
    fprintf(f, "1 with lines dt 2 lw 1.5 lc rgb '" COLOR_EAGER "' title 'eager = 1x'");
    fa_tune_on_top(&first, f);
    term_end(formats, f);
}

static void plot_memory(const fa_report_data *d, const fa_report_plot *p, unsigned formats, FILE *f)
{
    const fa_report_panel *pa = &d->panels[p->panel];
    int first = 1;
    seqlen_axis(pa, f);
    char b[32];
    fprintf(f, "set logscale y 10\n");
    fprintf(f, "set format y '%%g'\n");
    /* a decade of room under the smallest figure, so flat O(N) lines do not sit on the axis */
    if (!isnan(pa->min_mib))
        fprintf(f, "set yrange [%s:*]\n",
                fa_report_num(pow(10.0, floor(log10(pa->min_mib)) - 1), b));
    fprintf(f, "set ylabel 'peak extra device memory (MiB, log scale)'\n");
    footnote("memory beyond Q, K, V and O: flash keeps the row LSE, O(N); eager materializes S "
             "and P, O(N^2) per sequence",
             NOTE_Y_LINES, f);
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:(pos($2)) with linespoints lw 2.5 pt 7 ps 1.1 lc rgb "
               "'" COLOR_FA_TUNE "' title 'fa-tune flash (best variant)'");
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:(pos($3)) with linespoints lw 1.5 pt 5 ps 0.9 lc rgb "
               "'" COLOR_EAGER "' title 'eager (S and P materialized)'");
    for (int k = 0; k < d->n_peers; k++)
        if (pa->peers_memory & (1u << k))
            peer_series(d, k, fa_report_peer_column(d, k), 0, &first, f);
    peer_version_entry(d, pa->peers_memory, &first, f);
    fa_tune_on_top(&first, f);
    term_end(formats, f);
}

static void plot_heatmap(const fa_report_data *d, const fa_report_plot *p, unsigned formats,
                         FILE *f)
{
    const fa_report_heatmap *h = &d->heatmaps[p->heatmap];
    char b[32], text[2 * FA_REPORT_TEXT_MAX], key[FA_REPORT_TEXT_MAX];
    int best = -1, failed = 0, not_ok = 0, first = 1;
    for (int i = 0; i < h->n_cells; i++) {
        if (!isnan(h->cells[i].tflops) && (best < 0 || h->cells[i].tflops > h->cells[best].tflops))
            best = i;
        failed |= strcmp(h->cells[i].status, "ok") && strcmp(h->cells[i].status, "-");
        not_ok |= strcmp(h->cells[i].status, "ok") != 0;
    }
    fprintf(f, "set xrange [-0.5:%g]\n", h->n_block_ns - 0.5);
    fprintf(f, "set yrange [-0.5:%g]\n", h->n_block_ms - 0.5);
    fprintf(f, "set xtics (");
    for (int i = 0; i < h->n_block_ns; i++)
        fprintf(f, "%s'%d' %d", i ? ", " : "", h->block_ns[i], i);
    fprintf(f, ") scale 0\nset ytics (");
    for (int i = 0; i < h->n_block_ms; i++)
        fprintf(f, "%s'%d' %d", i ? ", " : "", h->block_ms[i], i);
    fprintf(f, ") scale 0\n");
    /* the family's own axes: sm90a's BLOCK_M counts consumer warpgroups, sm80's does not */
    snprintf(text, sizeof text, "%s (keys per tile)", fa_report_tile_label(h->family, 1));
    fprintf(f, "set xlabel ");
    gp_str(f, text);
    snprintf(text, sizeof text, "%s (queries per tile)", fa_report_tile_label(h->family, 0));
    fprintf(f, "\nset ylabel ");
    gp_str(f, text);
    snprintf(text, sizeof text, "TFLOP/s (best %s variant per tile)", h->family->name);
    fprintf(f, "\nset cblabel ");
    gp_str(f, text);
    fprintf(f, "\n");
    /* the parameters the best is chosen over, and the cells' short form of them, as a note
       (on the colour bar the list ran off the image) */
    abbrev_key(h->family, key, sizeof key);
    snprintf(text, sizeof text, "a cell: the TFLOP/s of the tile's best variant and %s", key);
    footnote(text, NOTE_Y_GRID, f);
    fprintf(f, "set palette defined (0 '#fff5eb', 0.5 '#fdae6b', 1 '#e6550d')\n");
    fprintf(f, "unset grid\n");
    fprintf(f, "set border 15\n");
    fprintf(f, "set tics front\n");
    key_below(f);
    fprintf(f, "set style textbox opaque noborder margins 2, 1\n");
    fprintf(f, "ok(s) = s eq 'ok'\n");
    fprintf(f, "failed(s) = s ne 'ok' && s ne '-'\n");
    fprintf(f, "cell(s) = ok(s) ? sprintf(\"%%.0f\\n%%s\", column(5), strcol(7)) : "
               "(s eq '-' ? 'not measured' : s)\n");
    if (best >= 0) {
        fprintf(f, "best_label = ");
        const fa_report_cell *c = &h->cells[best];
        char label[256];
        snprintf(label, sizeof label, "best: %s, %s TFLOP/s", c->variant,
                 fa_report_num(round(c->tflops * 10) / 10, b));
        gp_str(f, label);
        fprintf(f,
                "\nset object 1 rect center %d, %d size 0.96, 0.96 front fs empty border "
                "lc rgb '#000000' lw 3\n",
                best % h->n_block_ns, best / h->n_block_ns);
    } else {
        fprintf(f, "unset colorbox\n");
    }
    term_begin(formats, f);
    if (best >= 0) {
        plot_sep(&first, f);
        fprintf(f, "datafile using 1:2:(0.5):(0.5):(ok(strcol(6)) ? $5 : NaN) with boxxyerror "
                   "fs solid 1.0 noborder lc palette notitle");
    }
    if (failed) {
        plot_sep(&first, f);
        fprintf(f, "datafile using 1:(failed(strcol(6)) ? $2 : NaN):(0.5):(0.5) with boxxyerror "
                   "fs pattern 4 lc rgb '#aaaaaa' title 'no variant passed (status shown)'");
    }
    /* each label series only when it has a point: gnuplot 5.4 crashes (SIGSEGV) on boxed
     * labels whose every y is NaN, as in a grid whose every cell passed */
    if (best >= 0) {
        plot_sep(&first, f);
        fprintf(f, "datafile using 1:(ok(strcol(6)) ? $2 : NaN):(cell(strcol(6))) with labels "
                   "font ',10' notitle");
    }
    if (not_ok) {
        plot_sep(&first, f);
        fprintf(f, "datafile using 1:(ok(strcol(6)) ? NaN : $2):(cell(strcol(6))) with labels "
                   "boxed font ',10' notitle");
    }
    if (best >= 0) {
        plot_sep(&first, f);
        fprintf(f, "NaN with boxes fs empty lw 3 lc rgb '#000000' title best_label");
    }
    term_end(formats, f);
}

static void plot_convergence(const fa_report_data *d, unsigned formats, FILE *f)
{
    double max = 0;
    int first = 1;
    for (int i = 0; i < d->n_series; i++)
        for (int j = 0; j < d->series[i].n_steps; j++)
            if (d->series[i].steps[j].elapsed_s > max)
                max = d->series[i].steps[j].elapsed_s;
    const char *unit = "s";
    double scale = 1;
    if (max >= 2 * 3600) {
        unit = "h";
        scale = 3600;
    } else if (max >= 180) {
        unit = "min";
        scale = 60;
    }
    char text[FA_REPORT_TEXT_MAX];
    fprintf(f, "scale = %g\n", scale);
    fprintf(f, "set xlabel 'time since the run started (%s)'\n", unit);
    fprintf(f, "set ylabel 'TFLOP/s (best so far)'\n");
    fprintf(f, "set xrange [0:*]\n");
    /* not from zero: the climb between the first and the best variant is the story */
    fprintf(f, "set yrange [*:*]\n");
    fprintf(f, "set offsets 0, 0, graph 0.08, graph 0.08\n");
    snprintf(text, sizeof text,
             "problem %s; line: best so far in the run; dots: every ok "
             "measurement",
             d->problem);
    footnote(text, NOTE_Y_LINES, f);
    term_begin(formats, f);
    for (int i = 0; i < d->n_series; i++) {
        plot_sep(&first, f);
        fprintf(f, "datafile index %d using ($1/scale):3 with steps lw 2.5 lc rgb '%s' title ", i,
                run_colors[i % (int)(sizeof run_colors / sizeof run_colors[0])]);
        gp_str(f, d->series[i].label);
        plot_sep(&first, f);
        fprintf(f,
                "datafile index %d using ($1/scale):2 with points pt 7 ps 0.6 lc rgb '%s' "
                "notitle",
                i, run_colors[i % (int)(sizeof run_colors / sizeof run_colors[0])]);
    }
    term_end(formats, f);
}

static void plot_compile(const fa_report_data *d, unsigned formats, FILE *f)
{
    char b[32];
    int n = d->n_compile, first = 1;
    double max = d->compile_ms[n - 1];
    double median =
        n % 2 ? d->compile_ms[n / 2] : 0.5 * (d->compile_ms[n / 2 - 1] + d->compile_ms[n / 2]);
    int seconds = max >= 2000;
    fprintf(f, "scale = %s\n", seconds ? "1000.0" : "1.0");
    fprintf(f, "median = %s\n", fa_report_num(median, b));
    fprintf(f, "set xlabel 'NVRTC compile time per variant (%s)'\n", seconds ? "s" : "ms");
    fprintf(f, "set ylabel 'compiles (count)'\n");
    fprintf(f, "set xrange [*:*]\n");
    fprintf(f, "set offsets 0, 0, graph 0.08, 0\n");
    key_below(f);
    fprintf(f, "set yrange [0:*]\n");
    fprintf(f, "set style fill solid 0.85 border lc rgb '#7f2704'\n");
    fprintf(f, "set arrow 1 from median/scale, graph 0 to median/scale, graph 1 nohead dt 2 "
               "lw 1.5 lc rgb '#000000' front\n");
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f,
            "datafile using (($1+$2)/2/scale):3:(($2-$1)/scale) with boxes lc rgb '#fd8d3c' "
            "title '%d compiles (cubin cache hits left out)'",
            n);
    plot_sep(&first, f);
    fprintf(f,
            "NaN with lines dt 2 lw 1.5 lc rgb '#000000' title sprintf('median %%.%df %s', "
            "median/scale)",
            seconds ? 1 : 0, seconds ? "s" : "ms");
    term_end(formats, f);
}

/* Compile-only: a BLOCK_M x BLOCK_N grid coloured by the most registers a tile's variants
 * use, each cell labelled with the register and shared-memory ranges and its spills. */
static void plot_registers(const fa_report_data *d, const fa_report_plot *p, unsigned formats,
                           FILE *f)
{
    int first = 1, spills = 0, nm, nn, *ms, *ns;
    char text[2 * FA_REPORT_TEXT_MAX], rest[FA_REPORT_TEXT_MAX];
    if (fa_report_tile_grid(d, p->family, &ms, &nm, &ns, &nn) != 0) {
        fprintf(f, "# out of memory\n");
        return;
    }
    for (int i = 0; i < d->n_tiles; i++)
        spills += d->tiles[i].family == p->family ? d->tiles[i].spilling : 0;
    fprintf(f, "set xrange [-0.5:%g]\n", nn - 0.5);
    fprintf(f, "set yrange [-0.5:%g]\n", nm - 0.5);
    fprintf(f, "set xtics (");
    for (int i = 0; i < nn; i++)
        fprintf(f, "%s'%d' %d", i ? ", " : "", ns[i], i);
    fprintf(f, ") scale 0\nset ytics (");
    for (int i = 0; i < nm; i++)
        fprintf(f, "%s'%d' %d", i ? ", " : "", ms[i], i);
    fprintf(f, ") scale 0\n");
    free(ms);
    free(ns);
    snprintf(text, sizeof text, "%s (keys per tile)", fa_report_tile_label(p->family, 1));
    fprintf(f, "set xlabel ");
    gp_str(f, text);
    snprintf(text, sizeof text, "%s (queries per tile)", fa_report_tile_label(p->family, 0));
    fprintf(f, "\nset ylabel ");
    gp_str(f, text);
    fprintf(f, "\nset cblabel 'registers per thread (most per tile)'\n");
    fa_report_other_axes(p->family, rest, sizeof rest);
    snprintf(text, sizeof text,
             "a cell: over %s, registers, shared memory (KiB) and variants compiled; "
             "white, no label: none of that tile compiled",
             rest);
    footnote(text, NOTE_Y_GRID, f);
    fprintf(f, "set cbrange [0:255]\n");
    fprintf(f, "set palette defined (0 '#f7fbff', 0.5 '#6baed6', 1 '#08306b')\n");
    fprintf(f, "unset grid\n");
    fprintf(f, "set border 15\n");
    fprintf(f, "set tics front\n");
    if (spills)
        key_below(f);
    else
        fprintf(f, "unset key\n");
    fprintf(f, "set style textbox opaque noborder margins 2, 1\n");
    fprintf(f, "range(a, b) = a == b ? sprintf('%%d', a) : sprintf('%%d-%%d', a, b)\n");
    fprintf(f, "kib(x) = sprintf('%%.0f', x / 1024.0)\n");
    fprintf(f, "cell(i) = sprintf(\"%%s regs\\n%%s KiB\\n%%d variant%%s%%s\", "
               "range(int(column(6)), int(column(7))), column(8) == column(9) ? kib(column(8)) : "
               "kib(column(8)).'-'.kib(column(9)), int(column(5)), column(5) > 1 ? 's' : '', "
               "column(10) > 0 ? sprintf(', %%d spill', int(column(10))) : '')\n");
    term_begin(formats, f);
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:2:(0.5):(0.5):7 with boxxyerror fs solid 1.0 noborder "
               "lc palette notitle");
    if (spills) {
        plot_sep(&first, f);
        fprintf(f, "datafile using 1:($10 > 0 ? $2 : NaN):(0.5):(0.5) with boxxyerror "
                   "fs empty lc rgb '#d62728' lw 3 title 'some variants spill "
                   "(ineligible to win)'");
    }
    plot_sep(&first, f);
    fprintf(f, "datafile using 1:2:(cell(0)) with labels boxed font ',9' notitle");
    term_end(formats, f);
}

fa_status fa_report_gp_write(const fa_report_data *d, const fa_report_plot *p, unsigned formats,
                             FILE *f)
{
    preamble(d, p, formats, f);
    switch (p->kind) {
    case FA_PLOT_TFLOPS:
        plot_tflops(d, p, formats, f);
        break;
    case FA_PLOT_SPEEDUP:
        plot_speedup(d, p, formats, f);
        break;
    case FA_PLOT_MEMORY:
        plot_memory(d, p, formats, f);
        break;
    case FA_PLOT_HEATMAP:
        plot_heatmap(d, p, formats, f);
        break;
    case FA_PLOT_CONVERGENCE:
        plot_convergence(d, formats, f);
        break;
    case FA_PLOT_COMPILE:
        plot_compile(d, formats, f);
        break;
    case FA_PLOT_REGISTERS:
        plot_registers(d, p, formats, f);
        break;
    case FA_PLOT_DECODE:
        plot_decode(d, p, formats, f);
        break;
    }
    return ferror(f) ? FA_IO : FA_OK;
}
