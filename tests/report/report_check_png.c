/*
 * This file implements report_check_png, the test helper that checks an image gnuplot wrote:
 * the 8-byte PNG signature, an IHDR chunk first whose width and height are the ones asked
 * for, and a file size above a floor (an empty or failed plot is a few hundred bytes).
 *
 * usage: report_check_png WIDTH HEIGHT MIN_BYTES FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
           (unsigned long)p[3];
}

static int check(const char *path, unsigned long w, unsigned long h, long min_bytes)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[24];
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return 1;
    }
    size_t got = fread(head, 1, sizeof head, f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    if (got != sizeof head || memcmp(head, sig, sizeof sig) != 0) {
        fprintf(stderr, "%s: not a PNG (bad signature)\n", path);
        return 1;
    }
    if (be32(head + 8) != 13 || memcmp(head + 12, "IHDR", 4) != 0) {
        fprintf(stderr, "%s: first chunk is not IHDR\n", path);
        return 1;
    }
    if (be32(head + 16) != w || be32(head + 20) != h) {
        fprintf(stderr, "%s: %lux%lu pixels, expected %lux%lu\n", path, be32(head + 16),
                be32(head + 20), w, h);
        return 1;
    }
    if (size < min_bytes) {
        fprintf(stderr, "%s: only %ld bytes (expected at least %ld)\n", path, size, min_bytes);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: report_check_png WIDTH HEIGHT MIN_BYTES FILE...\n");
        return 2;
    }
    unsigned long w = strtoul(argv[1], NULL, 10), h = strtoul(argv[2], NULL, 10);
    long min_bytes = strtol(argv[3], NULL, 10);
    int bad = 0;
    for (int i = 4; i < argc; i++)
        bad |= check(argv[i], w, h, min_bytes);
    return bad;
}
