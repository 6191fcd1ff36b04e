/* This file implements a tuning session: compiler, workers or the compile-only fallback,
 * database provenance, the engine run and the end-of-run summary (see fa_session.h). */
#include "fa_session.h"

#include <stdlib.h>
#include <string.h>

#include "fa_version.h"
#include "fa_escape.h"
#include "fa_util.h"
#include "fa_problem_set.h"
#include "fa_space.h"

#include <cuda.h> /* CUDA_VERSION: the toolkit fa-tune was built with */

static void device_row(const fa_device_info *d, const fa_arch *arch, const char *nvrtc,
                       fa_db_device *row)
{
    memset(row, 0, sizeof *row);
    snprintf(row->name, sizeof row->name, "%.*s", (int)sizeof row->name - 1, d->name);
    snprintf(row->arch, sizeof row->arch, "%s", arch->name);
    row->cc = d->cc;
    row->sm_count = d->sm_count;
    row->clock_khz = d->clock_khz;
    row->mem_clock_khz = d->mem_clock_khz;
    row->memory_bytes = d->total_mem;
    row->l2_bytes = d->l2_bytes;
    row->driver_version = d->driver_version;
    row->cuda_version = CUDA_VERSION;
    int major = 0, minor = 0;
    sscanf(nvrtc, "%d.%d", &major, &minor);
    row->nvrtc_version = major * 1000 + minor * 10;
}

/* Compile-only: every class's variants through the compile pool in one sweep (one counter,
 * one summary for the whole run), each result stored once against its class's check problem
 * with the status fa_compile_stored_status gives (compiled, compile_error, unsupported). */
typedef struct sweep_ctx {
    fa_tune_session *s;
    const fa_problem *checks; /* classes' check problems */
    const int *cls;           /* per variant: index into checks */
    const fa_tune_opts *o;
    volatile int *interrupted;
} sweep_ctx;

static fa_status on_compiled(const fa_sweep_item *it, void *p)
{
    sweep_ctx *c = p;
    fa_measurement m;
    fa_measurement_init(&m);
    m.build = it->out->build;
    m.status = fa_compile_stored_status(it->out, m.message, sizeof m.message);
    fa_err err = {0};
    fa_status st = fa_db_record(c->s->db, c->s->run_id, c->s->arch->name, it->variant,
                                &c->checks[c->cls[it->index]], &m, &err);
    if (c->o->progress)
        fprintf(stderr, "[%d/%d] %-44s %s%s%s\n", it->done, it->total, it->name,
                fa_status_token(m.status), it->spills ? " (spills: ineligible)" : "",
                it->out->build.cache_hit ? " (cached)" : "");
    if (c->interrupted && *c->interrupted)
        return FA_INTERRUPTED;
    return st;
}

/* Append class pp's variants that are in this shard and not stored yet to *all (count *n,
 * capacity *cap), tagged with class k in *cls; *stored counts those already stored. */
static fa_status class_todo(fa_tune_session *s, const fa_tune_opts *o, const fa_problem *pp,
                            const fa_problem *check, int k, fa_variant **all, int **cls, int *n,
                            int *cap, int *stored, fa_err *err)
{
    fa_space_filter f = {.dtypes = 1u << pp->dtype,
                         .causal = pp->causal ? FA_SPACE_ON : FA_SPACE_OFF,
                         .varlen = pp->varlen ? FA_SPACE_ON : FA_SPACE_OFF,
                         .op = pp->op};
    fa_variant *vs = NULL;
    int nv = 0;
    fa_tune_opts oa = *o;
    oa.arch = s->arch;
    fa_status st = fa_tune_class_variants(&oa, pp, &f, &vs, &nv, err);
    char pname[FA_PROBLEM_NAME_MAX];
    fa_problem_name(check, pname, sizeof pname);
    for (int i = 0; i < nv && st == FA_OK; i++) {
        char name[FA_VARIANT_NAME_MAX];
        fa_variant_name(&vs[i], name, sizeof name);
        int found = 0;
        if (!fa_shard_has(name, o->shard_index, o->shard_count))
            continue;
        if (!o->force && (st = fa_db_has_measurement(s->db, s->device_id, s->arch->name,
                                                     fa_compiler_source_hash(s->compiler), name,
                                                     pname, &found, err)) != FA_OK)
            break;
        if (found) {
            (*stored)++;
            continue;
        }
        if (*n == *cap) {
            int c2 = *cap ? 2 * *cap : 256;
            fa_variant *a2 = realloc(*all, (size_t)c2 * sizeof **all);
            if (a2)
                *all = a2;
            int *k2 = realloc(*cls, (size_t)c2 * sizeof **cls);
            if (k2)
                *cls = k2;
            if (!a2 || !k2) {
                st = FA_ERR(err, FA_NOMEM, "compile-only sweep: out of memory");
                break;
            }
            *cap = c2;
        }
        (*all)[*n] = vs[i];
        (*cls)[(*n)++] = k;
    }
    free(vs);
    return st;
}

static fa_status compile_only(fa_tune_session *s, const fa_tune_opts *o, volatile int *interrupted,
                              fa_err *err)
{
    fa_status st = FA_OK;
    fa_variant *all = NULL;
    int *cls = NULL, n = 0, cap = 0, nclasses = 0;
    fa_problem *checks = calloc((size_t)(o->n_problems > 0 ? o->n_problems : 1), sizeof *checks);
    memset(&s->sweep, 0, sizeof s->sweep);
    s->already_stored = 0;
    if (!checks)
        return FA_ERR(err, FA_NOMEM, "compile-only sweep: out of memory");
    for (int p = 0; p < o->n_problems && st == FA_OK; p++) {
        int seen = 0; /* one class each: skip problems whose class came earlier */
        for (int q = 0; q < p && !seen; q++)
            seen = fa_problem_same_class(&o->problems[q], &o->problems[p]);
        if (seen)
            continue;
        fa_problem *check = &checks[nclasses];
        fa_tune_check_problem(&o->problems[p], check);
        check->seed = fa_problem_seed(check);
        st = class_todo(s, o, &o->problems[p], check, nclasses, &all, &cls, &n, &cap,
                        &s->already_stored, err);
        nclasses++;
    }
    sweep_ctx ctx = {s, checks, cls, o, interrupted};
    if (st == FA_OK && n > 0)
        st = fa_compile_sweep(s->compiler, s->arch, all, n, o->jobs, on_compiled, &ctx, &s->sweep,
                              err);
    free(all);
    free(cls);
    free(checks);
    if (st == FA_INTERRUPTED)
        FA_ERR(err, st, "interrupted: the compile results so far are stored; rerun to resume");
    return st;
}

fa_status fa_tune_session_run(const fa_tune_session_opts *so, const fa_tune_opts *o_in,
                              volatile int *interrupted, fa_tune_session *s, fa_err *err)
{
    fa_status st;
    fa_tune_opts o = *o_in;
    memset(s, 0, sizeof *s);
    fa_compiler_opts co = {0};
    co.cache_dir = so->cache_dir;
    double t0 = fa_now_s();
    if ((st = fa_compiler_new(&co, &s->compiler, err)) != FA_OK)
        return st;
    s->compiler_s = fa_now_s() - t0;

    /* Devices: time only on a GPU of the requested arch. */
    int native = !strcmp(so->arch_name, "native");
    s->arch = native ? NULL : fa_arch_find(so->arch_name);
    if (!so->compile_only) {
        int ords[64], n = 0;
        if ((st = fa_devices_parse(so->devices, ords, 64, &n, err)) != FA_OK)
            return st;
        fa_err derr = {0};
        t0 = fa_now_s();
        st = fa_gpu_backend_start(ords, n, s->compiler, &s->gpu, &derr);
        s->backend_s = fa_now_s() - t0;
        if (st == FA_INVALID) {
            *err = derr;
            return st;
        }
        if (st != FA_OK) {
            snprintf(s->compile_only_why, sizeof s->compile_only_why, "%.*s",
                     (int)sizeof s->compile_only_why - 1, derr.msg);
        } else {
            const fa_device_info *d = fa_gpu_backend_device(s->gpu, 0);
            const fa_arch *dev_arch = fa_arch_from_cc(d->cc);
            for (int i = 1; i < fa_gpu_backend_slots(s->gpu); i++)
                if (fa_gpu_backend_device(s->gpu, i)->cc != d->cc)
                    return FA_ERR(err, FA_INVALID,
                                  "--devices mixes GPU archs (sm%d and sm%d): tune one arch at "
                                  "a time",
                                  d->cc, fa_gpu_backend_device(s->gpu, i)->cc);
            if (native)
                s->arch = dev_arch;
            if (!dev_arch || !s->arch || s->arch->cc != dev_arch->cc) {
                snprintf(s->compile_only_why, sizeof s->compile_only_why,
                         "the GPU is %s (sm%d), not %s", d->name, d->cc,
                         s->arch ? s->arch->name : "a supported arch");
                fa_gpu_backend_stop(s->gpu);
                s->gpu = NULL;
            } else {
                s->timed = 1;
                s->gpus = fa_gpu_backend_slots(s->gpu);
                snprintf(s->device_name, sizeof s->device_name, "%s", d->name);
            }
        }
    } else {
        snprintf(s->compile_only_why, sizeof s->compile_only_why, "--compile-only was given");
    }
    if (!s->arch)
        return FA_ERR(err, FA_NO_DEVICE,
                      "--arch native needs a GPU, and none is usable (%s); name an arch, e.g. "
                      "--arch sm80, to run the compile-only sweep",
                      s->compile_only_why);
    if (o.family && !fa_family_nvrtc_arch(o.family, s->arch))
        return FA_ERR(err, FA_INVALID, "kernel family %s does not run on %s", o.family->name,
                      s->arch->name);
    for (int i = 0; o.family && i < o.n_problems; i++)
        if (!fa_family_serves(o.family, o.problems[i].op)) {
            /* name the families that do serve the op (the fix is --family, not --op) */
            char serving[128] = "";
            for (const fa_family *const *f = fa_families(); *f; f++)
                if (fa_family_serves(*f, o.problems[i].op) && fa_family_nvrtc_arch(*f, s->arch))
                    snprintf(serving + strlen(serving), sizeof serving - strlen(serving), "%s%s",
                             *serving ? " or " : "", (*f)->name);
            return FA_ERR(err, FA_INVALID,
                          "kernel family %s does not serve the %s op (problem %d of %d): %s%s",
                          o.family->name, fa_op_name(o.problems[i].op), i + 1, o.n_problems,
                          *serving ? "give --family " : "no family serves it on ",
                          *serving ? serving : s->arch->name);
        }

    t0 = fa_now_s();
    if ((st = fa_db_open(so->db_path, FA_DB_CREATE, &s->db, err)) != FA_OK)
        return st;
    fa_db_device dev;
    const char *nvrtc = fa_compiler_nvrtc_version(s->compiler);
    if (s->timed) {
        device_row(fa_gpu_backend_device(s->gpu, 0), s->arch, nvrtc, &dev);
    } else {
        int major = 0, minor = 0;
        sscanf(nvrtc, "%d.%d", &major, &minor);
        fa_db_device_compile_only(s->arch, CUDA_VERSION, major * 1000 + minor * 10, &dev);
        snprintf(s->device_name, sizeof s->device_name, "%s", dev.name);
    }
    if ((st = fa_db_device_upsert(s->db, &dev, &s->device_id, err)) != FA_OK)
        return st;
    if ((st = fa_db_run_begin(s->db, s->device_id, FA_TUNE_VERSION_STRING,
                              fa_compiler_source_hash(s->compiler), so->command_line, &s->run_id,
                              err)) != FA_OK)
        return st;
    s->db_s = fa_now_s() - t0;

    if (s->timed) {
        if (o.progress)
            fprintf(stderr, "fa-tune: tuning on %d GPU%s (%s, %s), %d problems, strategy %s\n",
                    s->gpus, s->gpus > 1 ? "s" : "", s->device_name, s->arch->name, o.n_problems,
                    fa_strategy_name(o.strategy));
        fa_tune_env env = {0};
        env.compiler = s->compiler;
        env.db = s->db;
        env.run_id = s->run_id;
        env.device_id = s->device_id;
        env.source_hash = fa_compiler_source_hash(s->compiler);
        env.interrupted = interrupted;
        fa_gpu_backend_get(s->gpu, &env.backend);
        o.arch = s->arch;
        st = fa_tune_run(&o, &env, &s->stats, err);
    } else {
        if (o.progress)
            fprintf(stderr,
                    "fa-tune: no timing (%s): running the compile-only sweep for %s instead\n",
                    s->compile_only_why, s->arch->name);
        st = compile_only(s, &o, interrupted, err);
    }
    fa_err end_err = {0};
    fa_status end = fa_db_run_end(s->db, s->run_id, st, &end_err);
    if (st == FA_OK && end != FA_OK) {
        *err = end_err;
        st = end;
    }
    return st;
}

void fa_tune_session_release(fa_tune_session *s)
{
    fa_gpu_backend_stop(s->gpu);
    fa_db_close(s->db);
    fa_compiler_free(s->compiler);
    memset(s, 0, sizeof *s);
}

/* ---- summary --------------------------------------------------------------------------- */

typedef struct best {
    char problem[FA_PROBLEM_NAME_MAX];
    char name[FA_VARIANT_NAME_MAX], runner[FA_VARIANT_NAME_MAX];
    char last_variant[FA_VARIANT_NAME_MAX];
    double tflops, runner_tflops, ms, eager_ms;
    int64_t peak, eager_peak;
    fa_db_row last; /* latest row of the current (problem, variant) */
    int have_last;
} best;

static void fold(best *b)
{
    if (!b->have_last)
        return;
    const fa_db_row *r = &b->last;
    if (r->m.status == FA_OK && r->m.tflops > 0) {
        if (r->m.tflops > b->tflops) {
            b->runner_tflops = b->tflops;
            snprintf(b->runner, sizeof b->runner, "%s", b->name);
            b->tflops = r->m.tflops;
            b->ms = r->m.median_ms;
            b->eager_ms = r->m.eager_median_ms;
            b->peak = r->m.peak_extra_bytes;
            b->eager_peak = r->m.eager_peak_extra_bytes;
            snprintf(b->name, sizeof b->name, "%s", r->variant_name);
        } else if (r->m.tflops > b->runner_tflops) {
            b->runner_tflops = r->m.tflops;
            snprintf(b->runner, sizeof b->runner, "%s", r->variant_name);
        }
    }
    b->have_last = 0;
}

static int on_row(const fa_db_row *r, void *p)
{
    best *b = p;
    if (b->have_last && strcmp(b->last.variant_name, r->variant_name) != 0)
        fold(b);
    b->last = *r; /* rows of one variant come oldest first: keep the latest */
    b->have_last = 1;
    return 0;
}

/* One pass over the arch's rows (ordered by problem, then variant) folds every problem of the
 * run at once: a query per problem scans the whole table each time (its optional filters
 * cannot use an index), 5.6 s for the 144 problems and 130k rows of a full hd128 job. */
typedef struct summary_scan {
    best *b;                            /* per problem of the run */
    char (*names)[FA_PROBLEM_NAME_MAX]; /* per problem of the run */
    int n, cur;                         /* cur: the problem of the latest row, -1 none */
} summary_scan;

static int on_scan_row(const fa_db_row *r, void *p)
{
    summary_scan *sc = p;
    if (sc->cur < 0 || strcmp(sc->names[sc->cur], r->problem_name) != 0) {
        if (sc->cur >= 0)
            fold(&sc->b[sc->cur]);
        sc->cur = -1;
        for (int i = 0; i < sc->n && sc->cur < 0; i++)
            if (!strcmp(sc->names[i], r->problem_name))
                sc->cur = i; /* the first of duplicate problems; the rest share it */
    }
    if (sc->cur >= 0)
        on_row(r, &sc->b[sc->cur]);
    return 0;
}

static void mib(int64_t bytes, char *buf, size_t n)
{
    if (bytes < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.0f MiB", bytes / 1048576.0);
}

void fa_tune_print_summary(fa_tune_session *s, const fa_tune_opts *o, FILE *out)
{
    if (!s->arch)
        return;
    if (!s->timed) {
        char stored[96] = "";
        if (s->already_stored)
            snprintf(stored, sizeof stored, "; %d already in the database, skipped",
                     s->already_stored);
        if (!s->sweep.total && s->already_stored)
            fprintf(out,
                    "compile-only sweep for %s: nothing to do, %s %d variant%s already compiled "
                    "in the database (--force compiles again)\n",
                    s->arch->name, s->already_stored > 1 ? "all" : "the", s->already_stored,
                    s->already_stored > 1 ? "s" : "");
        else
            fprintf(out,
                    "compile-only sweep for %s: %d variants, %d compiled (%d from cache, %d "
                    "spill: ineligible), %d compile errors, %d unsupported by the legality "
                    "model%s; %.1f s, %.2f variants/s\n",
                    s->arch->name, s->sweep.total, s->sweep.ok, s->sweep.cache_hits,
                    s->sweep.spilled, s->sweep.compile_error, s->sweep.unsupported, stored,
                    s->sweep.wall_s, s->sweep.compiled_per_s);
        fprintf(out, "timing needs a GPU of arch %s: %s.\n", s->arch->name, s->compile_only_why);
        fprintf(out, "the results are in the database: fa-tune db list --db %s\n",
                fa_db_path(s->db));
        return;
    }
    /* Decode problems are rated in TB/s of K/V read (fa_problem.h), forward ones in TFLOP/s. */
    int n_decode = 0;
    for (int p = 0; p < o->n_problems; p++)
        n_decode += o->problems[p].op == FA_OP_DECODE;
    fprintf(out, "%-44s %-46s %8s %8s %7s %10s\n", "problem", "winner",
            !n_decode                   ? "TFLOP/s"
            : n_decode == o->n_problems ? "TB/s"
                                        : "TFLOP|TB",
            "vs eager", "margin", "mem saved");
    summary_scan sc = {.n = o->n_problems, .cur = -1};
    sc.b = calloc((size_t)o->n_problems + 1, sizeof *sc.b);
    sc.names = calloc((size_t)o->n_problems + 1, sizeof *sc.names);
    for (int p = 0; p < o->n_problems && sc.names; p++)
        fa_problem_name(&o->problems[p], sc.names[p], sizeof sc.names[p]);
    fa_db_filter f = {0};
    f.arch = s->arch->name;
    f.timed_pairs = 1; /* a pair never timed ok cannot fold into a winner */
    fa_err err = {0};
    if (!sc.b || !sc.names || fa_db_measurements(s->db, &f, on_scan_row, &sc, &err) != FA_OK) {
        fprintf(out, "(cannot read the winners back: %s)\n",
                sc.b && sc.names ? err.msg : "out of memory");
        sc.n = 0;
    }
    if (sc.cur >= 0)
        fold(&sc.b[sc.cur]);
    for (int p = 0; p < sc.n; p++) {
        int first = 0; /* duplicate problems share the first one's winner */
        while (strcmp(sc.names[first], sc.names[p]) != 0)
            first++;
        best b = sc.b[first];
        snprintf(b.problem, sizeof b.problem, "%s", sc.names[p]);
        if (b.tflops <= 0) {
            fprintf(out, "%-44s %-46s\n", b.problem, "(no correct variant timed)");
            continue;
        }
        char speed[16] = "-", margin[16] = "-", saved[24] = "-";
        if (b.eager_ms > 0)
            snprintf(speed, sizeof speed, "%.1fx", b.eager_ms / b.ms);
        if (b.runner_tflops > 0)
            snprintf(margin, sizeof margin, "%+.1f%%", 100.0 * (b.tflops / b.runner_tflops - 1));
        if (b.eager_peak >= 0 && b.peak >= 0)
            mib(b.eager_peak - b.peak, saved, sizeof saved);
        fa_esc_term_inplace(b.name); /* from the database, maybe merged from elsewhere */
        fprintf(out,
                o->problems[p].op == FA_OP_DECODE ? "%-44s %-46s %8.2f %8s %7s %10s\n"
                                                  : "%-44s %-46s %8.1f %8s %7s %10s\n",
                b.problem, b.name, b.tflops, speed, margin, saved);
    }
    free(sc.b);
    free(sc.names);
    const fa_tune_stats *t = &s->stats;
    fprintf(out,
            "\n%d variants in %d classes: %d compiled (%d cached), %d compile errors, %d "
            "unsupported, %d spill; %d checked, %d mismatches, %d faults; %d timings stored, "
            "%d raced out (cannot win), %d skipped (already measured), %d cut by the budget",
            t->variants, t->classes, t->compiled, t->cache_hits, t->compile_errors, t->unsupported,
            t->spilled, t->checked, t->mismatches, t->faults, t->timed, t->raced, t->skipped,
            t->budget_cut);
    const int gates = t->gated + t->stage_gated + t->undecided;
    if (t->unexplored > gates) /* halving's exploration (fa_tune.h) */
        fprintf(out, ", %d not compiled (outside what halving explored; --explore 1 for all)",
                t->unexplored - gates);
    if (t->undecided > 0)
        fprintf(out, ", %d not compiled (the run stopped before their gate was decided)",
                t->undecided);
    if (t->stage_gated > 0)
        fprintf(out,
                ", %d not compiled (more stages or pingpong of tiles whose version without was "
                "more than %.2fx behind the best; --stage-gate 0 for all)",
                t->stage_gated, o->stage_gate);
    if (t->gated > 0)
        fprintf(out,
                ", %d not compiled (in families more than %.2fx behind the best; "
                "--family-gate 0 for all)",
                t->gated, o->family_gate);
    fputc('\n', out);
    fprintf(out, "wall %.1f s, GPU idle %.0f%% (%d GPU%s), %.1f variants/min\n", t->wall_s,
            100 * t->gpu_idle_fraction, s->gpus, s->gpus > 1 ? "s" : "",
            t->wall_s > 0 ? 60.0 * (t->compiled + t->cache_hits) / t->wall_s : 0);
    if (n_decode < o->n_problems)
        fprintf(out, "TFLOP/s = 4*batch*heads*seqlen_q*seqlen_k*headdim / time, halved for causal "
                     "with seqlen_q = seqlen_k.\n");
    if (n_decode)
        fprintf(out, "TB/s (decode) = K/V bytes read / time: the sum over sequences of 2*cache "
                     "length*heads_kv*headdim*2 bytes.\n");
}
