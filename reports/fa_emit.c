/*
 * This file implements `fa-tune emit`'s library side (fa_emit.h): it reads the winners of each
 * requested arch from the results database, finds the runs they were measured in, compiles the
 * winners' cubins when asked, and hands everything to the renderer (fa_emit_render.c); then
 * writes the header atomically.
 *
 * Determinism: every list is in an order the database defines (fa_db_winners' key order,
 * fa_db_runs' start order, then uuid) or that is derived from it; nothing depends on time,
 * paths, the order of --arch options or the host.
 */
#include "fa_emit.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fa_emit_internal.h"
#include "fa_family.h"
#include "fa_output.h"

int fa_emit_prefix_valid(const char *name)
{
    if (!name || !name[0] || strlen(name) > FA_EMIT_PREFIX_MAX || name[0] == '_' ||
        (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    /* Double underscores are reserved in C++. */
    return strstr(name, "__") == NULL;
}

fa_status fa_emit_default_variant(int head_dim, const fa_arch *arch, fa_variant *v, fa_err *err)
{
    /* FlashAttention-2's tiles in the sm80 family, which runs on every arch. */
    const fa_family *f = fa_family_sm80();
    const int bm = fa_family_axis(f, "block_m"), bn = fa_family_axis(f, "block_n");
    const int w = fa_family_axis(f, "warps"), s = fa_family_axis(f, "stages");
    fa_variant d = {0};
    d.family = f;
    d.op = FA_OP_FWD;
    d.head_dim = head_dim;
    d.params[w] = 4;
    d.params[s] = 2;
    if (head_dim <= 64) {
        d.params[bm] = 128;
        d.params[bn] = 128;
    } else if (head_dim <= 128) {
        d.params[bm] = 128;
        d.params[bn] = 64;
    } else if (head_dim <= 192) {
        d.params[bm] = 128;
        d.params[bn] = 64;
        d.params[w] = 8;
    } else {
        d.params[bm] = 64;
        d.params[bn] = 64;
    }
    for (; d.params[s] >= 1; d.params[s]--)
        if (fa_variant_check(&d, arch, NULL) == FA_OK) {
            *v = d;
            return FA_OK;
        }
    return FA_ERR(err, FA_UNSUPPORTED, "no default tiles fit head dim %d on %s", head_dim,
                  arch ? arch->name : "(no arch)");
}

fa_status fa_emit_default_decode_variant(int head_dim, const fa_arch *arch, fa_variant *v,
                                         fa_err *err)
{
    /* The splitkv family's first search seeds (m16n64w4s3, hd64 m16n128w4s3, hd256 s2) with
     * auto splits, made smaller (stages, then BLOCK_N, then warps) until legal on arch. */
    const fa_family *f = fa_family_find("splitkv");
    if (!f)
        return FA_ERR(err, FA_UNSUPPORTED, "no decode family in this build");
    const int bm = fa_family_axis(f, "block_m"), bn = fa_family_axis(f, "block_n");
    const int w = fa_family_axis(f, "warps"), s = fa_family_axis(f, "stages");
    const int k = fa_family_axis(f, "splits");
    fa_variant d = {0};
    d.family = f;
    d.op = FA_OP_DECODE;
    d.head_dim = head_dim;
    d.params[bm] = 16;
    d.params[k] = 0;
    for (int n = head_dim == 64 ? 128 : 64; n >= 32; n /= 2)
        for (int warps = 4; warps >= 2; warps /= 2)
            for (int stages = head_dim == 256 ? 2 : 3; stages >= 2; stages--) {
                d.params[bn] = n;
                d.params[w] = warps;
                d.params[s] = stages;
                if (fa_variant_check(&d, arch, NULL) == FA_OK) {
                    *v = d;
                    return FA_OK;
                }
            }
    return FA_ERR(err, FA_UNSUPPORTED, "no default decode tiles fit head dim %d on %s", head_dim,
                  arch ? arch->name : "(no arch)");
}

/* ---- growable arrays --------------------------------------------------------------------- */

/* Make room for one more element of size elem in *items (n used, *cap allocated). */
static int grow(void **items, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return 1;
    int ncap = *cap ? 2 * *cap : 16;
    void *p = realloc(*items, (size_t)ncap * elem);
    if (!p)
        return 0;
    *items = p;
    *cap = ncap;
    return 1;
}

/* ---- collecting ---------------------------------------------------------------------------- */

typedef struct winners_ctx {
    fa_emit_model *m;
    int arch;
    int nomem;
    char bad[320]; /* why a winner row cannot be trusted ("" when all could) */
} winners_ctx;

static int is_decode(const fa_db_winner *w)
{
    return w->variant.family && w->variant.op == FA_OP_DECODE &&
           !strcmp(w->variant.family->name, "splitkv");
}

/* Does entry w agree with itself? The key's mode comes from the problem rows and the kernel
 * from the variant name: fa-tune writes both from one variant, so a mismatch (or a TFLOP/s
 * figure that is not a finite positive number) means rows written or edited by something else,
 * and a header built from them would send problems to the wrong kernel or not compile. */
static int entry_consistent(const fa_db_winner *w, char *why, size_t n)
{
    const fa_variant *v = &w->variant;
    if (v->dtype != w->dtype || v->head_dim != w->head_dim || v->causal != w->causal ||
        v->varlen != w->varlen) {
        snprintf(why, n,
                 "the winner %s does not fit its problems (%s, head dim %d, causal %d, "
                 "varlen %d)",
                 w->variant_name, fa_dtype_name(w->dtype), w->head_dim, w->causal, w->varlen);
        return 0;
    }
    if (!isfinite(w->tflops) || w->tflops <= 0) {
        snprintf(why, n, "the winner %s has TFLOP/s %g", w->variant_name, w->tflops);
        return 0;
    }
    /* The header's lookup divides by gqa and compares buckets: both are >= 1 in any problem
     * fa-tune measures (heads and lengths are at most 2^24). */
    if (w->gqa < 1 || w->gqa > (1 << 24) || w->bucket < 1 || w->bucket > (1 << 24)) {
        snprintf(why, n, "the winner %s has gqa %d and bucket %d", w->variant_name, w->gqa,
                 w->bucket);
        return 0;
    }
    if (w->variant.op == FA_OP_DECODE &&
        ((w->q_bucket != 1 && w->q_bucket != 4 && w->q_bucket != 16) ||
         (w->paged != 0 && w->paged != 1))) {
        snprintf(why, n, "the winner %s has seqlen_q bucket %d and paged %d", w->variant_name,
                 w->q_bucket, w->paged);
        return 0;
    }
    return 1;
}

/* Append winner w of arch c->arch to *entries (n used, *cap allocated). */
static int add_entry(winners_ctx *c, fa_emit_entry **entries, int *n, int *cap,
                     const fa_db_winner *w)
{
    if (!entry_consistent(w, c->bad, sizeof c->bad))
        return 1;
    if (!grow((void **)entries, *n, cap, sizeof **entries)) {
        c->nomem = 1;
        return 1;
    }
    fa_emit_entry *e = &(*entries)[(*n)++];
    memset(e, 0, sizeof *e);
    e->arch = c->arch;
    e->w = *w;
    e->kernel = -1;
    return 0;
}

/* A decode winner of fa_db_decode_winners (keyed by seqlen_q bucket and paging too). */
static int on_decode_winner(const fa_db_winner *w, void *user)
{
    winners_ctx *c = user;
    fa_emit_model *m = c->m;
    if (!is_decode(w))
        return 0;
    return add_entry(c, &m->dentries, &m->n_dentries, &m->cap_dentries, w);
}

/* The variant a PackGQA kernel falls back to for problems whose query heads per KV head do not
 * fit its tile: the same variant without pack_gqa. 0 if v is not PackGQA or the twin is not
 * legal on arch. */
static int pack_gqa_twin(const fa_variant *v, const fa_arch *arch, fa_variant *twin)
{
    const int pg = v->family ? fa_family_axis(v->family, "pack_gqa") : -1;
    if (pg < 0 || v->params[pg] != 1)
        return 0;
    *twin = *v;
    twin->params[pg] = 0;
    return fa_variant_check(twin, arch, NULL) == FA_OK;
}

/* A forward variant the header can launch on arch: sm80, or sm90a (a PackGQA one only with a
 * legal twin to fall back to: pack_gqa_twin). */
static int launchable(const fa_variant *v, const fa_arch *arch)
{
    fa_variant twin;
    if (!v->family)
        return 0;
    if (v->family == fa_family_sm80())
        return 1;
    if (strcmp(v->family->name, "sm90a") != 0)
        return 0;
    return fa_variant_param(v, "pack_gqa") != 1 || pack_gqa_twin(v, arch, &twin);
}

/* The runner-up of w as the key's entry, if the header can launch it: its name and TFLOP/s
 * (the view gives no other figure of it, and the header uses no other). */
static int runner_up_entry(const fa_db_winner *w, const fa_arch *arch, fa_db_winner *r)
{
    fa_err err = {0};
    *r = *w;
    if (!w->runner_up_name[0] || fa_variant_parse(w->runner_up_name, &r->variant, &err) != FA_OK ||
        !launchable(&r->variant, arch))
        return 0;
    snprintf(r->variant_name, sizeof r->variant_name, "%s", w->runner_up_name);
    r->tflops = w->runner_up_tflops;
    r->median_ms = r->eager_ms = r->speedup = -1;
    r->registers = r->smem_bytes = r->spill_bytes = -1;
    r->runner_up_name[0] = '\0';
    r->runner_up_tflops = r->margin = -1;
    return 1;
}

/* Appends name to the list (", "-separated) unless it is there or would not fit. */
static void add_name(char *list, size_t n, const char *name)
{
    if (strstr(list, name) || strlen(list) + strlen(name) + 3 >= n)
        return;
    if (list[0])
        strcat(list, ", ");
    strcat(list, name);
}

static int on_winner(const fa_db_winner *w, void *user)
{
    winners_ctx *c = user;
    fa_emit_model *m = c->m;
    if (is_decode(w))
        return 0; /* on_decode_winner's, by the finer decode key */
    const fa_arch *arch = m->archs[c->arch];
    if (launchable(&w->variant, arch))
        return add_entry(c, &m->entries, &m->n_entries, &m->cap_entries, w);
    /* The header launches the sm80 and sm90a families (and splitkv for decode). A winner it
     * cannot launch (another family, the tests' testtwo, or an sm90a PackGQA tile without a
     * legal fallback) gives way to its runner-up when the header can launch that; else the key
     * is left out of the table (its problems go to the nearest key's kernel). The banner
     * counts and names both. */
    const int sm90a = w->variant.family && !strcmp(w->variant.family->name, "sm90a");
    const char *fam = !w->variant.family ? "(unknown)"
                      : sm90a            ? "sm90a pack_gqa"
                                         : w->variant.family->name;
    fa_db_winner r;
    if (runner_up_entry(w, arch, &r)) {
        m->n_runner_up++;
        add_name(m->runner_up_families, sizeof m->runner_up_families, fam);
        return add_entry(c, &m->entries, &m->n_entries, &m->cap_entries, &r);
    }
    m->n_skipped++;
    add_name(m->skipped_families, sizeof m->skipped_families, fam);
    return 0;
}

/* The runs behind one winner: per problem of its key, the run of the latest measurement. */
typedef struct prov_ctx {
    fa_emit_model *m;
    const fa_db_winner *w;
    char problem[FA_PROBLEM_NAME_MAX]; /* problem of the pending row */
    char run[FA_DB_UUID_MAX];          /* run of its latest measurement so far */
    int nomem;
} prov_ctx;

static int add_uuid(fa_emit_model *m, const char *uuid)
{
    for (int i = 0; i < m->n_uuids; i++)
        if (!strcmp(m->uuids[i], uuid))
            return 1;
    if (!grow((void **)&m->uuids, m->n_uuids, &m->cap_uuids, sizeof *m->uuids))
        return 0;
    snprintf(m->uuids[m->n_uuids++], sizeof m->uuids[0], "%s", uuid);
    return 1;
}

static void prov_flush(prov_ctx *c)
{
    if (c->problem[0] && c->run[0] && !add_uuid(c->m, c->run))
        c->nomem = 1;
    c->problem[0] = c->run[0] = '\0';
}

static int on_measurement(const fa_db_row *r, void *user)
{
    prov_ctx *c = user;
    if (r->gqa != c->w->gqa || r->bucket != c->w->bucket ||
        !strcmp(r->device_name, FA_DB_COMPILE_ONLY))
        return 0;
    /* A decode winner's key has the seqlen_q bucket and the paging too. */
    if (c->w->q_bucket && (fa_decode_q_bucket(r->problem.seqlen_q) != c->w->q_bucket ||
                           (r->problem.page_size > 0) != c->w->paged))
        return 0;
    /* Rows come by problem name, then run start: the last row of a problem is its latest. */
    if (strcmp(r->problem_name, c->problem) != 0) {
        prov_flush(c);
        snprintf(c->problem, sizeof c->problem, "%s", r->problem_name);
    }
    snprintf(c->run, sizeof c->run, "%s", r->run_uuid);
    return c->nomem;
}

static int on_run(const fa_db_run *r, void *user)
{
    winners_ctx *c = user;
    fa_emit_model *m = c->m;
    int wanted = 0;
    for (int i = 0; i < m->n_uuids && !wanted; i++)
        wanted = !strcmp(m->uuids[i], r->uuid);
    for (int i = 0; i < m->n_runs && wanted; i++)
        if (!strcmp(m->runs[i].uuid, r->uuid))
            wanted = 0; /* already listed under another arch */
    if (!wanted)
        return 0;
    if (!grow((void **)&m->runs, m->n_runs, &m->cap_runs, sizeof *m->runs)) {
        c->nomem = 1;
        return 1;
    }
    m->runs[m->n_runs++] = *r;
    return 0;
}

static int run_cmp(const void *a, const void *b)
{
    const fa_db_run *x = a, *y = b;
    int c = strcmp(x->started_at, y->started_at);
    return c ? c : strcmp(x->uuid, y->uuid);
}

/* The kernel index of (arch, variant) in kernels[first, *n), adding it if new. -1 when out
 * of memory. */
static int kernel_add(fa_emit_kernel **kernels, int *n, int *cap, int first, int arch,
                      const fa_variant *v)
{
    for (int i = first; i < *n; i++)
        if (fa_variant_equal(&(*kernels)[i].v, v))
            return i;
    if (!grow((void **)kernels, *n, cap, sizeof **kernels))
        return -1;
    fa_emit_kernel *k = &(*kernels)[*n];
    memset(k, 0, sizeof *k);
    k->arch = arch;
    k->v = *v;
    k->fallback = -1;
    fa_variant_name(v, k->name, sizeof k->name);
    return (*n)++;
}

static int kernel_index(fa_emit_model *m, int arch, const fa_variant *v)
{
    return kernel_add(&m->kernels, &m->n_kernels, &m->cap_kernels, m->first_kernel[arch], arch, v);
}

/* A decode winner's kernel: the splits and fuse axes change the plan, not the kernels, so
 * winners that differ only in them share one cubin (the entry keeps its splits and fuse). */
static int dkernel_index(fa_emit_model *m, int arch, const fa_variant *v)
{
    fa_variant k;
    fa_variant_kernels_of(v, &k);
    return kernel_add(&m->dkernels, &m->n_dkernels, &m->cap_dkernels, m->first_dkernel[arch], arch,
                      &k);
}

static fa_status compile_kernel(const fa_compile_service *cs, fa_emit_kernel *k,
                                const fa_arch *arch, fa_err *err)
{
    fa_compile_output out;
    memset(&out, 0, sizeof out);
    fa_status st = cs->compile_variant(cs->ctx, &k->v, arch, &out, err);
    if (st != FA_OK)
        goto cleanup;
    if (out.status != FA_OK) {
        char why[256];
        fa_compile_log_summary(out.log, why, sizeof why);
        if (!why[0])
            snprintf(why, sizeof why, "see 'fa-tune compile --variant ...' for the log");
        st = FA_ERR(err, out.status, "winner %s does not compile for %s (%s): %s", k->name,
                    arch->name, fa_status_str(out.status), why);
        goto cleanup;
    }
    k->cubin = out.cubin;
    k->cubin_size = out.cubin_size;
    out.cubin = NULL;
    snprintf(k->symbol, sizeof k->symbol, "%s", out.lowered_name);

cleanup:
    fa_compile_output_release(&out);
    return st;
}

/* Check a winner of arch a, give it its kernel and collect the runs behind it. */
static fa_status entry_finish(fa_db *db, fa_emit_model *m, int a, fa_emit_entry *e, int decode,
                              fa_err *err)
{
    const fa_arch *arch = m->archs[a];
    fa_err why;
    fa_err_clear(&why);
    if (fa_variant_check(&e->w.variant, arch, &why) != FA_OK)
        return FA_ERR(err, FA_UNSUPPORTED, "stored winner %s is not legal on %s: %s",
                      e->w.variant_name, arch->name, why.msg);
    e->kernel = decode ? dkernel_index(m, a, &e->w.variant) : kernel_index(m, a, &e->w.variant);
    if (e->kernel < 0)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    /* Provenance: the runs of the latest measurements behind this winner. */
    prov_ctx pc;
    memset(&pc, 0, sizeof pc);
    pc.m = m;
    pc.w = &e->w;
    fa_db_filter f = {0};
    f.arch = arch->name;
    f.variant = e->w.variant_name;
    fa_status st = fa_db_measurements(db, &f, on_measurement, &pc, err);
    prov_flush(&pc);
    if (st == FA_OK && pc.nomem)
        st = FA_ERR(err, FA_NOMEM, "out of memory");
    return st;
}

/* Give each PackGQA kernel of arch a its fallback: its twin without pack_gqa (pack_gqa_twin),
 * a kernel of the arch too (added after the winners' kernels unless one of them is it), for
 * the problems whose query heads per KV head do not fit its tile. */
static fa_status add_fallbacks(fa_emit_model *m, int a, fa_err *err)
{
    const int end = m->n_kernels; /* the twins added below have none of their own */
    for (int i = m->first_kernel[a]; i < end; i++) {
        fa_variant twin;
        if (!pack_gqa_twin(&m->kernels[i].v, m->archs[a], &twin))
            continue;
        int k = kernel_index(m, a, &twin);
        if (k < 0)
            return FA_ERR(err, FA_NOMEM, "out of memory");
        m->kernels[i].fallback = k;
    }
    return FA_OK;
}

void fa_emit_model_release(fa_emit_model *m)
{
    for (int i = 0; i < m->n_kernels; i++)
        free(m->kernels[i].cubin);
    for (int i = 0; i < m->n_dkernels; i++)
        free(m->dkernels[i].cubin);
    free(m->entries);
    free(m->kernels);
    free(m->dentries);
    free(m->dkernels);
    free(m->uuids);
    free(m->runs);
    memset(m, 0, sizeof *m);
}

static int arch_order(const fa_arch *a)
{
    int i = 0;
    for (const fa_arch *x = fa_archs; x->name; x++, i++)
        if (x == a || !strcmp(x->name, a->name))
            return i;
    return i;
}

fa_status fa_emit_model_build(fa_db *db, const fa_emit_opts *opts, fa_emit_model *m, fa_err *err)
{
    fa_status st = FA_OK;
    memset(m, 0, sizeof *m);
    if (!db || !opts || !opts->archs || opts->n_archs < 1)
        return FA_ERR(err, FA_INVALID, "emit needs a database and at least one arch");
    const char *prefix = opts->prefix ? opts->prefix : FA_EMIT_DEFAULT_PREFIX;
    if (!fa_emit_prefix_valid(prefix))
        return FA_ERR(err, FA_INVALID,
                      "bad prefix '%s': expected a C identifier of at most %d characters, not "
                      "starting with '_' and without '__'",
                      prefix, FA_EMIT_PREFIX_MAX);
    if (opts->embed_cubin && !fa_compile_service_ok(&opts->compiler))
        return FA_ERR(err, FA_INVALID, "embedding cubins needs a compiler");
    snprintf(m->prefix, sizeof m->prefix, "%s", prefix);
    m->embed = opts->embed_cubin != 0;

    /* Archs in the arch table's order, each once. */
    for (const fa_arch *a = fa_archs; a->name; a++)
        for (int i = 0; i < opts->n_archs; i++)
            if (opts->archs[i] && arch_order(opts->archs[i]) == arch_order(a)) {
                if (m->n_archs < FA_EMIT_MAX_ARCHS)
                    m->archs[m->n_archs++] = a;
                break;
            }
    for (int i = 0; i < opts->n_archs; i++)
        if (!opts->archs[i])
            return FA_ERR(err, FA_INVALID, "unknown arch: supported archs are %s", fa_arch_list());

    for (int a = 0; a < m->n_archs; a++) {
        const fa_arch *arch = m->archs[a];
        winners_ctx wc = {m, a, 0, ""};
        const int skipped_before = m->n_skipped;
        m->first_entry[a] = m->n_entries;
        m->first_kernel[a] = m->n_kernels;
        m->first_dentry[a] = m->n_dentries;
        m->first_dkernel[a] = m->n_dkernels;
        st = fa_db_winners(db, arch->name, on_winner, &wc, err);
        if (st == FA_OK && !wc.nomem && !wc.bad[0])
            st = fa_db_decode_winners(db, arch->name, on_decode_winner, &wc, err);
        if (st == FA_OK && wc.nomem)
            st = FA_ERR(err, FA_NOMEM, "out of memory reading winners");
        if (st == FA_OK && wc.bad[0])
            st = FA_ERR(err, FA_DB,
                        "'%s' (%s): %s; the rows were not written by fa-tune as they are, so no "
                        "header was written",
                        fa_db_path(db), arch->name, wc.bad);
        if (st != FA_OK)
            goto fail;
        m->num_entries[a] = m->n_entries - m->first_entry[a];
        m->num_dentries[a] = m->n_dentries - m->first_dentry[a];
        if (m->num_entries[a] == 0 && m->num_dentries[a] == 0) {
            /* Decode winners alone make a header too: one that serves decode only. */
            const char *path = fa_db_path(db);
            int dflt = !strcmp(path, FA_DB_DEFAULT_PATH);
            if (m->n_skipped > skipped_before) {
                st = FA_ERR(err, FA_NOT_FOUND,
                            "no winner for %s in '%s' that a header can launch: %d winning "
                            "kernels of families this fa-tune does not emit (%s), and no "
                            "runner-up it does",
                            arch->name, path, m->n_skipped - skipped_before, m->skipped_families);
                goto fail;
            }
            st = FA_ERR(err, FA_NOT_FOUND,
                        "no winners for %s in '%s': run 'fa-tune --arch %s --headdim "
                        "128%s%s' on a %s GPU first (once per head dim you need)",
                        arch->name, path, arch->name, dflt ? "" : " --db ", dflt ? "" : path,
                        arch->name);
            goto fail;
        }
        for (int i = m->first_entry[a]; i < m->n_entries; i++) {
            st = entry_finish(db, m, a, &m->entries[i], 0, err);
            if (st != FA_OK)
                goto fail;
        }
        st = add_fallbacks(m, a, err);
        if (st != FA_OK)
            goto fail;
        m->num_kernels[a] = m->n_kernels - m->first_kernel[a];
        for (int i = m->first_dentry[a]; i < m->n_dentries; i++) {
            st = entry_finish(db, m, a, &m->dentries[i], 1, err);
            if (st != FA_OK)
                goto fail;
        }
        m->num_dkernels[a] = m->n_dkernels - m->first_dkernel[a];
        for (int h = 0; h < fa_num_head_dims; h++) {
            st = fa_emit_default_variant(fa_head_dims[h], arch, &m->defaults[a][h], err);
            if (st != FA_OK)
                goto fail;
        }
    }

    /* Default decode tiles per arch and head dim, in headers with decode winners; head dim 0
     * where none fits (the decode lookup then answers unsupported for it). */
    for (int a = 0; a < m->n_archs && m->n_dentries > 0; a++)
        for (int h = 0; h < fa_num_head_dims; h++)
            if (fa_emit_default_decode_variant(fa_head_dims[h], m->archs[a], &m->ddefaults[a][h],
                                               NULL) != FA_OK)
                memset(&m->ddefaults[a][h], 0, sizeof m->ddefaults[a][h]);

    /* The runs, oldest first; each once even when it measured for several archs. */
    for (int a = 0; a < m->n_archs; a++) {
        winners_ctx rc = {m, a, 0, ""};
        st = fa_db_runs(db, m->archs[a]->name, on_run, &rc, err);
        if (st == FA_OK && rc.nomem)
            st = FA_ERR(err, FA_NOMEM, "out of memory");
        if (st != FA_OK)
            goto fail;
    }
    if (m->n_runs > 1)
        qsort(m->runs, (size_t)m->n_runs, sizeof *m->runs, run_cmp);

    if (m->embed) {
        snprintf(m->nvrtc_version, sizeof m->nvrtc_version, "%s", opts->compiler.nvrtc_version);
        snprintf(m->source_hash, sizeof m->source_hash, "%s", opts->compiler.source_hash);
        for (int i = 0; i < m->n_kernels; i++) {
            st = compile_kernel(&opts->compiler, &m->kernels[i], m->archs[m->kernels[i].arch], err);
            if (st != FA_OK)
                goto fail;
        }
        for (int i = 0; i < m->n_dkernels; i++) {
            st = compile_kernel(&opts->compiler, &m->dkernels[i], m->archs[m->dkernels[i].arch],
                                err);
            if (st != FA_OK)
                goto fail;
        }
        for (int i = 0; i < m->n_runs; i++)
            if (strcmp(m->runs[i].source_hash, m->source_hash) != 0)
                m->stale_source = 1;
    }
    return FA_OK;

fail:
    fa_emit_model_release(m);
    return st;
}

/* ---- the public entry points --------------------------------------------------------------- */

fa_status fa_emit_render(fa_db *db, const fa_emit_opts *opts, char **out, size_t *len,
                         fa_emit_info *info, fa_err *err)
{
    fa_emit_model m;
    fa_emit_buf b = {0};
    fa_status st = fa_emit_model_build(db, opts, &m, err);
    if (st != FA_OK)
        return st;
    fa_emit_render_header(&m, &b);
    st = fa_emit_buf_status(&b, err);
    if (st == FA_OK) {
        size_t n = 0;
        char *text = fa_emit_buf_take(&b, &n);
        if (!text) {
            st = FA_ERR(err, FA_NOMEM, "out of memory");
        } else {
            if (info) {
                memset(info, 0, sizeof *info);
                info->entries = m.n_entries + m.n_dentries;
                info->kernels = m.n_kernels + m.n_dkernels;
                info->variants = fa_emit_model_variants(&m, NULL);
                info->runs = m.n_runs;
                info->bytes = n;
                info->stale_source = m.stale_source;
            }
            *out = text;
            if (len)
                *len = n;
        }
    }
    fa_emit_buf_release(&b);
    fa_emit_model_release(&m);
    return st;
}

fa_status fa_emit_write_file(const char *path, const char *data, size_t len, fa_err *err)
{
    fa_output out;
    fa_status st = fa_output_open(&out, path, NULL, err);
    if (st != FA_OK)
        return st;
    if (fwrite(data, 1, len, out.f) != len) {
        st = FA_ERR(err, FA_IO, "cannot write '%s': %s", path, strerror(errno));
        fa_output_abort(&out);
        return st;
    }
    return fa_output_commit(&out, err);
}

fa_status fa_emit_write(fa_db *db, const fa_emit_opts *opts, const char *path, fa_emit_info *info,
                        fa_err *err)
{
    char *text = NULL;
    size_t len = 0;
    if (!path || !path[0])
        return FA_ERR(err, FA_INVALID, "no output path");
    fa_status st = strcmp(path, "-") ? fa_output_not_db(path, fa_db_path(db), err) : FA_OK;
    if (st != FA_OK)
        return st;
    st = fa_emit_render(db, opts, &text, &len, info, err);
    if (st != FA_OK)
        return st;
    if (!strcmp(path, "-")) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
            st = FA_ERR(err, FA_IO, "cannot write the header to stdout: %s", strerror(errno));
    } else {
        st = fa_emit_write_file(path, text, len, err);
    }
    free(text);
    return st;
}
