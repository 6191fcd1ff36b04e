/*
 * fa_nvrtc.h -- NVRTC loaded at run time.
 *
 * fa-tune does not link libnvrtc: it is found with the rest of the toolkit (fa_toolkit.h), so
 * the binary starts without it (db, emit and report need no compiler) and an installed
 * fa-tune with no RUNPATH still compiles. libnvrtc itself loads libnvrtc-builtins by name,
 * which fails when the toolkit's library folder is on no loader path; fa_nvrtc_load first
 * loads the builtins library of the same version from the same folder, and the loader then
 * hands libnvrtc that copy (it matches a loaded library by its soname).
 *
 * The table lists every NVRTC entry point fa-tune calls; types and prototypes come from the
 * build's nvrtc.h.
 */
#ifndef FA_NVRTC_H
#define FA_NVRTC_H

#include <nvrtc.h>

#include "fa_status.h"

#define FA_NVRTC_FUNCS(X)                                                                          \
    X(nvrtcVersion)                                                                                \
    X(nvrtcGetErrorString)                                                                         \
    X(nvrtcCreateProgram)                                                                          \
    X(nvrtcAddNameExpression)                                                                      \
    X(nvrtcCompileProgram)                                                                         \
    X(nvrtcGetProgramLogSize)                                                                      \
    X(nvrtcGetProgramLog)                                                                          \
    X(nvrtcGetLoweredName)                                                                         \
    X(nvrtcGetCUBINSize)                                                                           \
    X(nvrtcGetCUBIN)                                                                               \
    X(nvrtcDestroyProgram)

typedef struct fa_nvrtc {
    void *lib;
    void *builtins;  /* libnvrtc-builtins, loaded first from libnvrtc's folder (may be NULL) */
    char path[4096]; /* the libnvrtc file loaded */
    int major, minor;
#define FA_NVRTC_MEMBER(name) __typeof__(name) *name;
    FA_NVRTC_FUNCS(FA_NVRTC_MEMBER)
#undef FA_NVRTC_MEMBER
} fa_nvrtc;

/* Loads NVRTC (the file named by $FA_TUNE_LIBNVRTC if set, else the toolkit's). On success
 * *out is the caller's, freed with fa_nvrtc_free; on failure err names where fa-tune looked. */
fa_status fa_nvrtc_load(fa_nvrtc **out, fa_err *err);

/* Frees n; NULL is a no-op. */
void fa_nvrtc_free(fa_nvrtc *n);

#endif /* FA_NVRTC_H */
