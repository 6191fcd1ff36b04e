/*
 * This file implements the .dat files of the report: whitespace-separated columns gnuplot
 * reads, with `#` comment lines naming the columns, units and provenance. Their bytes depend
 * only on the database (no paths, no clock), numbers are written "%.6g" and unknown values
 * "NaN", and rows come in a fixed order, so golden copies can check them.
 */
#include "fa_report_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fa_escape.h"

/* Strings from the database go through fa_escape.h: comment text with fa_esc_gp_comment (a
 * newline would start a data row), fields with fa_esc_dat_field (a space would shift columns). */
#define ESC_MAX (4 * FA_REPORT_TEXT_MAX)

static void header(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    char e[ESC_MAX];
    fprintf(f, "# fa-tune report: %s\n", fa_esc_gp_comment(e, sizeof e, p->title));
    fprintf(f, "# %s\n", fa_esc_gp_comment(e, sizeof e, d->footer));
}

/* A peer's column name: its own, except that peers.py's fa_tune peer (the emitted header
 * timed in PyTorch's process) would repeat fa-tune's column. */
static const char *peer_column(const char *peer, char *e, size_t n)
{
    return strcmp(peer, "fa_tune") != 0 ? fa_esc_dat_field(e, n, peer) : "peer_fa_tune";
}

/* The columns every per-panel file shares after seqlen: fa-tune, eager, every peer with a
 * forward figure (d->forward_peers), then on the speed plots fa-tune's best of each kernel
 * family (fa_tune_sm80, fa_tune_sm90a...). */
static void series_names(const fa_report_data *d, int families, FILE *f)
{
    char e[ESC_MAX];
    fprintf(f, " fa_tune eager");
    for (int k = 0; k < d->n_peers; k++)
        if (d->forward_peers & (1u << k))
            fprintf(f, " %s", peer_column(d->peers[k], e, sizeof e));
    for (int j = 0; families && j < d->n_families; j++)
        fprintf(f, " fa_tune_%s", fa_esc_dat_field(e, sizeof e, d->families[j]->name));
}

static double ratio(double a, double b)
{
    return isnan(a) || isnan(b) || !(b > 0) ? NAN : a / b;
}

static void write_panel(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    const fa_report_panel *pa = &d->panels[p->panel];
    char b[32], e[ESC_MAX];
    header(d, p, f);
    switch (p->kind) {
    case FA_PLOT_TFLOPS:
        fprintf(f, "# %s\n", fa_report_flop_convention);
        fprintf(f, "# gemm_ceiling_tflops %s\n", fa_report_num(pa->ceiling, b));
        fprintf(f, "# units: TFLOP/s; fa_tune is the best variant per problem (mean over the "
                   "problems at one seqlen), fa_tune_<family> the best of that kernel family; "
                   "family is the winner's\n");
        break;
    case FA_PLOT_SPEEDUP:
        fprintf(f, "# units: times faster than fa-tune's eager baseline (cuBLAS QK^T, softmax, "
                   "cuBLAS PV) at the same seqlen, from TFLOP/s\n");
        break;
    default:
        fprintf(f, "# units: MiB of device memory beyond Q, K, V and O (flash: fa-tune's best "
                   "variant; max over the problems at one seqlen)\n");
        break;
    }
    fprintf(f, "# seqlen");
    series_names(d, p->kind != FA_PLOT_MEMORY, f);
    if (p->kind == FA_PLOT_TFLOPS)
        fprintf(f, " problems winner family");
    fprintf(f, "\n");
    for (int i = 0; i < pa->n_points; i++) {
        const fa_report_point *pt = &pa->points[i];
        fprintf(f, "%d", pt->seqlen);
        if (p->kind == FA_PLOT_TFLOPS) {
            fprintf(f, " %s", fa_report_num(pt->tflops, b));
            fprintf(f, " %s", fa_report_num(pt->eager_tflops, b));
            for (int k = 0; k < d->n_peers; k++)
                if (d->forward_peers & (1u << k))
                    fprintf(f, " %s", fa_report_num(pt->peer_tflops[k], b));
            for (int j = 0; j < d->n_families; j++)
                fprintf(f, " %s", fa_report_num(pt->family_tflops[j], b));
            fprintf(f, " %d %s", pt->problems, fa_esc_dat_field(e, sizeof e, pt->variant));
            fprintf(f, " %s", fa_esc_dat_field(e, sizeof e, pt->family));
        } else if (p->kind == FA_PLOT_SPEEDUP) {
            double e = pt->eager_tflops;
            fprintf(f, " %s", fa_report_num(ratio(pt->tflops, e), b));
            fprintf(f, " %s", fa_report_num(ratio(e, e), b));
            for (int k = 0; k < d->n_peers; k++)
                if (d->forward_peers & (1u << k))
                    fprintf(f, " %s", fa_report_num(ratio(pt->peer_tflops[k], e), b));
            for (int j = 0; j < d->n_families; j++)
                fprintf(f, " %s", fa_report_num(ratio(pt->family_tflops[j], e), b));
        } else {
            fprintf(f, " %s", fa_report_num(pt->flash_mib, b));
            fprintf(f, " %s", fa_report_num(pt->eager_mib, b));
            for (int k = 0; k < d->n_peers; k++)
                if (d->forward_peers & (1u << k))
                    fprintf(f, " %s", fa_report_num(pt->peer_mib[k], b));
        }
        fprintf(f, "\n");
    }
}

static void write_decode(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    const fa_report_dpanel *dp = &d->dpanels[p->panel];
    char b[32], e[ESC_MAX];
    header(d, p, f);
    fprintf(f, "# units: TB/s of K and V read (2*B*Hkv*Nk*D*element bytes / median time, "
               "fa_problem.h); fa_tune is the best variant per problem; rows = batch x cache "
               "length (K/V rows read per kv head)\n");
    fprintf(f, "# copy_tbps %s\n", fa_report_num(d->copy_tbps, b));
    /* the peers measured on this mode, after the winner (columns 6...: plot_decode) */
    fprintf(f, "# rows batch seqlen_k fa_tune winner");
    for (int k = 0; k < d->n_peers; k++)
        if (dp->peers_present & (1u << k))
            fprintf(f, " %s", peer_column(d->peers[k], e, sizeof e));
    fprintf(f, "\n");
    for (int i = 0; i < dp->n_points; i++) {
        const fa_report_dpoint *pt = &dp->points[i];
        fprintf(f, "%lld %d %d %s", pt->rows, pt->batch, pt->seqlen_k, fa_report_num(pt->tbps, b));
        fprintf(f, " %s", fa_esc_dat_field(e, sizeof e, pt->variant));
        for (int k = 0; k < d->n_peers; k++)
            if (dp->peers_present & (1u << k))
                fprintf(f, " %s", fa_report_num(pt->peer_tbps[k], b));
        fprintf(f, "\n");
    }
}

const char *fa_report_tile_label(const fa_family *f, int i)
{
    int a = f->tile_axes[i];
    return a >= 0 && a < f->naxes ? f->axes[a].label : "-";
}

void fa_report_other_axes(const fa_family *f, char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (int i = 0; i < f->naxes && used < n; i++) {
        if (i == f->tile_axes[0] || i == f->tile_axes[1])
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", f->axes[i].label);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void write_heatmap(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    const fa_report_heatmap *h = &d->heatmaps[p->heatmap];
    char b[32], e[ESC_MAX], e2[ESC_MAX], e3[ESC_MAX], rest[FA_REPORT_TEXT_MAX];
    header(d, p, f);
    fprintf(f, "# problem %s\n", fa_esc_gp_comment(e, sizeof e, h->problem));
    fa_report_other_axes(h->family, rest, sizeof rest);
    fprintf(f, "# family %s: one row per tile cell",
            fa_esc_gp_comment(e, sizeof e, h->family->name));
    fprintf(f, " (rows %s,", fa_esc_gp_comment(e, sizeof e, fa_report_tile_label(h->family, 0)));
    fprintf(f, " columns %s):", fa_esc_gp_comment(e, sizeof e, fa_report_tile_label(h->family, 1)));
    fprintf(f, " the best latest-ok variant over %s, or the most common failure\n",
            fa_esc_gp_comment(e, sizeof e, rest));
    fprintf(f, "# col row block_n block_m tflops status params variant\n");
    for (int i = 0; i < h->n_cells; i++) {
        const fa_report_cell *c = &h->cells[i];
        fprintf(f, "%d %d %d %d %s %s %s %s\n", i % h->n_block_ns, i / h->n_block_ns, c->block_n,
                c->block_m, fa_report_num(c->tflops, b), fa_esc_dat_field(e, sizeof e, c->status),
                fa_esc_dat_field(e2, sizeof e2, c->rest),
                fa_esc_dat_field(e3, sizeof e3, c->variant));
    }
}

static void write_convergence(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    char b1[32], b2[32], b3[32], e[ESC_MAX], e2[ESC_MAX];
    header(d, p, f);
    fprintf(f, "# problem %s\n", fa_esc_gp_comment(e, sizeof e, d->problem));
    fprintf(f, "# one block per run (gnuplot index 0, 1, ...): its ok measurements of the "
               "problem in time order\n");
    for (int i = 0; i < d->n_series; i++) {
        const fa_report_series *s = &d->series[i];
        fprintf(f, "%s# run %s strategy %s\n", i ? "\n\n" : "",
                fa_esc_dat_field(e, sizeof e, s->run_uuid),
                fa_esc_dat_field(e2, sizeof e2, s->strategy));
        fprintf(f, "# elapsed_s tflops best_so_far\n");
        for (int j = 0; j < s->n_steps; j++)
            fprintf(f, "%s %s %s\n", fa_report_num(s->steps[j].elapsed_s, b1),
                    fa_report_num(s->steps[j].tflops, b2), fa_report_num(s->steps[j].best, b3));
    }
}

static void write_compile(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    char b1[32], b2[32], b3[32];
    int n = d->n_compile;
    double max = d->compile_ms[n - 1];
    double median =
        n % 2 ? d->compile_ms[n / 2] : 0.5 * (d->compile_ms[n / 2 - 1] + d->compile_ms[n / 2]);
    /* about 15 bins of a round width over the range the times cover */
    double min = d->compile_ms[0];
    double width = fa_report_nice_width(max - min > 0 ? max - min : max, 15);
    double start = floor(min / width) * width;
    int bins = (int)floor((max - start) / width) + 1;
    header(d, p, f);
    fprintf(f, "# compiles %d median_ms %s max_ms %s\n", n, fa_report_num(median, b1),
            fa_report_num(max, b2));
    fprintf(f, "# bin_lo_ms bin_hi_ms count (bins are [lo, hi))\n");
    int j = 0;
    for (int i = 0; i < bins; i++) {
        double lo = start + i * width, hi = start + (i + 1) * width;
        int count = 0;
        while (j < n && d->compile_ms[j] < hi) {
            count++;
            j++;
        }
        fprintf(f, "%s %s %d\n", fa_report_num(lo, b1), fa_report_num(hi, b3), count);
    }
}

int fa_report_grid_index(const int *set, int n, int x)
{
    for (int i = 0; i < n; i++)
        if (set[i] == x)
            return i;
    return -1;
}

static void add_sorted(int *set, int *n, int x)
{
    if (fa_report_grid_index(set, *n, x) >= 0)
        return;
    int i = (*n)++;
    for (; i > 0 && set[i - 1] > x; i--)
        set[i] = set[i - 1];
    set[i] = x;
}

int fa_report_tile_grid(const fa_report_data *d, const fa_family *f, int **ms, int *nm, int **ns,
                        int *nn)
{
    *nm = *nn = 0;
    *ms = calloc((size_t)d->n_tiles + 1, sizeof **ms);
    *ns = calloc((size_t)d->n_tiles + 1, sizeof **ns);
    if (!*ms || !*ns) {
        free(*ms);
        free(*ns);
        *ms = *ns = NULL;
        return -1;
    }
    for (int i = 0; i < d->n_tiles; i++)
        if (d->tiles[i].family == f) {
            add_sorted(*ms, nm, d->tiles[i].block_m);
            add_sorted(*ns, nn, d->tiles[i].block_n);
        }
    return 0;
}

static void write_registers(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    char e[ESC_MAX], rest[FA_REPORT_TEXT_MAX];
    int *ms, *ns, nm, nn;
    if (fa_report_tile_grid(d, p->family, &ms, &nm, &ns, &nn) != 0) {
        fprintf(f, "# out of memory\n");
        return;
    }
    fa_report_other_axes(p->family, rest, sizeof rest);
    header(d, p, f);
    fprintf(f, "# family %s: one row per tile", fa_esc_gp_comment(e, sizeof e, p->family->name));
    fprintf(f, " (rows %s,", fa_esc_gp_comment(e, sizeof e, fa_report_tile_label(p->family, 0)));
    fprintf(f, " columns %s)", fa_esc_gp_comment(e, sizeof e, fa_report_tile_label(p->family, 1)));
    fprintf(f, " with a compiled variant: the range over %s of the latest build of each variant\n",
            fa_esc_gp_comment(e, sizeof e, rest));
    fprintf(f, "# shared memory is static (ptxas) + dynamic (the variant's tiles), in bytes\n");
    fprintf(f, "# col row block_n block_m variants reg_min reg_max smem_min smem_max spilling\n");
    for (int i = 0; i < d->n_tiles; i++) {
        const fa_report_tile *t = &d->tiles[i];
        if (t->family != p->family)
            continue;
        fprintf(f, "%d %d %d %d %d %d %d %d %d %d\n", fa_report_grid_index(ns, nn, t->block_n),
                fa_report_grid_index(ms, nm, t->block_m), t->block_n, t->block_m, t->variants,
                t->reg_min, t->reg_max, t->smem_min, t->smem_max, t->spilling);
    }
    free(ms);
    free(ns);
}

fa_status fa_report_dat_write(const fa_report_data *d, const fa_report_plot *p, FILE *f)
{
    switch (p->kind) {
    case FA_PLOT_TFLOPS:
    case FA_PLOT_SPEEDUP:
    case FA_PLOT_MEMORY:
        write_panel(d, p, f);
        break;
    case FA_PLOT_HEATMAP:
        write_heatmap(d, p, f);
        break;
    case FA_PLOT_CONVERGENCE:
        write_convergence(d, p, f);
        break;
    case FA_PLOT_COMPILE:
        write_compile(d, p, f);
        break;
    case FA_PLOT_REGISTERS:
        write_registers(d, p, f);
        break;
    case FA_PLOT_DECODE:
        write_decode(d, p, f);
        break;
    }
    return ferror(f) ? FA_IO : FA_OK;
}
