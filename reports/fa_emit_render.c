/*
 * This file implements the text of an emitted dispatch header (see fa_emit.h): the banner,
 * the embedded fa_params.h, the types, the tables, the lookup and, with embedded cubins, the
 * Driver API launch code. The fixed C code (types, lookup, launcher) lives in
 * reports/emit_src/ as real C99 files, embedded at build time (fa_emit_src.h) and copied out
 * by put_src; the short fixed pieces around the per-database data are written below as they
 * appear in the header, with @p@ standing for the identifier prefix ("fa_dispatch") and @P@
 * for its upper-case form ("FA_DISPATCH"). Every number is printed with a fixed format (%d,
 * %.1f), so the same model always gives the same bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_version.h"
#include "fa_emit_internal.h"
#include "fa_emit_src.h"
#include "fa_escape.h"
#include "fa_family.h"
#include "fa_templates.h"

/* The prefix in upper case ("FA_DISPATCH"). */
static void upper_prefix(const fa_emit_model *m, char upper[FA_EMIT_PREFIX_MAX + 1])
{
    size_t i = 0;
    for (; m->prefix[i] && i < FA_EMIT_PREFIX_MAX; i++)
        upper[i] = (char)toupper((unsigned char)m->prefix[i]);
    upper[i] = '\0';
}

/* Append text with @p@ and @P@ replaced by the prefix. */
static void put_tpl(fa_emit_buf *b, const fa_emit_model *m, const char *text)
{
    char upper[FA_EMIT_PREFIX_MAX + 1];
    upper_prefix(m, upper);
    for (const char *p = text; *p;) {
        const char *at = strchr(p, '@');
        if (!at) {
            fa_emit_buf_puts(b, p);
            return;
        }
        fa_emit_buf_put(b, p, (size_t)(at - p));
        if (!strncmp(at, "@p@", 3)) {
            fa_emit_buf_puts(b, m->prefix);
            p = at + 3;
        } else if (!strncmp(at, "@P@", 3)) {
            fa_emit_buf_puts(b, upper);
            p = at + 3;
        } else {
            fa_emit_buf_put(b, at, 1);
            p = at + 1;
        }
    }
}

#define SRC_BEGIN "/* fa-tune emit: begin */\n"
#define SRC_END "/* fa-tune emit: end */\n"
#define SRC_PREFIX "fa_dispatch" /* the identifiers' prefix in emit_src/ */
#define SRC_PREFIX_UPPER "FA_DISPATCH"

/* The first needle in [p, p + n), or NULL. */
static const char *find_in(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (; n >= k; p++, n--)
        if (!memcmp(p, needle, k))
            return p;
    return NULL;
}

/* Append n bytes of emit_src/ text with SRC_PREFIX and SRC_PREFIX_UPPER renamed. */
static void put_renamed(fa_emit_buf *b, const char *prefix, const char *upper, const char *p,
                        size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *lo = find_in(p, (size_t)(end - p), SRC_PREFIX);
        const char *hi = find_in(p, (size_t)(end - p), SRC_PREFIX_UPPER);
        const char *at = lo && (!hi || lo < hi) ? lo : hi;
        if (!at) {
            fa_emit_buf_put(b, p, (size_t)(end - p));
            return;
        }
        fa_emit_buf_put(b, p, (size_t)(at - p));
        fa_emit_buf_puts(b, at == lo ? prefix : upper);
        p = at + strlen(at == lo ? SRC_PREFIX : SRC_PREFIX_UPPER);
    }
}

/* A line that only steers clang-format in emit_src/ (it keeps the layout of the headers
 * emitted before those files existed, which wraps the same whatever the prefix); left out. */
static int is_format_directive(const char *line, size_t n)
{
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    return (n == 19 && !memcmp(line, "// clang-format off", n)) ||
           (n == 18 && !memcmp(line, "// clang-format on", n));
}

#define SRC_IF "/* fa-tune emit: if "
#define SRC_ENDIF "/* fa-tune emit: endif */"
#define SRC_LAUNCHERS "/* fa-tune emit: family launchers */"

/* Whether the header holds winners of family name ("families": of any forward family but
 * sm80; "decode": of the decode op); "A|B": of A or of B. */
int fa_emit_model_has_family(const fa_emit_model *m, const char *name)
{
    const char *bar = strchr(name, '|');
    if (bar) {
        char first[32];
        snprintf(first, sizeof first, "%.*s", (int)(bar - name), name);
        return fa_emit_model_has_family(m, first) || fa_emit_model_has_family(m, bar + 1);
    }
    if (!strcmp(name, "decode") || !strcmp(name, "splitkv"))
        return m->n_dentries > 0;
    for (int i = 0; i < m->n_entries; i++) {
        const fa_family *f = m->entries[i].w.variant.family;
        if (!strcmp(name, "families") ? f != fa_family_sm80() : !strcmp(f->name, name))
            return 1;
    }
    return 0;
}

/* The line [p, p + n) without its indentation is exactly s. */
static int line_is(const char *p, size_t n, const char *s)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    return n == strlen(s) && !memcmp(p, s, n);
}

/* The NAME of an "if NAME" marker line into name; 0 if the line is not one. */
static int line_if(const char *p, size_t n, char *name, size_t cap)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    size_t k = strlen(SRC_IF);
    if (n < k + 3 || memcmp(p, SRC_IF, k) != 0 || memcmp(p + n - 3, " */", 3) != 0 ||
        n - k - 3 >= cap)
        return 0;
    memcpy(name, p + k, n - k - 3);
    name[n - k - 3] = '\0';
    return 1;
}

static void put_src(fa_emit_buf *b, const fa_emit_model *m, const char *name);

/* At the launcher's "family launchers" line: the launch of each family it holds besides
 * sm80 (whose launch is the launcher's own). */
static void put_family_launchers(fa_emit_buf *b, const fa_emit_model *m)
{
    if (fa_emit_model_has_family(m, "sm90a"))
        put_src(b, m, "fa_dispatch_plan_sm90a.h");
}

/* Append the part of reports/emit_src/NAME between its marker lines (see fa_emit_src.h),
 * renamed to the prefix, without clang-format directives; the lines of an "if NAME" block
 * only when the header holds that family (fa_emit_model_has_family), never the marker lines.
 * A file or marker missing from the build fails the render (it cannot happen in a built
 * tree). */
static void put_src(fa_emit_buf *b, const fa_emit_model *m, const char *name)
{
    const fa_template_file *f = fa_emit_src_files;
    const char *p, *end;
    char upper[FA_EMIT_PREFIX_MAX + 1];
    upper_prefix(m, upper);
    while (f->name && strcmp(f->name, name) != 0)
        f++;
    p = f->name ? strstr(f->data, SRC_BEGIN) : NULL;
    end = p ? strstr(p, SRC_END) : NULL;
    if (!end) {
        b->failed = 1;
        return;
    }
    int skip = 0;
    for (p += strlen(SRC_BEGIN); p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl + 1 : end;
        size_t n = (size_t)((nl ? nl : end) - p);
        char fam[32];
        if (line_if(p, n, fam, sizeof fam))
            skip = !fa_emit_model_has_family(m, fam);
        else if (line_is(p, n, SRC_ENDIF))
            skip = 0;
        else if (line_is(p, n, SRC_LAUNCHERS))
            put_family_launchers(b, m);
        else if (!skip && !is_format_directive(p, n))
            put_renamed(b, m->prefix, upper, p, (size_t)(eol - p));
        p = eol;
    }
}

/* Strings from the database (GPU names, versions, uuids, variant and kernel names) enter the
 * header only through these two, escaped by fa_escape.h: as comment text (no early end, no
 * nested opener, ASCII only) or as the inside of a string literal (lossless escapes). */
/* A column of the tables (the sm80 family's layout, which every family fills): a parameter
 * by its key; a family without the axis gives warps as threads / 32 and 0 otherwise (sm90a:
 * q_in_regs). */
static int sm80_param(const fa_variant *v, const char *key)
{
    if (fa_family_axis(v->family, key) >= 0)
        return fa_variant_param(v, key);
    return !strcmp(key, "warps") ? fa_variant_threads(v) / 32 : 0;
}

/* The family columns of a row in a header of several families (fa_dispatch_types.h), after
 * sep: "@P@_FAMILY_SM90A, overlap, pingpong, persistent, pack_gqa, ctas". */
static void put_family_columns(fa_emit_buf *b, const fa_emit_model *m, const char *sep,
                               const fa_variant *v)
{
    int sm90a = v->family && !strcmp(v->family->name, "sm90a");
    fa_emit_buf_puts(b, sep);
    put_tpl(b, m, sm90a ? "@P@_FAMILY_SM90A" : "@P@_FAMILY_SM80");
    fa_emit_buf_printf(
        b, ", %d, %d, %d, %d, %d", sm90a ? fa_variant_param(v, "overlap") : 0,
        sm90a ? fa_variant_param(v, "pingpong") : 0, sm90a ? fa_variant_param(v, "persistent") : 0,
        sm90a ? fa_variant_param(v, "pack_gqa") : 0, sm90a ? fa_variant_param(v, "ctas") : 1);
}

static void put_comment_text(fa_emit_buf *b, const char *s)
{
    char e[4 * FA_DB_CMDLINE_MAX];
    fa_emit_buf_puts(b, fa_esc_c_comment(e, sizeof e, s));
}

static void put_c_str(fa_emit_buf *b, const char *s)
{
    char e[4 * FA_DB_CMDLINE_MAX];
    fa_emit_buf_printf(b, "\"%s\"", fa_esc_c_str(e, sizeof e, s));
}

/* "12.4" from 12040; "unknown" for 0. */
static void version_str(int v, char *buf, size_t n)
{
    if (v <= 0)
        snprintf(buf, n, "unknown");
    else
        snprintf(buf, n, "%d.%d", v / 1000, (v % 1000) / 10);
}

/* "90", "90a": the CMAKE_CUDA_ARCHITECTURES spelling of an arch. */
static const char *cmake_arch(const fa_arch *a)
{
    return a->nvrtc_arch + 3; /* "sm_90a" -> "90a" */
}

int fa_emit_model_variants(const fa_emit_model *m, int *first)
{
    int n = 0;
    for (int i = 0; i < m->n_kernels; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = fa_variant_equal(&m->kernels[j].v, &m->kernels[i].v);
        if (!seen) {
            if (first)
                first[n] = i;
            n++;
        }
    }
    return n;
}

/* ---- banner ------------------------------------------------------------------------------ */

/* In a header of several families: which it holds, and per arch and family the modes (dtype,
 * head dim, causal, varlen) whose keys it answers with that family's winners. Lookups of other
 * modes fall back as the lookup order below says. */
static void render_families(const fa_emit_model *m, fa_emit_buf *b)
{
    static const char *const fams[] = {"sm80", "sm90a"};
    fa_emit_buf_puts(b, " * Kernel families:");
    for (size_t f = 0, k = 0; f < sizeof fams / sizeof *fams; f++)
        if (fa_emit_model_has_family(m, fams[f]))
            fa_emit_buf_printf(b, "%s %s", k++ ? "," : "", fams[f]);
    put_tpl(b, m,
            ". The family column of each row,\n"
            " * kernel and choice says which (@P@_FAMILY_SM80 or\n"
            " * @P@_FAMILY_SM90A); the types below say how each is launched,\n"
            " * and the --embed-cubin launcher runs both. The winners cover these modes (arch,\n"
            " * family: dtype, head dim, causal, varlen, and how many (gqa, bucket) keys); a\n"
            " * mode not listed is answered by the lookup's steps 4-5 (c.kernel = -1):\n");
    for (int a = 0; a < m->n_archs; a++)
        for (size_t f = 0; f < sizeof fams / sizeof *fams; f++) {
            int line = 0;
            for (int i = m->first_entry[a]; i < m->first_entry[a] + m->num_entries[a]; i++) {
                const fa_db_winner *w = &m->entries[i].w;
                if (strcmp(w->variant.family->name, fams[f]) != 0)
                    continue;
                int seen = 0, keys = 0;
                for (int j = m->first_entry[a]; j < m->first_entry[a] + m->num_entries[a]; j++) {
                    const fa_db_winner *x = &m->entries[j].w;
                    int same = x->dtype == w->dtype && x->head_dim == w->head_dim &&
                               x->causal == w->causal && x->varlen == w->varlen &&
                               x->variant.family == w->variant.family;
                    seen |= same && j < i;
                    keys += same;
                }
                if (seen)
                    continue;
                if (!line++)
                    fa_emit_buf_printf(b, " *   %s, %s:", m->archs[a]->name, fams[f]);
                fa_emit_buf_printf(b, " %s hd%d%s%s x%d;", fa_dtype_name(w->dtype), w->head_dim,
                                   w->causal ? " causal" : "", w->varlen ? " varlen" : "", keys);
            }
            if (line)
                fa_emit_buf_puts(b, "\n");
        }
    int pack = 0;
    for (int i = 0; i < m->n_kernels; i++)
        pack += m->kernels[i].fallback >= 0;
    if (pack)
        put_tpl(
            b, m,
            " * PackGQA kernels (pack_gqa 1: fa_fwd_sm90a_pack_gqa, the query heads of one KV\n"
            " * head in a tile) serve a problem when its heads_q / heads_kv fits their block_m;\n"
            " * each names in its fallback column the same tiles without PackGQA, a kernel of\n"
            " * the table too, which the launcher runs for the other problems.\n");
    fa_emit_buf_puts(b, " *\n");
}

/* In a header with decode winners: what its decode part holds and how it is used. */
static void render_decode_banner(const fa_emit_model *m, fa_emit_buf *b)
{
    if (m->n_entries == 0)
        put_tpl(b, m,
                " * Decode only: the database holds no forward winners for these archs, so the\n"
                " * forward table below is empty (one placeholder row: C has no empty arrays) and\n"
                " * @p@_lookup() answers every forward problem with the default tiles and\n"
                " * c.kernel = -1 (no instance to launch). This header serves decode problems.\n"
                " *\n");
    fa_emit_buf_printf(b,
                       " * Decode (against a KV cache): %d winners of the splitkv family in their\n"
                       " * own table (",
                       m->n_dentries);
    for (int a = 0; a < m->n_archs; a++)
        fa_emit_buf_printf(b, "%s%s %d", a ? ", " : "", m->archs[a]->name, m->num_dentries[a]);
    put_tpl(b, m,
            "), keyed by (dtype, head_dim, causal, gqa, seqlen_q bucket, paged,\n"
            " * cache bucket): the seqlen_q bucket is @p@_decode_q_bucket(seqlen_q), 1 for\n"
            " * one new token, 4 for 2-4, 16 for 5-16; paged is page_size > 0; the cache bucket\n"
            " * is @p@_bucket(max(seqlen_q, seqlen_k)). @p@_lookup_decode() answers, for the\n"
            " * head dim asked: the row of the key (@P@_EXACT); else, with the same dtype,\n"
            " * causal and gqa, the nearest seqlen_q bucket, then the nearest cache bucket (a\n"
            " * tie takes the larger), then the same paging (@P@_NEAREST_BUCKET); else the\n"
            " * nearest gqa, then as before (@P@_NEAREST_GQA); else another dtype or causal\n"
            " * (@P@_SAME_HEAD_DIM); else the arch's default decode tiles (@P@_DEFAULT).\n"
            " * Every splitkv instance runs every decode problem (any seqlen_q, gqa, paging and\n"
            " * cache length), so a fallback costs speed, never correctness.\n"
            " * @p@_decode_plan_scratch() gives the scratch bytes of a problem. Rates are K/V\n"
            " * bytes read per second (TB/s).\n"
            " *\n");
}

static void render_banner(const fa_emit_model *m, fa_emit_buf *b)
{
    fa_emit_buf_printf(b,
                       "/*\n"
                       " * GENERATED FILE -- DO NOT EDIT. Generator: fa-tune emit (fa-tune %s).\n"
                       " * Regenerate with:\n"
                       " *   fa-tune emit",
                       FA_TUNE_VERSION_STRING);
    for (int a = 0; a < m->n_archs; a++)
        fa_emit_buf_printf(b, " --arch %s", m->archs[a]->name);
    if (m->embed)
        fa_emit_buf_puts(b, " --embed-cubin");
    if (strcmp(m->prefix, FA_EMIT_DEFAULT_PREFIX) != 0)
        fa_emit_buf_printf(b, " --prefix %s", m->prefix);
    fa_emit_buf_puts(b, " --db FILE -o FILE\n");
    put_tpl(b, m,
            " *\n"
            " * Flash-attention forward dispatch table: the fastest correct variant of fa-tune's\n"
            " * fa_fwd_sm80 kernel template per (dtype, head_dim, causal, varlen, gqa, seqlen\n"
            " * bucket), as measured per GPU arch. The same database gives the same bytes: no\n"
            " * timestamps, no paths, a fixed order and fixed number formats.\n"
            " *\n");

    if (fa_emit_model_has_family(m, "families"))
        render_families(m, b);
    if (m->n_skipped) {
        fa_emit_buf_printf(
            b, " * Left out: %d winners of kernel families this header cannot launch yet (",
            m->n_skipped);
        put_comment_text(b, m->skipped_families);
        fa_emit_buf_puts(b, "); their keys use the default tiles.\n *\n");
    }
    if (m->n_runner_up) {
        fa_emit_buf_printf(b,
                           " * Runners-up: %d keys whose fastest variant this header cannot launch "
                           "yet (",
                           m->n_runner_up);
        put_comment_text(b, m->runner_up_families);
        fa_emit_buf_puts(b, ") use their second fastest.\n *\n");
    }
    if (fa_emit_model_has_family(m, "decode"))
        render_decode_banner(m, b);
    fa_emit_buf_puts(b, " * archs:");
    for (int a = 0; a < m->n_archs; a++)
        fa_emit_buf_printf(b, "%s %s (cc %d, %d entries)", a ? "," : "", m->archs[a]->name,
                           m->archs[a]->cc, m->num_entries[a]);
    fa_emit_buf_puts(b, "\n * GPUs:");
    int listed = 0;
    for (int i = 0; i < m->n_runs; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(m->runs[j].device.name, m->runs[i].device.name) &&
                   !strcmp(m->runs[j].device.arch, m->runs[i].device.arch);
        if (seen)
            continue;
        fa_emit_buf_puts(b, listed++ ? ", " : " ");
        put_comment_text(b, m->runs[i].device.name);
        fa_emit_buf_puts(b, " (");
        put_comment_text(b, m->runs[i].device.arch); /* from the database: data, as the name */
        fa_emit_buf_puts(b, ")");
    }
    if (!listed)
        fa_emit_buf_puts(b, " (none recorded)");
    fa_emit_buf_puts(b, "\n *\n * Database runs the winners were measured in (oldest first):\n");
    for (int i = 0; i < m->n_runs; i++) {
        const fa_db_run *r = &m->runs[i];
        char drv[16], cuda[16], nvrtc[16];
        version_str(r->device.driver_version, drv, sizeof drv);
        version_str(r->device.cuda_version, cuda, sizeof cuda);
        version_str(r->device.nvrtc_version, nvrtc, sizeof nvrtc);
        fa_emit_buf_puts(b, " *   run ");
        put_comment_text(b, r->uuid);
        fa_emit_buf_puts(b, " on ");
        put_comment_text(b, r->device.arch);
        fa_emit_buf_puts(b, ", ");
        put_comment_text(b, r->device.name);
        fa_emit_buf_printf(b, "\n *     driver %s, CUDA %s, NVRTC %s, fa-tune ", drv, cuda, nvrtc);
        put_comment_text(b, r->fa_tune_version);
        fa_emit_buf_puts(b, "\n *     source sha256 ");
        put_comment_text(b, r->source_hash);
        fa_emit_buf_puts(b, "\n");
    }
    if (!m->n_runs)
        fa_emit_buf_puts(b, " *   (none recorded)\n");
    if (m->embed) {
        fa_emit_buf_printf(b,
                           " *\n"
                           " * Embedded cubins: %d, compiled by NVRTC %s from templates with\n"
                           " *     source sha256 %s\n",
                           m->n_kernels + m->n_dkernels, m->nvrtc_version, m->source_hash);
        if (m->stale_source)
            fa_emit_buf_puts(b, " *   NOTE: that source differs from the source of a run above:\n"
                                " *   the cubins are today's templates, not the measured ones.\n");
    } else {
        put_tpl(b, m,
                " *\n"
                " * No cubins embedded: instantiate the winners from fa-tune's installed\n"
                " * templates with @P@_FOR_EACH_VARIANT (or emit with --embed-cubin).\n");
    }
    put_tpl(b, m,
            " *\n"
            " * Use (C99, C++ or CUDA; the table needs no library):\n"
            " *   @p@_choice c = @p@_lookup(\n"
            " *       cc, @P@_BF16, head_dim, causal, varlen, heads_q / heads_kv,\n"
            " *       max(seqlen_q, seqlen_k));\n"
            " *   launch fa_fwd_sm80<Element, head_dim, c.block_m, c.block_n, c.warps, c.stages,\n"
            " *   c.q_in_regs, causal, varlen> with grid (ceil(seqlen_q / c.block_m), heads_q,\n"
            " *   batch), c.threads threads and c.smem_bytes of dynamic shared memory (opt in\n"
            " *   with the max-dynamic-shared-memory attribute). cc is the device's compute\n"
            " *   capability * 10; varlen passes the longest sequences.\n"
            " *\n"
            " * Lookup: the arch is the exact cc; else the highest arch of the same major below\n"
            " * cc; else the lowest of the same major; else the highest below cc; else the\n"
            " * lowest. In its table, for the head dim asked (never a different one):\n"
            " *   1. @P@_EXACT: the row of the key.\n"
            " *   2. @P@_NEAREST_BUCKET: same dtype, causal, varlen and gqa; the nearest\n"
            " *      bucket (in powers of two; a tie takes the larger).\n"
            " *   3. @P@_NEAREST_GQA: same dtype, causal and varlen; the nearest gqa (by\n"
            " *      ratio, then difference; a tie takes the smaller), then the nearest bucket.\n"
            " *   4. @P@_SAME_HEAD_DIM: another mode's tiles, nearest first: differing only in\n"
            " *      dtype, then only in varlen, then in both, then in causal (and again dtype,\n"
            " *      varlen); then the nearest gqa and bucket as above.\n"
            " *   5. @P@_DEFAULT: the arch's default tiles for the head dim, FlashAttention-2's\n"
            " *      (hd <= 64 128x128 w4 s2; hd 96, 128 128x64 w4 s2; hd 192 128x64 w8 s2;\n"
            " *      hd 256 64x64 w4 s2), stages lowered where shared memory does not fit.\n"
            " * Steps 1-3 name an instance of @P@_FOR_EACH_VARIANT (c.kernel >= 0); steps 4-5\n"
            " * give tiles for an instance the header does not carry (c.kernel = -1).\n"
            " * Unsupported head dims (not 32, 64, 96, 128, 192, 256) or dtypes give\n"
            " * @P@_UNSUPPORTED.\n"
            " *\n"
            " * Causal masking is bottom-right aligned: query i sees key j iff\n"
            " * j <= i + seqlen_k - seqlen_q. GQA: query head h reads kv head h / (heads_q /\n"
            " * heads_kv). TFLOP/s: 4 * B * Hq * Nq * Nk * D / t, halved for causal with Nq = Nk;\n"
            " * the mean over the problems of the key that fa-tune timed.\n"
            " */\n");
}

/* ---- data -------------------------------------------------------------------------------- */

static const char *dtype_macro(fa_dtype t)
{
    return t == FA_DTYPE_BF16 ? "@P@_BF16" : "@P@_FP16";
}

/* Template file name, verbatim after the comment intro. */
static void render_template(const fa_emit_model *m, fa_emit_buf *b, const char *name,
                            const char *intro)
{
    const fa_template_file *f = fa_template_files;
    while (f->name && strcmp(f->name, name) != 0)
        f++;
    put_tpl(b, m, intro);
    if (!f->name) {
        b->failed = 1; /* a build without its own templates cannot exist */
        return;
    }
    /* A file under decode/ includes fa_params.h, which the header holds already. */
    static const char inc[] = "#include \"fa_params.h\"\n";
    const char *at = strncmp(name, "decode/", 7) ? NULL : strstr(f->data, inc);
    if (at) {
        fa_emit_buf_put(b, f->data, (size_t)(at - f->data));
        fa_emit_buf_put(b, at + strlen(inc), f->size - (size_t)(at - f->data) - strlen(inc));
    } else
        fa_emit_buf_put(b, f->data, f->size);
    if (f->size && f->data[f->size - 1] != '\n')
        fa_emit_buf_puts(b, "\n");
}

static void render_params(const fa_emit_model *m, fa_emit_buf *b)
{
    const fa_template_file *f = fa_template_files;
    while (f->name && strcmp(f->name, "fa_params.h") != 0)
        f++;
    put_tpl(b, m,
            "\n"
            "/* ---- fa_fwd_params: the kernel's argument struct, verbatim from fa-tune's\n"
            "   templates/fa_params.h (its include guard lets the real file sit beside it) -- */\n"
            "#if defined(__GNUC__) && !defined(__cplusplus)\n"
            "#pragma GCC diagnostic push\n"
            "#pragma GCC diagnostic ignored \"-Wpedantic\" /* _Static_assert before C11 */\n"
            "#endif\n");
    if (f->name) {
        fa_emit_buf_put(b, f->data, f->size);
        if (f->size && f->data[f->size - 1] != '\n')
            fa_emit_buf_puts(b, "\n");
    } else {
        /* A build without fa_params.h cannot exist (the kernel needs it): fail loudly. */
        fa_emit_buf_puts(b, "#error \"fa-tune was built without templates/fa_params.h\"\n");
    }
    fa_emit_buf_puts(b, "#if defined(__GNUC__) && !defined(__cplusplus)\n"
                        "#pragma GCC diagnostic pop\n"
                        "#endif\n");
    if (fa_emit_model_has_family(m, "decode"))
        render_template(m, b, "decode/fa_plan_splitkv.h",
                        "\n/* ---- the splitkv decode family's launch plan, argument struct and "
                        "scratch\n   layout, from fa-tune's templates/decode/fa_plan_splitkv.h "
                        "(its include of\n   fa_params.h left out: that is above) -- */\n");
    if (fa_emit_model_has_family(m, "sm90a"))
        render_template(m, b, "sm90a/fa_plan_sm90a.h",
                        "\n/* ---- the sm90a family's launch plan and argument layout, verbatim "
                        "from\n   fa-tune's templates/sm90a/fa_plan_sm90a.h -- */\n");
}

static void render_macros(const fa_emit_model *m, fa_emit_buf *b)
{
    int max_kernels = 0;
    for (int a = 0; a < m->n_archs; a++)
        if (m->num_kernels[a] > max_kernels)
            max_kernels = m->num_kernels[a];
    put_tpl(
        b, m,
        "\n/* ---- what this header holds ---------------------------------------------- */\n\n");
    put_tpl(b, m, "#define @P@_FA_TUNE_VERSION ");
    fa_emit_buf_printf(b, "\"%s\"\n", FA_TUNE_VERSION_STRING);
    put_tpl(b, m, "#define @P@_ARCHS \"");
    for (int a = 0; a < m->n_archs; a++)
        fa_emit_buf_printf(b, "%s%s", a ? " " : "", m->archs[a]->name);
    fa_emit_buf_puts(b, "\"\n");
    put_tpl(b, m,
            "/* For CMAKE_CUDA_ARCHITECTURES of builds that instantiate the winners. */\n"
            "#define @P@_CUDA_ARCHITECTURES \"");
    for (int a = 0; a < m->n_archs; a++) {
        /* An arch with sm90a winners builds them for sm_90a (sm80 instances run there too). */
        int specific = 0;
        for (int k = m->first_kernel[a]; k < m->first_kernel[a] + m->num_kernels[a]; k++)
            specific |= m->kernels[k].v.family->arch_specific;
        const char *ca = cmake_arch(m->archs[a]);
        fa_emit_buf_printf(b, "%s%s%s", a ? ";" : "", ca,
                           specific && ca[strlen(ca) - 1] != 'a' ? "a" : "");
    }
    fa_emit_buf_puts(b, "\"\n");
    put_tpl(b, m, "#define @P@_NUM_ARCHS ");
    fa_emit_buf_printf(b, "%d\n", m->n_archs);
    put_tpl(b, m, "#define @P@_NUM_ENTRIES ");
    fa_emit_buf_printf(b, "%d\n", m->n_entries);
    put_tpl(b, m, "#define @P@_NUM_KERNELS ");
    fa_emit_buf_printf(b, "%d\n", m->n_kernels);
    put_tpl(b, m, "#define @P@_MAX_KERNELS ");
    fa_emit_buf_printf(b, "%d /* per arch */\n", max_kernels > 0 ? max_kernels : 1);
    put_tpl(b, m, "#define @P@_HAVE_CUBINS ");
    fa_emit_buf_printf(b, "%d\n", m->embed);
}

/* Every table of the header is a function returning a static array (C99 has no other way to
 * keep one definition per program in a header) of the rows of all archs. */

/* intro (a comment), then "static inline const @p@_TYPE *@p@_FN(int *n)\n{\n". */
static void table_function(fa_emit_buf *b, const fa_emit_model *m, const char *intro,
                           const char *type, const char *fn)
{
    put_tpl(b, m, intro);
    put_tpl(b, m, "static inline const @p@_");
    fa_emit_buf_printf(b, "%s *", type);
    put_tpl(b, m, "@p@_");
    fa_emit_buf_printf(b, "%s(int *n)\n{\n", fn);
}

/* "    static const @p@_TYPE ARRAY[] = {\n", then the comment naming the columns. */
static void table_array(fa_emit_buf *b, const fa_emit_model *m, const char *type, const char *array,
                        const char *columns)
{
    put_tpl(b, m, "    static const @p@_");
    fa_emit_buf_printf(b, "%s %s[] = {\n", type, array);
    put_tpl(b, m, columns);
}

/* The end of a table function. With no rows (a header that serves decode only has no forward
 * winners), the placeholder row C needs (it has no empty arrays) and a count of 0. */
static void table_end(fa_emit_buf *b, const fa_emit_model *m, const char *array, int rows,
                      const char *placeholder)
{
    if (rows == 0 && placeholder) {
        fa_emit_buf_puts(b, "        /* none: a placeholder row, as C has no empty arrays */\n"
                            "        ");
        put_tpl(b, m, placeholder);
        fa_emit_buf_printf(b,
                           ",\n"
                           "    };\n"
                           "    if (n)\n"
                           "        *n = 0;\n"
                           "    return %s;\n"
                           "}\n",
                           array);
        return;
    }
    fa_emit_buf_printf(b,
                       "    };\n"
                       "    if (n)\n"
                       "        *n = (int)(sizeof %s / sizeof %s[0]);\n"
                       "    return %s;\n"
                       "}\n",
                       array, array, array);
}

/* The start of a winner's or an instance's row: "        {ARCH, @P@_BF16", after a comment
 * naming the arch where its rows begin (first). */
static void row_begin(fa_emit_buf *b, const fa_emit_model *m, int arch, fa_dtype dtype, int first)
{
    if (first)
        fa_emit_buf_printf(b, "        /* %s */\n", m->archs[arch]->name);
    fa_emit_buf_printf(b, "        {%d, ", arch);
    put_tpl(b, m, dtype_macro(dtype));
}

/* An instance row's name and binary columns: name, each of the n symbols (a line each with
 * embedded cubins, else ""), the cubin and its size (0, 0UL without). */
static void row_binary(fa_emit_buf *b, const fa_emit_model *m, const fa_emit_kernel *k, int index,
                       const char *const *symbols, int n)
{
    put_c_str(b, k->name);
    fa_emit_buf_puts(b, ",");
    for (int i = 0; i < n; i++) {
        if (m->embed) {
            fa_emit_buf_puts(b, "\n         ");
            put_c_str(b, symbols[i]);
            fa_emit_buf_puts(b, ",");
        } else
            fa_emit_buf_puts(b, " \"\",");
    }
    if (m->embed)
        fa_emit_buf_printf(b, "\n         cubin_%d, %zuUL", index, k->cubin_size);
    else
        fa_emit_buf_puts(b, " 0, 0UL");
}

static void render_cubin(const fa_emit_kernel *k, int index, const fa_emit_model *m, fa_emit_buf *b)
{
    const unsigned char *p = k->cubin;
    fa_emit_buf_puts(b, "    /* ");
    put_comment_text(b, k->name);
    fa_emit_buf_printf(b, " for %s: %zu bytes */\n", m->archs[k->arch]->name, k->cubin_size);
    fa_emit_buf_printf(b, "    static const unsigned char cubin_%d[] ", index);
    put_tpl(b, m, "@P@_CUBIN_ALIGN = {");
    for (size_t i = 0; i < k->cubin_size; i++) {
        if (i % 18 == 0)
            fa_emit_buf_puts(b, "\n        ");
        fa_emit_buf_printf(b, "0x%02x,", p[i]);
    }
    fa_emit_buf_puts(b, "\n    };\n");
}

/* The cubin arrays of a kernel table, inside its function (embedded cubins only). */
static void table_cubins(fa_emit_buf *b, const fa_emit_model *m, const fa_emit_kernel *k, int n)
{
    for (int i = 0; i < n && m->embed; i++)
        render_cubin(&k[i], i, m, b);
}

static void render_archs(const fa_emit_model *m, fa_emit_buf *b)
{
    const int families = fa_emit_model_has_family(m, "families");
    table_function(
        b, m,
        "\n/* ---- tables ---------------------------------------------------------------- */\n"
        "\n"
        "/* The archs, by compute capability. */\n",
        "arch", "archs");
    table_array(
        b, m, "arch", "archs",
        "        /* name, cc, first/num entries, first/num kernels, default tiles per head\n"
        "           dim {head_dim, block_m, block_n, warps, stages, q_in_regs} */\n");
    for (int a = 0; a < m->n_archs; a++) {
        fa_emit_buf_printf(b, "        {\"%s\", %d, %d, %d, %d, %d,\n         {", m->archs[a]->name,
                           m->archs[a]->cc, m->first_entry[a], m->num_entries[a],
                           m->first_kernel[a], m->num_kernels[a]);
        for (int h = 0; h < FA_EMIT_NUM_HEAD_DIMS; h++) {
            const fa_variant *d = &m->defaults[a][h];
            const char *sep = h == 0 ? "" : h == 3 || families ? ",\n          " : ", ";
            fa_emit_buf_printf(b, "%s{%d, %d, %d, %d, %d, %d", sep, d->head_dim,
                               sm80_param(d, "block_m"), sm80_param(d, "block_n"),
                               sm80_param(d, "warps"), sm80_param(d, "stages"),
                               sm80_param(d, "q_in_regs"));
            if (families)
                put_family_columns(b, m, ", ", d);
            fa_emit_buf_puts(b, "}");
        }
        fa_emit_buf_puts(b, "}},\n");
    }
    table_end(b, m, "archs", m->n_archs, NULL);
}

static void render_entries(const fa_emit_model *m, fa_emit_buf *b)
{
    const int families = fa_emit_model_has_family(m, "families");
    table_function(
        b, m,
        "\n"
        "/* The winners, per arch sorted by dtype (fp16 first), head_dim, causal, varlen, gqa,\n"
        "   bucket. */\n",
        "entry", "entries");
    table_array(b, m, "entry", "entries",
                "        /* arch, dtype, head_dim, causal, varlen, gqa, bucket,\n"
                "           block_m, block_n, warps, stages, q_in_regs, threads, smem_bytes,\n"
                "           kernel, tflops, name");
    fa_emit_buf_puts(
        b, families ? ", family, overlap, pingpong, persistent,\n           pack_gqa, ctas */\n"
                    : " */\n");
    for (int i = 0; i < m->n_entries; i++) {
        const fa_emit_entry *e = &m->entries[i];
        const fa_variant *v = &e->w.variant;
        row_begin(b, m, e->arch, e->w.dtype, i == m->first_entry[e->arch]);
        fa_emit_buf_printf(b,
                           ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %.1f,\n"
                           "         ",
                           e->w.head_dim, e->w.causal, e->w.varlen, e->w.gqa, e->w.bucket,
                           sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v), e->kernel, e->w.tflops);
        put_c_str(b, e->w.variant_name);
        if (families)
            put_family_columns(b, m, ", ", v);
        fa_emit_buf_puts(b, "},\n");
    }
    table_end(b, m, "entries", m->n_entries,
              "{0, @P@_FP16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0.0, \"\"}");
}

static void render_kernels(const fa_emit_model *m, fa_emit_buf *b)
{
    const int families = fa_emit_model_has_family(m, "families");
    table_function(b, m,
                   "\n"
                   "/* The distinct template instances per arch (the winners' kernels). */\n",
                   "kernel", "kernels");
    table_cubins(b, m, m->kernels, m->n_kernels);
    table_array(
        b, m, "kernel", "kernels",
        "        /* arch, dtype, head_dim, causal, varlen, block_m, block_n, warps, stages,\n"
        "           q_in_regs, threads, smem_bytes, name, symbol, cubin, cubin_size");
    fa_emit_buf_puts(b, families ? ", family,\n           overlap, pingpong, persistent, pack_gqa, "
                                   "ctas, fallback */\n"
                                 : " */\n");
    for (int i = 0; i < m->n_kernels; i++) {
        const fa_emit_kernel *k = &m->kernels[i];
        const fa_variant *v = &k->v;
        const char *symbol = k->symbol;
        row_begin(b, m, k->arch, v->dtype, 0);
        fa_emit_buf_printf(b, ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d,\n         ", v->head_dim,
                           v->causal, v->varlen, sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v));
        row_binary(b, m, k, i, &symbol, 1);
        if (families) { /* on their own line: the row is long enough */
            put_family_columns(b, m, ",\n         ", v);
            fa_emit_buf_printf(b, ", %d", k->fallback);
        }
        fa_emit_buf_puts(b, "},\n");
    }
    table_end(b, m, "kernels", m->n_kernels,
              "{0, @P@_FP16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, \"\", \"\", 0, 0UL}");
}

/* Does one of the n distinct instances first[] run two blocks a multiprocessor (sm90a ctas 2)? */
static int has_x2(const fa_emit_model *m, const int *first, int n)
{
    for (int i = 0; i < n; i++) {
        const fa_variant *v = &m->kernels[first[i]].v;
        if (!strcmp(v->family->name, "sm90a") && fa_variant_param(v, "ctas") == 2)
            return 1;
    }
    return 0;
}

static void render_variants(const fa_emit_model *m, fa_emit_buf *b)
{
    int *first = malloc(sizeof(int) * (size_t)(m->n_kernels > 0 ? m->n_kernels : 1));
    if (!first) {
        b->failed = 1;
        return;
    }
    int n = fa_emit_model_variants(m, first);
    put_tpl(b, m,
            "\n"
            "/* ---- the winning template instances ------------------------------------------ */\n"
            "/*\n"
            " * Every distinct instance of the table, over all archs, for builds that instantiate\n"
            " * the winners from fa-tune's installed templates (find_package(fa_tune)):\n"
            " *   X(Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, Q_IN_REGS, IS_CAUSAL,\n"
            " *     IS_VARLEN)\n"
            " * Element is __half or __nv_bfloat16, the flags are 0 or 1. For example:\n"
            " *   #define INSTANTIATE(T, D, M, N, W, S, Q, C, V) template __global__ void\n"
            " *       fa_fwd_sm80<T, D, M, N, W, S, Q != 0, C != 0, V != 0>(const fa_fwd_params);\n"
            " *   @P@_FOR_EACH_VARIANT(INSTANTIATE)\n");
    if (fa_emit_model_has_family(m, "sm90a"))
        put_tpl(
            b, m,
            " * The sm90a family's instances (sm_90a builds only: the kernel uses wgmma) call\n"
            " * X_SM90A -- X's name with _SM90A appended, so define that macro too:\n"
            " *   X_SM90A(Element, HEAD_DIM, BLOCK_M, BLOCK_N, STAGES, OVERLAP, PINGPONG,\n"
            " *           PERSISTENT, IS_CAUSAL, IS_VARLEN)\n"
            " *   #define INSTANTIATE_SM90A(T, D, M, N, S, O, P, E, C, V) template __global__\n"
            " *       void fa_fwd_sm90a<T, D, N, M / 64, S, C != 0, O != 0, P != 0, E != 0,\n"
            " *           V != 0>(const __grid_constant__ fa::sm90a_args);\n"
            " * (an empty INSTANTIATE_SM90A where the build is not for sm_90a). PackGQA\n"
            " * instances (pack_gqa 1: the kernel fa_fwd_sm90a_pack_gqa, same template\n"
            " * arguments) call X_SM90A_PACK_GQA with X_SM90A's arguments, so define it too:\n"
            " *   #define INSTANTIATE_SM90A_PACK_GQA(T, D, M, N, S, O, P, E, C, V) template\n"
            " *       __global__ void fa_fwd_sm90a_pack_gqa<T, D, N, M / 64, S, C != 0, O != 0,\n"
            " *           P != 0, E != 0, V != 0>(const __grid_constant__ fa::sm90a_args);\n");
    if (has_x2(m, first, n))
        put_tpl(b, m,
                " * Instances that run two blocks a multiprocessor (ctas 2: the kernels\n"
                " * fa_fwd_sm90a_x2 and fa_fwd_sm90a_pack_gqa_x2, same template arguments) call\n"
                " * X_SM90A_X2 and X_SM90A_PACK_GQA_X2 with X_SM90A's arguments.\n");
    put_tpl(b, m,
            " */\n"
            "#define @P@_NUM_VARIANTS ");
    fa_emit_buf_printf(b, "%d\n", n);
    put_tpl(b, m, "#define @P@_FOR_EACH_VARIANT(X)");
    for (int i = 0; i < n; i++) {
        const fa_variant *v = &m->kernels[first[i]].v;
        if (!strcmp(v->family->name, "sm90a")) {
            fa_emit_buf_printf(b, " \\\n    X##_SM90A%s%s(%s, %d, %d, %d, %d, %d, %d, %d, %d, %d)",
                               fa_variant_param(v, "pack_gqa") == 1 ? "_PACK_GQA" : "",
                               fa_variant_param(v, "ctas") == 2 ? "_X2" : "",
                               v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim,
                               fa_variant_param(v, "block_m"), fa_variant_param(v, "block_n"),
                               fa_variant_param(v, "stages"), fa_variant_param(v, "overlap"),
                               fa_variant_param(v, "pingpong"), fa_variant_param(v, "persistent"),
                               v->causal, v->varlen);
            continue;
        }
        fa_emit_buf_printf(b, " \\\n    X(%s, %d, %d, %d, %d, %d, %d, %d, %d)",
                           v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim,
                           sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), v->causal, v->varlen);
    }
    fa_emit_buf_puts(b, "\n");
    free(first);
}

/* ---- decode ------------------------------------------------------------------------------ */

static void render_decode_tables(const fa_emit_model *m, fa_emit_buf *b)
{
    int max_kernels = 0;
    for (int a = 0; a < m->n_archs; a++)
        if (m->num_dkernels[a] > max_kernels)
            max_kernels = m->num_dkernels[a];
    put_tpl(
        b, m,
        "\n/* ---- decode tables ----------------------------------------------------------- */\n"
        "\n#define @P@_NUM_DECODE_ENTRIES ");
    fa_emit_buf_printf(b, "%d\n", m->n_dentries);
    put_tpl(b, m, "#define @P@_NUM_DECODE_KERNELS ");
    fa_emit_buf_printf(b, "%d\n", m->n_dkernels);
    put_tpl(b, m, "#define @P@_MAX_DECODE_KERNELS ");
    fa_emit_buf_printf(b, "%d /* per arch */\n", max_kernels > 0 ? max_kernels : 1);

    table_function(b, m,
                   "\n"
                   "/* The decode rows per arch, in the order of @p@_archs(). */\n",
                   "decode_arch", "decode_archs");
    table_array(
        b, m, "decode_arch", "archs",
        "        /* first/num entries, first/num kernels, default decode tiles per head dim\n"
        "           {head_dim, block_m, block_n, warps, stages, splits, fuse} */\n");
    for (int a = 0; a < m->n_archs; a++) {
        fa_emit_buf_printf(b, "        {%d, %d, %d, %d, /* %s */\n         {", m->first_dentry[a],
                           m->num_dentries[a], m->first_dkernel[a], m->num_dkernels[a],
                           m->archs[a]->name);
        for (int h = 0; h < FA_EMIT_NUM_HEAD_DIMS; h++) {
            const fa_variant *d = &m->ddefaults[a][h];
            int ok = d->family != NULL;
            fa_emit_buf_printf(
                b, "%s{%d, %d, %d, %d, %d, %d, %d}", h == 0 ? "" : ",\n          ",
                ok ? d->head_dim : 0, ok ? fa_variant_param(d, "block_m") : 0,
                ok ? fa_variant_param(d, "block_n") : 0, ok ? fa_variant_param(d, "warps") : 0,
                ok ? fa_variant_param(d, "stages") : 0, ok ? fa_variant_param(d, "splits") : 0,
                ok ? fa_variant_param(d, "fuse") : 0);
        }
        fa_emit_buf_puts(b, "}},\n");
    }
    table_end(b, m, "archs", m->n_archs, NULL);

    table_function(
        b, m,
        "\n"
        "/* The decode winners, per arch sorted by dtype (fp16 first), head_dim, causal, gqa,\n"
        "   seqlen_q bucket, paged, cache bucket. */\n",
        "decode_entry", "decode_entries");
    table_array(b, m, "decode_entry", "entries",
                "        /* arch, dtype, head_dim, causal, gqa, q_bucket, paged, bucket,\n"
                "           block_m, block_n, warps, stages, splits, fuse, threads, smem_bytes,\n"
                "           kernel, tbps, name */\n");
    for (int i = 0; i < m->n_dentries; i++) {
        const fa_emit_entry *e = &m->dentries[i];
        const fa_variant *v = &e->w.variant;
        row_begin(b, m, e->arch, e->w.dtype, i == m->first_dentry[e->arch]);
        fa_emit_buf_printf(b,
                           ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %.2f,\n"
                           "         ",
                           e->w.head_dim, e->w.causal, e->w.gqa, e->w.q_bucket, e->w.paged,
                           e->w.bucket, fa_variant_param(v, "block_m"),
                           fa_variant_param(v, "block_n"), fa_variant_param(v, "warps"),
                           fa_variant_param(v, "stages"), fa_variant_param(v, "splits"),
                           fa_variant_param(v, "fuse"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v), e->kernel, e->w.tflops);
        put_c_str(b, e->w.variant_name);
        fa_emit_buf_puts(b, "},\n");
    }
    table_end(b, m, "entries", m->n_dentries, NULL);

    table_function(
        b, m,
        "\n"
        "/* The distinct decode instances per arch (split + combine kernel; splits is the\n"
        "   plan's, not the instance's). */\n",
        "decode_kernel", "decode_kernels");
    table_cubins(b, m, m->dkernels, m->n_dkernels);
    table_array(
        b, m, "decode_kernel", "kernels",
        "        /* arch, dtype, head_dim, causal, block_m, block_n, warps, stages, threads,\n"
        "           smem_bytes, name, symbol, combine_symbol, cubin, cubin_size */\n");
    for (int i = 0; i < m->n_dkernels; i++) {
        const fa_emit_kernel *k = &m->dkernels[i];
        const fa_variant *v = &k->v;
        /* With cubins, the lowered names one a line: the split kernel's, then the combine's. */
        char split[sizeof k->symbol];
        const char *nl = strchr(k->symbol, '\n');
        const char *symbols[2] = {split, nl ? nl + 1 : ""};
        snprintf(split, sizeof split, "%.*s", nl ? (int)(nl - k->symbol) : (int)sizeof split,
                 k->symbol);
        if (m->embed && (!nl || !nl[1] || strchr(nl + 1, '\n') != NULL)) {
            b->failed = 1; /* the family has two kernels: a compile gives two names */
            return;
        }
        row_begin(b, m, k->arch, v->dtype, 0);
        fa_emit_buf_printf(b, ", %d, %d, %d, %d, %d, %d, %d, %d,\n         ", v->head_dim,
                           v->causal, fa_variant_param(v, "block_m"),
                           fa_variant_param(v, "block_n"), fa_variant_param(v, "warps"),
                           fa_variant_param(v, "stages"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v));
        row_binary(b, m, k, i, symbols, 2);
        fa_emit_buf_puts(b, "},\n");
    }
    table_end(b, m, "kernels", m->n_dkernels, NULL);
}

/* The decode instances for nvcc builds: FOR_EACH_DECODE_VARIANT over the distinct split
 * kernels, FOR_EACH_DECODE_COMBINE over the distinct combine kernels (one per dtype and head
 * dim: an explicit instantiation may appear once). */
static void render_decode_variants(const fa_emit_model *m, fa_emit_buf *b)
{
    put_tpl(
        b, m,
        "\n"
        "/*\n"
        " * The decode instances (templates/decode/fa_decode_splitkv.cuh), over all archs:\n"
        " *   X(Element, HEAD_DIM, BLOCK_M, BLOCK_N, WARPS, STAGES, IS_CAUSAL) per split kernel\n"
        " *   and C(Element, HEAD_DIM) per combine kernel, each once. For example:\n"
        " *   #define INSTANTIATE_DECODE(T, D, M, N, W, S, C) template __global__ void\n"
        " *       fa_decode_splitkv<T, D, M, N, W, S, C != 0>(const __grid_constant__\n"
        " *       fa_decode_args);\n"
        " *   #define INSTANTIATE_COMBINE(T, D) template __global__ void\n"
        " *       fa_decode_combine<T, D>(const __grid_constant__ fa_decode_args);\n"
        " *   @P@_FOR_EACH_DECODE_VARIANT(INSTANTIATE_DECODE)\n"
        " *   @P@_FOR_EACH_DECODE_COMBINE(INSTANTIATE_COMBINE)\n"
        " */\n"
        "#define @P@_FOR_EACH_DECODE_VARIANT(X)");
    for (int i = 0; i < m->n_dkernels; i++) {
        const fa_variant *v = &m->dkernels[i].v;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = fa_variant_equal(&m->dkernels[j].v, v);
        if (seen)
            continue;
        fa_emit_buf_printf(b, " \\\n    X(%s, %d, %d, %d, %d, %d, %d)",
                           v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim,
                           fa_variant_param(v, "block_m"), fa_variant_param(v, "block_n"),
                           fa_variant_param(v, "warps"), fa_variant_param(v, "stages"), v->causal);
    }
    put_tpl(b, m, "\n#define @P@_FOR_EACH_DECODE_COMBINE(C)");
    for (int i = 0; i < m->n_dkernels; i++) {
        const fa_variant *v = &m->dkernels[i].v;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = m->dkernels[j].v.dtype == v->dtype && m->dkernels[j].v.head_dim == v->head_dim;
        if (!seen)
            fa_emit_buf_printf(b, " \\\n    C(%s, %d)",
                               v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim);
    }
    fa_emit_buf_puts(b, "\n");
}

void fa_emit_render_header(const fa_emit_model *m, fa_emit_buf *b)
{
    render_banner(m, b);
    put_tpl(b, m, "#ifndef @P@_H\n#define @P@_H\n");
    render_params(m, b);
    put_src(b, m, "fa_dispatch_types.h");
    render_macros(m, b);
    render_archs(m, b);
    render_entries(m, b);
    render_kernels(m, b);
    put_src(b, m, "fa_dispatch_lookup.h");
    if (fa_emit_model_has_family(m, "decode")) {
        put_src(b, m, "fa_dispatch_decode_types.h");
        render_decode_tables(m, b);
        put_src(b, m, "fa_dispatch_decode.h");
    }
    render_variants(m, b);
    if (fa_emit_model_has_family(m, "decode"))
        render_decode_variants(m, b);
    if (m->embed) {
        put_src(b, m, "fa_dispatch_launch.h");
        if (fa_emit_model_has_family(m, "decode"))
            put_src(b, m, "fa_dispatch_launch_decode.h");
    }
    put_tpl(b, m, "\n#endif /* @P@_H */\n");
}
