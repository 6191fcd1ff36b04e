/* This file implements `fa-tune compile`: a compile-only sweep over the variant space of one
 * arch and head dim. The work is fa_compile_sweep (tuner/compile); this file parses options,
 * prints progress on stderr and the table on stdout. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_cli.h"
#include "fa_util.h"
#include "fa_family.h"
#include "fa_commands.h"
#include "fa_options.h"
#include "fa_output.h"
#include "fa_parse.h"
#include "fa_space.h"
#include "fa_sweep.h"

static const char *const cmd = "compile";

/* What the table needs of each result, kept until the sweep ends (rows print in space order,
 * not completion order, so two runs of the same sweep print the same table). */
typedef struct row {
    int have;
    fa_status status;
    fa_build_info build;
    double nvrtc_ms;
    char note[160];
    int spills;
} row;

typedef struct sweep_ctx {
    row *rows;
    int tty;
    const char *cubin_dir; /* NULL: no cubins written */
    int cubins;            /* cubins written */
    fa_err write_err;      /* why writing one failed (the sweep then stops) */
} sweep_ctx;

/* mkdir -p dir, before any compile, so a path that cannot be a folder fails at once. */
static fa_status make_cubin_dir(const char *dir, fa_err *err)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n >= sizeof buf)
        return FA_ERR(err, FA_INVALID, "cubin directory path too long: '%.64s...'", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat sb;
        if (stat(buf, &sb) != 0 && mkdir(buf, 0777) != 0)
            return FA_ERR(err, FA_IO, "cannot create cubin directory '%s': %s", buf,
                          strerror(errno));
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return FA_ERR(err, FA_IO, "cannot create cubin directory '%s': '%s' is not a folder",
                          dir, buf);
        buf[i] = c;
    }
    return FA_OK;
}

/* DIR/<name>.cubin of a compiled variant, written atomically (fa_output.h). */
static fa_status write_cubin(sweep_ctx *ctx, const fa_sweep_item *it)
{
    char path[4096];
    int len = snprintf(path, sizeof path, "%s/%s.cubin", ctx->cubin_dir, it->name);
    if (len < 0 || (size_t)len >= sizeof path)
        return FA_ERR(&ctx->write_err, FA_INVALID, "cubin path too long in '%s'", ctx->cubin_dir);
    fa_status st =
        fa_output_write_bytes(path, it->out->cubin, it->out->cubin_size, NULL, &ctx->write_err);
    ctx->cubins += st == FA_OK;
    return st;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static fa_status on_result(const fa_sweep_item *it, void *vctx)
{
    sweep_ctx *ctx = vctx;
    row *r = &ctx->rows[it->index];
    const fa_compile_output *o = it->out;
    if (ctx->cubin_dir && o->status == FA_OK && o->cubin) {
        fa_status st = write_cubin(ctx, it);
        if (st != FA_OK)
            return st;
    }
    r->have = 1;
    r->status = o->status;
    r->build = o->build;
    r->nvrtc_ms = o->nvrtc_ms;
    r->spills = it->spills;
    if (o->status == FA_UNSUPPORTED)
        snprintf(r->note, sizeof r->note, "%s", o->log ? o->log : "");
    else if (o->status == FA_COMPILE_ERROR) {
        fa_compile_log_summary(o->log, r->note, sizeof r->note);
        if (!r->note[0])
            snprintf(r->note, sizeof r->note, "see the nvrtc log");
    } else if (it->spills)
        snprintf(r->note, sizeof r->note, "spills: ineligible");

    const char *what = o->status == FA_OK ? (o->build.cache_hit ? "cached" : "compiled")
                       : o->status == FA_COMPILE_ERROR ? "compile error"
                                                       : "unsupported";
    char when[32] = "";
    if (o->status != FA_UNSUPPORTED) {
        if (o->build.compile_ms >= 1000)
            snprintf(when, sizeof when, " %.1f s", o->build.compile_ms / 1000);
        else
            snprintf(when, sizeof when, " %.1f ms", o->build.compile_ms);
    }
    if (ctx->tty)
        fprintf(stderr, "\r\033[K[%d/%d] %s %s%s", it->done, it->total, what, it->name, when);
    else
        fprintf(stderr, "[%d/%d] %s %s%s%s%s\n", it->done, it->total, what, it->name, when,
                o->status == FA_COMPILE_ERROR ? ": " : "",
                o->status == FA_COMPILE_ERROR ? r->note : "");
    if (ctx->tty && it->done == it->total)
        fprintf(stderr, "\r\033[K");
    return interrupted ? FA_INTERRUPTED : FA_OK;
}

static void print_table(const fa_variant *vs, const row *rows, int n, int csv)
{
    if (csv)
        printf("variant,status,registers,smem_static,smem_dynamic,stack_bytes,spill_stores,"
               "spill_loads,compile_ms,nvrtc_ms,cache_hit,note\n");
    else
        printf("%-46s %4s %13s %5s %9s %10s %-13s %5s  %s\n", "variant", "regs", "smem st+dyn",
               "stack", "spill s/l", "compile ms", "status", "cache", "note");
    for (int i = 0; i < n; i++) {
        const row *r = &rows[i];
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        if (!r->have)
            continue; /* the sweep stopped before this one */
        int dyn = fa_variant_smem_bytes(&vs[i]);
        const fa_build_info *b = &r->build;
        if (csv) {
            /* Notes are free text: quote them, doubling any quote. */
            printf("%s,%s,%d,%d,%d,%d,%d,%d,%.3f,%.3f,%d,\"", name, fa_status_token(r->status),
                   b->registers, b->smem_static, dyn, b->stack_bytes, b->spill_stores,
                   b->spill_loads, b->compile_ms, r->nvrtc_ms, b->cache_hit);
            for (const char *p = r->note; *p; p++) {
                if (*p == '"')
                    putchar('"');
                putchar(*p);
            }
            printf("\"\n");
            continue;
        }
        if (r->status == FA_UNSUPPORTED) {
            printf("%-46s %4s %13s %5s %9s %10s %-13s %5s  %s\n", name, "-", "-", "-", "-", "-",
                   "unsupported", "-", r->note);
            continue;
        }
        char smem[32] = "-", spill[32] = "-", regs[16] = "-", stack[16] = "-";
        if (r->status == FA_OK) {
            snprintf(regs, sizeof regs, "%d", b->registers);
            snprintf(smem, sizeof smem, "%d+%d", b->smem_static, dyn);
            snprintf(stack, sizeof stack, "%d", b->stack_bytes);
            snprintf(spill, sizeof spill, "%d/%d", b->spill_stores, b->spill_loads);
        }
        char mark[2] = {r->spills ? '*' : ' ', '\0'};
        char full[FA_VARIANT_NAME_MAX + 2];
        snprintf(full, sizeof full, "%s%s", name, mark);
        printf("%-46s %4s %13s %5s %9s %10.1f %-13s %5s  %s\n", full, regs, smem, stack, spill,
               b->compile_ms, fa_status_token(r->status), b->cache_hit ? "hit" : "miss", r->note);
    }
}

static void print_summary(FILE *f, const fa_sweep_summary *s, int n, const fa_arch *arch, int jobs,
                          const fa_variant *vs, const row *rows)
{
    fprintf(f,
            "%d of %d variants for %s: %d ok, %d compile_error, %d unsupported; %d cache hits; "
            "%.*f s wall, %.2f variants/s compiled (-j %d)\n",
            s->total, n, arch->name, s->ok, s->compile_error, s->unsupported, s->cache_hits,
            s->wall_s < 10 ? 3 : 1, s->wall_s, s->compiled_per_s, jobs);
    fprintf(f, "%d of %d ok variants spill registers (ineligible to win)%s", s->spilled, s->ok,
            s->spilled ? ":" : "\n");
    for (int i = 0, k = 0; s->spilled && i < n; i++) {
        if (!rows[i].have || !rows[i].spills)
            continue;
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        fprintf(f, "%s%s", k++ ? ", " : " ", name);
        if (k == s->spilled)
            fprintf(f, "\n");
    }
}

/* What `compile` reads from its command line. */
typedef struct compile_cli {
    const fa_arch *arch;
    int head_dim, jobs, limit, no_cache, csv;
    int given_dtype, given_causal, given_varlen; /* checked against --variant */
    const char *cache_dir;
    const char *cubin_dir; /* --cubin-dir: each compiled variant's cubin is written there */
    fa_space_filter filter;
    const char **named; /* --variant names, parsed once --arch is known */
    int n_named;
} compile_cli;

static int opt_arch(const char *name, const fa_option *opt, const char *val)
{
    compile_cli *c = opt->dst;
    if (!strcmp(val, "native"))
        return fa_cli_usage_error(name,
                                  "--arch native needs a GPU; a compile-only sweep needs an "
                                  "explicit arch: %s",
                                  fa_arch_list());
    return fa_cli_arch(name, val, &c->arch);
}

static int opt_variant(const char *name, const fa_option *opt, const char *val)
{
    (void)name;
    compile_cli *c = opt->dst;
    c->named[c->n_named++] = val; /* named has room for every argument */
    return 0;
}

static int opt_family(const char *name, const fa_option *opt, const char *val)
{
    compile_cli *c = opt->dst;
    return fa_cli_family(name, val, &c->filter.family);
}

static int opt_format(const char *name, const fa_option *opt, const char *val)
{
    compile_cli *c = opt->dst;
    if (strcmp(val, "csv") != 0 && strcmp(val, "table") != 0) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(name, "--format '%s': expected table or csv",
                                  fa_printable(val, shown, sizeof shown));
    }
    c->csv = !strcmp(val, "csv");
    return 0;
}

/* Each family's space per mode (fa_space_describe), one family a paragraph wrapped at 80
 * columns, into buf (cut to fit): what --help lists after the options. */
static void describe_spaces(char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    fa_append(buf, n, &len, "the space per mode, by family (before the legality model):\n");
    for (int i = 0; fa_family_at(i); i++) {
        char d[512];
        fa_space_describe(fa_family_at(i), d, sizeof d);
        const char *w = d;
        int col = 2, fresh = 1; /* fresh: nothing on this line yet */
        fa_append(buf, n, &len, "  ");
        while (*w) { /* word by word, continuation lines indented 4 */
            const size_t wl = strcspn(w, " ");
            if (!fresh && col + 1 + (int)wl > 80) {
                fa_append(buf, n, &len, "\n    ");
                col = 4;
                fresh = 1;
            }
            fa_append(buf, n, &len, "%s%.*s", fresh ? "" : " ", (int)wl, w);
            col += (int)wl + !fresh;
            fresh = 0;
            w += wl;
            w += strspn(w, " ");
        }
        fa_append(buf, n, &len, "\n");
    }
    fa_append(buf, n, &len, "\n");
}

/* Read the command line into c (c->named must have room for argc names). Returns -1 to go on,
 * else the exit code. */
static int parse_options(compile_cli *c, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char jobs_help[64], outro[4096];
    describe_spaces(outro, sizeof outro);
    const size_t used = strlen(outro);
    snprintf(outro + used, sizeof outro - used, "%s",
             "environment:\n"
             "  FA_TUNE_TEMPLATES=DIR  compile the templates in DIR instead of the embedded "
             "ones\n"
             "  CUDA_HOME, CUDA_PATH   where the toolkit headers are (else nvcc on PATH, "
             "then\n"
             "                         /usr/local/cuda)\n"
             "  FA_COMPILE_BATCH=N     variants per NVRTC program (default 8: one header parse\n"
             "                         for several; 1: one program each, as before)\n"
             "\n"
             "exit codes: 0 the sweep ran (compile errors are results), 1 the engine "
             "failed,\n2 usage error, 130 interrupted.\n");
    snprintf(jobs_help, sizeof jobs_help, "compile threads (default: all cores, %ld here)",
             cores > 0 ? cores : 1);
    const fa_option opts[] = {
        {.kind = FA_OPT_GROUP, .help = "required"},
        {.kind = FA_OPT_CALLBACK,
         .name = "arch",
         .cb = opt_arch,
         .dst = c,
         .takes_value = 1,
         .metavar = "ARCH",
         .help = fa_arch_list()},
        {.kind = FA_OPT_HEADDIM,
         .name = "headdim",
         .dst = &c->head_dim,
         .metavar = "D",
         .help = fa_head_dim_list()},
        {.kind = FA_OPT_GROUP, .help = "the space (its axes per family: below)"},
        {.kind = FA_OPT_DTYPES,
         .name = "dtype",
         .dst = &c->filter.dtypes,
         .seen = &c->given_dtype,
         .metavar = "fp16|bf16|all",
         .help = "default bf16"},
        {.kind = FA_OPT_MODE,
         .name = "causal",
         .dst = &c->filter.causal,
         .seen = &c->given_causal,
         .metavar = "0|1|all",
         .help = "default all (non-causal and causal)"},
        {.kind = FA_OPT_MODE,
         .name = "varlen",
         .dst = &c->filter.varlen,
         .seen = &c->given_varlen,
         .metavar = "0|1|all",
         .help = "default 0 (fixed length); the defaults give 2 modes;\nwiden with '--dtype all "
                 "--causal all --varlen all'\n(8 modes)"},
        {.kind = FA_OPT_CALLBACK,
         .name = "variant",
         .cb = opt_variant,
         .dst = c,
         .takes_value = 1,
         .what = "a variant name",
         .metavar = "NAME",
         .help = "compile only this variant, e.g.\nfwd_sm80_hd128_bf16_causal_m128n64w4s2 "
                 "(repeatable; the\nspace options and --headdim are then not needed; given,\nthey "
                 "must agree with it)"},
        {.kind = FA_OPT_INT,
         .name = "limit",
         .dst = &c->limit,
         .lo = 1,
         .hi = 1000000,
         .metavar = "N",
         .help = "stop after the first N variants the legality model accepts"},
        {.kind = FA_OPT_CALLBACK,
         .name = "family",
         .cb = opt_family,
         .dst = c,
         .takes_value = 1,
         .metavar = "NAME",
         .help = "only this kernel family's space (sm80, sm90a: forward;\nsplitkv: decode; "
                 "default: every forward family that\nruns on the arch: --arch sm90 gives sm80 "
                 "and sm90a,\n--arch sm90a only sm90a)"},
        {.kind = FA_OPT_GROUP, .help = "engine"},
        {.kind = FA_OPT_INT,
         .name = "jobs",
         .short_name = 'j',
         .dst = &c->jobs,
         .lo = 1,
         .hi = 1024,
         .metavar = "N",
         .help = jobs_help},
        {.kind = FA_OPT_STRING,
         .name = "cache-dir",
         .dst = &c->cache_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a directory",
         .metavar = "DIR",
         .help = "cubin cache (default: $FA_TUNE_CACHE_DIR, else\n$XDG_CACHE_HOME/fa-tune, else "
                 "~/.cache/fa-tune)"},
        {.kind = FA_OPT_FLAG,
         .name = "no-cache",
         .dst = &c->no_cache,
         .help = "neither read nor write the cache"},
        {.kind = FA_OPT_GROUP, .help = "output"},
        {.kind = FA_OPT_CALLBACK,
         .name = "format",
         .cb = opt_format,
         .dst = c,
         .takes_value = 1,
         .metavar = "table|csv",
         .help = "stdout format (default table); with csv the summary goes\nto stderr"},
        {.kind = FA_OPT_STRING,
         .name = "cubin-dir",
         .dst = &c->cubin_dir,
         .flags = FA_OPT_NONEMPTY,
         .what = "a directory",
         .metavar = "DIR",
         .help = "also write each compiled variant's cubin as DIR/<name>.cubin\n(DIR is created; "
                 "files replaced atomically), e.g. to read\nits SASS with 'cuobjdump -sass'; "
                 "compiles one variant per\nNVRTC program, so each cubin holds its own kernel "
                 "only"},
        {.kind = FA_OPT_END}};
    const fa_opt_cmd cmd_opts = {
        .name = cmd,
        .usage = "usage: fa-tune compile --arch ARCH --headdim D [options]\n",
        .intro = "Compile-only sweep: JIT-compiles every variant of the space for one arch and "
                 "head\ndim with NVRTC (no GPU needed) and prints each one's registers, shared "
                 "memory,\nstack, spills, compile time, status and whether the cubin came from "
                 "the cache.\nVariants the legality model rejects are listed as 'unsupported' "
                 "with the reason\nand not compiled. A variant that spills registers is marked "
                 "'*': it is ineligible\nto win a tuning run. Variants that differ only in "
                 "launch-plan parameters (decode's\nsplits and fused combine) share one "
                 "kernel: it compiles once and the others\nshow 'hit'.\n",
        .outro = outro,
        .opts = opts};
    int rc = fa_opt_parse(&cmd_opts, argc, argv);
    if (rc >= 0)
        return rc;
    if (!c->arch)
        return fa_cli_usage_error(cmd, "missing --arch: supported archs are %s", fa_arch_list());
    if (c->filter.family && !fa_family_nvrtc_arch(c->filter.family, c->arch))
        return fa_cli_usage_error(cmd, "kernel family %s does not run on %s",
                                  c->filter.family->name, c->arch->name);
    /* The space of --family is the one of the op it serves (splitkv: decode), not fwd's. */
    if (c->filter.family && !fa_family_serves(c->filter.family, c->filter.op))
        for (int op = 0; op < FA_OP_COUNT; op++)
            if (fa_family_serves(c->filter.family, (fa_op)op)) {
                c->filter.op = (fa_op)op;
                break;
            }
    if (!c->head_dim && !c->n_named)
        return fa_cli_usage_error(cmd, "missing --headdim: supported head dims are %s",
                                  fa_head_dim_list());
    return -1;
}

/* The named variants, each checked against the space options given beside it. Returns -1 to
 * go on (*out a new array of c->n_named variants), else the exit code. */
static int named_variants(const compile_cli *c, fa_variant **out)
{
    fa_err err;
    fa_err_clear(&err);
    fa_variant *vs = calloc((size_t)c->n_named, sizeof *vs);
    if (!vs) {
        fprintf(stderr, "fa-tune compile: out of memory\n");
        return FA_EXIT_FAIL;
    }
    for (int i = 0; i < c->n_named; i++) {
        if (fa_variant_parse(c->named[i], &vs[i], &err) != FA_OK) {
            free(vs);
            return fa_cli_usage_error(cmd, "%s", err.msg);
        }
        if (!fa_family_nvrtc_arch(vs[i].family, c->arch)) {
            const char *family = vs[i].family->name; /* static: outlives vs */
            free(vs);
            return fa_cli_usage_error(cmd, "--variant '%s': kernel family %s does not run on %s",
                                      c->named[i], family, c->arch->name);
        }
        for (int j = 0; j < i; j++)
            if (fa_variant_equal(&vs[j], &vs[i])) {
                free(vs);
                return fa_cli_usage_error(cmd, "--variant '%s' given twice", c->named[i]);
            }
        /* The other options may repeat a named variant's mode but not contradict it: one of
         * them would be silently ignored. */
        const fa_variant *v = &vs[i];
        const fa_space_filter *f = &c->filter;
        const char *clash =
            c->head_dim && v->head_dim != c->head_dim           ? "--headdim"
            : c->given_dtype && !(f->dtypes & (1u << v->dtype)) ? "--dtype"
            : c->given_causal && !(f->causal & (v->causal ? FA_SPACE_ON : FA_SPACE_OFF))
                ? "--causal"
            : c->given_varlen && !(f->varlen & (v->varlen ? FA_SPACE_ON : FA_SPACE_OFF))
                ? "--varlen"
            : f->family && v->family != f->family ? "--family"
                                                  : NULL;
        if (clash) {
            free(vs);
            return fa_cli_usage_error(cmd, "%s contradicts --variant '%s'", clash, c->named[i]);
        }
    }
    *out = vs;
    return -1;
}

int cmd_compile(int argc, char **argv)
{
    int rc = FA_EXIT_OK, jobs = 0;
    compile_cli c;
    memset(&c, 0, sizeof c);
    fa_space_filter_default(&c.filter);
    const fa_arch *arch = NULL;
    fa_variant *vs = NULL;
    int n = 0;
    row *rows = NULL;
    fa_compiler *comp = NULL;
    fa_err err;
    fa_err_clear(&err);

    c.named = calloc((size_t)(argc > 0 ? argc : 1), sizeof *c.named);
    if (!c.named) {
        fprintf(stderr, "fa-tune compile: out of memory\n");
        return FA_EXIT_FAIL;
    }
    if ((rc = parse_options(&c, argc, argv)) >= 0)
        goto cleanup;
    rc = FA_EXIT_OK;
    arch = c.arch;
    jobs = c.jobs;

    if (c.n_named) {
        if ((rc = named_variants(&c, &vs)) >= 0)
            goto cleanup;
        rc = FA_EXIT_OK;
        n = c.n_named;
    } else if (fa_space_enumerate(arch, c.head_dim, &c.filter, &vs, &n, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }
    if (c.limit) {
        /* Keep the prefix of the space that holds the first `limit` legal variants. */
        int legal = 0, keep = 0;
        for (; keep < n && legal < c.limit; keep++)
            legal += fa_variant_check(&vs[keep], arch, NULL) == FA_OK;
        n = keep;
    }

    if (c.cubin_dir && make_cubin_dir(c.cubin_dir, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }

    fa_compiler_opts opts = {0};
    opts.cache_dir = c.cache_dir;
    opts.no_cache = c.no_cache;
    /* A batch's cubin holds every kernel of the batch; a cubin read for its SASS is one
     * variant's. */
    if (c.cubin_dir)
        opts.batch = 1;
    if (fa_compiler_new(&opts, &comp, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }
    jobs = fa_sweep_threads(jobs, n); /* printed, so resolved here as the sweep will */
    rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
    if (!rows) {
        rc = FA_EXIT_FAIL;
        fprintf(stderr, "fa-tune compile: out of memory\n");
        goto cleanup;
    }
    int legal = 0;
    for (int i = 0; i < n; i++)
        legal += fa_variant_check(&vs[i], arch, NULL) == FA_OK;
    fprintf(stderr,
            "fa-tune compile: %d variants for %s (%d pass the legality model), %d threads, "
            "nvrtc %s, cache %s\n",
            n, arch->name, legal, jobs, fa_compiler_nvrtc_version(comp),
            c.no_cache ? "off" : fa_compiler_cache_dir(comp));

    fa_cli_on_interrupt(on_signal);

    sweep_ctx ctx = {rows, isatty(STDERR_FILENO), c.cubin_dir, 0, {0}};
    fa_err_clear(&ctx.write_err);
    fa_sweep_summary sum;
    fa_status st = fa_compile_sweep(comp, arch, vs, n, jobs, on_result, &ctx, &sum, &err);
    if (ctx.tty)
        fprintf(stderr, "\r\033[K");
    /* Even a stopped sweep prints what it has: those compiles were real. */
    print_table(vs, rows, n, c.csv);
    print_summary(c.csv ? stderr : stdout, &sum, n, arch, jobs, vs, rows);
    if (c.cubin_dir)
        fprintf(stderr, "fa-tune compile: %d cubin%s written to %s\n", ctx.cubins,
                ctx.cubins == 1 ? "" : "s", c.cubin_dir);
    if (st != FA_OK)
        rc = fa_cli_fail(cmd, ctx.write_err.status != FA_OK ? &ctx.write_err : &err);
cleanup:
    fa_compiler_free(comp);
    free(rows);
    free(vs);
    free(c.named);
    return rc;
}
