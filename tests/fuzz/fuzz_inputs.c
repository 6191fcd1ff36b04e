/*
 * fuzz_inputs.c -- the parsers of what users and databases hand fa-tune, fuzzed: variant
 * names (--variant, database rows), shapes files, seqlens files, peers JSONL, the short
 * strings read from the command line or a database (--seqlens, --devices, --format, cache
 * lengths, a run's start time and command line), and the option parser every command uses
 * (argv: the input's NUL-separated words, against a table with every kind of option). The
 * first byte of an input picks the parser (0xfe: the options; else modulo 5), the rest is its
 * input.
 *
 * Beyond "no crash, no sanitizer report", each parser's result must hold together: a variant
 * name that parses names a variant whose own name parses to the same name, every problem
 * a shapes file yields passes fa_problem_check, and the option parser exits 0 (help) or 2 (a
 * usage error) or goes on with every value in its range.
 *
 * Built for libFuzzer with -DFA_FUZZ=ON (clang), else with fuzz_replay.c as the CPU test
 * fuzz.inputs, which replays tests/fuzz/corpus/ (the seeds, and found.hex: what fuzzing kept).
 * To fuzz, and to keep what adds coverage:
 *     build/tests/fuzz/fuzz_inputs -max_total_time=600 -max_len=4096 NEW tests/fuzz/corpus
 *     build/tests/fuzz/fuzz_inputs -merge=1 KEPT NEW
 * then append KEPT's files to found.hex, one a line in hex (python's bytes.hex()).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_gpu_backend.h"
#include "fa_options.h"
#include "fa_peers_import.h"
#include "fa_problem_set.h"
#include "fa_report.h"
#include "fa_report_data.h"
#include "fa_variant.h"

enum { VARIANT_NAME, SHAPES_FILE, SEQLENS_FILE, PEERS_JSONL, SHORT_STRINGS, N_TARGETS };

static void fail(const char *what, const char *input)
{
    fprintf(stderr, "fuzz_inputs: %s (input '%s')\n", what, input);
    abort();
}

static char input_path[4096];

static void remove_input_file(void)
{
    unlink(input_path);
}

/* The parsers that read files get the input as a file of their own, removed at exit. */
static const char *as_file(const uint8_t *d, size_t n)
{
    char *path = input_path;
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof input_path, "%s/fa_fuzz_%d.txt", dir && *dir ? dir : "/tmp",
                 (int)getpid());
        atexit(remove_input_file);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0)
        fail("cannot write the input file", path);
    return path;
}

static void variant_name(const char *s)
{
    fa_variant v, w;
    fa_err err;
    fa_err_clear(&err);
    if (fa_variant_parse(s, &v, &err) != FA_OK)
        return;
    char a[FA_VARIANT_NAME_MAX], b[FA_VARIANT_NAME_MAX], expr[512];
    fa_variant_name(&v, a, sizeof a);
    if (fa_variant_parse(a, &w, &err) != FA_OK)
        fail("a parsed variant's own name does not parse", s);
    fa_variant_name(&w, b, sizeof b);
    if (strcmp(a, b) != 0)
        fail("a parsed variant's name changes when parsed again", s);
    fa_variant_name_expr(&v, expr, sizeof expr);
}

static void shapes_file(const uint8_t *d, size_t n, const char *shown)
{
    fa_problem *ps = NULL;
    int np = 0;
    fa_err err;
    fa_err_clear(&err);
    if (fa_problem_set_read(as_file(d, n), FA_DTYPE_BF16, 128, &ps, &np, &err) != FA_OK)
        return;
    for (int i = 0; i < np; i++) {
        char name[FA_PROBLEM_NAME_MAX];
        fa_problem_name(&ps[i], name, sizeof name);
        if (fa_problem_check(&ps[i], &err) != FA_OK)
            fail("a shapes file yields a problem that fa_problem_check refuses", shown);
        if (!ps[i].varlen && !(fa_problem_flops(&ps[i], NULL, NULL) >= 0))
            fail("a problem's flop count is not a number >= 0", shown);
    }
    free(ps);
}

static void short_strings(const char *s)
{
    fa_err err;
    fa_err_clear(&err);
    int ints[64], n = 0, c;
    unsigned formats;
    double t;
    char strategy[64];
    fa_parse_int_list(s, ints, 64, &n, &err);
    fa_devices_parse(s, ints, 64, &n, &err);
    fa_report_formats_parse(s, &formats, &err);
    fa_cache_lens_parse(s, &c);
    if (fa_report_parse_time(s, &t) == 0 && !isfinite(t))
        fail("a parsed time is not finite", s);
    fa_report_strategy(s, strategy, sizeof strategy);
}

/* A callback option: counts its uses. */
static int opt_seen_callback(const char *cmd, const fa_option *opt, const char *value)
{
    (void)cmd;
    (void)value;
    (*(int *)opt->dst)++;
    return 0;
}

/* The option parser (fa_options.h) on argv = the NUL-separated words of d, against a table
 * with one option of every kind; its messages and help go to /dev/null. */
static void options(const uint8_t *d, size_t n)
{
    enum { MAX_ARGS = 32 };
    char buf[1024], *argv[MAX_ARGS + 1];
    int argc = 0;
    n = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, d, n);
    buf[n] = '\0';
    argv[argc++] = (char *)"fuzz";
    for (size_t i = 0; i < n && argc < MAX_ARGS; i += strlen(buf + i) + 1)
        argv[argc++] = buf + i;
    argv[argc] = NULL;
    int flag = 0, ints = 7, calls = 0, seen = 0, headdim = 0;
    uint64_t u64 = 0;
    double dbl = 0.5;
    const char *str = NULL;
    const fa_arch *arch = NULL;
    fa_dtype dtype = FA_DTYPE_BF16;
    unsigned dtypes = 0, mode = 0;
    const fa_option opts[] = {
        {.kind = FA_OPT_GROUP, .help = "group"},
        {.kind = FA_OPT_FLAG, .name = "flag", .short_name = 'f', .dst = &flag, .help = "x"},
        {.kind = FA_OPT_INT,
         .name = "jobs",
         .short_name = 'j',
         .dst = &ints,
         .lo = 1,
         .hi = 64,
         .seen = &seen,
         .metavar = "N",
         .help = "x"},
        {.kind = FA_OPT_U64, .name = "seed", .dst = &u64, .metavar = "S", .help = "x"},
        {.kind = FA_OPT_DOUBLE, .name = "margin", .dst = &dbl, .lo = 0, .hi = 10, .help = "x"},
        {.kind = FA_OPT_STRING,
         .name = "db",
         .short_name = 'o',
         .dst = &str,
         .flags = FA_OPT_NONEMPTY,
         .what = "a file",
         .help = "x"},
        {.kind = FA_OPT_ARCH, .name = "arch", .dst = &arch, .help = "x"},
        {.kind = FA_OPT_HEADDIM, .name = "headdim", .dst = &headdim, .help = "x"},
        {.kind = FA_OPT_DTYPE, .name = "dtype", .dst = &dtype, .help = "x"},
        {.kind = FA_OPT_DTYPES, .name = "dtypes", .dst = &dtypes, .help = "x"},
        {.kind = FA_OPT_MODE, .name = "causal", .dst = &mode, .help = "x"},
        {.kind = FA_OPT_CALLBACK,
         .name = "variant",
         .short_name = 'v',
         .cb = opt_seen_callback,
         .dst = &calls,
         .takes_value = 1,
         .help = "x"},
        {.kind = FA_OPT_END}};
    const fa_opt_cmd cmd = {.name = "fuzz", .usage = "usage: fuzz\n", .opts = opts};
    fflush(stdout);
    fflush(stderr);
    const int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    const int rc = fa_opt_parse(&cmd, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    if (rc != -1 && rc != 0 && rc != 2)
        fail("the option parser returned something but -1, 0 or 2", buf);
    if (rc == -1 && (ints < 1 || ints > 64 || !(dbl >= 0 && dbl <= 10) || (str && !*str) ||
                     (headdim && headdim % 32) || dtypes > 3 || mode > 3 ||
                     (dtype != FA_DTYPE_FP16 && dtype != FA_DTYPE_BF16)))
        fail("the option parser went on with a value out of its range", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] == 0xfe) {
        options(data + 1, size - 1);
        return 0;
    }
    const int target = data[0] % N_TARGETS;
    data++;
    size--;
    char s[4096]; /* the input as a string, cut at its first NUL */
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';
    fa_err err;
    fa_err_clear(&err);
    switch (target) {
    case VARIANT_NAME:
        variant_name(s);
        break;
    case SHAPES_FILE:
        shapes_file(data, size, s);
        break;
    case SEQLENS_FILE: {
        fa_varlen_dist d;
        int count, lo, hi;
        if (fa_seqlens_file_read(as_file(data, size), &d, &count, &lo, &hi, &err) == FA_OK &&
            (count < 1 || lo < 0 || lo > hi))
            fail("a seqlens file's count or range is wrong", s);
        break;
    }
    case PEERS_JSONL: {
        fa_peer_row *rows = NULL;
        int nrows = 0;
        fa_peers_import_stats st;
        if (fa_peers_read(as_file(data, size), &rows, &nrows, &st, &err) == FA_OK)
            free(rows);
        break;
    }
    default:
        short_strings(s);
    }
    return 0;
}
