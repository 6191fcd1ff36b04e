/* This file implements the option parsing and error voice shared by fa-tune's commands. */
#include "fa_cli.h"

#include "fa_parse.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_escape.h"
#include "fa_util.h"

/* Messages often quote what the user gave or what a file or database holds (a bad line of a
 * shapes file, a name): control bytes in them are replaced (fa_esc_term) so that such text
 * cannot move the cursor, recolour or retitle the terminal, or fake a line of output. Messages
 * are one line by house style, so no control byte in them is meant. */
int fa_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fa_esc_term_inplace(msg);
    fprintf(stderr, "fa-tune %s: %s\n(see 'fa-tune %s --help')\n", cmd, msg, cmd);
    return FA_EXIT_USAGE;
}

int fa_cli_exit_code(fa_status st)
{
    switch (st) {
    case FA_OK:
        return FA_EXIT_OK;
    case FA_INVALID:
        return FA_EXIT_USAGE;
    case FA_MISMATCH:
        return FA_EXIT_MISMATCH;
    case FA_INTERRUPTED:
        return FA_EXIT_INTERRUPTED;
    default:
        return FA_EXIT_FAIL;
    }
}

int fa_cli_fail(const char *cmd, const fa_err *err)
{
    char msg[sizeof err->msg];
    fa_esc_term(msg, sizeof msg, err->msg[0] ? err->msg : fa_status_str(err->status));
    fprintf(stderr, "fa-tune %s: %s\n", cmd, msg);
    if (err->file && fa_env_on("FA_VERBOSE"))
        fprintf(stderr, "  (raised at %s:%d)\n", err->file, err->line);
    return fa_cli_exit_code(err->status);
}

int fa_cli_int(const char *cmd, const char *opt, const char *val, long lo, long hi, int *out)
{
    int64_t x;
    if (fa_parse_int64(val, lo, hi, 0, &x) != 0) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "%s '%s': expected an integer in [%ld, %ld]", opt,
                                  fa_printable(val, shown, sizeof shown), lo, hi);
    }
    *out = (int)x;
    return 0;
}

int fa_cli_u64(const char *cmd, const char *opt, const char *val, uint64_t *out)
{
    if (fa_parse_uint64(val, out) != 0) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd,
                                  "%s '%s': expected an integer in [0, 18446744073709551615] "
                                  "(decimal or 0x hex)",
                                  opt, fa_printable(val, shown, sizeof shown));
    }
    return 0;
}

int fa_cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi,
                  double *out)
{
    if (fa_parse_double(val, lo, hi, out) != 0) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "%s '%s': expected a number in [%g, %g]", opt,
                                  fa_printable(val, shown, sizeof shown), lo, hi);
    }
    return 0;
}

int fa_cli_env_int(const char *name, long lo, long hi, long dflt, long *out)
{
    const char *v = getenv(name);
    int64_t x = dflt;
    if (v && *v && fa_parse_int64(v, lo, hi, 0, &x) != 0) {
        char shown[FA_CLI_SHOWN_MAX];
        fprintf(stderr,
                "fa-tune: environment variable %s='%s': expected an integer in [%ld, %ld]\n", name,
                fa_printable(v, shown, sizeof shown), lo, hi);
        return FA_EXIT_USAGE;
    }
    *out = (long)x;
    return 0;
}

int fa_cli_arch(const char *cmd, const char *val, const fa_arch **out)
{
    const fa_arch *a = fa_arch_find(val);
    if (!a)
        return fa_cli_usage_error(cmd, "unsupported --arch '%s': supported archs are %s",
                                  val ? val : "", fa_arch_list());
    *out = a;
    return 0;
}

/* "sm80, sm90a": the registered families, for messages. */
static const char *family_list(void)
{
    static char buf[256];
    size_t used = 0;
    buf[0] = '\0';
    for (const fa_family *const *f = fa_families(); *f && used < sizeof buf; f++) {
        int w = snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "", (*f)->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

int fa_cli_family(const char *cmd, const char *val, const fa_family **out)
{
    const fa_family *f = fa_family_find(val);
    if (!f) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "unknown --family '%s': families are %s",
                                  fa_printable(val ? val : "", shown, sizeof shown), family_list());
    }
    *out = f;
    return 0;
}

int fa_cli_headdim(const char *cmd, const char *val, int *out)
{
    int64_t d = 0;
    if (fa_parse_int64(val, 1, 1 << 20, 0, &d) != 0 || !fa_head_dim_supported((int)d)) {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "unsupported --headdim '%s': supported head dims are %s",
                                  fa_printable(val, shown, sizeof shown), fa_head_dim_list());
    }
    *out = (int)d;
    return 0;
}

int fa_cli_dtype(const char *cmd, const char *val, fa_dtype *out)
{
    if (fa_dtype_parse(val, out) != FA_OK)
        return fa_cli_usage_error(cmd, "unsupported --dtype '%s': supported dtypes are fp16, bf16",
                                  val ? val : "");
    return 0;
}

int fa_cli_is_help(const char *arg)
{
    return arg && (!strcmp(arg, "-h") || !strcmp(arg, "--help"));
}

/* Optimal string alignment distance between a and b, capped: returns cap + 1 as soon as it
 * must exceed cap (names are short; words longer than the row are never close). */
static int typo_distance(const char *a, const char *b, int cap)
{
    enum { MAXLEN = 64 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN || (la > lb ? la - lb : lb - la) > (size_t)cap)
        return cap + 1;
    int d[MAXLEN][MAXLEN];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *fa_cli_nearest(const char *word, const char *const *names, int n)
{
    const int cap = strlen(word) <= 4 ? 1 : 2;
    const char *best = NULL;
    int best_d = cap + 1;
    for (int i = 0; i < n; i++) {
        int d = names[i] ? typo_distance(word, names[i], cap) : cap + 1;
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

int fa_cli_unknown_name(const char *where, const char *what, const char *word,
                        const char *const *names, int n)
{
    char shown[FA_CLI_SHOWN_MAX];
    const char *near = fa_cli_nearest(word, names, n);
    fprintf(stderr, "fa-tune%s: unknown %s '%s'", where, what,
            fa_printable(word, shown, sizeof shown));
    if (near)
        fprintf(stderr, " (did you mean '%s'?)", near);
    fprintf(stderr, "; %ss are:", what);
    for (int i = 0; i < n; i++)
        fprintf(stderr, " %s", names[i]);
    fprintf(stderr, "\n(see 'fa-tune%s --help')\n", where);
    return FA_EXIT_USAGE;
}

void fa_cli_on_interrupt(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
