/*
 * This file implements the per-target escaping of strings from data (fa_escape.h says which
 * bytes each target escapes or replaces, and why).
 */
#include "fa_escape.h"

#include <stdio.h>
#include <string.h>

/* An output buffer that takes whole units only: once one does not fit, nothing more is added,
 * so a too-small dst holds a clean prefix, never half an escape. */
typedef struct out {
    char *dst;
    size_t n, len;
    int full;
} out;

static void put(out *o, const char *s, size_t k)
{
    if (o->full || o->len + k >= o->n) {
        o->full = 1;
        return;
    }
    memcpy(o->dst + o->len, s, k);
    o->len += k;
    o->dst[o->len] = '\0';
}

static void putc1(out *o, char c)
{
    put(o, &c, 1);
}

static out start(char *dst, size_t n)
{
    out o = {dst, n, 0, 0};
    if (n)
        dst[0] = '\0';
    return o;
}

/* Length of the control character at p: 1 (C0, DEL), 2 (UTF-8 C1), 0 (not one). */
static size_t ctl_len(const unsigned char *p)
{
    if (*p < 0x20 || *p == 0x7f)
        return 1;
    if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2;
    return 0;
}

/* Control bytes replaced one for one by rep, everything else copied. */
static char *replace_ctl(char *dst, size_t n, const char *s, char rep)
{
    out o = start(dst, n);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            for (size_t i = 0; i < k; i++)
                putc1(&o, rep);
            p += k;
        } else {
            putc1(&o, (char)*p++);
        }
    }
    return dst;
}

char *fa_esc_term(char *dst, size_t n, const char *s)
{
    return replace_ctl(dst, n, s, '?');
}

void fa_esc_term_inplace(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        for (size_t i = 0; i < k; i++)
            p[i] = '?';
        p += k ? k : 1;
    }
}

char *fa_esc_gp_str(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            put(&o, k == 2 ? "??" : "?", k);
            p += k;
        } else if (*p == '\'') {
            put(&o, "''", 2);
            p++;
        } else {
            putc1(&o, (char)*p++);
        }
    }
    return dst;
}

char *fa_esc_gp_comment(char *dst, size_t n, const char *s)
{
    replace_ctl(dst, n, s, '?');
    size_t len = n ? strlen(dst) : 0;
    if (len && dst[len - 1] == '\\') {
        if (len + 1 < n) {
            dst[len] = ' ';
            dst[len + 1] = '\0';
        } else {
            dst[len - 1] = '\0'; /* no room for the space: drop the backslash */
        }
    }
    return dst;
}

char *fa_esc_dat_field(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    if (!*s)
        putc1(&o, '_');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            put(&o, k == 2 ? "__" : "_", k);
            p += k;
        } else if (*p == ' ' || *p == '#' || *p == '"') {
            putc1(&o, '_');
            p++;
        } else {
            putc1(&o, (char)*p++);
        }
    }
    return dst;
}

char *fa_esc_c_comment(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    char prev = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char c = (char)*p;
        if (*p < 0x20 || *p == 0x7f)
            c = ' ';
        else if (*p > 0x7e)
            c = '?';
        if ((prev == '*' && c == '/') || (prev == '/' && c == '*') || (prev == '?' && c == '?'))
            putc1(&o, ' ');
        putc1(&o, c);
        prev = c;
    }
    return dst;
}

char *fa_esc_c_str(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char oct[8];
        if (*p == '"' || *p == '\\' || *p == '?') {
            char e[2] = {'\\', (char)*p};
            put(&o, e, 2);
        } else if (*p < 0x20 || *p > 0x7e) {
            snprintf(oct, sizeof oct, "\\%03o", *p);
            put(&o, oct, 4);
        } else {
            putc1(&o, (char)*p);
        }
    }
    return dst;
}

char *fa_esc_html(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            put(&o, "\xef\xbf\xbd", 3); /* U+FFFD */
            p += k;
            continue;
        }
        switch (*p) {
        case '&':
            put(&o, "&amp;", 5);
            break;
        case '<':
            put(&o, "&lt;", 4);
            break;
        case '>':
            put(&o, "&gt;", 4);
            break;
        case '"':
            put(&o, "&quot;", 6);
            break;
        case '\'':
            put(&o, "&#39;", 5);
            break;
        default:
            putc1(&o, (char)*p);
        }
        p++;
    }
    return dst;
}

char *fa_esc_md(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            put(&o, "  ", k);
            p += k;
            continue;
        }
        if (strchr("\\`*_[]<>|&!#", *p)) {
            char e[2] = {'\\', (char)*p};
            put(&o, e, 2);
        } else {
            putc1(&o, (char)*p);
        }
        p++;
    }
    return dst;
}

char *fa_esc_md_code(char *dst, size_t n, const char *s)
{
    out o = start(dst, n);
    size_t run = 0, longest = 0, len = strlen(s);
    for (const char *p = s; *p; p++) {
        run = *p == '`' ? run + 1 : 0;
        if (run > longest)
            longest = run;
    }
    int pad = len && (s[0] == '`' || s[len - 1] == '`');
    for (size_t i = 0; i <= longest; i++)
        putc1(&o, '`');
    if (pad)
        putc1(&o, ' ');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t k = ctl_len(p);
        if (k) {
            put(&o, "  ", k);
            p += k;
            continue;
        }
        if (*p == '|')
            put(&o, "\\|", 2);
        else
            putc1(&o, (char)*p);
        p++;
    }
    if (pad)
        putc1(&o, ' ');
    for (size_t i = 0; i <= longest; i++)
        putc1(&o, '`');
    return dst;
}
