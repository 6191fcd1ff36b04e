/*
 * fa_emit_internal.h -- what fa_emit.c collects from the database and fa_emit_render.c turns
 * into text (internal to reports/).
 */
#ifndef FA_EMIT_INTERNAL_H
#define FA_EMIT_INTERNAL_H

#include "fa_emit.h"
#include "fa_emit_buf.h"

#define FA_EMIT_MAX_ARCHS 8
#define FA_EMIT_NUM_HEAD_DIMS 6 /* fa_head_dims: 32, 64, 96, 128, 192, 256 */

/* One table row: a winner of one arch. */
typedef struct fa_emit_entry {
    int arch; /* index into fa_emit_model.archs */
    fa_db_winner w;
    int kernel; /* index into fa_emit_model.kernels */
} fa_emit_entry;

/* One distinct template instance of one arch (a cubin with embed). */
typedef struct fa_emit_kernel {
    int arch;
    fa_variant v;
    char name[FA_VARIANT_NAME_MAX];
    char symbol[1024]; /* lowered name; "" without embed */
    void *cubin;       /* owned; NULL without embed */
    size_t cubin_size;
    int fallback; /* a PackGQA kernel's twin without pack_gqa (index into kernels); else -1 */
} fa_emit_kernel;

typedef struct fa_emit_model {
    char prefix[FA_EMIT_PREFIX_MAX + 1];
    int embed;
    const fa_arch *archs[FA_EMIT_MAX_ARCHS]; /* fa_archs order */
    int n_archs;
    int first_entry[FA_EMIT_MAX_ARCHS], num_entries[FA_EMIT_MAX_ARCHS];
    int first_kernel[FA_EMIT_MAX_ARCHS], num_kernels[FA_EMIT_MAX_ARCHS];
    fa_variant defaults[FA_EMIT_MAX_ARCHS][FA_EMIT_NUM_HEAD_DIMS];
    fa_emit_entry *entries; /* arch-major, then fa_db_winners' key order */
    int n_entries, cap_entries;
    fa_emit_kernel *kernels; /* arch-major, then first use in the table, then the PackGQA
                                kernels' fallbacks (fa_emit_kernel.fallback) */
    int n_kernels, cap_kernels;
    char (*uuids)[FA_DB_UUID_MAX]; /* runs behind the winners */
    int n_uuids, cap_uuids;
    fa_db_run *runs; /* those runs, by start time then uuid */
    int n_runs, cap_runs;
    /* With embed: the compiler that built the cubins. */
    char nvrtc_version[32];
    char source_hash[FA_DB_HASH_MAX];
    int stale_source;
    /* The decode op's winners (the splitkv family), in their own table and kernel list so
     * that a header without them keeps its bytes: per arch, then fa_db_winners' key order.
     * Their kernels' symbols are the main kernel's and the combine kernel's, one a line. */
    int first_dentry[FA_EMIT_MAX_ARCHS], num_dentries[FA_EMIT_MAX_ARCHS];
    int first_dkernel[FA_EMIT_MAX_ARCHS], num_dkernels[FA_EMIT_MAX_ARCHS];
    fa_variant ddefaults[FA_EMIT_MAX_ARCHS][FA_EMIT_NUM_HEAD_DIMS];
    fa_emit_entry *dentries; /* .kernel indexes dkernels */
    int n_dentries, cap_dentries;
    fa_emit_kernel *dkernels;
    int n_dkernels, cap_dkernels;
    /* Winners of families the header cannot launch (not sm80, sm90a or splitkv: the tests'
     * testtwo; an sm90a PackGQA winner without a legal fallback), left out of the table. */
    int n_skipped;
    char skipped_families[128]; /* "testtwo, ..." */
    /* Keys whose winner the header cannot launch but whose runner-up it can: the runner-up is
     * their entry. */
    int n_runner_up;
    char runner_up_families[128]; /* the winners' families: "sm90a pack_gqa, ..." */
} fa_emit_model;

/* Fill m from db (fa_emit.c). On failure m holds nothing to release. */
fa_status fa_emit_model_build(fa_db *db, const fa_emit_opts *opts, fa_emit_model *m, fa_err *err);
void fa_emit_model_release(fa_emit_model *m);

/* Distinct template instances over all archs, in first-use order: the indices into
 * m->kernels of their first occurrence are written to first (may be NULL; room for
 * m->n_kernels). Returns the count. */
int fa_emit_model_variants(const fa_emit_model *m, int *first);

/* Whether m holds winners of the kernel family name; "families": of any forward family besides
 * sm80 (a header of several families, whose tables carry the family columns); "decode": of the
 * decode op (its table, lookup and launcher). */
int fa_emit_model_has_family(const fa_emit_model *m, const char *name);

/* Render the header text (fa_emit_render.c). Errors surface through b->failed. */
void fa_emit_render_header(const fa_emit_model *m, fa_emit_buf *b);

#endif /* FA_EMIT_INTERNAL_H */
