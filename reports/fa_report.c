/*
 * This file implements fa_report_write(), the order of the report's work: open the database
 * read-only, extract the figures (fa_report_data.c), then per plot write its .dat file and
 * gnuplot script and run gnuplot, then the index pages. Each step's file is complete before
 * it is renamed into place; the first failure stops the report and says which file.
 */
#include "fa_report_data.h"

#include "fa_output.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

fa_status fa_report_formats_parse(const char *s, unsigned *out, fa_err *err)
{
    unsigned formats = 0;
    if (!s || !*s)
        return FA_ERR(err, FA_INVALID, "no image format given: use png, svg or png,svg");
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len == 3 && !strncmp(s, "png", 3))
            formats |= FA_REPORT_PNG;
        else if (len == 3 && !strncmp(s, "svg", 3))
            formats |= FA_REPORT_SVG;
        else
            return FA_ERR(err, FA_INVALID, "unknown image format '%.*s': use png, svg or png,svg",
                          (int)len, s);
        s += len + (s[len] == ',');
    }
    *out = formats;
    return FA_OK;
}

typedef fa_status (*writer_fn)(const fa_report_data *d, const void *arg, unsigned formats, FILE *f);

/* Write dir/name through a temporary file with fn. */
static fa_status write_file(const char *dir, const char *name, writer_fn fn,
                            const fa_report_data *d, const void *arg, unsigned formats, fa_err *err)
{
    fa_report_file rf;
    fa_status st = fa_report_file_open(&rf, dir, name, err);
    if (st != FA_OK)
        return st;
    if (fn(d, arg, formats, rf.f) != FA_OK) {
        fa_report_file_abort(&rf);
        return FA_ERR(err, FA_IO, "cannot write '%s'", rf.tmp);
    }
    return fa_report_file_commit(&rf, err);
}

static fa_status dat_fn(const fa_report_data *d, const void *arg, unsigned formats, FILE *f)
{
    (void)formats;
    return fa_report_dat_write(d, arg, f);
}

static fa_status gp_fn(const fa_report_data *d, const void *arg, unsigned formats, FILE *f)
{
    return fa_report_gp_write(d, arg, formats, f);
}

static fa_status html_fn(const fa_report_data *d, const void *arg, unsigned formats, FILE *f)
{
    (void)arg;
    return fa_report_index_html(d, formats, f);
}

static fa_status md_fn(const fa_report_data *d, const void *arg, unsigned formats, FILE *f)
{
    (void)arg;
    return fa_report_index_md(d, formats, f);
}

/* Draw plot p: gnuplot writes .<stem>.tmp.<ext>, renamed into place when all formats are. */
static fa_status draw(const fa_report_options *o, const fa_report_plot *p, unsigned formats,
                      fa_err *err)
{
    static const struct {
        unsigned bit;
        const char *ext;
    } exts[] = {{FA_REPORT_PNG, "png"}, {FA_REPORT_SVG, "svg"}};
    char tmp_stem[FA_REPORT_STEM_MAX + 16], script[FA_REPORT_STEM_MAX + 8];
    char from[4096], to[4096];
    snprintf(tmp_stem, sizeof tmp_stem, ".%s.tmp", p->stem);
    snprintf(script, sizeof script, "%s.gp", p->stem);
    fa_status st = fa_report_gnuplot_run(o->gnuplot, o->out_dir, script, tmp_stem, err);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        if (!(formats & exts[i].bit))
            continue;
        snprintf(from, sizeof from, "%s/%s.%s", o->out_dir, tmp_stem, exts[i].ext);
        snprintf(to, sizeof to, "%s/%s.%s", o->out_dir, p->stem, exts[i].ext);
        if (st != FA_OK) {
            unlink(from);
            continue;
        }
        if (access(from, F_OK) != 0) {
            st = FA_ERR(err, FA_ERROR, "gnuplot wrote no '%s' from '%s/%s'", from, o->out_dir,
                        script);
            continue;
        }
        if (rename(from, to) != 0)
            st = FA_ERR(err, FA_IO, "cannot rename '%s' to '%s'", from, to);
    }
    return st;
}

/* Would a file the report writes -- final or temporary -- land on the database or one of its
 * sidecars (`--db out/index.html`, a symlink in the folder)? Checked before anything is
 * written, so a refused report leaves the database byte-identical and writes nothing. */
static fa_status check_outputs(const char *dir, const fa_report_data *d, const char *db_path,
                               fa_err *err)
{
    static const char *const forms[] = {"%s/%s.dat",      "%s/%s.gp",       "%s/%s.png",
                                        "%s/%s.svg",      "%s/.%s.dat.tmp", "%s/.%s.gp.tmp",
                                        "%s/.%s.tmp.png", "%s/.%s.tmp.svg"};
    static const char *const index[] = {"index.html", "index.md", ".index.html.tmp",
                                        ".index.md.tmp"};
    char path[4096 + FA_REPORT_STEM_MAX + 32];
    fa_status st = FA_OK;
    for (size_t i = 0; i < sizeof index / sizeof index[0] && st == FA_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, index[i]);
        st = fa_output_not_db(path, db_path, err);
    }
    for (int i = 0; i < d->n_plots && st == FA_OK; i++) {
        if (d->plots[i].skipped)
            continue;
        for (size_t k = 0; k < sizeof forms / sizeof forms[0] && st == FA_OK; k++) {
            snprintf(path, sizeof path, forms[k], dir, d->plots[i].stem);
            st = fa_output_not_db(path, db_path, err);
        }
    }
    return st;
}

fa_status fa_report_write(const fa_report_options *o, fa_report_summary *summary, fa_err *err)
{
    fa_db *db = NULL;
    fa_report_data d;
    int loaded = 0;
    fa_status st = FA_OK;
    char name[FA_REPORT_STEM_MAX + 8];

    if (!o || !o->arch || !o->out_dir || !o->gnuplot)
        return FA_ERR(err, FA_INVALID, "report: arch, output folder and gnuplot are needed");
    unsigned formats = o->formats ? o->formats : FA_REPORT_PNG | FA_REPORT_SVG;
    const char *path = o->db_path ? o->db_path : FA_DB_DEFAULT_PATH;

    for (const unsigned char *c = (const unsigned char *)o->out_dir; *c; c++)
        if (*c < 0x20 || *c == 0x7f) /* see quote() in fa_report_gnuplot.c */
            return FA_ERR(err, FA_INVALID,
                          "output folder '%s' has a control character (a newline, a tab...) in "
                          "its name: gnuplot cannot be pointed at it safely; choose another",
                          o->out_dir);
    if ((st = fa_output_not_db(o->out_dir, path, err)) != FA_OK)
        goto cleanup;
    if ((st = fa_db_open(path, FA_DB_READONLY, &db, err)) != FA_OK)
        goto cleanup;
    if ((st = fa_report_data_load(db, o->arch, o->problem, &d, err)) != FA_OK)
        goto cleanup;
    loaded = 1;
    fa_db_close(db);
    db = NULL;

    if ((st = check_outputs(o->out_dir, &d, path, err)) != FA_OK)
        goto cleanup;
    if ((st = fa_report_mkdirs(o->out_dir, err)) != FA_OK)
        goto cleanup;
    for (int i = 0; i < d.n_plots; i++) {
        const fa_report_plot *p = &d.plots[i];
        if (p->skipped)
            continue;
        snprintf(name, sizeof name, "%s.dat", p->stem);
        if ((st = write_file(o->out_dir, name, dat_fn, &d, p, formats, err)) != FA_OK)
            goto cleanup;
        snprintf(name, sizeof name, "%s.gp", p->stem);
        if ((st = write_file(o->out_dir, name, gp_fn, &d, p, formats, err)) != FA_OK)
            goto cleanup;
        if ((st = draw(o, p, formats, err)) != FA_OK)
            goto cleanup;
    }
    if ((st = write_file(o->out_dir, "index.html", html_fn, &d, NULL, formats, err)) != FA_OK ||
        (st = write_file(o->out_dir, "index.md", md_fn, &d, NULL, formats, err)) != FA_OK)
        goto cleanup;

    if (summary) {
        memset(summary, 0, sizeof *summary);
        for (int i = 0; i < d.n_plots; i++)
            summary->plots += !d.plots[i].skipped;
        summary->panels = d.n_panels;
        summary->winners = d.n_winners;
        summary->decode_panels = d.n_dpanels;
        summary->decode_winners = d.n_decode_winners;
        summary->compile_only = d.compile_only;
        snprintf(summary->problem, sizeof summary->problem, "%s", d.problem);
        snprintf(summary->index_path, sizeof summary->index_path, "%s/index.html", o->out_dir);
    }

cleanup:
    fa_db_close(db);
    if (loaded)
        fa_report_data_release(&d);
    return st;
}
