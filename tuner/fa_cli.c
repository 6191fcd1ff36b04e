/* This file implements the option parsing and error voice shared by fa-tune's commands. */
#include "fa_cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_escape.h"

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
    if (err->file && getenv("FA_VERBOSE"))
        fprintf(stderr, "  (raised at %s:%d)\n", err->file, err->line);
    return fa_cli_exit_code(err->status);
}

int fa_cli_int(const char *cmd, const char *opt, const char *val, long lo, long hi, int *out)
{
    char *end = NULL;
    errno = 0;
    long x = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || errno || x < lo || x > hi)
        return fa_cli_usage_error(cmd, "%s '%s': expected an integer in [%ld, %ld]", opt,
                                  val ? val : "", lo, hi);
    *out = (int)x;
    return 0;
}

int fa_cli_arch(const char *cmd, const char *val, const fa_arch **out)
{
    const fa_arch *a = fa_arch_find(val);
    if (!a)
        return fa_cli_usage_error(cmd, "unsupported --arch '%s': supported archs are %s, native",
                                  val ? val : "", fa_arch_list());
    *out = a;
    return 0;
}

int fa_cli_headdim(const char *cmd, const char *val, int *out)
{
    char *end = NULL;
    long d = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || !fa_head_dim_supported((int)d))
        return fa_cli_usage_error(cmd, "unsupported --headdim '%s': supported head dims are %s",
                                  val ? val : "", fa_head_dim_list());
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
