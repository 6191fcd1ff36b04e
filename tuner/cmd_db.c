/*
 * This file implements `fa-tune db`: looking at, exporting and merging results databases.
 *
 *   fa-tune db list   [--arch A]                   counts per arch and problem, by status
 *   fa-tune db best   [--arch A]                   the winners table
 *   fa-tune db show   NAME [--arch A]              every measurement of one variant
 *   fa-tune db export [--format csv|json] [-o F]   all measurements, flat
 *   fa-tune db merge  OTHER.db...                  fold other databases into this one
 *   fa-tune db runs   [--arch A]                   runs with device and provenance
 *
 * Every subcommand takes --db FILE (default fa-tune.db). All but merge open the database
 * read-only, so they work on a read-only file. Tables go to stdout, diagnostics to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_db.h"
#include "fa_escape.h"
#include "fa_options.h"
#include "fa_output.h"
#include "fa_peers_import.h"

#define FLOP_NOTE                                                                                  \
    "TFLOP/s = 4*B*Hq*Nq*Nk*D / median time, halved for causal with Nq = Nk; speedup = eager "     \
    "ms / flash ms"

#define DECODE_NOTE                                                                                \
    "decode: TB/s = K/V bytes read / median time; one winner per key of the emitted header "       \
    "(q<=: new tokens up to 1, 4 or 16; paged or contiguous cache; cache: its length bucket)"

static const struct subcommand {
    const char *name;
    const char *args;
    const char *summary;
} subcommands[] = {
    {"list", "[--arch ARCH]", "measurement counts per arch and problem, by status"},
    {"best", "[--arch ARCH]",
     "the winning variant per (dtype, head dim, causal, varlen, gqa, "
     "seqlen bucket)"},
    {"show", "NAME [--arch ARCH]", "every measurement of variant NAME"},
    {"export", "[--format csv|json] [-o FILE] [--arch ARCH]",
     "all measurements, one flat row each (spreadsheets, pandas)"},
    {"merge", "OTHER.db...", "fold other results databases into this one (idempotent)"},
    {"runs", "[--arch ARCH]", "the runs stored: device, driver, NVRTC, fa-tune version, source"},
    {"import-peers", "--arch ARCH FILE.jsonl",
     "store peers measured by bench/peers.py on the GPU of the latest run of ARCH"},
};
enum { NSUB = sizeof subcommands / sizeof subcommands[0] };

static void usage(FILE *out)
{
    fprintf(out, "usage: fa-tune db <subcommand> [--db FILE] [options]\n"
                 "\n"
                 "Look at, export and merge fa-tune results databases (SQLite).\n"
                 "\n"
                 "subcommands:\n");
    for (int i = 0; i < NSUB; i++)
        fprintf(out, "  %-12s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(out,
            "\n"
            "options:\n"
            "  --db FILE   the database (default %s in the working directory)\n"
            "\n"
            "'fa-tune db <subcommand> --help' describes each one.\n"
            "examples:\n"
            "  fa-tune db best --arch sm90\n"
            "  fa-tune db export --format csv -o results.csv\n"
            "  fa-tune db merge --db all.db node1.db node2.db\n",
            FA_DB_DEFAULT_PATH);
}

/* What a subcommand's --help says beyond its one-line summary. */
static const char *sub_details(const struct subcommand *s)
{
    if (!strcmp(s->name, "list"))
        return "\nCounts are of stored rows. A variant the legality model refuses is stored once "
               "per\nmode (dtype, head dim, causal, varlen), as 'unsupported' on the first "
               "problem of\nthat mode in the run (on every problem if it was once timed ok there); "
               "'variants'\ncounts the distinct variants with a row.\n";
    if (!strcmp(s->name, "best"))
        return "\nA winner is the fastest variant whose latest measurement is ok on every "
               "problem\nof its key that it was measured on (more problems covered first, then "
               "mean\nTFLOP/s, then lower median, then name). margin = winner / runner-up - "
               "1.\n" FLOP_NOTE ".\nDecode winners follow in a table of their own, one per key "
               "of the emitted header's\ndecode table: seqlen_q bucket, paged or contiguous, "
               "cache-length bucket.\n";
    if (!strcmp(s->name, "export"))
        return "\nCSV (default) has a header row; JSON is an array of objects with the same "
               "keys.\nUnknown figures are empty cells / null. Without -o the data goes to "
               "stdout.\n-o FILE is written whole or not at all (a temporary file renamed over "
               "it); a\nsymlink's target is replaced; a read-only file, or the database itself, "
               "is\nrefused.\n";
    if (!strcmp(s->name, "merge"))
        return "\nRows are matched by natural keys (run and measurement uuids, variant and "
               "problem\nnames), so merging the same file twice adds nothing. The database "
               "given by --db\nis created if missing; the others are only read.\n";
    return "";
}

/* Parsed options of one subcommand. */
struct opts {
    const char *db;
    const char *arch;
    const char *format;
    const char *output;
    const char *positional[64];
    int npositional;
};

static int opt_arch(const char *cmd, const fa_option *opt, const char *val)
{
    const fa_arch *arch = NULL;
    int rc = fa_cli_arch(cmd, val, &arch);
    if (rc == 0)
        ((struct opts *)opt->dst)->arch = val;
    return rc;
}

static int positional(const char *cmd, const char *arg, void *ctx)
{
    struct opts *o = ctx;
    if (o->npositional == (int)(sizeof o->positional / sizeof o->positional[0]))
        return fa_cli_usage_error(cmd, "too many arguments");
    o->positional[o->npositional++] = arg;
    return 0;
}

/* Which arguments a subcommand wants: 1 exactly one, -1 at least one, 0 none. Returns -1 when
 * they fit, else the exit code. */
static int check_positional(const char *cmd, const struct subcommand *sub, const struct opts *o)
{
    int want = !strcmp(sub->name, "show") || !strcmp(sub->name, "import-peers") ? 1
               : !strcmp(sub->name, "merge")                                    ? -1
                                                                                : 0;
    if (!strcmp(sub->name, "import-peers") && !o->arch)
        return fa_cli_usage_error(cmd, "--arch is required (the GPU the peers ran on)");
    if (want == 1 && o->npositional != 1 && !strcmp(sub->name, "import-peers"))
        return fa_cli_usage_error(cmd, "expected one file of peers (bench/peers.py -o FILE)");
    if (want == 1 && o->npositional != 1)
        return fa_cli_usage_error(cmd, "expected one variant name, e.g. "
                                       "fwd_sm80_hd128_bf16_causal_m128n64w4s2");
    if (want == -1 && o->npositional < 1)
        return fa_cli_usage_error(cmd, "expected the database(s) to merge in");
    if (want == 0 && o->npositional > 0)
        return fa_cli_usage_error(cmd, "unexpected argument '%s'", o->positional[0]);
    return -1;
}

/* Parse argv[2..]. Returns -1 on success, else the exit code (help printed: 0, error: 2). */
static int parse(const struct subcommand *sub, int argc, char **argv, struct opts *o)
{
    char cmd[32], usage[160], intro[1024], db_help[64];
    snprintf(cmd, sizeof cmd, "db %s", sub->name);
    snprintf(usage, sizeof usage, "usage: fa-tune db %s [--db FILE] %s\n", sub->name, sub->args);
    snprintf(intro, sizeof intro, "%s.\n%s", sub->summary, sub_details(sub));
    snprintf(db_help, sizeof db_help, "the database (default %s)", FA_DB_DEFAULT_PATH);
    memset(o, 0, sizeof *o);
    o->db = FA_DB_DEFAULT_PATH;
    /* Every subcommand takes --db; those whose arguments name --arch take it; export its
     * format and output file. */
    fa_option opts[6] = {
        {.kind = FA_OPT_GROUP, .help = "options"},
        {.kind = FA_OPT_STRING, .name = "db", .dst = &o->db, .metavar = "FILE", .help = db_help}};
    int n = 2;
    if (strstr(sub->args, "--arch"))
        opts[n++] = (fa_option){.kind = FA_OPT_CALLBACK,
                                .name = "arch",
                                .cb = opt_arch,
                                .dst = o,
                                .takes_value = 1,
                                .metavar = "ARCH",
                                .help = strcmp(sub->name, "import-peers") != 0
                                            ? "only this arch"
                                            : "the arch of the GPU the peers ran on (required)"};
    if (!strcmp(sub->name, "export")) {
        opts[n++] = (fa_option){.kind = FA_OPT_STRING,
                                .name = "format",
                                .dst = &o->format,
                                .metavar = "csv|json",
                                .help = "the output format (default csv)"};
        opts[n++] = (fa_option){.kind = FA_OPT_STRING,
                                .name = "output",
                                .short_name = 'o',
                                .dst = &o->output,
                                .metavar = "FILE",
                                .help = "the output file (default: stdout)"};
    }
    opts[n] = (fa_option){.kind = FA_OPT_END};
    const fa_opt_cmd c = {
        .name = cmd, .usage = usage, .intro = intro, .opts = opts, .arg = positional, .arg_ctx = o};
    int rc = fa_opt_parse(&c, argc - 1, argv + 1);
    if (rc >= 0)
        return rc;
    if (!*o->db)
        return fa_cli_usage_error(cmd, "--db needs a file name");
    return check_positional(cmd, sub, o);
}

/* Open for reading; a missing file gets a hint on how to make one. */
static int open_read(const char *cmd, const char *path, fa_db **db)
{
    fa_err err;
    fa_err_clear(&err);
    fa_status st = fa_db_open(path, FA_DB_READONLY, db, &err);
    if (st == FA_OK)
        return -1;
    int rc = fa_cli_fail(cmd, &err);
    if (st == FA_NOT_FOUND)
        fprintf(stderr, "(no results yet: run 'fa-tune --arch <arch> --headdim <d>' first to "
                        "create it, or pass --db FILE)\n");
    return rc;
}

static void fmt_num(char *buf, size_t n, const char *fmt, double x)
{
    if (x < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, x);
}

static void fmt_version(char *buf, size_t n, int v)
{
    if (v <= 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%d.%d", v / 1000, (v % 1000) / 10);
}

/* ---- list ------------------------------------------------------------------------------ */

struct list_ctx {
    int rows;
    fa_db_summary total;
};

/* The tables print strings from the database (which may be merged in from anywhere): each row
 * callback works on a copy whose strings have had their control bytes replaced (fa_escape.h),
 * so a name cannot send escape sequences to the terminal or fake a row. */
static int list_row(const fa_db_summary *raw, void *user)
{
    struct list_ctx *c = user;
    fa_db_summary t = *raw;
    const fa_db_summary *s = &t;
    fa_esc_term_inplace(t.arch);
    fa_esc_term_inplace(t.problem_name);
    if (!c->rows++)
        printf("%-6s %-48s %6s %6s %8s %8s %11s %13s %6s %6s %6s %8s\n", "arch", "problem", "total",
               "ok", "compiled", "mismatch", "unsupported", "compile_error", "fault", "other",
               "spill", "variants");
    printf("%-6s %-48s %6lld %6lld %8lld %8lld %11lld %13lld %6lld %6lld %6lld %8lld\n", s->arch,
           s->problem_name, (long long)s->total, (long long)s->ok, (long long)s->compiled,
           (long long)s->mismatch, (long long)s->unsupported, (long long)s->compile_error,
           (long long)s->fault, (long long)s->other, (long long)s->spilled, (long long)s->variants);
    c->total.total += s->total;
    c->total.ok += s->ok;
    c->total.compiled += s->compiled;
    c->total.mismatch += s->mismatch;
    c->total.unsupported += s->unsupported;
    c->total.compile_error += s->compile_error;
    c->total.fault += s->fault;
    c->total.other += s->other;
    c->total.spilled += s->spilled;
    return 0;
}

static int db_list(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    struct list_ctx c;
    memset(&c, 0, sizeof c);
    int rc = open_read("db list", o->db, &db);
    if (rc >= 0)
        return rc;
    fa_status st = fa_db_summaries(db, o->arch, list_row, &c, &err);
    if (st == FA_OK && c.rows)
        printf("%-6s %-48s %6lld %6lld %8lld %8lld %11lld %13lld %6lld %6lld %6lld\n", "all", "",
               (long long)c.total.total, (long long)c.total.ok, (long long)c.total.compiled,
               (long long)c.total.mismatch, (long long)c.total.unsupported,
               (long long)c.total.compile_error, (long long)c.total.fault, (long long)c.total.other,
               (long long)c.total.spilled);
    if (st == FA_OK && !c.rows)
        fprintf(stderr, "fa-tune db list: no measurements%s%s in '%s'\n", o->arch ? " for " : "",
                o->arch ? o->arch : "", o->db);
    fa_db_close(db);
    return st == FA_OK ? FA_EXIT_OK : fa_cli_fail("db list", &err);
}

/* ---- best ------------------------------------------------------------------------------ */

/* A winner with its text columns made safe for a terminal, and its margin as text. */
static void best_prepare(const fa_db_winner *raw, fa_db_winner *t, char margin[32])
{
    *t = *raw;
    fa_esc_term_inplace(t->arch);
    fa_esc_term_inplace(t->variant_name);
    fa_esc_term_inplace(t->runner_up_name);
    if (t->margin < 0)
        snprintf(margin, 32, "-");
    else
        snprintf(margin, 32, "%.1f%%", 100.0 * t->margin);
}

/* The forward winners' table. The winners view keys a decode problem like a forward one, so
 * its decode rows would merge seqlen_q buckets and paged with contiguous caches: they are
 * left to best_decode_row, keyed as the emitted header keys them. */
static int best_row(const fa_db_winner *raw, void *user)
{
    int *rows = user;
    fa_db_winner t;
    const fa_db_winner *w = &t;
    char tf[32], ms[32], sp[32], margin[32];
    if (raw->variant.op != FA_OP_FWD)
        return 0;
    best_prepare(raw, &t, margin);
    if (!(*rows)++)
        printf("%-6s %-5s %4s %-6s %-6s %4s %7s  %-44s %8s %9s %8s %7s %s\n", "arch", "dtype", "hd",
               "causal", "varlen", "gqa", "bucket", "variant", "TFLOP/s", "ms", "speedup", "margin",
               "runner-up");
    fmt_num(tf, sizeof tf, "%.1f", w->tflops);
    fmt_num(ms, sizeof ms, "%.4f", w->median_ms);
    if (w->speedup < 0)
        snprintf(sp, sizeof sp, "-");
    else
        snprintf(sp, sizeof sp, "%.2fx", w->speedup);
    printf("%-6s %-5s %4d %-6s %-6s %4d %7d  %-44s %8s %9s %8s %7s %s\n", w->arch,
           fa_dtype_name(w->dtype), w->head_dim, w->causal ? "yes" : "no", w->varlen ? "yes" : "no",
           w->gqa, w->bucket, w->variant_name, tf, ms, sp, margin,
           w->runner_up_name[0] ? w->runner_up_name : "-");
    return 0;
}

/* The decode winners' table, one row per key of the emitted header's decode table: seqlen_q
 * bucket (1, 4, 16: new tokens up to it), paged or contiguous cache, cache-length bucket.
 * The rate is TB/s of K/V read (fa_problem.h). *user counts the rows; -1 before the first
 * says a forward table came first (a blank line then parts the two). */
static int best_decode_row(const fa_db_winner *raw, void *user)
{
    int *rows = user;
    fa_db_winner t;
    const fa_db_winner *w = &t;
    char tb[32], ms[32], margin[32];
    best_prepare(raw, &t, margin);
    if (*rows <= 0)
        printf("%s%-6s %-5s %4s %-6s %4s %4s %-5s %7s  %-48s %8s %9s %7s %s\n",
               *rows < 0 ? "\n" : "", "arch", "dtype", "hd", "causal", "gqa", "q<=", "paged",
               "cache", "decode variant", "TB/s", "ms", "margin", "runner-up");
    *rows = *rows <= 0 ? 1 : *rows + 1;
    fmt_num(tb, sizeof tb, "%.2f", w->tflops);
    fmt_num(ms, sizeof ms, "%.4f", w->median_ms);
    printf("%-6s %-5s %4d %-6s %4d %4d %-5s %7d  %-48s %8s %9s %7s %s\n", w->arch,
           fa_dtype_name(w->dtype), w->head_dim, w->causal ? "yes" : "no", w->gqa, w->q_bucket,
           w->paged ? "yes" : "no", w->bucket, w->variant_name, tb, ms, margin,
           w->runner_up_name[0] ? w->runner_up_name : "-");
    return 0;
}

/* What a database without winners holds: timed rows, and the (arch, head dim) pairs of its
 * compile-only rows, so `db best` can say which command would time them. */
struct stock {
    int64_t timed, compile_only;
    int n_keys;
    struct {
        char arch[FA_DB_ARCH_MAX];
        int head_dim;
    } keys[32];
};

static int stock_row(const fa_db_row *r, void *user)
{
    struct stock *k = user;
    if (strcmp(r->device_name, FA_DB_COMPILE_ONLY) != 0) {
        k->timed++;
        return 0;
    }
    k->compile_only++;
    /* The hint below is a command to paste: only an arch fa-tune knows goes into it (the
     * column is text from the file, and could hold anything). */
    if (!fa_arch_find(r->arch) || !fa_head_dim_supported(r->problem.head_dim))
        return 0;
    for (int i = 0; i < k->n_keys; i++)
        if (k->keys[i].head_dim == r->problem.head_dim && !strcmp(k->keys[i].arch, r->arch))
            return 0;
    if (k->n_keys < (int)(sizeof k->keys / sizeof k->keys[0])) {
        snprintf(k->keys[k->n_keys].arch, sizeof k->keys[0].arch, "%s", r->arch);
        k->keys[k->n_keys++].head_dim = r->problem.head_dim;
    }
    return 0;
}

/* No winners: say what is missing and, for compile-only results, the command that times them
 * (on stderr: stdout stays an empty table). */
static void no_winners(const struct opts *o)
{
    struct stock k;
    fa_err err;
    fa_db *db = NULL;
    fa_db_filter f = {0};
    memset(&k, 0, sizeof k);
    f.arch = o->arch;
    if (open_read("db best", o->db, &db) < 0) {
        if (fa_db_measurements(db, &f, stock_row, &k, &err) != FA_OK)
            memset(&k, 0, sizeof k);
        fa_db_close(db);
    }
    if (k.timed || !k.compile_only) {
        fprintf(stderr, "fa-tune db best: no winners%s%s in '%s' (%s)\n", o->arch ? " for " : "",
                o->arch ? o->arch : "", o->db,
                k.timed ? "no variant measured ok" : "no measurements");
        return;
    }
    fprintf(stderr,
            "fa-tune db best: no winners%s%s in '%s': it holds only compile-only results "
            "(%lld compile results with registers, shared memory and spills; no timings: no GPU "
            "of the arch ran them)\n"
            "time them on a machine with a GPU of that arch, then run 'fa-tune db best' again:\n",
            o->arch ? " for " : "", o->arch ? o->arch : "", o->db, (long long)k.compile_only);
    for (int i = 0; i < k.n_keys; i++)
        fprintf(stderr, "  fa-tune --arch %s --headdim %d --db %s\n", k.keys[i].arch,
                k.keys[i].head_dim, o->db);
}

static int db_best(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    int rows = 0, drows = 0;
    int rc = open_read("db best", o->db, &db);
    if (rc >= 0)
        return rc;
    fa_status st = fa_db_winners(db, o->arch, best_row, &rows, &err);
    if (st == FA_OK && rows)
        printf("\n%s\n", FLOP_NOTE);
    if (st == FA_OK) {
        drows = rows ? -1 : 0; /* best_decode_row's header then starts with a blank line */
        st = fa_db_decode_winners(db, o->arch, best_decode_row, &drows, &err);
        if (drows < 0)
            drows = 0;
        if (st == FA_OK && drows)
            printf("\n%s\n", DECODE_NOTE);
    }
    fa_db_close(db);
    if (st != FA_OK)
        return fa_cli_fail("db best", &err);
    if (!rows && !drows)
        no_winners(o);
    return FA_EXIT_OK;
}

/* ---- show ------------------------------------------------------------------------------ */

static int show_row(const fa_db_row *raw, void *user)
{
    int *rows = user;
    fa_db_row t = *raw;
    const fa_db_row *r = &t;
    char *texts[] = {t.arch, t.problem_name, t.status, t.measured_at, t.run_uuid, t.m.message};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        fa_esc_term_inplace(texts[i]);
    char ms[32], tf[32], er[32];
    if (!(*rows)++)
        printf("%-6s %-48s %-13s %9s %8s %9s %5s %7s %6s %-24s %-8s %s\n", "arch", "problem",
               "status", "ms", "TFLOP/s", "max_err", "regs", "smem", "spill", "measured_at", "run",
               "message");
    fmt_num(ms, sizeof ms, "%.4f", r->m.median_ms);
    fmt_num(tf, sizeof tf, r->problem.op == FA_OP_DECODE ? "%.2fTB/s" : "%.1f", r->m.tflops);
    fmt_num(er, sizeof er, "%.2e", r->m.max_abs_err);
    int spill = r->m.build.spill_stores < 0 || r->m.build.spill_loads < 0
                    ? -1
                    : r->m.build.spill_stores + r->m.build.spill_loads;
    int smem = r->m.build.smem_static < 0
                   ? -1
                   : r->m.build.smem_static + fa_variant_smem_bytes(&r->variant);
    printf("%-6s %-48s %-13s %9s %8s %9s %5d %7d %6d %-24s %.8s %s\n", r->arch, r->problem_name,
           r->status, ms, tf, er, r->m.build.registers, smem, spill, r->measured_at, r->run_uuid,
           r->m.message);
    return 0;
}

static int db_show(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    fa_variant v;
    int rows = 0;
    const char *name = o->positional[0];
    fa_err_clear(&err);
    if (fa_variant_parse(name, &v, &err) != FA_OK)
        return fa_cli_usage_error("db show", "'%s' is not a variant name: %s", name, err.msg);
    int rc = open_read("db show", o->db, &db);
    if (rc >= 0)
        return rc;
    fa_db_filter f;
    memset(&f, 0, sizeof f);
    f.variant = name;
    f.arch = o->arch;
    fa_status st = fa_db_measurements(db, &f, show_row, &rows, &err);
    fa_db_close(db);
    if (st != FA_OK)
        return fa_cli_fail("db show", &err);
    if (!rows) {
        fprintf(stderr, "fa-tune db show: no measurements of '%s'%s%s in '%s'\n", name,
                o->arch ? " for " : "", o->arch ? o->arch : "", o->db);
        return FA_EXIT_FAIL;
    }
    return FA_EXIT_OK;
}

/* ---- export ---------------------------------------------------------------------------- */

static int db_export(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    fa_db_format fmt = FA_DB_FORMAT_CSV;
    fa_output out = {0};
    fa_err_clear(&err);
    if (o->format && fa_db_format_parse(o->format, &fmt) != FA_OK)
        return fa_cli_usage_error("db export", "unsupported --format '%s': formats are csv, json",
                                  o->format);
    /* The output is checked and opened (a temporary file, fa_output.h) before the database:
     * an output that is the database is refused before anything is read or written. */
    int to_file = o->output && strcmp(o->output, "-") != 0;
    if (to_file && fa_output_open(&out, o->output, o->db, &err) != FA_OK)
        return fa_cli_fail("db export", &err);
    int rc = open_read("db export", o->db, &db);
    if (rc >= 0) {
        fa_output_abort(&out);
        return rc;
    }
    fa_db_filter f;
    memset(&f, 0, sizeof f);
    f.arch = o->arch;
    fa_status st = fa_db_export(db, fmt, &f, to_file ? out.f : stdout, &err);
    fa_db_close(db);
    if (to_file) {
        if (st == FA_OK)
            st = fa_output_commit(&out, &err); /* the old file stays on failure */
        else
            fa_output_abort(&out);
    }
    if (st != FA_OK)
        return fa_cli_fail("db export", &err);
    return FA_EXIT_OK;
}

/* ---- merge ----------------------------------------------------------------------------- */

static int db_merge(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    fa_err_clear(&err);
    /* Every source is checked (read-only: no byte of it changes) before the target is opened
     * for writing, so a refused source (a newer schema, not a database, missing) leaves the
     * target as it was: opening it would migrate an older one. */
    for (int i = 0; i < o->npositional; i++) {
        if (fa_db_open(o->positional[i], FA_DB_READONLY, &db, &err) != FA_OK)
            return fa_cli_fail("db merge", &err);
        fa_db_close(db);
        db = NULL;
    }
    if (fa_db_open(o->db, FA_DB_CREATE, &db, &err) != FA_OK)
        return fa_cli_fail("db merge", &err);
    int rc = FA_EXIT_OK;
    for (int i = 0; i < o->npositional && rc == FA_EXIT_OK; i++) {
        fa_db_merge_stats s;
        if (fa_db_merge(db, o->positional[i], &s, &err) != FA_OK) {
            rc = fa_cli_fail("db merge", &err);
            break;
        }
        printf("merged '%s' into '%s': added %lld measurements, %lld runs, %lld devices, "
               "%lld variants, %lld problems, %lld peers, %lld ceilings\n",
               o->positional[i], o->db, (long long)s.measurements, (long long)s.runs,
               (long long)s.devices, (long long)s.variants, (long long)s.problems,
               (long long)s.peers, (long long)s.ceilings);
    }
    fa_db_close(db);
    return rc;
}

/* ---- runs ------------------------------------------------------------------------------ */

static int runs_row(const fa_db_run *raw, void *user)
{
    int *rows = user;
    fa_db_run t = *raw;
    const fa_db_run *r = &t;
    char *texts[] = {t.started_at,      t.status,      t.uuid, t.device.name, t.device.arch,
                     t.fa_tune_version, t.source_hash, t.host, t.command_line};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        fa_esc_term_inplace(texts[i]);
    char drv[16], cuda[16], nvrtc[16];
    if (!(*rows)++)
        printf("%-24s %-11s %-8s %-28s %-6s %6s %6s %6s %-8s %-12s %-16s %8s  %s\n", "started_at",
               "status", "run", "device", "arch", "driver", "cuda", "nvrtc", "fa-tune", "source",
               "host", "results", "command");
    fmt_version(drv, sizeof drv, r->device.driver_version);
    fmt_version(cuda, sizeof cuda, r->device.cuda_version);
    fmt_version(nvrtc, sizeof nvrtc, r->device.nvrtc_version);
    printf("%-24s %-11s %.8s %-28.28s %-6s %6s %6s %6s %-8s %-12.12s %-16.16s %8lld  %s\n",
           r->started_at, r->status, r->uuid, r->device.name, r->device.arch, drv, cuda, nvrtc,
           r->fa_tune_version, r->source_hash, r->host[0] ? r->host : "-",
           (long long)r->measurements, r->command_line);
    return 0;
}

static int db_runs(const struct opts *o)
{
    fa_db *db = NULL;
    fa_err err;
    int rows = 0;
    int rc = open_read("db runs", o->db, &db);
    if (rc >= 0)
        return rc;
    fa_status st = fa_db_runs(db, o->arch, runs_row, &rows, &err);
    fa_db_close(db);
    if (st != FA_OK)
        return fa_cli_fail("db runs", &err);
    if (!rows)
        fprintf(stderr, "fa-tune db runs: no runs%s%s in '%s'\n", o->arch ? " for " : "",
                o->arch ? o->arch : "", o->db);
    return FA_EXIT_OK;
}

/* ---- import-peers ---------------------------------------------------------------------- */

/* The device of the latest timed (not compile-only) run of an arch. */
static int latest_device(const fa_db_run *r, void *user)
{
    if (strcmp(r->device.name, FA_DB_COMPILE_ONLY) != 0)
        *(int64_t *)user = r->device.id;
    return 0;
}

/* All or nothing: the file is read and checked before the database is opened for writing, and
 * the run row and every peer row are one transaction, so a refused file or a failed write
 * leaves the database byte for byte as it was. */
static int db_import_peers(const struct opts *o)
{
    const char *cmd = "db import-peers";
    fa_db *db = NULL;
    fa_err err;
    fa_err_clear(&err);
    int64_t device_id = -1, run_id = -1;
    fa_peers_import_stats st = {0};
    fa_peer_row *rows = NULL;
    int n = 0, in_batch = 0;
    fa_status s = fa_peers_read(o->positional[0], &rows, &n, &st, &err);
    if (s == FA_OK)
        s = fa_db_open(o->db, 0, &db, &err);
    if (s == FA_OK)
        s = fa_db_runs(db, o->arch, latest_device, &device_id, &err);
    if (s == FA_OK && device_id < 0)
        s = FA_ERR(&err, FA_NOT_FOUND,
                   "no timed run for %s in '%s': peers are stored beside a GPU's own run "
                   "(run 'fa-tune --arch %s --headdim 128' on that GPU first)",
                   o->arch, o->db, o->arch);
    char cmdline[FA_DB_CMDLINE_MAX];
    snprintf(cmdline, sizeof cmdline, "fa-tune db import-peers --arch %s %.900s", o->arch,
             o->positional[0]);
    if (s == FA_OK && (s = fa_db_batch_begin(db, &err)) == FA_OK)
        in_batch = 1;
    if (s == FA_OK)
        s = fa_db_run_begin(db, device_id, FA_TUNE_VERSION_STRING, "", cmdline, &run_id, &err);
    if (s == FA_OK)
        s = fa_peers_store(db, run_id, rows, n, &err);
    if (s == FA_OK)
        s = fa_db_run_end(db, run_id, FA_OK, &err);
    if (in_batch) {
        fa_status e = fa_db_batch_end(db, s == FA_OK, s == FA_OK ? &err : NULL);
        s = s == FA_OK ? e : s;
    }
    fa_db_close(db);
    free(rows);
    if (s != FA_OK)
        return fa_cli_fail(cmd, &err);
    printf("imported %d peer rows and %d ceilings from '%s' (%d rows skipped: the backend "
           "refused the shape",
           st.peers, st.ceilings, o->positional[0], st.skipped);
    if (st.shape_copies)
        printf("; %d per-shape copy rows not stored: the ceiling is the device's copy",
               st.shape_copies);
    printf(")\n");
    return FA_EXIT_OK;
}

static int unknown_subcommand(const char *name)
{
    const char *names[NSUB];
    for (int i = 0; i < NSUB; i++)
        names[i] = subcommands[i].name;
    return fa_cli_unknown_name(" db", "subcommand", name, names, NSUB);
}

int cmd_db(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return FA_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "help") && argc > 2) { /* fa-tune db help best: best's --help */
        for (int i = 0; i < NSUB; i++)
            if (!strcmp(argv[2], subcommands[i].name)) {
                char *help_argv[] = {"db", argv[2], "--help", NULL};
                struct opts o;
                int rc = parse(&subcommands[i], 3, help_argv, &o);
                return rc >= 0 ? rc : FA_EXIT_OK;
            }
        return unknown_subcommand(argv[2]);
    }
    if (fa_cli_is_help(argv[1]) || !strcmp(argv[1], "help")) {
        usage(stdout);
        return FA_EXIT_OK;
    }
    static int (*const run[NSUB])(const struct opts *) = {
        db_list, db_best, db_show, db_export, db_merge, db_runs, db_import_peers};
    for (int i = 0; i < NSUB; i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        struct opts o;
        int rc = parse(&subcommands[i], argc, argv, &o);
        return rc >= 0 ? rc : run[i](&o);
    }
    return unknown_subcommand(argv[1]);
}
