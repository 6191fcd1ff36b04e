/*
 * This file implements run-time loading of NVRTC (see fa_nvrtc.h).
 */
#include "fa_nvrtc.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_toolkit.h"

/* The soname of the NVRTC this build was configured with (CMake: the toolkit's major
 * version); its entry points are resolved at that ABI. */
#ifndef FA_NVRTC_SONAME
#error "FA_NVRTC_SONAME must be defined by the build"
#endif

/* libnvrtc-builtins.so.<major>.<minor> beside the libnvrtc that was loaded. libnvrtc opens it
 * by that soname on its first compile; once it is loaded, the loader matches the soname. */
static void *load_builtins(const fa_nvrtc *n)
{
    char dir[sizeof n->path];
    snprintf(dir, sizeof dir, "%s", n->path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return NULL; /* found by name on the loader's path: its builtins are there too */
    *slash = '\0';
    char path[sizeof dir + 64];
    snprintf(path, sizeof path, "%s/libnvrtc-builtins.so.%d.%d", dir, n->major, n->minor);
    if (access(path, R_OK) != 0)
        return NULL;
    return dlopen(path, RTLD_NOW | RTLD_GLOBAL);
}

fa_status fa_nvrtc_load(fa_nvrtc **out, fa_err *err)
{
    const char *soname = FA_NVRTC_SONAME;
    fa_nvrtc *n = calloc(1, sizeof *n);
    if (!n)
        return FA_ERR(err, FA_NOMEM, "out of memory loading nvrtc");
    char why[512];
    n->lib =
        fa_toolkit_dlopen(soname, "FA_TUNE_LIBNVRTC", n->path, sizeof n->path, why, sizeof why);
    if (!n->lib) {
        free(n);
        const char *forced = getenv("FA_TUNE_LIBNVRTC");
        if (forced && *forced) /* the override was what failed: no search took place */
            return FA_ERR(err, FA_NOT_FOUND,
                          "cannot load NVRTC from FA_TUNE_LIBNVRTC='%s' (%s): point it at a "
                          "libnvrtc.so, or unset it to search the CUDA toolkit",
                          forced, why);
        return FA_ERR(err, FA_NOT_FOUND,
                      "cannot load NVRTC (%s): looked in %s and the loader's path; set "
                      "CUDA_HOME to the CUDA toolkit",
                      why, fa_toolkit_search_text());
    }
#define FA_RESOLVE(name)                                                                           \
    *(void **)&n->name = dlsym(n->lib, #name);                                                     \
    if (!n->name) {                                                                                \
        fa_status st_ = FA_ERR(err, FA_NOT_FOUND, "'%s' lacks %s", n->path, #name);                \
        fa_nvrtc_free(n);                                                                          \
        return st_;                                                                                \
    }
    FA_NVRTC_FUNCS(FA_RESOLVE)
#undef FA_RESOLVE
    nvrtcResult r = n->nvrtcVersion(&n->major, &n->minor);
    if (r != NVRTC_SUCCESS) {
        fa_status st = FA_ERR(err, FA_ERROR, "nvrtcVersion failed: %s", n->nvrtcGetErrorString(r));
        fa_nvrtc_free(n);
        return st;
    }
    n->builtins = load_builtins(n);
    *out = n;
    return FA_OK;
}

void fa_nvrtc_free(fa_nvrtc *n)
{
    if (!n)
        return;
    if (n->lib)
        dlclose(n->lib);
    if (n->builtins)
        dlclose(n->builtins);
    free(n);
}
