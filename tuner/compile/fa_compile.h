/*
 * fa_compile.h -- the NVRTC compile engine: template instance -> cubin, with a
 * content-addressed on-disk cache and a thread pool.
 *
 * This file implements the engine's public interface (the .c files of tuner/compile
 * implement it).
 *
 * Ownership: the caller owns an fa_compiler (fa_compiler_new/_free) and every
 * fa_compile_output it receives (fa_compile_output_release frees cubin and log).
 * Layers below this one see it through an fa_compile_service (fa_compiler_service).
 *
 * What NVRTC sees: the translation unit given (for a variant: one line,
 * `#include "fa_fwd_sm80.cuh"`), every template file as an in-memory header, and the options
 *     --std=c++17 --gpu-architecture=<arch> -I<toolkit include> -Xptxas=-v  [extra options]
 * No fast-math (it would change the numerics the harness checks) and no -lineinfo (it is not
 * needed to read resources and would only grow the cubin).
 *
 * The cache key is the SHA-256 of: a cache format tag, the NVRTC version, every template
 * file's name and contents, the translation unit, the name expression, the arch and the full
 * option list (the resolved include directory included). Entries live in the cache
 * directory as `<label>-<key hex>.fac`, where the label is the name of the variant's kernels
 * (fa_variant_kernel_label: the variant name, less the parameters that only change the launch
 * plan) or the kernel name of a raw source compile, so a person can tell them apart; only the
 * key matters. Variants that share kernels share entries.
 * Compile errors are cached too: they are as deterministic as cubins. Variants compiled in
 * one program (fa_compile_variants) get entries of their own kind: the same fields under
 * another tag, and a cubin that holds the whole batch's kernels.
 *
 * A cache directory may be shared by processes and machines (FA_TUNE_CACHE_DIR on shared
 * storage): entries are written to a unique temp file beside the final name, fsynced and
 * renamed over it, and a reader checks size, key and checksum, so it sees a whole entry or
 * none; two writers of one key write equivalent entries and the last rename wins.
 *
 * Thread safety: after fa_compiler_new returns, an fa_compiler is read-only, so any number
 * of threads may call fa_compile_source/fa_compile_variant on it at once (NVRTC is thread
 * safe for separate programs; cache writes are temp file + fsync + rename).
 */
#ifndef FA_COMPILE_H
#define FA_COMPILE_H

#include <stddef.h>

#include "fa_compile_service.h"
#include "fa_result.h"
#include "fa_status.h"
#include "fa_variant.h"

typedef struct fa_compiler fa_compiler;

typedef struct fa_compiler_opts {
    const char *cache_dir; /* NULL: $FA_TUNE_CACHE_DIR, $XDG_CACHE_HOME/fa-tune, ~/.cache/fa-tune */
    const char *cuda_include;  /* NULL: found at run time ($CUDA_HOME, $CUDA_PATH, nvcc on PATH,
                                  /usr/local/cuda, then the build machine's toolkit) */
    const char *templates_dir; /* NULL: the templates embedded in the binary
                                  ($FA_TUNE_TEMPLATES overrides) */
    int no_cache;              /* 1: never read or write the cache */
    int batch;                 /* variants per NVRTC program in fa_compile_variants and the pool; 0:
                                  $FA_COMPILE_BATCH, else FA_COMPILE_BATCH_DEFAULT (8); 1: one each */
} fa_compiler_opts;

#define FA_COMPILE_BATCH_MAX 64

fa_status fa_compiler_new(const fa_compiler_opts *opts, fa_compiler **out, fa_err *err);
void fa_compiler_free(fa_compiler *c); /* NULL is a no-op */

/* "12.9" style NVRTC version and the resolved directories, for provenance and `info`.
 * The strings live as long as the compiler. fa_compiler_cache_dir is "" with no_cache. */
const char *fa_compiler_nvrtc_version(const fa_compiler *c);
const char *fa_compiler_cuda_include(const fa_compiler *c);
const char *fa_compiler_cache_dir(const fa_compiler *c);
/* Variants per NVRTC program (fa_compiler_opts.batch, resolved). */
int fa_compiler_batch(const fa_compiler *c);
/* Hash (hex) of every template file compiled: the fa-tune "source hash" of DB runs.
 * SHA-256 over each file's name and contents in name order, 64 hex digits. */
const char *fa_compiler_source_hash(const fa_compiler *c);
/* Does the compiler's template set hold a file of this name ("fa_fwd_sm80.cuh")? */
int fa_compiler_has_template(const fa_compiler *c, const char *name);

/* The output struct, fa_compile_output_release and fa_compile_log_summary live in
 * fa_compile_service.h (tuner/core): the layers below this engine handle results too. */

/* Fill *out with a compile service backed by c (fa_compile_source without extra options,
 * fa_compile_variant, the NVRTC version and source hash). c is borrowed: the service is
 * valid as long as c is. */
void fa_compiler_service(fa_compiler *c, fa_compile_service *out);

/* Compile `name_expr` (a __global__ template instance) from `source` (a translation unit
 * that may #include the templates by name) for `nvrtc_arch` ("sm_80", "sm_90a") with any
 * extra NVRTC options. Uses and fills the cache. A compile failure is a result
 * (out->status = FA_COMPILE_ERROR, return FA_OK); the return value is non-OK only when the
 * engine itself fails (no NVRTC, I/O errors that are not a corrupt entry). */
fa_status fa_compile_source(fa_compiler *c, const char *source, const char *name_expr,
                            const char *nvrtc_arch, const char *const *extra_opts, int n_extra,
                            fa_compile_output *out, fa_err *err);

/* Compile one kernel variant for an arch (legality model first: an illegal variant gives
 * out->status = FA_UNSUPPORTED without invoking NVRTC). */
fa_status fa_compile_variant(fa_compiler *c, const fa_variant *v, const fa_arch *arch,
                             fa_compile_output *out, fa_err *err);

/* Compile n variants for an arch: outs[i] is what fa_compile_variant would give for vs[i]
 * (the caller releases each), except how the cache misses are compiled: those that share a
 * template and a target go through one NVRTC program, at most fa_compiler_batch of them
 * (the header parse, NVVM's and ptxas' start-up are then paid once). Each variant still gets
 * its own result and cache entry: its lowered names, and its log cut to the front end's
 * lines and its own kernels' ptxas report, so its resources are its own. Its cubin is the
 * program's, holding the other variants' kernels too (load functions by lowered name), and
 * its entry has a key of its own (FA_CACHE_KEY_TAG_BATCH in fa_compile.c): fa_compile_variant
 * never returns such a cubin. A lookup tries the one-variant key first, then (batch > 1) the
 * batch key; with batch 1 this is fa_compile_variant on each.
 * If the program fails to compile, each variant of it is compiled alone, so a compile error
 * is only the bad variant's. Returns non-OK (every output released) only when the engine
 * fails. */
fa_status fa_compile_variants(fa_compiler *c, const fa_variant *vs, int n, const fa_arch *arch,
                              fa_compile_output *outs, fa_err *err);

/* The part of a program's log that concerns the kernels named in `lowered` (lowered names,
 * one a line): every line before ptxas' first "Compiling entry function", then the lines of
 * those entry functions. A log with no entry functions is returned whole. Returns a new
 * string (the caller frees it), NULL when out of memory. Exposed for tests. */
char *fa_compile_log_for_kernels(const char *log, const char *lowered);

/* Parse ptxas -v lines ("Used 168 registers", "bytes stack frame, N bytes spill stores...")
 * from a log into info (fields not found stay -1). Exposed for tests. With several functions
 * in one log each field is the maximum over them (a translation unit of fa-tune holds one
 * kernel; a non-inlined callee that spills still counts). A "Used N registers" line without
 * "bytes smem" means 0 bytes of static shared memory. compile_ms and cache_hit are left
 * untouched. */
void fa_compile_parse_resources(const char *log, fa_build_info *info);

/* ---- Thread pool: compiles variants in parallel. -------------------------------------- */
typedef struct fa_compile_pool fa_compile_pool;

/* nthreads <= 0: all cores (sysconf(_SC_NPROCESSORS_ONLN)). The compiler is shared (it is
 * thread safe) and must outlive the pool. */
fa_status fa_compile_pool_new(fa_compiler *c, int nthreads, fa_compile_pool **out, fa_err *err);
/* Queue a variant for arch; `tag` comes back with its result. */
fa_status fa_compile_pool_submit(fa_compile_pool *p, const fa_variant *v, const fa_arch *arch,
                                 void *tag, fa_err *err);
/* The same, queued ahead of every job of fa_compile_pool_submit still queued (after the urgent
 * ones before it) and batched only with urgent jobs: for work something waits on (halving's
 * exploration of one class, while the other classes' variants fill the queue). */
fa_status fa_compile_pool_submit_urgent(fa_compile_pool *p, const fa_variant *v,
                                        const fa_arch *arch, void *tag, fa_err *err);
/* Block until the next finished job (completion order); FA_NOT_FOUND when none is pending.
 * The caller owns *out and must release it. If the engine failed on that job (not a compile
 * error: an I/O or NVRTC failure), its status is returned with err set, *v_out and *tag_out
 * still name the job, and *out is zeroed. */
fa_status fa_compile_pool_next(fa_compile_pool *p, fa_variant *v_out, void **tag_out,
                               fa_compile_output *out, fa_err *err);
int fa_compile_pool_pending(const fa_compile_pool *p);
/* Waits for running jobs, drops queued ones and unclaimed results; NULL is a no-op. */
void fa_compile_pool_free(fa_compile_pool *p);

#endif /* FA_COMPILE_H */
