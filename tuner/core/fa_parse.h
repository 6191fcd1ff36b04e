/*
 * fa_parse.h -- checked reading of what users type and files hold: numbers from options,
 * files and the environment, lines of any length, and bytes echoed back in messages.
 *
 * Every number fa-tune reads goes through fa_parse_int64, fa_parse_uint64 or fa_parse_double:
 * the whole text must be the number (no leading space, no trailing junk), a value out of
 * [lo, hi] is refused rather than wrapped or cast, and suffixes are applied without overflow.
 * They return 0 and write *out, or -1 and leave *out alone; the caller names the option and
 * the range in its message (fa_cli_int and friends do).
 */
#ifndef FA_PARSE_H
#define FA_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Suffixes fa_parse_int64 may accept: k or K multiplies by 1024, M by 1048576. */
enum { FA_NUM_SUFFIX_K = 1u, FA_NUM_SUFFIX_M = 2u };

/* A decimal integer ("-12", "4096", with suffixes "4k") in [lo, hi]. */
int fa_parse_int64(const char *s, int64_t lo, int64_t hi, unsigned suffixes, int64_t *out);

/* A non-negative integer, decimal or 0x hex ("0x1f"), in [0, UINT64_MAX]. */
int fa_parse_uint64(const char *s, uint64_t *out);

/* A finite decimal number ("1.5", "1e-3") in [lo, hi]; nan, inf, hex floats and values that
 * overflow or underflow a double are refused. */
int fa_parse_double(const char *s, double lo, double hi, double *out);

/* Copy s into buf (n bytes) for a message: control bytes and DEL become \xNN, and text that
 * does not fit ends in "...". Returns buf. NULL reads as "". */
const char *fa_printable(const char *s, char *buf, size_t n);

/* The same for n bytes at s (a line that may hold NUL bytes). Returns buf. */
const char *fa_printable_n(const char *s, size_t len, char *buf, size_t n);

/* The longest line fa_read_line returns whole: shapes, lengths and peers files have lines of
 * a few hundred bytes, so anything longer is not one of them. */
#define FA_READ_LINE_MAX ((size_t)1 << 20)

/* Read the next line of f, up to FA_READ_LINE_MAX bytes, into *line (grown with realloc; the
 * caller frees it, as with getline). Returns 1 with *len its length (newline kept), 0 at end
 * of file, -1 on a read error (errno set), -2 if the line holds a NUL byte, -3 if it is
 * longer than FA_READ_LINE_MAX (for -2 and -3 *len is what was read; the caller stops). */
int fa_read_line(FILE *f, char **line, size_t *cap, size_t *len);

/* What a fa_read_line result of -2 or -3 means, for an error message after "path:line: ". */
const char *fa_read_line_problem(int got);

#endif /* FA_PARSE_H */
