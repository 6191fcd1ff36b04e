/*
 * fa_compile_service.h -- compiling, as the layers below the compile engine see it.
 *
 * This file implements the seam that keeps the layering one way (DESIGN.md, "Kernel families
 * and ops"): the harness compiles its helper kernels (references, eager attention) and emit
 * compiles winners' cubins for --embed-cubin, yet neither includes nor links the NVRTC
 * engine (tuner/compile). They are handed an fa_compile_service: a context and two
 * functions, plus the provenance strings a result carries. tuner/compile implements it
 * (fa_compiler_service in fa_compile.h); the callers above (tuner/tune, the CLI, tests) fill
 * one in and pass it down.
 *
 * Ownership: a service is a small value, copied freely; its ctx and strings are borrowed
 * from whatever filled it in (an fa_compiler) and live as long as that does. Every
 * fa_compile_output a service writes belongs to the caller, who frees it with
 * fa_compile_output_release.
 */
#ifndef FA_COMPILE_SERVICE_H
#define FA_COMPILE_SERVICE_H

#include <stddef.h>

#include "fa_result.h"
#include "fa_status.h"
#include "fa_variant.h"

/* What one compile produced. */
typedef struct fa_compile_output {
    fa_status status; /* FA_OK, FA_COMPILE_ERROR (log kept), FA_UNSUPPORTED */
    void *cubin;      /* owned; NULL unless FA_OK */
    size_t cubin_size;
    uint64_t cubin_hash;     /* fa_content_hash(cubin, cubin_size), computed once here so that
                                the jobs that carry the cubin need not read it again; 0 without */
    char *log;               /* owned; NVRTC program log (ptxas -v report included); for
                                FA_UNSUPPORTED the legality model's reason; may be NULL */
    char lowered_name[1024]; /* mangled kernel symbols for cuModuleGetFunction, one a line
                                (a variant's kernels in its family's order) */
    /* build.compile_ms is the wall time this call spent producing the result: the NVRTC
     * compile on a miss; on a cache hit (build.cache_hit = 1) the lookup itself (hashing the
     * key, reading and verifying the entry), typically well under a millisecond. */
    fa_build_info build;
    double nvrtc_ms;   /* the NVRTC compile that produced the cubin, hit or miss */
    int cache_rebuilt; /* 1: an entry existed but was corrupt; it was rebuilt */
} fa_compile_output;

/* Frees cubin and log and zeroes *out; NULL is a no-op. */
void fa_compile_output_release(fa_compile_output *out);

/* One line for messages: the first line of a compile log that mentions "error", else its
 * first non-empty line; "" for an empty or NULL log. */
void fa_compile_log_summary(const char *log, char *buf, size_t n);

typedef struct fa_compile_service {
    void *ctx; /* borrowed; passed back to the functions */
    /* Compile `name_expr` from the translation unit `source` for `nvrtc_arch` ("sm_80").
     * A compile failure is a result (out->status), the return value the engine's own
     * failure; see fa_compile_source. */
    fa_status (*compile_source)(void *ctx, const char *source, const char *name_expr,
                                const char *nvrtc_arch, fa_compile_output *out, fa_err *err);
    /* Compile one kernel variant for an arch (legality first); see fa_compile_variant. */
    fa_status (*compile_variant)(void *ctx, const fa_variant *v, const fa_arch *arch,
                                 fa_compile_output *out, fa_err *err);
    const char *nvrtc_version; /* "12.9" style, for provenance */
    const char *source_hash;   /* 64 hex digits over the template files compiled */
} fa_compile_service;

/* Is the service filled in (both functions present)? */
int fa_compile_service_ok(const fa_compile_service *s);

#endif /* FA_COMPILE_SERVICE_H */
