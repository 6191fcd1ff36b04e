/*
 * This file implements the search for the CUDA toolkit (see fa_toolkit.h): the candidate
 * roots, and dlopen of a toolkit library from them.
 */
#include "fa_toolkit.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FA_CUDA_ROOT_FALLBACK
#define FA_CUDA_ROOT_FALLBACK ""
#endif

#if defined(__aarch64__)
#define FA_TARGET_LIB "targets/sbsa-linux/lib"
#else
#define FA_TARGET_LIB "targets/x86_64-linux/lib"
#endif

#define FA_ROOT_CAP FA_TOOLKIT_PATH_CAP

static int is_dir(const char *path)
{
    struct stat sb;
    return path && *path && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void add_root(char roots[][FA_ROOT_CAP], int *n, int max, const char *dir)
{
    char real[PATH_MAX];
    if (*n >= max || !is_dir(dir) || !realpath(dir, real))
        return;
    for (int i = 0; i < *n; i++)
        if (strcmp(roots[i], real) == 0)
            return;
    if (strlen(real) >= FA_ROOT_CAP)
        return;
    memcpy(roots[*n], real, strlen(real) + 1);
    (*n)++;
}

/* The folder above the first nvcc on PATH, as found and (for a distribution's /usr/bin
 * symlink) with symlinks resolved. Only the first nvcc counts: it is the toolkit the user
 * chose. */
static void add_nvcc_roots(char roots[][FA_ROOT_CAP], int *n, int max)
{
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        char nvcc[PATH_MAX], dir[PATH_MAX + 8], real[PATH_MAX];
        if (len > 0 && len < sizeof nvcc - 16) {
            snprintf(nvcc, sizeof nvcc, "%.*s/nvcc", (int)len, path);
            if (access(nvcc, X_OK) == 0) {
                snprintf(dir, sizeof dir, "%.*s/..", (int)len, path);
                add_root(roots, n, max, dir);
                if (realpath(nvcc, real)) {
                    char *slash = strrchr(real, '/');
                    if (slash) {
                        *slash = '\0';
                        snprintf(dir, sizeof dir, "%s/..", real);
                        add_root(roots, n, max, dir);
                    }
                }
                return;
            }
        }
        path += len + (end ? 1 : 0);
    }
}

int fa_toolkit_roots(char roots[][FA_ROOT_CAP], int max)
{
    int n = 0;
    if (max > FA_TOOLKIT_MAX_ROOTS)
        max = FA_TOOLKIT_MAX_ROOTS;
    add_root(roots, &n, max, getenv("CUDA_HOME"));
    add_root(roots, &n, max, getenv("CUDA_PATH"));
    add_nvcc_roots(roots, &n, max);
    add_root(roots, &n, max, "/usr/local/cuda");
    add_root(roots, &n, max, FA_CUDA_ROOT_FALLBACK);
    return n;
}

const char *fa_toolkit_search_text(void)
{
    return "$CUDA_HOME, $CUDA_PATH, nvcc on PATH, /usr/local/cuda and '" FA_CUDA_ROOT_FALLBACK
           "' (the build's toolkit)";
}

static void *try_open(const char *path, char *path_out, size_t path_cap, char *why, size_t why_cap)
{
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib) {
        if (path_out)
            snprintf(path_out, path_cap, "%s", path);
        return lib;
    }
    const char *e = dlerror();
    if (why && why_cap && !*why)
        snprintf(why, why_cap, "%s", e ? e : path);
    return NULL;
}

void *fa_toolkit_dlopen(const char *soname, const char *env_override, char *path_out,
                        size_t path_cap, char *why, size_t why_cap)
{
    if (why && why_cap)
        why[0] = '\0';
    const char *env = env_override ? getenv(env_override) : NULL;
    if (env && *env)
        return try_open(env, path_out, path_cap, why, why_cap);

    static const char *const libdirs[] = {"lib64", "lib", FA_TARGET_LIB};
    char roots[FA_TOOLKIT_MAX_ROOTS][FA_ROOT_CAP];
    int n = fa_toolkit_roots(roots, FA_TOOLKIT_MAX_ROOTS);
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < sizeof libdirs / sizeof libdirs[0]; j++) {
            char path[FA_ROOT_CAP + 64];
            int len = snprintf(path, sizeof path, "%s/%s/%s", roots[i], libdirs[j], soname);
            if (len <= 0 || (size_t)len >= sizeof path || access(path, R_OK) != 0)
                continue;
            void *lib = try_open(path, path_out, path_cap, why, why_cap);
            if (lib)
                return lib;
        }
    }
    /* A toolkit from a distribution package lives on the loader's own path. */
    void *lib = try_open(soname, NULL, 0, why, why_cap);
    if (lib && path_out) {
        /* The loader chose the file: report it, so a sibling library can be found there. */
        struct link_map *map = NULL;
        if (dlinfo(lib, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && *map->l_name)
            snprintf(path_out, path_cap, "%s", map->l_name);
        else
            snprintf(path_out, path_cap, "%s", soname);
    }
    return lib;
}
