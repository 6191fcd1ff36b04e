/*
 * fa_toolkit.h -- finding the CUDA toolkit on the machine fa-tune runs on.
 *
 * fa-tune links no CUDA library: NVRTC, cuBLAS and the driver are loaded at run time, so the
 * same binary starts on a machine without a GPU, from an install prefix with no RUNPATH, or
 * on a machine whose toolkit lives elsewhere than the build machine's. A toolkit installed
 * from NVIDIA's runfile or tarball leaves no loader path (no ld.so.conf entry, no
 * LD_LIBRARY_PATH), so fa-tune looks for it itself, in this order:
 *
 *   $CUDA_HOME, $CUDA_PATH, the folder above the first nvcc on PATH (as found, then with
 *   symlinks resolved), /usr/local/cuda, and last the toolkit this build was configured with.
 *
 * Headers are <root>/include; libraries are <root>/lib64, <root>/lib or
 * <root>/targets/<arch>-linux/lib. The loader's own path (LD_LIBRARY_PATH, ld.so.conf) comes
 * after these roots for libraries, so a Debian-packaged toolkit in /usr/lib is found too.
 */
#ifndef FA_TOOLKIT_H
#define FA_TOOLKIT_H

#include <stddef.h>

#define FA_TOOLKIT_MAX_ROOTS 8
#define FA_TOOLKIT_PATH_CAP 4096

/* The candidate toolkit roots in search order (existing folders only, duplicates dropped).
 * Writes at most min(max, FA_TOOLKIT_MAX_ROOTS) canonical paths into roots[i] and returns
 * how many. */
int fa_toolkit_roots(char roots[][FA_TOOLKIT_PATH_CAP], int max);

/* One line naming where fa_toolkit_roots looks, for error messages: "$CUDA_HOME, ...". */
const char *fa_toolkit_search_text(void);

/* dlopen the toolkit library `soname` (e.g. "libnvrtc.so.13"): from each root's library
 * folders in order, then by name through the loader's path. `env_override`, when it names a
 * set, non-empty environment variable, is the only path tried. On success returns the handle
 * (RTLD_NOW | RTLD_LOCAL) and writes the path it loaded into path_out (when not NULL); on
 * failure returns NULL and writes the first loader error into why. */
void *fa_toolkit_dlopen(const char *soname, const char *env_override, char *path_out,
                        size_t path_cap, char *why, size_t why_cap);

#endif /* FA_TOOLKIT_H */
