/* This file implements the SHA-256 known-answer test (FIPS 180-4 examples and the NIST
 * million-'a' vector), fed whole and in odd-sized pieces: cache keys must be exact. */
#include "fa_sha256.h"
#include "fa_status.h"
#include "test_util.h"

static void check_hex(const void *data, size_t n, size_t piece, const char *want)
{
    fa_sha256 s;
    unsigned char d[FA_SHA256_BYTES];
    char hex[FA_SHA256_HEX];
    fa_sha256_init(&s);
    const unsigned char *p = data;
    for (size_t off = 0; off < n; off += piece)
        fa_sha256_update(&s, p + off, n - off < piece ? n - off : piece);
    fa_sha256_final(&s, d);
    fa_sha256_hex(d, sizeof d, hex);
    if (strcmp(hex, want) != 0)
        fprintf(stderr, "sha256 of %zu bytes in pieces of %zu: got %s want %s\n", n, piece, hex,
                want);
    CHECK(strcmp(hex, want) == 0);
}

int main(void)
{
    static const char *abc = "abc";
    static const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    for (size_t piece = 1; piece <= 65; piece += 7) {
        check_hex("", 0, piece, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        check_hex(abc, 3, piece,
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        check_hex(two_blocks, strlen(two_blocks), piece,
                  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    char *million = malloc(1000000);
    CHECK(million != NULL);
    if (million) {
        memset(million, 'a', 1000000);
        check_hex(million, 1000000, 4093,
                  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(million);
    }
    /* Length-prefixed fields: moving a byte across a field boundary changes the digest. */
    fa_sha256 a, b;
    unsigned char da[32], db[32];
    fa_sha256_init(&a);
    fa_sha256_str(&a, "ab");
    fa_sha256_str(&a, "c");
    fa_sha256_final(&a, da);
    fa_sha256_init(&b);
    fa_sha256_str(&b, "a");
    fa_sha256_str(&b, "bc");
    fa_sha256_final(&b, db);
    CHECK(memcmp(da, db, 32) != 0);
    return fa_test_done("test_sha256");
}
