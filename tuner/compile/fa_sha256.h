/*
 * fa_sha256.h -- SHA-256 (FIPS 180-4) for the compile engine.
 *
 * This file implements the interface of a small self-contained SHA-256 (so the compile engine
 * needs no new dependency), used for the cache's content-addressed keys, the payload checksum
 * of each cache entry and the templates' source hash.
 */
#ifndef FA_SHA256_H
#define FA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FA_SHA256_BYTES 32
#define FA_SHA256_HEX (2 * FA_SHA256_BYTES + 1) /* hex digits plus NUL */

typedef struct fa_sha256 {
    uint32_t h[8];
    uint64_t nbytes;
    unsigned char buf[64];
    size_t nbuf;
} fa_sha256;

void fa_sha256_init(fa_sha256 *s);
void fa_sha256_update(fa_sha256 *s, const void *data, size_t n);
void fa_sha256_final(fa_sha256 *s, unsigned char digest[FA_SHA256_BYTES]);

/* Feeds a length-prefixed field: the 8-byte little-endian length, then the bytes. Keys built
 * from fields this way cannot collide by moving bytes from one field into the next. */
void fa_sha256_field(fa_sha256 *s, const void *data, size_t n);
/* fa_sha256_field of a NUL-terminated string (NULL hashes like ""). */
void fa_sha256_str(fa_sha256 *s, const char *str);

/* One-shot digest of a buffer. */
void fa_sha256_buf(const void *data, size_t n, unsigned char digest[FA_SHA256_BYTES]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void fa_sha256_hex(const unsigned char *bytes, size_t n, char *out);

#endif /* FA_SHA256_H */
