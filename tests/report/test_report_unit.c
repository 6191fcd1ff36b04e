/*
 * This file implements the unit tests of the report's helpers (no database, no gnuplot):
 * time parsing, the strategy of a command line, histogram bin widths, number formatting,
 * --format parsing, finding gnuplot through FA_GNUPLOT and PATH, and the write-then-rename
 * file helper with folder creation; and (with a small database) that the forward panels leave
 * decode problems out: their rate is TB/s of K/V over a cache length, not TFLOP/s over seqlen.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_check.h"

#include "../db/db_test.h"
#include "fa_escape.h"
#include "fa_report_data.h"

static void test_time(void)
{
    double t = 0;
    CHECK(fa_report_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    CHECK(fa_report_parse_time("2026-11-21T17:25:49.123Z", &t) == 0);
    CHECK(fabs(t - 1795281949.123) < 1e-6);
    CHECK(fa_report_parse_time("2026-11-21 17:25:49", &t) == 0 && fabs(t - 1795281949) < 1e-6);
    CHECK(fa_report_parse_time("2024-02-29T12:00:00.5Z", &t) == 0 && fabs(t - 1709208000.5) < 1e-6);
    CHECK(fa_report_parse_time("", &t) == -1);
    CHECK(fa_report_parse_time(NULL, &t) == -1);
    CHECK(fa_report_parse_time("2026-13-01T00:00:00Z", &t) == -1);
    CHECK(fa_report_parse_time("2026-11-21T17:25:49+02:00", &t) == -1);
}

static void test_strategy(void)
{
    char s[32];
    fa_report_strategy("fa-tune --arch sm90 --headdim 128", s, sizeof s);
    CHECK(!strcmp(s, "exhaustive"));
    fa_report_strategy("fa-tune --arch sm90 --strategy random --budget 10", s, sizeof s);
    CHECK(!strcmp(s, "random"));
    fa_report_strategy("fa-tune --strategy=halving", s, sizeof s);
    CHECK(!strcmp(s, "halving"));
    fa_report_strategy("fa-tune --strategy random --strategy halving", s, sizeof s);
    CHECK(!strcmp(s, "halving"));
    fa_report_strategy("fa-tune --strategyx random", s, sizeof s);
    CHECK(!strcmp(s, "exhaustive"));
    fa_report_strategy("fa-tune --strategy", s, sizeof s);
    CHECK(!strcmp(s, "exhaustive"));
    fa_report_strategy(NULL, s, sizeof s);
    CHECK(!strcmp(s, "exhaustive"));
    fa_report_strategy("fa-tune --strategy averyveryverylongstrategynamethatdoesnotfit", s, 8);
    CHECK(!strcmp(s, "averyve"));
}

static void test_numbers(void)
{
    char b[32];
    CHECK(fa_report_nice_width(9000, 20) == 500);
    CHECK(fa_report_nice_width(100, 20) == 5);
    CHECK(fa_report_nice_width(40, 20) == 2);
    CHECK(fa_report_nice_width(45, 20) == 2.5);
    CHECK(fa_report_nice_width(0, 20) == 1);
    CHECK(!strcmp(fa_report_num(NAN, b), "NaN"));
    CHECK(!strcmp(fa_report_num(312.456789, b), "312.457"));
    CHECK(!strcmp(fa_report_num(1048576, b), "1.04858e+06"));
    CHECK(!strcmp(fa_report_num(16384, b), "16384"));
    CHECK(!strcmp(fa_report_peer_label("torch_sdpa_flash"), "PyTorch SDPA flash (FA2)"));
    CHECK(!strcmp(fa_report_peer_label("my_lib"), "my_lib"));
}

static void test_formats(void)
{
    unsigned f = 0;
    fa_err err;
    CHECK(fa_report_formats_parse("png,svg", &f, &err) == FA_OK &&
          f == (FA_REPORT_PNG | FA_REPORT_SVG));
    CHECK(fa_report_formats_parse("svg", &f, &err) == FA_OK && f == FA_REPORT_SVG);
    CHECK(fa_report_formats_parse("png", &f, &err) == FA_OK && f == FA_REPORT_PNG);
    f = 7;
    CHECK(fa_report_formats_parse("png,jpeg", &f, &err) == FA_INVALID && f == 7);
    CHECK(strstr(err.msg, "'jpeg'") != NULL);
    CHECK(fa_report_formats_parse("", &f, &err) == FA_INVALID);
    CHECK(fa_report_formats_parse(NULL, &f, &err) == FA_INVALID);
}

static void test_gnuplot_find(const char *dir)
{
    char path[4096], fake[4096];
    fa_err err;
    snprintf(fake, sizeof fake, "%s/bin/gnuplot", dir);
    char bin[4096];
    snprintf(bin, sizeof bin, "%s/bin", dir);
    CHECK(fa_report_mkdirs(bin, &err) == FA_OK);
    FILE *f = fopen(fake, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("#!/bin/sh\nexit 0\n", f);
        fclose(f);
    }
    chmod(fake, 0755);

    CHECK(fa_report_gnuplot_find(fake, path, sizeof path, &err) == FA_OK && !strcmp(path, fake));
    CHECK(fa_report_gnuplot_find("/nonexistent/gnuplot", path, sizeof path, &err) == FA_NOT_FOUND);
    CHECK(strstr(err.msg, "FA_GNUPLOT='/nonexistent/gnuplot'") != NULL);
    CHECK(strstr(err.msg, FA_REPORT_GNUPLOT_INSTALL) != NULL);

    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char newpath[8192];
    snprintf(newpath, sizeof newpath, "/nonexistent:%s", bin);
    setenv("PATH", newpath, 1);
    CHECK(fa_report_gnuplot_find(NULL, path, sizeof path, &err) == FA_OK && !strcmp(path, fake));
    CHECK(fa_report_gnuplot_find("", path, sizeof path, &err) == FA_OK && !strcmp(path, fake));
    CHECK(fa_report_gnuplot_find("gnuplot-nope", path, sizeof path, &err) == FA_NOT_FOUND);
    setenv("PATH", "/nonexistent", 1);
    CHECK(fa_report_gnuplot_find(NULL, path, sizeof path, &err) == FA_NOT_FOUND);
    CHECK(strstr(err.msg, "no 'gnuplot' on PATH") != NULL);
    CHECK(strstr(err.msg, FA_REPORT_GNUPLOT_INSTALL) != NULL);
    if (old) {
        setenv("PATH", old, 1);
        free(old);
    }
    /* a directory is not an executable */
    CHECK(fa_report_gnuplot_find(bin, path, sizeof path, &err) == FA_NOT_FOUND);
}

static void test_files(const char *dir)
{
    char sub[2048], path[4096], tmp[4096];
    fa_err err;
    fa_report_file rf;
    snprintf(sub, sizeof sub, "%s/a/b/c", dir);
    CHECK(fa_report_mkdirs(sub, &err) == FA_OK);
    CHECK(fa_report_mkdirs(sub, &err) == FA_OK); /* exists: fine */

    CHECK(fa_report_file_open(&rf, sub, "x.dat", &err) == FA_OK);
    snprintf(path, sizeof path, "%s/x.dat", sub);
    snprintf(tmp, sizeof tmp, "%s/.x.dat.tmp", sub);
    fputs("1 2\n", rf.f);
    CHECK(access(path, F_OK) != 0); /* not there until committed */
    CHECK(access(tmp, F_OK) == 0);
    CHECK(fa_report_file_commit(&rf, &err) == FA_OK);
    CHECK(access(path, F_OK) == 0 && access(tmp, F_OK) != 0);

    CHECK(fa_report_file_open(&rf, sub, "y.dat", &err) == FA_OK);
    fa_report_file_abort(&rf);
    fa_report_file_abort(&rf); /* twice: a no-op */
    snprintf(path, sizeof path, "%s/y.dat", sub);
    snprintf(tmp, sizeof tmp, "%s/.y.dat.tmp", sub);
    CHECK(access(path, F_OK) != 0 && access(tmp, F_OK) != 0);

    /* a file in the way of a folder */
    snprintf(path, sizeof path, "%s/x.dat/d", sub);
    CHECK(fa_report_mkdirs(path, &err) == FA_IO);
    CHECK(strstr(err.msg, "x.dat") != NULL);
    CHECK(fa_report_file_open(&rf, path, "z", &err) == FA_IO);
}

/* Each output kind's escaping (fa_escape.h), byte for byte, and that a too-small buffer gets
 * a clean prefix, never half an escape. */
static void test_escape(void)
{
    char b[256];
    const char *evil = "a'b\nsystem(\"x\")\\";
    CHECK(!strcmp(fa_esc_gp_str(b, sizeof b, evil), "a''b?system(\"x\")\\"));
    CHECK(!strcmp(fa_esc_gp_comment(b, sizeof b, evil), "a'b?system(\"x\")\\ "));
    CHECK(!strcmp(fa_esc_gp_comment(b, 3, "a\\"), "a")); /* no room: the backslash goes */
    CHECK(!strcmp(fa_esc_dat_field(b, sizeof b, "x y#z\"\t"), "x_y_z__"));
    CHECK(!strcmp(fa_esc_dat_field(b, sizeof b, ""), "_"));
    CHECK(!strcmp(fa_esc_term(b, sizeof b, "a\033[2J\r\xc2\x9b\xc3\xa9"), "a?[2J???\xc3\xa9"));
    CHECK(!strcmp(fa_esc_html(b, sizeof b, "<s a=\"'&\">\x01"),
                  "&lt;s a=&quot;&#39;&amp;&quot;&gt;\xef\xbf\xbd"));
    CHECK(!strcmp(fa_esc_md(b, sizeof b, "a|b`c_*<x>\n"), "a\\|b\\`c\\_\\*\\<x\\> "));
    CHECK(!strcmp(fa_esc_md_code(b, sizeof b, "fwd_x"), "`fwd_x`"));
    CHECK(!strcmp(fa_esc_md_code(b, sizeof b, "`a``|\n"), "``` `a``\\|  ```"));
    CHECK(!strcmp(fa_esc_c_comment(b, sizeof b, "x*/y/*z?\?/\n\xff"), "x* /y/ *z? ?/ ?"));
    CHECK(!strcmp(fa_esc_c_str(b, sizeof b, "q\"\\?\?/\n1\xff"), "q\\\"\\\\\\?\\?/\\0121\\377"));
    CHECK(!strcmp(fa_esc_c_str(b, 4, "\n"), "")); /* "\012" needs 5 bytes with the NUL */
    CHECK(!strcmp(fa_esc_html(b, 6, "a&b"), "a"));
}

/* A decode measurement (the splitkv family) beside a forward one (sm80): the report's data
 * hold only the forward one, the sm80 heatmap is drawn, and the decode family's heatmap is a
 * note saying why it is not (not a mixed grid, not silence). */
static void test_decode_left_out(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/decode.db", dir);
    int64_t dev, run;
    fa_err err;
    fa_db *db = test_open_run(path, "hash", &dev, &run);
    fa_variant v = test_variant(FA_DTYPE_BF16, 128, 1, 0), kv;
    CHECK_OK(fa_variant_parse("decode_splitkv_hd128_bf16_m16n64w4s3k0", &kv, &err), &err);
    fa_problem f = test_problem(FA_DTYPE_BF16, 128, 1, 4096, 32, 8), d = f;
    d.op = FA_OP_DECODE;
    d.seqlen_q = 1;
    d.page_size = 64;
    fa_measurement m = test_measurement(FA_OK, 300, 1.0);
    CHECK_OK(fa_db_record(db, run, "sm90", &v, &f, &m, &err), &err);
    m = test_measurement(FA_OK, 3.9, 0.5);
    CHECK_OK(fa_db_record(db, run, "sm90", &kv, &d, &m, &err), &err);
    CHECK_OK(fa_db_run_end(db, run, FA_OK, &err), &err);
    fa_report_data rd;
    memset(&rd, 0, sizeof rd);
    CHECK_OK(fa_report_data_load(db, "sm90", NULL, &rd, &err), &err);
    char fname[FA_PROBLEM_NAME_MAX];
    fa_problem_name(&f, fname, sizeof fname);
    CHECK_MSG(rd.n_measurements == 1 && !strcmp(rd.problem, fname),
              "%d timed measurements, heatmap problem '%s'", rd.n_measurements, rd.problem);
    CHECK_MSG(rd.n_heatmaps == 2 && rd.heatmaps[0].family == fa_family_sm80() &&
                  !rd.heatmaps[0].note[0] && rd.heatmaps[0].n_cells == 1 &&
                  !strcmp(rd.heatmaps[1].family->name, "splitkv") &&
                  strstr(rd.heatmaps[1].note, "decode measurements are rated in TB/s"),
              "%d heatmaps", rd.n_heatmaps);
    int drawn = 0, notes = 0;
    for (int i = 0; i < rd.n_plots; i++) {
        const fa_report_plot *p = &rd.plots[i];
        if (p->kind != FA_PLOT_HEATMAP)
            continue;
        if (!strcmp(p->stem, "heatmap_sm80") && !p->skipped && p->heatmap == 0)
            drawn++;
        if (!strcmp(p->stem, "heatmap_splitkv") && p->skipped && p->heatmap == -1 &&
            strstr(p->title, "splitkv family (decode): no tile heatmap"))
            notes++;
    }
    CHECK_MSG(drawn == 1 && notes == 1, "heatmap plots: %d drawn, %d notes", drawn, notes);
    /* one family measured: its series exists (fa_tune_sm80), equal to fa-tune's best */
    CHECK(rd.n_families == 1 && rd.families[0] == fa_family_sm80());
    CHECK(rd.n_panels == 1 && rd.panels[0].n_points == 1 &&
          rd.panels[0].points[0].family_tflops[0] == rd.panels[0].points[0].tflops &&
          !strcmp(rd.panels[0].points[0].family, "sm80"));
    fa_report_data_release(&rd);
    fa_db_close(db);
}

int main(void)
{
    char dir[] = "/tmp/fa_report_unit_XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_escape();
    test_time();
    test_strategy();
    test_numbers();
    test_formats();
    test_gnuplot_find(dir);
    test_files(dir);
    test_decode_left_out(dir);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    if (fa_check_failures)
        fprintf(stderr, "%d checks failed\n", fa_check_failures);
    else
        printf("report unit tests ok\n");
    return fa_check_failures ? 1 : 0;
}
