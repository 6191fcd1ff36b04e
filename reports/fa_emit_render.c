/*
 * This file implements the text of an emitted dispatch header (see fa_emit.h): the banner,
 * the embedded fa_params.h, the types, the tables, the lookup and, with embedded cubins, the
 * Driver API launch code. The fixed parts are written below as they appear in the header,
 * with @p@ standing for the identifier prefix ("fa_dispatch") and @P@ for its upper-case
 * form ("FA_DISPATCH"). Every number is printed with a fixed format (%d, %.1f), so the same
 * model always gives the same bytes.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_version.h"
#include "fa_emit_internal.h"
#include "fa_escape.h"
#include "fa_family.h"
#include "fa_templates.h"

/* Append text with @p@ and @P@ replaced by the prefix. */
static void put_tpl(fa_emit_buf *b, const fa_emit_model *m, const char *text)
{
    char upper[FA_EMIT_PREFIX_MAX + 1];
    size_t i = 0;
    for (; m->prefix[i]; i++)
        upper[i] = (char)toupper((unsigned char)m->prefix[i]);
    upper[i] = '\0';
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

/* Append a NULL-terminated array of template lines. */
static void put_tpl_lines(fa_emit_buf *b, const fa_emit_model *m, const char *const *lines)
{
    for (; *lines; lines++)
        put_tpl(b, m, *lines);
}

/* Strings from the database (GPU names, versions, uuids, variant and kernel names) enter the
 * header only through these two, escaped by fa_escape.h: as comment text (no early end, no
 * nested opener, ASCII only) or as the inside of a string literal (lossless escapes). */
/* The header's tables are the sm80 family's layout (its launcher's one family, see
 * fa_emit.c): a parameter by its key. */
static int sm80_param(const fa_variant *v, const char *key)
{
    return fa_variant_param(v, key);
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

    if (m->n_skipped) {
        fa_emit_buf_printf(
            b, " * Left out: %d winners of kernel families this header cannot launch yet (",
            m->n_skipped);
        put_comment_text(b, m->skipped_families);
        fa_emit_buf_puts(b, "); their keys use the default tiles.\n *\n");
    }
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
        fa_emit_buf_printf(b, " (%s)", m->runs[i].device.arch);
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
        fa_emit_buf_printf(b, " on %s, ", r->device.arch);
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
                           m->n_kernels, m->nvrtc_version, m->source_hash);
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

/* ---- fixed parts ------------------------------------------------------------------------- */

static const char *const tpl_types[] = {
    "\n",
    "/* ---- constants and types ------------------------------------------------------- */\n",
    "\n",
    "#define @P@_FORMAT 1 /* layout of this header's tables */\n",
    "#define @P@_FP16 0   /* dtype: __half */\n",
    "#define @P@_BF16 1   /* dtype: __nv_bfloat16 */\n",
    "\n",
    "/* Where a lookup's tiles came from (@p@_choice.source), best first. */\n",
    "#define @P@_UNSUPPORTED (-1)\n",
    "#define @P@_EXACT 0\n",
    "#define @P@_NEAREST_BUCKET 1\n",
    "#define @P@_NEAREST_GQA 2\n",
    "#define @P@_SAME_HEAD_DIM 3\n",
    "#define @P@_DEFAULT 4\n",
    "\n",
    "/* Alignment of embedded cubins. */\n",
    "#if defined(__GNUC__) || defined(__clang__)\n",
    "#define @P@_CUBIN_ALIGN __attribute__((aligned(64)))\n",
    "#else\n",
    "#define @P@_CUBIN_ALIGN\n",
    "#endif\n",
    "\n",
    "/* Tiles of one template instance (the mode flags live beside them). */\n",
    "typedef struct @p@_tiles {\n",
    "    int head_dim, block_m, block_n, warps, stages, q_in_regs;\n",
    "} @p@_tiles;\n",
    "\n",
    "/* One GPU arch of the header. */\n",
    "typedef struct @p@_arch {\n",
    "    const char *name;              /* \"sm90\" */\n",
    "    int cc;                        /* compute capability * 10 */\n",
    "    int first_entry, num_entries;  /* its rows of @p@_entries() */\n",
    "    int first_kernel, num_kernels; /* its rows of @p@_kernels() */\n",
    "    @p@_tiles defaults[6];    /* head dims 32, 64, 96, 128, 192, 256 */\n",
    "} @p@_arch;\n",
    "\n",
    "/* One winner: key -> tiles, launch geometry, measured speed. */\n",
    "typedef struct @p@_entry {\n",
    "    int arch;                                   /* index into @p@_archs() */\n",
    "    int dtype, head_dim, causal, varlen, gqa, bucket; /* the key */\n",
    "    int block_m, block_n, warps, stages, q_in_regs;   /* the tiles */\n",
    "    int threads, smem_bytes; /* block size; dynamic shared memory, bytes */\n",
    "    int kernel;              /* index into @p@_kernels() */\n",
    "    double tflops;           /* measured, mean over the key's problems */\n",
    "    const char *name;        /* fa-tune's procedural variant name */\n",
    "} @p@_entry;\n",
    "\n",
    "/* One distinct template instance of one arch (with its cubin when embedded). */\n",
    "typedef struct @p@_kernel {\n",
    "    int arch;\n",
    "    int dtype, head_dim, causal, varlen;\n",
    "    int block_m, block_n, warps, stages, q_in_regs;\n",
    "    int threads, smem_bytes;\n",
    "    const char *name;\n",
    "    const char *symbol;         /* lowered kernel name; \"\" without cubins */\n",
    "    const unsigned char *cubin; /* 0 without cubins */\n",
    "    unsigned long cubin_size;\n",
    "} @p@_kernel;\n",
    "\n",
    "/* A lookup's answer: the instance to launch for the requested mode. */\n",
    "typedef struct @p@_choice {\n",
    "    int source; /* @P@_EXACT .. @P@_DEFAULT, or @P@_UNSUPPORTED */\n",
    "    int arch;   /* index into @p@_archs() of the table that answered; -1 unsupported */\n",
    "    int cc;     /* that arch's compute capability * 10 */\n",
    "    int dtype, head_dim, causal, varlen;             /* as requested */\n",
    "    int block_m, block_n, warps, stages, q_in_regs;  /* the tiles */\n",
    "    int threads, smem_bytes;                         /* launch geometry */\n",
    "    int kernel; /* index into @p@_kernels() of exactly this instance; -1 if absent */\n",
    "    const @p@_entry *entry; /* the row the tiles came from; 0 for the default */\n",
    "} @p@_choice;\n",
    NULL,
};

static const char *const tpl_lookup[] = {
    "\n",
    "/* ---- lookup -------------------------------------------------------------------- */\n",
    "\n",
    "/* Seqlen bucket of the key: the smallest power of two >= seqlen, at least 128. */\n",
    "static inline int @p@_bucket(int seqlen)\n",
    "{\n",
    "    int b = 128;\n",
    "    while (b < seqlen && b < (1 << 30))\n",
    "        b <<= 1;\n",
    "    return b;\n",
    "}\n",
    "\n",
    "/* floor(log2(x)) for x >= 1. */\n",
    "static inline int @p@_ilog2(int x)\n",
    "{\n",
    "    int l = 0;\n",
    "    while (x > 1) {\n",
    "        x >>= 1;\n",
    "        l++;\n",
    "    }\n",
    "    return l;\n",
    "}\n",
    "\n",
    "/* Index of a supported head dim in @p@_arch.defaults; -1 if unsupported. */\n",
    "static inline int @p@_head_dim_index(int head_dim)\n",
    "{\n",
    "    switch (head_dim) {\n",
    "    case 32:\n",
    "        return 0;\n",
    "    case 64:\n",
    "        return 1;\n",
    "    case 96:\n",
    "        return 2;\n",
    "    case 128:\n",
    "        return 3;\n",
    "    case 192:\n",
    "        return 4;\n",
    "    case 256:\n",
    "        return 5;\n",
    "    default:\n",
    "        return -1;\n",
    "    }\n",
    "}\n",
    "\n",
    "/* \"exact\", \"nearest bucket\", ...: a choice's source for messages. */\n",
    "static inline const char *@p@_source_name(int source)\n",
    "{\n",
    "    switch (source) {\n",
    "    case @P@_EXACT:\n",
    "        return \"exact\";\n",
    "    case @P@_NEAREST_BUCKET:\n",
    "        return \"nearest bucket\";\n",
    "    case @P@_NEAREST_GQA:\n",
    "        return \"nearest gqa\";\n",
    "    case @P@_SAME_HEAD_DIM:\n",
    "        return \"same head dim\";\n",
    "    case @P@_DEFAULT:\n",
    "        return \"default\";\n",
    "    default:\n",
    "        return \"unsupported\";\n",
    "    }\n",
    "}\n",
    "\n",
    "/* The arch whose table answers for compute capability cc (* 10): the exact cc; else\n",
    "   the highest of the same major below cc; else the lowest of the same major; else the\n",
    "   highest below cc; else the lowest. Archs are sorted by cc. */\n",
    "static inline int @p@_select_arch(int cc)\n",
    "{\n",
    "    int n, i, best = -1;\n",
    "    const @p@_arch *a = @p@_archs(&n);\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc == cc)\n",
    "            return i;\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc / 10 == cc / 10 && a[i].cc < cc)\n",
    "            best = i;\n",
    "    if (best >= 0)\n",
    "        return best;\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc / 10 == cc / 10)\n",
    "            return i;\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc < cc)\n",
    "            best = i;\n",
    "    return best >= 0 ? best : 0;\n",
    "}\n",
    "\n",
    "/* Lexicographic a < b over the four parts of a lookup's distance. */\n",
    "static inline int @p@_key_less(const long *a, const long *b)\n",
    "{\n",
    "    int k;\n",
    "    for (k = 0; k < 4; k++)\n",
    "        if (a[k] != b[k])\n",
    "            return a[k] < b[k];\n",
    "    return 0;\n",
    "}\n",
    "\n",
    "/* Index into @p@_kernels() of an instance of arch; -1 if the header lacks it. */\n",
    "static inline int @p@_find_kernel(\n",
    "    int arch, int dtype, int head_dim, int causal, int varlen, const @p@_tiles *t)\n",
    "{\n",
    "    int n, i;\n",
    "    const @p@_arch *a = @p@_archs(&n);\n",
    "    const @p@_kernel *k = @p@_kernels(&n);\n",
    "    for (i = a[arch].first_kernel; i < a[arch].first_kernel + a[arch].num_kernels; i++)\n",
    "        if (k[i].dtype == dtype && k[i].head_dim == head_dim && k[i].causal == causal &&\n",
    "            k[i].varlen == varlen && k[i].block_m == t->block_m &&\n",
    "            k[i].block_n == t->block_n && k[i].warps == t->warps &&\n",
    "            k[i].stages == t->stages && k[i].q_in_regs == t->q_in_regs)\n",
    "            return i;\n",
    "    return -1;\n",
    "}\n",
    "\n",
    "/* The variant to run for a problem on a device of compute capability cc (* 10). Never\n",
    "   fails for a supported head dim and dtype; the order of fallbacks is in the banner.\n",
    "   gqa = heads_q / heads_kv; seqlen = max(seqlen_q, seqlen_k). */\n",
    "static inline @p@_choice @p@_lookup(\n",
    "    int cc, int dtype, int head_dim, int causal, int varlen, int gqa, int seqlen)\n",
    "{\n",
    "    @p@_choice c;\n",
    "    @p@_tiles t;\n",
    "    const @p@_arch *archs;\n",
    "    const @p@_entry *rows;\n",
    "    int i, k, hd, bucket, best = -1;\n",
    "    long key[4], best_key[4] = {0, 0, 0, 0};\n",
    "    causal = causal != 0;\n",
    "    varlen = varlen != 0;\n",
    "    gqa = gqa < 1 ? 1 : gqa;\n",
    "    bucket = @p@_bucket(seqlen);\n",
    "    hd = @p@_head_dim_index(head_dim);\n",
    "    c.source = @P@_UNSUPPORTED;\n",
    "    c.arch = -1;\n",
    "    c.cc = 0;\n",
    "    c.dtype = dtype;\n",
    "    c.head_dim = head_dim;\n",
    "    c.causal = causal;\n",
    "    c.varlen = varlen;\n",
    "    c.block_m = c.block_n = c.warps = c.stages = c.q_in_regs = 0;\n",
    "    c.threads = c.smem_bytes = 0;\n",
    "    c.kernel = -1;\n",
    "    c.entry = 0;\n",
    "    if (hd < 0 || (dtype != @P@_FP16 && dtype != @P@_BF16))\n",
    "        return c;\n",
    "    archs = @p@_archs(0);\n",
    "    rows = @p@_entries(0);\n",
    "    c.arch = @p@_select_arch(cc);\n",
    "    c.cc = archs[c.arch].cc;\n",
    "    for (i = archs[c.arch].first_entry;\n",
    "         i < archs[c.arch].first_entry + archs[c.arch].num_entries; i++) {\n",
    "        const @p@_entry *e = &rows[i];\n",
    "        int hi_g = gqa > e->gqa ? gqa : e->gqa, lo_g = gqa > e->gqa ? e->gqa : gqa;\n",
    "        int hi_b = bucket > e->bucket ? bucket : e->bucket;\n",
    "        int lo_b = bucket > e->bucket ? e->bucket : bucket;\n",
    "        if (e->head_dim != head_dim)\n",
    "            continue;\n",
    "        key[0] = (e->causal != causal) * 4 + (e->varlen != varlen) * 2 + (e->dtype != "
    "dtype);\n",
    "        key[1] = (long)@p@_ilog2(hi_g / lo_g) * 65536L + (hi_g - lo_g);\n",
    "        key[2] = @p@_ilog2(hi_b / lo_b);\n",
    "        key[3] = e->bucket < bucket; /* a tie takes the larger bucket */\n",
    "        if (best < 0 || @p@_key_less(key, best_key)) {\n",
    "            best = i;\n",
    "            for (k = 0; k < 4; k++)\n",
    "                best_key[k] = key[k];\n",
    "        }\n",
    "    }\n",
    "    if (best >= 0) {\n",
    "        const @p@_entry *e = &rows[best];\n",
    "        c.source = best_key[0] ? @P@_SAME_HEAD_DIM\n",
    "                   : best_key[1] ? @P@_NEAREST_GQA\n",
    "                   : best_key[2] ? @P@_NEAREST_BUCKET\n",
    "                                 : @P@_EXACT;\n",
    "        c.entry = e;\n",
    "        t.head_dim = head_dim;\n",
    "        t.block_m = e->block_m;\n",
    "        t.block_n = e->block_n;\n",
    "        t.warps = e->warps;\n",
    "        t.stages = e->stages;\n",
    "        t.q_in_regs = e->q_in_regs;\n",
    "    } else {\n",
    "        c.source = @P@_DEFAULT;\n",
    "        t = archs[c.arch].defaults[hd];\n",
    "    }\n",
    "    c.block_m = t.block_m;\n",
    "    c.block_n = t.block_n;\n",
    "    c.warps = t.warps;\n",
    "    c.stages = t.stages;\n",
    "    c.q_in_regs = t.q_in_regs;\n",
    "    c.threads = t.warps * 32;\n",
    "    c.smem_bytes = FA_SM80_SMEM_BYTES(head_dim, t.block_m, t.block_n, t.stages);\n",
    "    c.kernel = @p@_find_kernel(c.arch, dtype, head_dim, causal, varlen, &t);\n",
    "    return c;\n",
    "}\n",
    "\n",
    "/* Fill p for contiguous tensors in BSHD layout (FlashAttention's): q and o\n",
    "   (batch, seqlen_q, heads_q, head_dim), k and v (batch, seqlen_k, heads_kv, head_dim),\n",
    "   lse (batch, heads_q, seqlen_q) fp32. Other layouts: set the strides yourself\n",
    "   (fa_fwd_params above says how). softmax_scale is usually 1/sqrt(head_dim). */\n",
    "static inline void @p@_params_bshd(\n",
    "    fa_fwd_params *p, uint64_t q, uint64_t k, uint64_t v, uint64_t o, uint64_t lse,\n",
    "    int batch, int heads_q, int heads_kv, int seqlen_q, int seqlen_k, int head_dim,\n",
    "    float softmax_scale)\n",
    "{\n",
    "    p->q = q;\n",
    "    p->k = k;\n",
    "    p->v = v;\n",
    "    p->o = o;\n",
    "    p->lse = lse;\n",
    "    p->cu_seqlens_q = 0;\n",
    "    p->cu_seqlens_k = 0;\n",
    "    p->q_row_stride = (int64_t)heads_q * head_dim;\n",
    "    p->q_head_stride = head_dim;\n",
    "    p->q_batch_stride = (int64_t)seqlen_q * p->q_row_stride;\n",
    "    p->k_row_stride = (int64_t)heads_kv * head_dim;\n",
    "    p->k_head_stride = head_dim;\n",
    "    p->k_batch_stride = (int64_t)seqlen_k * p->k_row_stride;\n",
    "    p->v_row_stride = p->k_row_stride;\n",
    "    p->v_head_stride = head_dim;\n",
    "    p->v_batch_stride = p->k_batch_stride;\n",
    "    p->o_row_stride = p->q_row_stride;\n",
    "    p->o_head_stride = head_dim;\n",
    "    p->o_batch_stride = p->q_batch_stride;\n",
    "    p->lse_head_stride = seqlen_q;\n",
    "    p->lse_batch_stride = (int64_t)heads_q * seqlen_q;\n",
    "    p->batch = batch;\n",
    "    p->heads_q = heads_q;\n",
    "    p->heads_kv = heads_kv;\n",
    "    p->seqlen_q = seqlen_q;\n",
    "    p->seqlen_k = seqlen_k;\n",
    "    p->head_dim = head_dim;\n",
    "    p->softmax_scale = softmax_scale;\n",
    "    p->softmax_scale_log2 = softmax_scale * 1.44269504088896340736f;\n",
    "}\n",
    NULL,
};

static const char *const tpl_launch[] = {
    "\n",
    "/* ---- launching the embedded cubins (CUDA Driver API, plain C) -------------------- */\n",
    "/*\n",
    " * Needs cuda.h and libcuda only. After cuInit(0) and with a context current:\n",
    " *\n",
    " *   @p@_module mod;\n",
    " *   CUresult r = @p@_load(&mod, 0);     (0: the current context)\n",
    " *   fa_fwd_params p;\n",
    " *   @p@_params_bshd(&p, q, k, v, o, lse, batch, hq, hkv, sq, sk, d, scale);\n",
    " *   r = @p@_launch(&mod, @P@_BF16, causal, varlen, &p, stream, 0);\n",
    " *   (or @p@_launch_kernel(&mod, kernel, &p, stream) to run a kernel of your choice)\n",
    " *   ...\n",
    " *   @p@_unload(&mod);\n",
    " *\n",
    " * load picks the arch whose cubins run on the context's device (the exact cc, else the\n",
    " * highest arch of the same major below it; cubins never cross a major version), loads\n",
    " * each of its cubins once and opts each kernel in to its dynamic shared memory. launch\n",
    " * looks the variant up for that arch and runs it asynchronously on stream; it returns\n",
    " * CUDA_ERROR_NOT_FOUND when the lookup lands on tiles the header has no cubin for\n",
    " * (a mode or head dim that was not tuned: see the lookup order above) and\n",
    " * CUDA_ERROR_INVALID_VALUE for an unsupported head dim, dtype or head counts. A module\n",
    " * belongs to one context: launch from any thread on which that context is current.\n",
    " */\n",
    "#if defined(__GNUC__) && !defined(__cplusplus)\n",
    "#pragma GCC diagnostic push\n",
    "#pragma GCC diagnostic ignored \"-Wpedantic\" /* cuda.h: anonymous unions in C99 */\n",
    "#endif\n",
    "#include <cuda.h>\n",
    "#if defined(__GNUC__) && !defined(__cplusplus)\n",
    "#pragma GCC diagnostic pop\n",
    "#endif\n",
    "\n",
    "typedef struct @p@_module {\n",
    "    CUcontext ctx; /* the context the modules live in */\n",
    "    int arch;      /* index into @p@_archs() of the loaded cubins; -1 if none */\n",
    "    int cc;        /* the device's compute capability * 10 */\n",
    "    int loaded;    /* modules loaded */\n",
    "    CUmodule modules[@P@_MAX_KERNELS];\n",
    "    CUfunction functions[@P@_MAX_KERNELS]; /* by kernel index - first_kernel */\n",
    "} @p@_module;\n",
    "\n",
    "/* The arch whose cubins run on compute capability cc: exact, else the highest of the\n",
    "   same major below cc. -1 if none. */\n",
    "static inline int @p@_select_cubin_arch(int cc)\n",
    "{\n",
    "    int n, i, best = -1;\n",
    "    const @p@_arch *a = @p@_archs(&n);\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc == cc)\n",
    "            return i;\n",
    "    for (i = 0; i < n; i++)\n",
    "        if (a[i].cc / 10 == cc / 10 && a[i].cc < cc)\n",
    "            best = i;\n",
    "    return best;\n",
    "}\n",
    "\n",
    "/* Unload what @p@_load loaded; safe on a module whose load failed. */\n",
    "static inline void @p@_unload(@p@_module *m)\n",
    "{\n",
    "    CUcontext prev;\n",
    "    int i, pushed;\n",
    "    if (!m || m->loaded <= 0) {\n",
    "        if (m)\n",
    "            m->arch = -1;\n",
    "        return;\n",
    "    }\n",
    "    pushed = cuCtxPushCurrent(m->ctx) == CUDA_SUCCESS;\n",
    "    for (i = 0; i < m->loaded; i++)\n",
    "        (void)cuModuleUnload(m->modules[i]);\n",
    "    if (pushed)\n",
    "        (void)cuCtxPopCurrent(&prev);\n",
    "    m->loaded = 0;\n",
    "    m->arch = -1;\n",
    "}\n",
    "\n",
    "/* Load the cubins for ctx's device (ctx 0: the current context) into m. On failure m\n",
    "   holds nothing (unloading it is a no-op) and the CUresult says why:\n",
    "   CUDA_ERROR_NO_BINARY_FOR_GPU when the header has no arch for the device. */\n",
    "static inline CUresult @p@_load(@p@_module *m, CUcontext ctx)\n",
    "{\n",
    "    CUresult r;\n",
    "    CUcontext prev;\n",
    "    CUdevice dev = 0;\n",
    "    int n, i, a = -1, major = 0, minor = 0, pushed = 0;\n",
    "    const @p@_arch *archs = @p@_archs(&n);\n",
    "    const @p@_kernel *k = @p@_kernels(&n);\n",
    "    if (!m)\n",
    "        return CUDA_ERROR_INVALID_VALUE;\n",
    "    m->ctx = 0;\n",
    "    m->arch = -1;\n",
    "    m->cc = 0;\n",
    "    m->loaded = 0;\n",
    "    if (ctx) {\n",
    "        r = cuCtxPushCurrent(ctx);\n",
    "        pushed = r == CUDA_SUCCESS;\n",
    "    } else {\n",
    "        r = cuCtxGetCurrent(&ctx);\n",
    "        if (r == CUDA_SUCCESS && !ctx)\n",
    "            r = CUDA_ERROR_INVALID_CONTEXT;\n",
    "    }\n",
    "    if (r == CUDA_SUCCESS)\n",
    "        r = cuCtxGetDevice(&dev);\n",
    "    if (r == CUDA_SUCCESS)\n",
    "        r = cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, "
    "dev);\n",
    "    if (r == CUDA_SUCCESS)\n",
    "        r = cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, "
    "dev);\n",
    "    if (r == CUDA_SUCCESS) {\n",
    "        m->ctx = ctx;\n",
    "        m->cc = major * 10 + minor;\n",
    "        a = @p@_select_cubin_arch(m->cc);\n",
    "        if (a < 0)\n",
    "            r = CUDA_ERROR_NO_BINARY_FOR_GPU;\n",
    "    }\n",
    "    for (i = 0; r == CUDA_SUCCESS && i < archs[a].num_kernels; i++) {\n",
    "        const @p@_kernel *kk = &k[archs[a].first_kernel + i];\n",
    "        r = cuModuleLoadData(&m->modules[i], kk->cubin);\n",
    "        if (r != CUDA_SUCCESS)\n",
    "            break;\n",
    "        m->loaded = i + 1;\n",
    "        r = cuModuleGetFunction(&m->functions[i], m->modules[i], kk->symbol);\n",
    "        if (r == CUDA_SUCCESS)\n",
    "            r = cuFuncSetAttribute(m->functions[i],\n",
    "                                   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,\n",
    "                                   kk->smem_bytes);\n",
    "    }\n",
    "    if (r == CUDA_SUCCESS) {\n",
    "        m->arch = a;\n",
    "    } else {\n",
    "        for (i = 0; i < m->loaded; i++)\n",
    "            (void)cuModuleUnload(m->modules[i]);\n",
    "        m->loaded = 0;\n",
    "    }\n",
    "    if (pushed)\n",
    "        (void)cuCtxPopCurrent(&prev);\n",
    "    return r;\n",
    "}\n",
    "\n",
    "/* Run kernel (an index into @p@_kernels() of the loaded arch) on p: device pointers,\n",
    "   strides and sizes as fa_fwd_params above says, p->head_dim the kernel's head dim,\n",
    "   varlen: p->seqlen_q/k the longest sequences. Asynchronous on stream. A zero\n",
    "   softmax_scale_log2 is taken as softmax_scale * log2(e). */\n",
    "static inline CUresult @p@_launch_kernel(\n",
    "    const @p@_module *m, int kernel, const fa_fwd_params *p, CUstream stream)\n",
    "{\n",
    "    fa_fwd_params args;\n",
    "    void *argv[1];\n",
    "    int n;\n",
    "    const @p@_arch *archs = @p@_archs(&n);\n",
    "    const @p@_kernel *k = @p@_kernels(&n);\n",
    "    if (!m || !p || m->arch < 0)\n",
    "        return CUDA_ERROR_INVALID_HANDLE;\n",
    "    if (kernel < archs[m->arch].first_kernel ||\n",
    "        kernel >= archs[m->arch].first_kernel + archs[m->arch].num_kernels)\n",
    "        return CUDA_ERROR_NOT_FOUND;\n",
    "    if (p->head_dim != k[kernel].head_dim || p->heads_q < 1 || p->heads_kv < 1 ||\n",
    "        p->heads_q % p->heads_kv != 0 || p->batch < 0 || p->seqlen_q < 0 || p->seqlen_k < "
    "0)\n",
    "        return CUDA_ERROR_INVALID_VALUE;\n",
    "    if (p->batch == 0 || p->seqlen_q == 0)\n",
    "        return CUDA_SUCCESS;\n",
    "    args = *p;\n",
    "    if (args.softmax_scale_log2 == 0.0f)\n",
    "        args.softmax_scale_log2 = args.softmax_scale * 1.44269504088896340736f;\n",
    "    argv[0] = &args;\n",
    "    return cuLaunchKernel(m->functions[kernel - archs[m->arch].first_kernel],\n",
    "                          (unsigned)((p->seqlen_q + k[kernel].block_m - 1) / "
    "k[kernel].block_m),\n",
    "                          (unsigned)p->heads_q, (unsigned)p->batch, "
    "(unsigned)k[kernel].threads,\n",
    "                          1, 1, (unsigned)k[kernel].smem_bytes, stream, argv, 0);\n",
    "}\n",
    "\n",
    "/* Run attention on p (as for @p@_launch_kernel) with the variant the lookup picks for\n",
    "   the loaded arch and the mode (dtype, causal, varlen). *chosen (may be 0) gets the\n",
    "   lookup's answer, also on CUDA_ERROR_NOT_FOUND. */\n",
    "static inline CUresult @p@_launch(\n",
    "    const @p@_module *m, int dtype, int causal, int varlen, const fa_fwd_params *p,\n",
    "    CUstream stream, @p@_choice *chosen)\n",
    "{\n",
    "    @p@_choice c;\n",
    "    int n;\n",
    "    const @p@_arch *archs = @p@_archs(&n);\n",
    "    if (!m || !p || m->arch < 0)\n",
    "        return CUDA_ERROR_INVALID_HANDLE;\n",
    "    if (p->heads_q < 1 || p->heads_kv < 1 || p->heads_q % p->heads_kv != 0)\n",
    "        return CUDA_ERROR_INVALID_VALUE;\n",
    "    c = @p@_lookup(archs[m->arch].cc, dtype, p->head_dim, causal, varlen,\n",
    "        p->heads_q / p->heads_kv, p->seqlen_q > p->seqlen_k ? p->seqlen_q : p->seqlen_k);\n",
    "    if (chosen)\n",
    "        *chosen = c;\n",
    "    if (c.source == @P@_UNSUPPORTED)\n",
    "        return CUDA_ERROR_INVALID_VALUE;\n",
    "    if (c.kernel < 0)\n",
    "        return CUDA_ERROR_NOT_FOUND;\n",
    "    return @p@_launch_kernel(m, c.kernel, p, stream);\n",
    "}\n",
    NULL,
};

/* ---- data -------------------------------------------------------------------------------- */

static const char *dtype_macro(fa_dtype t)
{
    return t == FA_DTYPE_BF16 ? "@P@_BF16" : "@P@_FP16";
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
    for (int a = 0; a < m->n_archs; a++)
        fa_emit_buf_printf(b, "%s%s", a ? ";" : "", cmake_arch(m->archs[a]));
    fa_emit_buf_puts(b, "\"\n");
    put_tpl(b, m, "#define @P@_NUM_ARCHS ");
    fa_emit_buf_printf(b, "%d\n", m->n_archs);
    put_tpl(b, m, "#define @P@_NUM_ENTRIES ");
    fa_emit_buf_printf(b, "%d\n", m->n_entries);
    put_tpl(b, m, "#define @P@_NUM_KERNELS ");
    fa_emit_buf_printf(b, "%d\n", m->n_kernels);
    put_tpl(b, m, "#define @P@_MAX_KERNELS ");
    fa_emit_buf_printf(b, "%d /* per arch */\n", max_kernels);
    put_tpl(b, m, "#define @P@_HAVE_CUBINS ");
    fa_emit_buf_printf(b, "%d\n", m->embed);
}

static void render_archs(const fa_emit_model *m, fa_emit_buf *b)
{
    put_tpl(b, m,
            "\n/* ---- tables ---------------------------------------------------------------- */\n"
            "\n"
            "/* The archs, by compute capability. */\n"
            "static inline const @p@_arch *@p@_archs(int *n)\n"
            "{\n"
            "    static const @p@_arch archs[] = {\n"
            "        /* name, cc, first/num entries, first/num kernels, default tiles per head\n"
            "           dim {head_dim, block_m, block_n, warps, stages, q_in_regs} */\n");
    for (int a = 0; a < m->n_archs; a++) {
        fa_emit_buf_printf(b, "        {\"%s\", %d, %d, %d, %d, %d,\n         {", m->archs[a]->name,
                           m->archs[a]->cc, m->first_entry[a], m->num_entries[a],
                           m->first_kernel[a], m->num_kernels[a]);
        for (int h = 0; h < FA_EMIT_NUM_HEAD_DIMS; h++) {
            const fa_variant *d = &m->defaults[a][h];
            const char *sep = h == 0 ? "" : h == 3 ? ",\n          " : ", ";
            fa_emit_buf_printf(b, "%s{%d, %d, %d, %d, %d, %d}", sep, d->head_dim,
                               sm80_param(d, "block_m"), sm80_param(d, "block_n"),
                               sm80_param(d, "warps"), sm80_param(d, "stages"),
                               sm80_param(d, "q_in_regs"));
        }
        fa_emit_buf_puts(b, "}},\n");
    }
    put_tpl(b, m,
            "    };\n"
            "    if (n)\n"
            "        *n = (int)(sizeof archs / sizeof archs[0]);\n"
            "    return archs;\n"
            "}\n");
}

static void render_entries(const fa_emit_model *m, fa_emit_buf *b)
{
    put_tpl(
        b, m,
        "\n"
        "/* The winners, per arch sorted by dtype (fp16 first), head_dim, causal, varlen, gqa,\n"
        "   bucket. */\n"
        "static inline const @p@_entry *@p@_entries(int *n)\n"
        "{\n"
        "    static const @p@_entry entries[] = {\n"
        "        /* arch, dtype, head_dim, causal, varlen, gqa, bucket,\n"
        "           block_m, block_n, warps, stages, q_in_regs, threads, smem_bytes,\n"
        "           kernel, tflops, name */\n");
    for (int i = 0; i < m->n_entries; i++) {
        const fa_emit_entry *e = &m->entries[i];
        const fa_variant *v = &e->w.variant;
        if (i == m->first_entry[e->arch])
            fa_emit_buf_printf(b, "        /* %s */\n", m->archs[e->arch]->name);
        fa_emit_buf_printf(b, "        {%d, ", e->arch);
        put_tpl(b, m, dtype_macro(e->w.dtype));
        fa_emit_buf_printf(b,
                           ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %.1f,\n"
                           "         ",
                           e->w.head_dim, e->w.causal, e->w.varlen, e->w.gqa, e->w.bucket,
                           sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v), e->kernel, e->w.tflops);
        put_c_str(b, e->w.variant_name);
        fa_emit_buf_puts(b, "},\n");
    }
    put_tpl(b, m,
            "    };\n"
            "    if (n)\n"
            "        *n = (int)(sizeof entries / sizeof entries[0]);\n"
            "    return entries;\n"
            "}\n");
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

static void render_kernels(const fa_emit_model *m, fa_emit_buf *b)
{
    put_tpl(b, m,
            "\n"
            "/* The distinct template instances per arch (the winners' kernels). */\n"
            "static inline const @p@_kernel *@p@_kernels(int *n)\n"
            "{\n");
    if (m->embed)
        for (int i = 0; i < m->n_kernels; i++)
            render_cubin(&m->kernels[i], i, m, b);
    put_tpl(b, m,
            "    static const @p@_kernel kernels[] = {\n"
            "        /* arch, dtype, head_dim, causal, varlen, block_m, block_n, warps, stages,\n"
            "           q_in_regs, threads, smem_bytes, name, symbol, cubin, cubin_size */\n");
    for (int i = 0; i < m->n_kernels; i++) {
        const fa_emit_kernel *k = &m->kernels[i];
        const fa_variant *v = &k->v;
        fa_emit_buf_printf(b, "        {%d, ", k->arch);
        put_tpl(b, m, dtype_macro(v->dtype));
        fa_emit_buf_printf(b, ", %d, %d, %d, %d, %d, %d, %d, %d, %d, %d,\n         ", v->head_dim,
                           v->causal, v->varlen, sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), fa_variant_threads(v),
                           fa_variant_smem_bytes(v));
        put_c_str(b, k->name);
        fa_emit_buf_puts(b, ",");
        if (m->embed) {
            fa_emit_buf_puts(b, "\n         ");
            put_c_str(b, k->symbol);
            fa_emit_buf_printf(b, ",\n         cubin_%d, %zuUL},\n", i, k->cubin_size);
        } else
            fa_emit_buf_puts(b, " \"\", 0, 0UL},\n");
    }
    put_tpl(b, m,
            "    };\n"
            "    if (n)\n"
            "        *n = (int)(sizeof kernels / sizeof kernels[0]);\n"
            "    return kernels;\n"
            "}\n");
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
            " *   @P@_FOR_EACH_VARIANT(INSTANTIATE)\n"
            " */\n"
            "#define @P@_NUM_VARIANTS ");
    fa_emit_buf_printf(b, "%d\n", n);
    put_tpl(b, m, "#define @P@_FOR_EACH_VARIANT(X)");
    for (int i = 0; i < n; i++) {
        const fa_variant *v = &m->kernels[first[i]].v;
        fa_emit_buf_printf(b, " \\\n    X(%s, %d, %d, %d, %d, %d, %d, %d, %d)",
                           v->dtype == FA_DTYPE_BF16 ? "__nv_bfloat16" : "__half", v->head_dim,
                           sm80_param(v, "block_m"), sm80_param(v, "block_n"),
                           sm80_param(v, "warps"), sm80_param(v, "stages"),
                           sm80_param(v, "q_in_regs"), v->causal, v->varlen);
    }
    fa_emit_buf_puts(b, "\n");
    free(first);
}

void fa_emit_render_header(const fa_emit_model *m, fa_emit_buf *b)
{
    render_banner(m, b);
    put_tpl(b, m, "#ifndef @P@_H\n#define @P@_H\n");
    render_params(m, b);
    put_tpl_lines(b, m, tpl_types);
    render_macros(m, b);
    render_archs(m, b);
    render_entries(m, b);
    render_kernels(m, b);
    put_tpl_lines(b, m, tpl_lookup);
    render_variants(m, b);
    if (m->embed)
        put_tpl_lines(b, m, tpl_launch);
    put_tpl(b, m, "\n#endif /* @P@_H */\n");
}
