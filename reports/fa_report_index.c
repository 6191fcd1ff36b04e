/*
 * This file implements the report's index pages: index.html (self-contained, no scripts, no
 * remote assets) and index.md (GitHub-flavoured Markdown), with the same content -- every
 * plot with links to its SVG, data and script, the winners table from the database's
 * winners view, what was left out and why, and the provenance footer with the FLOP
 * convention.
 */
#include "fa_report_data.h"

#include <math.h>
#include <string.h>

#include "fa_escape.h"
#include "fa_family.h"

/* Text from the database, escaped for the page (fa_escape.h): entities in HTML, backslashes
 * in Markdown, fenced code spans for variant names (a backtick, '|' or newline in a name
 * cannot end the span, the cell or the row). */
#define ESC_MAX (8 * FA_REPORT_TEXT_MAX)

static void html(FILE *f, const char *s)
{
    char e[ESC_MAX];
    fputs(fa_esc_html(e, sizeof e, s), f);
}

static void md(FILE *f, const char *s)
{
    char e[ESC_MAX];
    fputs(fa_esc_md(e, sizeof e, s), f);
}

static const struct section {
    fa_report_plot_kind kind;
    const char *heading;
    const char *intro;
} sections[] = {
    {FA_PLOT_TFLOPS, "Speed: TFLOP/s vs sequence length",
     "fa-tune's best variant per problem against eager attention and every peer measured on the "
     "same device, with the dense GEMM ceiling measured there (right axis: percent of it). "
     "When more than one kernel family was measured, each family's best is a dashed line of its "
     "own (the data files always carry a fa_tune_<family> column per family and the winner's "
     "family)."},
    {FA_PLOT_SPEEDUP, "Speed-up over eager attention",
     "Each series' TFLOP/s divided by fa-tune's eager baseline (cuBLAS QK^T, masked softmax, "
     "cuBLAS PV in the input dtype) at the same sequence length."},
    {FA_PLOT_MEMORY, "Peak extra memory vs sequence length",
     "Device memory beyond Q, K, V and O. Flash attention keeps one fp32 log-sum-exp per row; "
     "eager attention materializes S and P, quadratic in the sequence length."},
    {FA_PLOT_DECODE, "Decode: K/V TB/s vs cache rows",
     "One plot per decode mode (dtype, head dim, query/kv heads, new tokens per sequence, "
     "paging, cache-length distribution): fa-tune's best variant per problem in TB/s of K and V "
     "read, against batch x cache length, with the device copy bandwidth (a ceiling named copy) "
     "as a dotted line when the database stores one. Peers measured on the same shapes "
     "(bench/peers.py --decode, stored by fa-tune db import-peers with its copy row) are "
     "drawn beside fa-tune."},
    {FA_PLOT_HEATMAP, "Tile sizes, per kernel family",
     "One heatmap per kernel family, on the family's own tile axes (sm80: BLOCK_M x BLOCK_N; "
     "sm90a: BLOCK_M, 64 rows per consumer warpgroup, x BLOCK_N): TFLOP/s of the best variant "
     "per tile shape, over the family's other parameters (named on the colour bar), on one "
     "problem; hatched cells had no variant pass, labelled with why. Families tile "
     "differently, so their grids are never merged."},
    {FA_PLOT_CONVERGENCE, "Tuning convergence",
     "Best TFLOP/s found so far against time since the run started, one line per run and "
     "search strategy, on the same problem."},
    {FA_PLOT_COMPILE, "Compile time",
     "NVRTC compile time of each variant built (one per run and variant; cubin cache hits left "
     "out). fa-tune compiles only what it times and caches the cubins by content."},
};

static const char no_copy_line[] =
    "No device copy bandwidth stored (no ceiling named copy): the decode plots have no "
    "bandwidth line.";

static const char no_ceiling_line[] =
    "No GEMM ceiling stored for these dtypes: the TFLOP/s plots have no ceiling line and no "
    "right axis (bench/peers.py measures one; fa-tune db import-peers stores it).";

/* Does any forward panel have a GEMM ceiling to draw? */
static int any_ceiling(const fa_report_data *d)
{
    for (int i = 0; i < d->n_panels; i++)
        if (!isnan(d->panels[i].ceiling))
            return 1;
    return 0;
}

/* Why a section has no plot, or NULL when it has one. */
static const char *missing_reason(const fa_report_data *d, fa_report_plot_kind kind)
{
    for (int i = 0; i < d->n_plots; i++)
        if (d->plots[i].kind == kind)
            return NULL; /* drawn, or a note says why not */
    /* a decode-only database: the forward sections say why they are empty */
    static const char decode_only[] =
        "no forward results: the database holds decode results only (see the decode plots).";
    int fwd_kind = kind == FA_PLOT_TFLOPS || kind == FA_PLOT_SPEEDUP || kind == FA_PLOT_MEMORY ||
                   kind == FA_PLOT_HEATMAP || kind == FA_PLOT_CONVERGENCE;
    if (fwd_kind && d->n_panels == 0 && d->n_dpanels > 0)
        return decode_only;
    switch (kind) {
    case FA_PLOT_TFLOPS:
        return "no timed measurements.";
    case FA_PLOT_SPEEDUP:
    case FA_PLOT_MEMORY:
        return "no panels.";
    case FA_PLOT_HEATMAP:
    case FA_PLOT_CONVERGENCE:
        return "no problem has a variant measured ok.";
    case FA_PLOT_COMPILE:
        return "no compile times stored (every build was a cubin cache hit).";
    case FA_PLOT_REGISTERS:
        return "no variant compiled.";
    case FA_PLOT_DECODE:
        return "no decode problems measured.";
    }
    return NULL;
}

static void winner_key(const fa_db_winner *w, char *buf, size_t n)
{
    snprintf(buf, n, "%s hd%d %s%s", fa_dtype_name(w->dtype), w->head_dim,
             w->causal ? "causal" : "non-causal", w->varlen ? " varlen" : "");
    size_t len = strlen(buf);
    if (w->gqa > 1)
        len += (size_t)snprintf(buf + len, n - len, " GQA %d", w->gqa);
    if (len < n)
        snprintf(buf + len, n - len, ", N ≤ %d", w->bucket);
}

/* The figures of a winners row as text, shared by both pages. */
typedef struct winner_cells {
    char key[96], family[32], tflops[32], speedup[32], margin[160], regs[32], smem[32],
        problems[16];
} winner_cells;

static void winner_text(const fa_db_winner *w, winner_cells *c)
{
    winner_key(w, c->key, sizeof c->key);
    snprintf(c->family, sizeof c->family, "%s",
             w->variant.family ? w->variant.family->name : "(unknown)");
    snprintf(c->tflops, sizeof c->tflops, "%.1f", w->tflops);
    if (w->speedup > 0)
        snprintf(c->speedup, sizeof c->speedup, "%.2fx", w->speedup);
    else
        snprintf(c->speedup, sizeof c->speedup, "-");
    if (w->margin > -1 && w->runner_up_name[0])
        snprintf(c->margin, sizeof c->margin, "%+.*f%% over %s", fabs(w->margin) < 0.01 ? 2 : 1,
                 100.0 * w->margin, w->runner_up_name);
    else
        snprintf(c->margin, sizeof c->margin, "- (no runner-up)");
    if (w->registers >= 0)
        snprintf(c->regs, sizeof c->regs, "%d", w->registers);
    else
        snprintf(c->regs, sizeof c->regs, "-");
    if (w->smem_bytes >= 0)
        snprintf(c->smem, sizeof c->smem, "%.1f KiB", w->smem_bytes / 1024.0);
    else
        snprintf(c->smem, sizeof c->smem, "-");
    snprintf(c->problems, sizeof c->problems, "%d", w->problems);
}

/* "sm90a 10, sm80 2": how many winners each family holds, registry order. */
static void winners_by_family(const fa_report_data *d, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; fa_family_at(k) && used < n; k++) {
        int count = 0;
        for (int i = 0; i < d->n_winners; i++)
            count += d->winners[i].variant.family == fa_family_at(k);
        if (count) {
            int w = snprintf(buf + used, n - used, "%s%s %d", used ? ", " : "",
                             fa_family_at(k)->name, count);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
}

static const char *image_ext(unsigned formats)
{
    return formats & FA_REPORT_PNG ? "png" : "svg";
}

/* The decode winners are not rows of the winners table (its columns are forward figures):
 * say how many there are and where to read them. */
static void decode_winners_line(const fa_report_data *d, void (*esc)(FILE *, const char *), FILE *f)
{
    char text[256];
    snprintf(text, sizeof text,
             "%d decode winner%s (one per decode key) %s not listed below: 'fa-tune db best "
             "--arch %s' lists them, the decode plots' data files name each point's variant, "
             "and 'fa-tune emit' carries them into the header.",
             d->n_decode_winners, d->n_decode_winners == 1 ? "" : "s",
             d->n_decode_winners == 1 ? "is" : "are", d->arch);
    esc(f, text);
}

/* The report's opening sentence (GPU, measurement count, peers and their version), with esc
 * writing text escaped for the page's format. */
static void intro(const fa_report_data *d, void (*esc)(FILE *, const char *), FILE *f)
{
    esc(f, d->gpus[0] ? d->gpus : "unknown GPU");
    fprintf(f, ". %d timed measurements", d->n_measurements + d->n_decode_measurements);
    if (d->n_decode_measurements)
        fprintf(f, " (%d forward, %d decode)", d->n_measurements, d->n_decode_measurements);
    if (d->n_peers) {
        char text[256];
        fprintf(f, "; peers measured on the same device: ");
        for (int k = 0; k < d->n_peers; k++) {
            fprintf(f, "%s", k ? ", " : "");
            esc(f, fa_report_peer_text(d, k, text, sizeof text));
        }
        if (d->peer_version[0]) {
            fprintf(f, " (version ");
            esc(f, d->peer_version);
            fprintf(f, ")");
        }
    }
}

/* ---- compile-only reports ------------------------------------------------------------- */

static const char compile_only_intro[] =
    "No timings yet: this database holds only compile-only results for this arch (NVRTC "
    "builds with their registers, shared memory and spills; no GPU of the arch ran them). "
    "Speed, speed-up, memory, the TFLOP/s heatmap, convergence and winners need timings. To "
    "make them, run on a machine with a GPU of this arch:";

static const char compile_only_tiles[] =
    "Per kernel family and tile (the family's tile axes: BLOCK_M x BLOCK_N; sm90a's BLOCK_M is "
    "64 rows per consumer warpgroup), over its compiled variants (the family's other "
    "parameters): registers per thread, shared memory per block (static + dynamic) and how many "
    "spill registers. A spilling variant is ineligible to win.";

/* The figures of a tile as text, shared by both pages. */
typedef struct tile_cells {
    char regs[32], smem[48];
} tile_cells;

static void tile_text(const fa_report_tile *t, tile_cells *c)
{
    if (t->reg_min == t->reg_max)
        snprintf(c->regs, sizeof c->regs, "%d", t->reg_min);
    else
        snprintf(c->regs, sizeof c->regs, "%d-%d", t->reg_min, t->reg_max);
    if (t->smem_min < 0)
        snprintf(c->smem, sizeof c->smem, "-");
    else if (t->smem_min == t->smem_max)
        snprintf(c->smem, sizeof c->smem, "%.1f KiB", t->smem_min / 1024.0);
    else
        snprintf(c->smem, sizeof c->smem, "%.1f-%.1f KiB", t->smem_min / 1024.0,
                 t->smem_max / 1024.0);
}

/* One drawn plot as a figure (HTML) or image link (Markdown). */
static void figure_html(const fa_report_plot *p, unsigned formats, FILE *f);
static void figure_md(const fa_report_plot *p, unsigned formats, FILE *f);

static void compile_only_html(const fa_report_data *d, unsigned formats, FILE *f)
{
    fprintf(f, "<p><strong>%s</strong></p>\n<pre><code>", compile_only_intro);
    html(f, d->timing_cmds);
    fprintf(f, "</code></pre>\n<p>%d variants compiled.</p>\n", d->n_built);
    fprintf(f, "\n<h2 id=\"compile\">Compile time</h2>\n");
    for (int i = 0; i < d->n_plots; i++)
        if (!d->plots[i].skipped && d->plots[i].kind == FA_PLOT_COMPILE)
            figure_html(&d->plots[i], formats, f);
    fprintf(f, "\n<h2 id=\"tiles\">Registers and shared memory per tile</h2>\n<p>%s</p>\n",
            compile_only_tiles);
    for (int i = 0; i < d->n_plots; i++)
        if (!d->plots[i].skipped && d->plots[i].kind != FA_PLOT_COMPILE)
            figure_html(&d->plots[i], formats, f);
    fprintf(f, "<table>\n<tr><th class=\"l\">family</th><th>BLOCK_M</th><th>BLOCK_N</th>"
               "<th>variants</th><th>registers</th><th>shared memory</th><th>spilling</th>"
               "</tr>\n");
    for (int i = 0; i < d->n_tiles; i++) {
        tile_cells c;
        tile_text(&d->tiles[i], &c);
        fprintf(f, "<tr><td class=\"l\">");
        html(f, d->tiles[i].family->name);
        fprintf(f, "</td><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%d</td></tr>\n",
                d->tiles[i].block_m, d->tiles[i].block_n, d->tiles[i].variants, c.regs, c.smem,
                d->tiles[i].spilling);
    }
    fprintf(f, "</table>\n\n<h2 id=\"spills\">Variants that spill</h2>\n");
    if (!d->n_spills) {
        fprintf(f, "<p><em>None: no compiled variant spills registers.</em></p>\n");
        return;
    }
    fprintf(f, "<table>\n<tr><th class=\"l\">variant</th><th>registers</th><th>shared memory"
               "</th><th>spill stores (bytes)</th><th>spill loads (bytes)</th></tr>\n");
    for (int i = 0; i < d->n_spills; i++) {
        const fa_report_spill *x = &d->spills[i];
        fprintf(f, "<tr><td class=\"l\"><code>");
        html(f, x->variant);
        fprintf(f, "</code></td><td>%d</td><td>%.1f KiB</td><td>%d</td><td>%d</td></tr>\n",
                x->registers, x->smem_bytes / 1024.0, x->spill_stores, x->spill_loads);
    }
    fprintf(f, "</table>\n");
}

static void compile_only_md(const fa_report_data *d, unsigned formats, FILE *f)
{
    fprintf(f, "**%s**\n\n```\n%s```\n\n%d variants compiled.\n", compile_only_intro,
            d->timing_cmds, d->n_built);
    fprintf(f, "\n## Compile time\n");
    for (int i = 0; i < d->n_plots; i++)
        if (!d->plots[i].skipped && d->plots[i].kind == FA_PLOT_COMPILE)
            figure_md(&d->plots[i], formats, f);
    fprintf(f, "\n## Registers and shared memory per tile\n\n%s\n", compile_only_tiles);
    for (int i = 0; i < d->n_plots; i++)
        if (!d->plots[i].skipped && d->plots[i].kind != FA_PLOT_COMPILE)
            figure_md(&d->plots[i], formats, f);
    fprintf(f, "\n");
    fprintf(f, "| family | BLOCK_M | BLOCK_N | variants | registers | shared memory | "
               "spilling |\n");
    fprintf(f, "|:--|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < d->n_tiles; i++) {
        tile_cells c;
        tile_text(&d->tiles[i], &c);
        fprintf(f, "| ");
        md(f, d->tiles[i].family->name);
        fprintf(f, " | %d | %d | %d | %s | %s | %d |\n", d->tiles[i].block_m, d->tiles[i].block_n,
                d->tiles[i].variants, c.regs, c.smem, d->tiles[i].spilling);
    }
    fprintf(f, "\n## Variants that spill\n\n");
    if (!d->n_spills) {
        fprintf(f, "*None: no compiled variant spills registers.*\n");
        return;
    }
    fprintf(f, "| variant | registers | shared memory | spill stores (bytes) | spill loads "
               "(bytes) |\n|:--|--:|--:|--:|--:|\n");
    for (int i = 0; i < d->n_spills; i++) {
        const fa_report_spill *x = &d->spills[i];
        char code[ESC_MAX];
        fprintf(f, "| %s | %d | %.1f KiB | %d | %d |\n",
                fa_esc_md_code(code, sizeof code, x->variant), x->registers, x->smem_bytes / 1024.0,
                x->spill_stores, x->spill_loads);
    }
}

static void figure_html(const fa_report_plot *p, unsigned formats, FILE *f)
{
    fprintf(f, "<figure>\n");
    if (formats & FA_REPORT_SVG)
        fprintf(f, "<a href=\"%s.svg\">", p->stem);
    fprintf(f, "<img src=\"%s.%s\" width=\"%d\" height=\"%d\" alt=\"", p->stem, image_ext(formats),
            FA_REPORT_WIDTH, FA_REPORT_HEIGHT);
    html(f, p->title);
    fprintf(f, "\">%s\n<figcaption>", formats & FA_REPORT_SVG ? "</a>" : "");
    html(f, p->title);
    fprintf(f,
            " (<a href=\"%s.dat\">data</a>, <a href=\"%s.gp\">gnuplot script</a>)"
            "</figcaption>\n</figure>\n",
            p->stem, p->stem);
}

static void figure_md(const fa_report_plot *p, unsigned formats, FILE *f)
{
    fprintf(f, "\n![");
    md(f, p->title);
    fprintf(f, "](%s.%s)\n\n", p->stem, image_ext(formats));
    if (formats & FA_REPORT_SVG)
        fprintf(f, "[SVG](%s.svg) · ", p->stem);
    fprintf(f, "[data](%s.dat) · [gnuplot script](%s.gp)\n", p->stem, p->stem);
}

fa_status fa_report_index_html(const fa_report_data *d, unsigned formats, FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    fprintf(f, "<title>fa-tune report: ");
    html(f, d->arch);
    fprintf(f, "</title>\n<style>\n"
               "body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; "
               "padding: 0 1em; color: #222; }\n"
               "img { max-width: 100%%; height: auto; border: 1px solid #ddd; }\n"
               "figure { margin: 1.5em 0; }\n"
               "figcaption { font-size: 90%%; color: #444; }\n"
               "table { border-collapse: collapse; font-size: 90%%; }\n"
               "th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }\n"
               "th.l, td.l { text-align: left; }\n"
               "code { font-size: 95%%; }\n"
               "footer { font-size: 80%%; color: #666; margin-top: 3em; border-top: 1px solid "
               "#ddd; padding-top: 0.5em; }\n"
               "</style>\n</head>\n<body>\n");
    fprintf(f, "<h1>fa-tune report: ");
    html(f, d->arch);
    if (d->compile_only) {
        fprintf(f, " (compile only)</h1>\n");
        compile_only_html(d, formats, f);
        goto footer;
    }
    fprintf(f, "</h1>\n<p>");
    intro(d, html, f);
    fprintf(f, ".</p>\n<ul>\n");
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++)
        fprintf(f, "<li><a href=\"#s%zu\">%s</a></li>\n", s + 1, sections[s].heading);
    fprintf(f, "<li><a href=\"#winners\">Winners</a></li>\n</ul>\n");

    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        fprintf(f, "\n<h2 id=\"s%zu\">%s</h2>\n<p>%s</p>\n", s + 1, sections[s].heading,
                sections[s].intro);
        const char *why = missing_reason(d, sections[s].kind);
        if (why)
            fprintf(f, "<p><em>Not drawn: %s</em></p>\n", why);
        else if (sections[s].kind == FA_PLOT_DECODE && isnan(d->copy_tbps))
            fprintf(f, "<p><em>%s</em></p>\n", no_copy_line);
        else if (sections[s].kind == FA_PLOT_TFLOPS && !any_ceiling(d))
            fprintf(f, "<p><em>%s</em></p>\n", no_ceiling_line);
        for (int i = 0; i < d->n_plots; i++) {
            const fa_report_plot *p = &d->plots[i];
            if (p->kind != sections[s].kind)
                continue;
            if (p->skipped) {
                fprintf(f, "<p><em>Not drawn: ");
                html(f, p->title);
                fprintf(f, ".</em></p>\n");
                continue;
            }
            figure_html(p, formats, f);
        }
    }

    fprintf(f, "\n<h2 id=\"winners\">Winners</h2>\n");
    fprintf(f, "<p>The database's winners view: per key, the variant whose latest measurement "
               "is correct on every problem of the key, ranked by problems covered, then mean "
               "TFLOP/s. The margin is over the runner-up.</p>\n");
    if (d->n_decode_winners) {
        fprintf(f, "<p>");
        decode_winners_line(d, html, f);
        fprintf(f, "</p>\n");
    }
    if (!d->n_winners && !d->n_decode_winners) {
        fprintf(f, "<p><em>No winners: no variant passed on every problem of a key.</em></p>\n");
    } else if (d->n_winners) {
        char fams[256];
        winners_by_family(d, fams, sizeof fams);
        fprintf(f, "<p>Winners per kernel family: %s.</p>\n", fams[0] ? fams : "none known");
        fprintf(f, "<table>\n<tr><th class=\"l\">key</th><th class=\"l\">family</th>"
                   "<th class=\"l\">variant</th>"
                   "<th>TFLOP/s</th><th>speed-up over eager</th><th class=\"l\">margin over "
                   "runner-up</th><th>registers</th><th>shared memory</th><th>problems</th>"
                   "</tr>\n");
        for (int i = 0; i < d->n_winners; i++) {
            winner_cells c;
            winner_text(&d->winners[i], &c);
            fprintf(f, "<tr><td class=\"l\">");
            html(f, c.key);
            fprintf(f, "</td><td class=\"l\">");
            html(f, c.family);
            fprintf(f, "</td><td class=\"l\"><code>");
            html(f, d->winners[i].variant_name);
            fprintf(f, "</code></td><td>%s</td><td>%s</td><td class=\"l\">", c.tflops, c.speedup);
            html(f, c.margin);
            fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", c.regs, c.smem, c.problems);
        }
        fprintf(f, "</table>\n");
    }

footer:
    fprintf(f, "\n<footer>\n<p>");
    html(f, d->footer);
    fprintf(f, "</p>\n<p>");
    if (!d->compile_only) { /* no TFLOP/s on a compile-only page */
        html(f, fa_report_flop_convention);
        fprintf(f, ". Causal masks are bottom-right aligned. Per (variant, problem) only the "
                   "latest measurement counts.</p>\n<p>");
    }
    fprintf(f, "Every image is drawn by the <code>.gp</code> script "
               "beside it from its <code>.dat</code> file: edit and rerun "
               "<code>gnuplot NAME.gp</code> in this folder to restyle.</p>\n</footer>\n");
    fprintf(f, "</body>\n</html>\n");
    return ferror(f) ? FA_IO : FA_OK;
}

fa_status fa_report_index_md(const fa_report_data *d, unsigned formats, FILE *f)
{
    fprintf(f, "# fa-tune report: ");
    md(f, d->arch);
    fprintf(f, "%s\n\n", d->compile_only ? " (compile only)" : "");
    if (d->compile_only) {
        compile_only_md(d, formats, f);
        goto footer;
    }
    intro(d, md, f);
    fprintf(f, ".\n");

    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        fprintf(f, "\n## %s\n\n", sections[s].heading);
        md(f, sections[s].intro);
        fprintf(f, "\n");
        const char *why = missing_reason(d, sections[s].kind);
        if (why)
            fprintf(f, "\n*Not drawn: %s*\n", why);
        else if (sections[s].kind == FA_PLOT_DECODE && isnan(d->copy_tbps))
            fprintf(f, "\n*%s*\n", no_copy_line);
        else if (sections[s].kind == FA_PLOT_TFLOPS && !any_ceiling(d))
            fprintf(f, "\n*%s*\n", no_ceiling_line);
        for (int i = 0; i < d->n_plots; i++) {
            const fa_report_plot *p = &d->plots[i];
            if (p->kind != sections[s].kind)
                continue;
            if (p->skipped) {
                fprintf(f, "\n*Not drawn: ");
                md(f, p->title);
                fprintf(f, ".*\n");
                continue;
            }
            figure_md(p, formats, f);
        }
    }

    fprintf(f, "\n## Winners\n\nThe database's winners view: per key, the variant whose latest "
               "measurement is correct on every problem of the key, ranked by problems covered, "
               "then mean TFLOP/s. The margin is over the runner-up.\n\n");
    if (d->n_decode_winners) {
        decode_winners_line(d, md, f);
        fprintf(f, "\n\n");
    }
    if (!d->n_winners && !d->n_decode_winners) {
        fprintf(f, "*No winners: no variant passed on every problem of a key.*\n");
    } else if (d->n_winners) {
        char fams[256];
        winners_by_family(d, fams, sizeof fams);
        fprintf(f, "Winners per kernel family: %s.\n\n", fams[0] ? fams : "none known");
        fprintf(f, "| key | family | variant | TFLOP/s | speed-up over eager | margin over "
                   "runner-up | registers | shared memory | problems |\n");
        fprintf(f, "|:--|:--|:--|--:|--:|:--|--:|--:|--:|\n");
        for (int i = 0; i < d->n_winners; i++) {
            winner_cells c;
            winner_text(&d->winners[i], &c);
            fprintf(f, "| ");
            md(f, c.key);
            fprintf(f, " | ");
            md(f, c.family);
            char code[ESC_MAX];
            fprintf(f, " | %s | %s | %s | ",
                    fa_esc_md_code(code, sizeof code, d->winners[i].variant_name), c.tflops,
                    c.speedup);
            md(f, c.margin);
            fprintf(f, " | %s | %s | %s |\n", c.regs, c.smem, c.problems);
        }
    }
footer:
    fprintf(f, "\n---\n\n<sub>");
    md(f, d->footer);
    fprintf(f, "<br>");
    if (!d->compile_only) { /* no TFLOP/s on a compile-only page */
        md(f, fa_report_flop_convention);
        fprintf(f, ". Causal masks are bottom-right aligned. Per (variant, problem) only the "
                   "latest measurement counts. ");
    }
    fprintf(f, "Every image is drawn by the `.gp` script beside it from its "
               "`.dat` file: edit and rerun `gnuplot NAME.gp` in this folder to restyle.</sub>\n");
    return ferror(f) ? FA_IO : FA_OK;
}
