/*
 * fa_cache.h -- the compile engine's on-disk entry format (internal to tuner/compile).
 *
 * This file implements the interface between the compiler and its cache files.
 *
 * One file per compiled instance, `<dir>/<label>-<key hex>.fac`:
 *
 *     offset  size  field (integers little-endian)
 *          0     8  magic "FATCUBIN"
 *          8     4  format version (FA_CACHE_FORMAT)
 *         12     4  status: 0 compiled, 1 compile error
 *         16    32  key (SHA-256 of everything that changes the binary; see fa_compile.h)
 *         48     8  lowered-name bytes
 *         56     8  cubin bytes
 *         64     8  log bytes
 *         72     8  NVRTC compile time of the original build, microseconds
 *         80    32  checksum: SHA-256 of bytes [0, 80) and the payload
 *        112        payload: lowered name, cubin, log
 *
 * The file size must equal 112 + the three sizes, so a truncated entry is caught before its
 * checksum is computed; a flipped byte anywhere fails the checksum. Entries are written to
 * a temp file in the same directory, fsynced, then renamed over the final name: a reader
 * sees the old entry, the new one or none, never half of one.
 */
#ifndef FA_CACHE_H
#define FA_CACHE_H

#include <stddef.h>

#include "fa_sha256.h"
#include "fa_status.h"

#define FA_CACHE_FORMAT 1
#define FA_CACHE_HEADER_BYTES 112

typedef struct fa_cache_entry {
    int compile_error; /* 0: cubin holds the binary; 1: NVRTC rejected it */
    char lowered_name[1024];
    void *cubin; /* owned by whoever filled the entry */
    size_t cubin_size;
    char *log; /* NUL-terminated, may be NULL */
    double nvrtc_ms;
} fa_cache_entry;

/* What a lookup found. */
typedef enum fa_cache_lookup { FA_CACHE_MISS = 0, FA_CACHE_HIT, FA_CACHE_CORRUPT } fa_cache_lookup;

/* Write the entry's path into buf. FA_INVALID if it does not fit. */
fa_status fa_cache_path(const char *dir, const char *label,
                        const unsigned char key[FA_SHA256_BYTES], char *buf, size_t n, fa_err *err);

/* Look key up at path. On FA_CACHE_HIT *e is filled and the caller frees e->cubin and
 * e->log; otherwise *e is untouched. An entry that is absent is a miss; one that exists but
 * fails validation (size, magic, version, key, checksum) is FA_CACHE_CORRUPT. Returns
 * non-OK only for I/O errors other than "no such file". */
fa_status fa_cache_read(const char *path, const unsigned char key[FA_SHA256_BYTES],
                        fa_cache_entry *e, fa_cache_lookup *found, fa_err *err);

/* Atomically (temp file + fsync + rename) write the entry for key to path. */
fa_status fa_cache_write(const char *path, const unsigned char key[FA_SHA256_BYTES],
                         const fa_cache_entry *e, fa_err *err);

/* Best effort: remove temp files in dir older than max_age_s, left by a writer that crashed
 * between mkstemp and rename. Young ones may belong to a writer still at work. */
void fa_cache_remove_stale_temps(const char *dir, int max_age_s);

/* mkdir -p: create path and its missing parents (mode 0777 before umask). */
fa_status fa_cache_mkdirs(const char *path, fa_err *err);

#endif /* FA_CACHE_H */
