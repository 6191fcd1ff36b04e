/*
 * fake_gnuplot.c -- stands in for gnuplot when fuzz_database runs `fa-tune report`'s writer
 * (hundreds of inputs a minute need no drawing): called as fa_report_gnuplot_run calls gnuplot,
 *     fake_gnuplot -e "cd 'DIR'; out = 'STEM'" SCRIPT.gp
 * it creates DIR/STEM.png and DIR/STEM.svg (empty), the files the writer then renames into
 * place, and draws nothing. The scripts themselves are checked by fuzz_database.
 */
#include <stdio.h>
#include <string.h>

/* The gnuplot single-quoted string at *s ('' is a quote) into out; advances *s past it. */
static int unquote(const char **s, char *out, size_t n)
{
    const char *p = strchr(*s, '\'');
    size_t len = 0;
    if (!p)
        return -1;
    for (p++; *p; p++) {
        if (*p == '\'' && p[1] != '\'')
            break;
        if (*p == '\'')
            p++;
        if (len + 1 >= n)
            return -1;
        out[len++] = *p;
    }
    if (*p != '\'')
        return -1;
    out[len] = '\0';
    *s = p + 1;
    return 0;
}

int main(int argc, char **argv)
{
    char dir[4096], stem[1024], path[5200];
    const char *cmd = argc == 4 && !strcmp(argv[1], "-e") ? argv[2] : "";
    if (unquote(&cmd, dir, sizeof dir) || unquote(&cmd, stem, sizeof stem)) {
        fprintf(stderr, "fake_gnuplot: expected -e \"cd 'DIR'; out = 'STEM'\" SCRIPT\n");
        return 2;
    }
    static const char *const ext[] = {"png", "svg"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, stem, ext[i]);
        FILE *f = fopen(path, "wb");
        if (!f || fclose(f) != 0) {
            perror(path);
            return 1;
        }
    }
    return 0;
}
