/*
 * fa_escape.h -- strings from data, written safely into each kind of output fa-tune makes.
 *
 * Every name fa-tune prints or writes into a file -- device, problem, variant, peer and ceiling
 * names, host names, command lines, versions -- comes from a database (possibly merged in from
 * another node) or from a file the user passed. Such a string is data: whatever bytes it holds,
 * it must not end a comment, close a string literal, start a command or move the cursor. Each
 * output kind has one function here, and the writers use only these for data strings.
 *
 * Escape or replace? Where the target has a lossless escape that its readers undo (C string
 * literals, HTML entities, Markdown backslashes), the bytes are escaped, so the text reads back
 * as stored. Where it has none (comments, gnuplot's single-quoted strings, which have no escape
 * for a newline, whitespace-separated .dat fields, a terminal), unsafe bytes are replaced by a
 * fixed character: the output stays one line per record and the same length where that matters
 * (aligned terminal tables); the stored bytes are available from `fa-tune db export` written
 * to a file (not a terminal), up to the field sizes of fa_db.h, which hold all fa-tune writes.
 *
 * "Control bytes" below: C0 (0x00-0x1f), DEL (0x7f) and the UTF-8 encodings of C1 (U+0080 to
 * U+009F, bytes C2 80..C2 9F; some terminals act on them). Other bytes >= 0x80 (UTF-8 text) pass
 * through except where a target says otherwise.
 *
 * Every function writes into dst (capacity n, NUL-terminated when n > 0), never cuts an escape
 * sequence in half when dst is too small, and returns dst.
 */
#ifndef FA_ESCAPE_H
#define FA_ESCAPE_H

#include <stddef.h>

/* Terminal (tables, error messages): control bytes become '?' (same length: columns stay). */
char *fa_esc_term(char *dst, size_t n, const char *s);
/* The same, in place. */
void fa_esc_term_inplace(char *s);

/* Inside a gnuplot single-quoted string: ' doubled; control bytes become '?' (gnuplot has no
 * escape for them in single quotes, and a newline would end the command). Single quotes also
 * stop gnuplot's backquote and @macro substitution. The quotes are not written. */
char *fa_esc_gp_str(char *dst, size_t n, const char *s);

/* A '#' comment line of a gnuplot script or .dat file: control bytes become '?', and a trailing
 * backslash gets a space after it (gnuplot continues a comment ending in '\' onto the next line,
 * which would swallow the script's next command). */
char *fa_esc_gp_comment(char *dst, size_t n, const char *s);

/* One whitespace-separated field of a .dat file: whitespace, control bytes, '#' and '"' become
 * '_' (gnuplot would split the field, end the line or start a quoted field); "" becomes "_". */
char *fa_esc_dat_field(char *dst, size_t n, const char *s);

/* Text inside a C block comment: control bytes become ' '; "*" "/" and "/" "*" get a space
 * between them (no early end, no -Wcomment); "??" becomes "? ?" (no trigraph under -std=c11);
 * bytes >= 0x80 become '?' (the header stays ASCII). */
char *fa_esc_c_comment(char *dst, size_t n, const char *s);

/* The inside of a C string literal: '"' and '\' escaped; '?' as "\?" (no trigraphs); every byte
 * outside printable ASCII as a three-digit octal escape (a following digit cannot extend it).
 * Lossless: the literal's value is exactly s. */
char *fa_esc_c_str(char *dst, size_t n, const char *s);

/* HTML text and attribute values: & < > " ' as entities, control bytes as U+FFFD. */
char *fa_esc_html(char *dst, size_t n, const char *s);

/* Markdown (GitHub) text and table cells: ASCII punctuation that can start markup or end a
 * cell is backslash-escaped (CommonMark undoes any "\<punct>"); control bytes become ' ' (a
 * newline would end the table row). */
char *fa_esc_md(char *dst, size_t n, const char *s);

/* A whole Markdown code span, delimiters included: fenced by one backtick more than the longest
 * run of backticks inside (padded with a space when s starts or ends with one), '|' as "\|"
 * (GitHub splits table cells before it parses code spans), control bytes as ' '. */
char *fa_esc_md_code(char *dst, size_t n, const char *s);

#endif /* FA_ESCAPE_H */
