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
#include "fa_commands.h"
#include "fa_output.h"
#include "fa_space.h"
#include "fa_sweep.h"

static const char *const cmd = "compile";

static void usage(FILE *out)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(
        out,
        "usage: fa-tune compile --arch ARCH --headdim D [options]\n"
        "\n"
        "Compile-only sweep: JIT-compiles every variant of the space for one arch and head\n"
        "dim with NVRTC (no GPU needed) and prints each one's registers, shared memory,\n"
        "stack, spills, compile time, status and whether the cubin came from the cache.\n"
        "Variants the legality model rejects are listed as 'unsupported' with the reason\n"
        "and not compiled. A variant that spills registers is marked '*': it is ineligible\n"
        "to win a tuning run.\n"
        "\n"
        "required:\n"
        "  --arch ARCH            %s\n"
        "  --headdim D            %s\n"
        "\n"
        "the space (%d tile configurations per mode: BLOCK_M 64,128 x BLOCK_N 32..128 step\n"
        "16 x warps 4,8 x stages 1,2,3 x Q in registers 0,1):\n"
        "  --dtype fp16|bf16|all  default bf16\n"
        "  --causal 0|1|all       default all (non-causal and causal)\n"
        "  --varlen 0|1|all       default 0 (fixed length)\n"
        "    The defaults give 2 modes; widen with '--dtype all --causal all --varlen all'\n"
        "    (8 modes).\n"
        "  --variant NAME         compile only this variant, e.g.\n"
        "                         fwd_sm80_hd128_bf16_causal_m128n64w4s2 (repeatable; the\n"
        "                         space options and --headdim are then not needed; given,\n"
        "                         they must agree with it)\n"
        "  --limit N              stop after the first N variants the legality model accepts\n"
        "  --family NAME          only this kernel family's space (sm80, sm90a; default: every\n"
        "                         family that runs on the arch: --arch sm90 gives sm80 and\n"
        "                         sm90a, --arch sm90a only sm90a)\n"
        "\n"
        "engine:\n"
        "  -j N, -jN, --jobs N    compile threads (default: all cores, %ld here)\n"
        "  --cache-dir DIR        cubin cache (default: $FA_TUNE_CACHE_DIR, else\n"
        "                         $XDG_CACHE_HOME/fa-tune, else ~/.cache/fa-tune)\n"
        "  --no-cache             neither read nor write the cache\n"
        "\n"
        "output:\n"
        "  --format table|csv     stdout format (default table); with csv the summary goes\n"
        "                         to stderr\n"
        "  --cubin-dir DIR        also write each compiled variant's cubin as DIR/<name>.cubin\n"
        "                         (DIR is created; files replaced atomically), e.g. to read\n"
        "                         its SASS with 'cuobjdump -sass'\n"
        "\n"
        "environment:\n"
        "  FA_TUNE_TEMPLATES=DIR  compile the templates in DIR instead of the embedded ones\n"
        "  CUDA_HOME, CUDA_PATH   where the toolkit headers are (else nvcc on PATH, then\n"
        "                         /usr/local/cuda)\n"
        "\n"
        "exit codes: 0 the sweep ran (compile errors are results), 1 the engine failed,\n"
        "2 usage error, 130 interrupted.\n",
        fa_arch_list(), fa_head_dim_list(), fa_space_tiles_per_mode(fa_family_sm80()),
        cores > 0 ? cores : 1);
}

/* "sm80, sm90a": the registered families, for messages. */
static const char *family_list(void)
{
    static char buf[256];
    size_t used = 0;
    buf[0] = '\0';
    for (const fa_family *const *f = fa_families(); *f && used < sizeof buf; f++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "", (*f)->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Parses "0", "1" or "all" into a mode bit set. */
static int parse_mode(const char *opt, const char *val, unsigned *out)
{
    if (val && !strcmp(val, "0"))
        *out = FA_SPACE_OFF;
    else if (val && !strcmp(val, "1"))
        *out = FA_SPACE_ON;
    else if (val && !strcmp(val, "all"))
        *out = FA_SPACE_BOTH;
    else
        return fa_cli_usage_error(cmd, "%s '%s': expected 0, 1 or all", opt, val ? val : "");
    return 0;
}

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

int cmd_compile(int argc, char **argv)
{
    int rc = FA_EXIT_OK;
    const fa_arch *arch = NULL;
    int head_dim = 0, jobs = 0, limit = 0, no_cache = 0, csv = 0;
    unsigned given = 0; /* --dtype 1, --causal 2, --varlen 4: checked against --variant */
    const char *cache_dir = NULL, *cubin_dir = NULL;
    fa_space_filter filter;
    fa_space_filter_default(&filter);
    fa_variant *vs = NULL;
    int n = 0, n_named = 0;
    row *rows = NULL;
    fa_compiler *comp = NULL;
    fa_err err;
    fa_err_clear(&err);

    /* --variant names are collected first, parsed once --arch is known. */
    const char **named = calloc((size_t)(argc > 0 ? argc : 1), sizeof *named);
    if (!named) {
        fprintf(stderr, "fa-tune compile: out of memory\n");
        return FA_EXIT_FAIL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (fa_cli_is_help(a)) {
            usage(stdout);
            goto cleanup;
        } else if (!strcmp(a, "--arch")) {
            if (val && !strcmp(val, "native")) {
                rc = fa_cli_usage_error(cmd,
                                        "--arch native needs a GPU; a compile-only sweep "
                                        "needs an explicit arch: %s",
                                        fa_arch_list());
                goto cleanup;
            }
            if ((rc = fa_cli_arch(cmd, val, &arch)) != 0)
                goto cleanup;
        } else if (!strcmp(a, "--headdim")) {
            if ((rc = fa_cli_headdim(cmd, val, &head_dim)) != 0)
                goto cleanup;
        } else if (!strcmp(a, "--dtype")) {
            fa_dtype dt;
            given |= 1;
            if (val && !strcmp(val, "all"))
                filter.dtypes = (1u << FA_DTYPE_FP16) | (1u << FA_DTYPE_BF16);
            else if ((rc = fa_cli_dtype(cmd, val, &dt)) != 0)
                goto cleanup;
            else
                filter.dtypes = 1u << dt;
        } else if (!strcmp(a, "--causal")) {
            given |= 2;
            if ((rc = parse_mode(a, val, &filter.causal)) != 0)
                goto cleanup;
        } else if (!strcmp(a, "--varlen")) {
            given |= 4;
            if ((rc = parse_mode(a, val, &filter.varlen)) != 0)
                goto cleanup;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            if ((rc = fa_cli_int(cmd, a, val, 1, 1024, &jobs)) != 0)
                goto cleanup;
        } else if (!strncmp(a, "-j", 2)) { /* -j2, as make takes it */
            if ((rc = fa_cli_int(cmd, "-j", a + 2, 1, 1024, &jobs)) != 0)
                goto cleanup;
            takes = 0;
        } else if (!strcmp(a, "--limit")) {
            if ((rc = fa_cli_int(cmd, a, val, 1, 1000000, &limit)) != 0)
                goto cleanup;
        } else if (!strcmp(a, "--cache-dir")) {
            if (!val || !*val) {
                rc = fa_cli_usage_error(cmd, "--cache-dir needs a directory");
                goto cleanup;
            }
            cache_dir = val;
        } else if (!strcmp(a, "--family")) {
            if (!val || !(filter.family = fa_family_find(val))) {
                rc = fa_cli_usage_error(cmd, "unknown --family '%s': families are %s",
                                        val ? val : "", family_list());
                goto cleanup;
            }
        } else if (!strcmp(a, "--cubin-dir")) {
            if (!val || !*val) {
                rc = fa_cli_usage_error(cmd, "--cubin-dir needs a directory");
                goto cleanup;
            }
            cubin_dir = val;
        } else if (!strcmp(a, "--variant")) {
            if (!val) {
                rc = fa_cli_usage_error(cmd, "--variant needs a variant name");
                goto cleanup;
            }
            named[n_named++] = val;
        } else if (!strcmp(a, "--format")) {
            if (val && !strcmp(val, "csv"))
                csv = 1;
            else if (val && !strcmp(val, "table"))
                csv = 0;
            else {
                rc =
                    fa_cli_usage_error(cmd, "--format '%s': expected table or csv", val ? val : "");
                goto cleanup;
            }
        } else if (!strcmp(a, "--no-cache")) {
            no_cache = 1;
            takes = 0;
        } else {
            rc = fa_cli_usage_error(cmd, "unknown option '%s'", a);
            goto cleanup;
        }
        i += takes;
    }
    if (!arch) {
        rc = fa_cli_usage_error(cmd, "missing --arch: supported archs are %s", fa_arch_list());
        goto cleanup;
    }
    if (filter.family && !fa_family_nvrtc_arch(filter.family, arch)) {
        rc = fa_cli_usage_error(cmd, "kernel family %s does not run on %s", filter.family->name,
                                arch->name);
        goto cleanup;
    }
    if (!head_dim && !n_named) {
        rc = fa_cli_usage_error(cmd, "missing --headdim: supported head dims are %s",
                                fa_head_dim_list());
        goto cleanup;
    }

    if (n_named) {
        vs = calloc((size_t)n_named, sizeof *vs);
        if (!vs) {
            rc = FA_EXIT_FAIL;
            fprintf(stderr, "fa-tune compile: out of memory\n");
            goto cleanup;
        }
        for (int i = 0; i < n_named; i++) {
            if (fa_variant_parse(named[i], &vs[i], &err) != FA_OK) {
                rc = fa_cli_usage_error(cmd, "%s", err.msg);
                goto cleanup;
            }
            /* The other options may repeat a named variant's mode but not contradict it: one
             * of them would be silently ignored. */
            const fa_variant *v = &vs[i];
            const char *clash =
                head_dim && v->head_dim != head_dim                  ? "--headdim"
                : (given & 1) && !(filter.dtypes & (1u << v->dtype)) ? "--dtype"
                : (given & 2) && !(filter.causal & (v->causal ? FA_SPACE_ON : FA_SPACE_OFF))
                    ? "--causal"
                : (given & 4) && !(filter.varlen & (v->varlen ? FA_SPACE_ON : FA_SPACE_OFF))
                    ? "--varlen"
                : filter.family && v->family != filter.family ? "--family"
                                                              : NULL;
            if (clash) {
                rc = fa_cli_usage_error(cmd, "%s contradicts --variant '%s'", clash, named[i]);
                goto cleanup;
            }
        }
        n = n_named;
    } else if (fa_space_enumerate(arch, head_dim, &filter, &vs, &n, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }
    if (limit) {
        /* Keep the prefix of the space that holds the first `limit` legal variants. */
        int legal = 0, keep = 0;
        for (; keep < n && legal < limit; keep++)
            legal += fa_variant_check(&vs[keep], arch, NULL) == FA_OK;
        n = keep;
    }

    if (cubin_dir && make_cubin_dir(cubin_dir, &err) != FA_OK) {
        rc = fa_cli_fail(cmd, &err);
        goto cleanup;
    }

    fa_compiler_opts opts = {0};
    opts.cache_dir = cache_dir;
    opts.no_cache = no_cache;
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
            no_cache ? "off" : fa_compiler_cache_dir(comp));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sweep_ctx ctx = {rows, isatty(STDERR_FILENO), cubin_dir, 0, {0}};
    fa_err_clear(&ctx.write_err);
    fa_sweep_summary sum;
    fa_status st = fa_compile_sweep(comp, arch, vs, n, jobs, on_result, &ctx, &sum, &err);
    if (ctx.tty)
        fprintf(stderr, "\r\033[K");
    /* Even a stopped sweep prints what it has: those compiles were real. */
    print_table(vs, rows, n, csv);
    print_summary(csv ? stderr : stdout, &sum, n, arch, jobs, vs, rows);
    if (cubin_dir)
        fprintf(stderr, "fa-tune compile: %d cubin%s written to %s\n", ctx.cubins,
                ctx.cubins == 1 ? "" : "s", cubin_dir);
    if (st != FA_OK)
        rc = fa_cli_fail(cmd, ctx.write_err.status != FA_OK ? &ctx.write_err : &err);
cleanup:
    fa_compiler_free(comp);
    free(rows);
    free(vs);
    free(named);
    return rc;
}
