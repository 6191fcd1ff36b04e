/* This file implements the checked number, line and message-text helpers (see fa_parse.h). */
#include "fa_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The digits at *p as a magnitude in base 10 or 16; -1 if none or it overflows 64 bits. */
static int magnitude(const char **p, unsigned base, uint64_t *out)
{
    const char *s = *p;
    uint64_t m = 0;
    int n = 0;
    for (;; s++, n++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            break;
        if (m > (UINT64_MAX - d) / base)
            return -1;
        m = m * base + d;
    }
    if (n == 0)
        return -1;
    *p = s;
    *out = m;
    return 0;
}

int fa_parse_int64(const char *s, int64_t lo, int64_t hi, unsigned suffixes, int64_t *out)
{
    if (!s)
        return -1;
    const char *p = s;
    int neg = *p == '-';
    p += neg;
    uint64_t m = 0, mult = 1;
    if (magnitude(&p, 10, &m) != 0)
        return -1;
    if ((suffixes & FA_NUM_SUFFIX_K) && (*p == 'k' || *p == 'K'))
        mult = 1024, p++;
    else if ((suffixes & FA_NUM_SUFFIX_M) && *p == 'M')
        mult = 1024 * 1024, p++;
    if (*p || m > UINT64_MAX / mult)
        return -1;
    m *= mult;
    int64_t x;
    if (neg) {
        if (m > (uint64_t)INT64_MAX + 1)
            return -1;
        x = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
    } else {
        if (m > (uint64_t)INT64_MAX)
            return -1;
        x = (int64_t)m;
    }
    if (x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

int fa_parse_uint64(const char *s, uint64_t *out)
{
    if (!s)
        return -1;
    const char *p = s;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    uint64_t m;
    if (magnitude(&p, base, &m) != 0 || *p)
        return -1;
    *out = m;
    return 0;
}

int fa_parse_double(const char *s, double lo, double hi, double *out)
{
    /* strtod alone would take " 1", "0x1p3", "nan", "inf" and 1e999 (HUGE_VAL, ERANGE). */
    if (!s || !*s || strspn(s, "+-0123456789.eE") != strlen(s) || !strpbrk(s, "0123456789"))
        return -1;
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(x) || !(x >= lo && x <= hi))
        return -1;
    *out = x;
    return 0;
}

const char *fa_printable_n(const char *s, size_t len, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = 0;
    if (n == 0)
        return buf;
    for (size_t i = 0; s && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = c < 0x20 || c == 0x7f ? 4 : 1;
        if (k + need + 4 > n) { /* room for "..." and the terminator */
            if (k + 4 <= n)
                memcpy(buf + k, "...", 3), k += 3;
            break;
        }
        if (need == 4) {
            buf[k++] = '\\';
            buf[k++] = 'x';
            buf[k++] = hex[c >> 4];
            buf[k++] = hex[c & 15];
        } else {
            buf[k++] = (char)c;
        }
    }
    buf[k] = '\0';
    return buf;
}

const char *fa_printable(const char *s, char *buf, size_t n)
{
    return fa_printable_n(s, s ? strlen(s) : 0, buf, n);
}

int fa_read_line(FILE *f, char **line, size_t *cap, size_t *len)
{
    size_t n = 0;
    int c = 0, nul = 0;
    errno = 0;
    /* getc, not getline: a file with no newline (/dev/zero, a binary) must not be read
     * into memory whole before its first line can be refused. */
    while (n < FA_READ_LINE_MAX && (c = getc(f)) != EOF) {
        if (n + 2 > *cap) {
            size_t grown = *cap < 64 ? 128 : *cap * 2;
            char *p = realloc(*line, grown);
            if (!p) {
                errno = ENOMEM;
                return -1;
            }
            *line = p;
            *cap = grown;
        }
        (*line)[n++] = (char)c;
        nul |= c == '\0';
        if (c == '\n')
            break;
    }
    if (n == 0)
        return ferror(f) ? -1 : 0;
    (*line)[n] = '\0';
    *len = n;
    if (ferror(f))
        return -1;
    if (nul)
        return -2;
    return n == FA_READ_LINE_MAX && c != '\n' ? -3 : 1;
}

const char *fa_read_line_problem(int got)
{
    return got == -2 ? "the line holds a NUL byte (not a text file?)"
                     : "the line is longer than 1 MiB (not a text file?)";
}
