/*
 * fa_emit.h -- the dispatch header: turns the winners stored in the results database into a
 * self-contained C99 header other builds compile (`fa-tune emit`).
 *
 * What the header holds (the format is documented in full in its own banner and in
 * docs/DESIGN.md "Dispatch header"):
 *   - a do-not-edit banner: generator and version, archs, and the database runs the winners
 *     were measured in (uuid, GPU, driver / CUDA / NVRTC versions, fa-tune version, source
 *     hash); never a timestamp or a path, so the same database gives the same bytes;
 *   - fa_fwd_params, the kernel's argument struct, as the exact text of templates/fa_params.h
 *     (its own include guard lets it sit beside the real file);
 *   - per arch, the table keyed by (dtype, head_dim, causal, varlen, gqa, seqlen bucket) ->
 *     tiles, threads, dynamic shared memory, variant name and measured TFLOP/s, plus the safe
 *     default tiles per head dim, and <prefix>_lookup(), which never fails for a supported
 *     head dim (exact -> nearest bucket -> nearest gqa -> same head dim -> default);
 *   - <PREFIX>_FOR_EACH_VARIANT(X): every distinct winning template instance, for builds that
 *     instantiate the winners with nvcc;
 *   - with embed_cubin: every winner's cubin per arch as a byte array and a launch API in
 *     plain C over the Driver API (<prefix>_load / _launch / _unload).
 *
 * Every identifier the header defines starts with the prefix (default "fa_dispatch", macros
 * "FA_DISPATCH_"), so headers emitted with different prefixes can share a translation unit.
 */
#ifndef FA_EMIT_H
#define FA_EMIT_H

#include <stddef.h>

#include "fa_compile_service.h"
#include "fa_db.h"
#include "fa_status.h"
#include "fa_variant.h"

/* Default identifier prefix of an emitted header and the default output file. */
#define FA_EMIT_DEFAULT_PREFIX "fa_dispatch"
#define FA_EMIT_DEFAULT_OUTPUT "fa_dispatch.h"
/* Longest prefix accepted (a C identifier). */
#define FA_EMIT_PREFIX_MAX 48

typedef struct fa_emit_opts {
    const fa_arch *const *archs; /* the archs to emit, at least one; order and duplicates do
                                    not matter (the header lists them in fa_archs order) */
    int n_archs;
    const char *prefix;          /* NULL: FA_EMIT_DEFAULT_PREFIX; must be a C identifier */
    int embed_cubin;             /* 1: embed the cubins and the Driver API launch code */
    fa_compile_service compiler; /* compiles the cubins with embed_cubin (its context is the
                                    caller's; the on-disk cache makes recompiling winners
                                    cheap); else unused */
} fa_emit_opts;

/* What an emit produced, for the CLI's summary line. */
typedef struct fa_emit_info {
    int entries;      /* table rows over all archs */
    int kernels;      /* distinct (arch, instance) pairs; cubins with embed_cubin */
    int variants;     /* distinct template instances over all archs (the X-macro's length) */
    int runs;         /* runs listed as provenance */
    size_t bytes;     /* size of the header */
    int stale_source; /* 1: the cubins were compiled from templates whose hash differs from
                         the source hash of a run the winners came from (noted in the banner) */
} fa_emit_info;

/* Is name a valid prefix (a C identifier of at most FA_EMIT_PREFIX_MAX characters that does
 * not start with an underscore)? */
int fa_emit_prefix_valid(const char *name);

/* Render the header for opts from db into a new NUL-terminated buffer: *out (free() it) and
 * *len (without the NUL); *info (may be NULL) gets the summary. Out-parameters are written
 * only on success.
 * Errors: FA_NOT_FOUND when an arch has no winners (the message names the arch and the
 * fa-tune command that tunes it); FA_INVALID for bad options; FA_COMPILE_ERROR /
 * FA_UNSUPPORTED when a winner does not compile for its arch; FA_DB, FA_NOMEM. */
fa_status fa_emit_render(fa_db *db, const fa_emit_opts *opts, char **out, size_t *len,
                         fa_emit_info *info, fa_err *err);

/* Render, then write the header to path atomically: a temporary file in the same directory,
 * fsync, rename. On any failure nothing is left behind and an existing file at path is
 * unchanged. path "-" writes to stdout. */
fa_status fa_emit_write(fa_db *db, const fa_emit_opts *opts, const char *path, fa_emit_info *info,
                        fa_err *err);

/* Write len bytes to path by the rules of fa_output.h: atomically (temporary file + fsync +
 * rename; a new file gets 0666 & ~umask, a replaced one keeps its mode), through a symlink to
 * its target, never over a read-only file. Exposed for tests and for other writers of
 * generated files. */
fa_status fa_emit_write_file(const char *path, const char *data, size_t len, fa_err *err);

/* The safe default tiles for a head dim on an arch: FlashAttention-2's seeds (hd <= 64:
 * 128x128 w4 s2; hd 96/128: 128x64 w4 s2; hd 192: 128x64 w8 s2; hd 256: 64x64 w4 s2),
 * with stages lowered until the variant is legal on arch (fa_variant_check: e.g. hd 256 on
 * sm86 takes 64x64 w4 s1). v gets dtype/causal/varlen 0; FA_UNSUPPORTED if no seed fits. */
fa_status fa_emit_default_variant(int head_dim, const fa_arch *arch, fa_variant *v, fa_err *err);

/* The safe default decode tiles for a head dim on an arch: the splitkv family's first seeds
 * (BLOCK_M 16, BLOCK_N 64 (hd 64: 128), 4 warps, 3 stages (hd 256: 2), auto splits), made
 * smaller until legal on arch (fa_variant_check). FA_UNSUPPORTED if none fits. */
fa_status fa_emit_default_decode_variant(int head_dim, const fa_arch *arch, fa_variant *v,
                                         fa_err *err);

#endif /* FA_EMIT_H */
