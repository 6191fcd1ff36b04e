/* This file implements fa-tune's option tables (fa_options.h): one parser and one --help
 * printer for every command, so an option is written once. */
#include "fa_options.h"

#include <stdint.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_parse.h"

/* The help column: option names up to this width share a line with their help. */
#define HELP_COLUMN_MAX 26

static int takes_value(const fa_option *o)
{
    if (o->kind == FA_OPT_CALLBACK)
        return o->takes_value;
    return o->kind != FA_OPT_FLAG;
}

/* "--jobs", or "-o" for an option with only a short name. */
static const char *display_name(const fa_option *o, char *buf, size_t n)
{
    if (o->name)
        snprintf(buf, n, "--%s", o->name);
    else
        snprintf(buf, n, "-%c", o->short_name);
    return buf;
}

static int read_mode(const char *cmd, const char *opt, const char *val, unsigned *out)
{
    if (!strcmp(val, "0"))
        *out = 1u;
    else if (!strcmp(val, "1"))
        *out = 2u;
    else if (!strcmp(val, "all"))
        *out = 3u;
    else {
        char shown[FA_CLI_SHOWN_MAX];
        return fa_cli_usage_error(cmd, "%s '%s': expected 0, 1 or all", opt,
                                  fa_printable(val, shown, sizeof shown));
    }
    return 0;
}

static int read_dtypes(const char *cmd, const char *val, unsigned *out)
{
    fa_dtype t;
    if (!strcmp(val, "all")) {
        *out = (1u << FA_DTYPE_FP16) | (1u << FA_DTYPE_BF16);
        return 0;
    }
    int rc = fa_cli_dtype(cmd, val, &t);
    if (rc == 0)
        *out = 1u << t;
    return rc;
}

/* Store one option's value (NULL for a flag). Returns 0 or the exit code. */
static int apply(const char *cmd, const fa_option *o, const char *val)
{
    char name[64];
    display_name(o, name, sizeof name);
    if (val && !*val && (o->flags & FA_OPT_NONEMPTY))
        return fa_cli_usage_error(cmd, "%s '': expected %s", name, o->what ? o->what : "a value");
    if (o->seen)
        *o->seen = 1;
    switch (o->kind) {
    case FA_OPT_FLAG:
        *(int *)o->dst = 1;
        return 0;
    case FA_OPT_INT:
        return fa_cli_int(cmd, name, val, (long)o->lo, (long)o->hi, o->dst);
    case FA_OPT_U64:
        return fa_cli_u64(cmd, name, val, o->dst);
    case FA_OPT_DOUBLE:
        return fa_cli_double(cmd, name, val, o->lo, o->hi, o->dst);
    case FA_OPT_STRING:
        *(const char **)o->dst = val;
        return 0;
    case FA_OPT_ARCH:
        return fa_cli_arch(cmd, val, o->dst);
    case FA_OPT_HEADDIM:
        return fa_cli_headdim(cmd, val, o->dst);
    case FA_OPT_DTYPE:
        return fa_cli_dtype(cmd, val, o->dst);
    case FA_OPT_DTYPES:
        return read_dtypes(cmd, val, o->dst);
    case FA_OPT_MODE:
        return read_mode(cmd, name, val, o->dst);
    case FA_OPT_CALLBACK:
        return o->cb(cmd, o, val);
    default:
        return fa_cli_usage_error(cmd, "option %s cannot be read", name); /* a table bug */
    }
}

static const fa_option *find_long(const fa_option *t, const char *s, size_t len)
{
    for (; t->kind != FA_OPT_END; t++)
        if (t->kind != FA_OPT_GROUP && t->name && strlen(t->name) == len &&
            !strncmp(t->name, s, len))
            return t;
    return NULL;
}

static const fa_option *find_short(const fa_option *t, char c)
{
    for (; t->kind != FA_OPT_END; t++)
        if (t->kind != FA_OPT_GROUP && t->short_name && t->short_name == c)
            return t;
    return NULL;
}

/* "unknown option '--headim'", with "did you mean '--headdim'?" when one is that close. */
static int unknown_long(const fa_opt_cmd *c, const char *word)
{
    const char *names[256];
    char shown[FA_CLI_SHOWN_MAX], given[FA_CLI_SHOWN_MAX];
    int n = 0;
    const char *eq = strchr(word, '=');
    snprintf(given, sizeof given, "%.*s", eq ? (int)(eq - word) : (int)strlen(word), word);
    for (const fa_option *t = c->opts; t->kind != FA_OPT_END && n < 256; t++)
        if (t->kind != FA_OPT_GROUP && t->name)
            names[n++] = t->name;
    const char *near = fa_cli_nearest(given, names, n);
    fa_printable(word, shown, sizeof shown);
    if (near)
        return fa_cli_usage_error(c->name, "unknown option '--%s': did you mean '--%s'?", shown,
                                  near);
    return fa_cli_usage_error(c->name, "unknown option '--%s'", shown);
}

/* One option at argv[*i] (an argument starting with '-'); advances *i past a separate value.
 * Returns 0, or the exit code. */
static int parse_one(const fa_opt_cmd *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *val = NULL;
    const fa_option *o = NULL;
    int inline_val = 0;
    if (a[1] == '-') {
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
        o = find_long(c->opts, a + 2, len);
        if (o && eq) {
            val = eq + 1;
            inline_val = 1;
        }
    } else {
        o = find_short(c->opts, a[1]);
        if (o && a[2]) {
            val = a + 2; /* -j4, as make takes it */
            inline_val = 1;
        }
    }
    if (o && inline_val && !takes_value(o)) {
        char name[64];
        return fa_cli_usage_error(c->name, "%s takes no value (it is a switch): '%s'",
                                  display_name(o, name, sizeof name), a);
    }
    if (!o && a[1] == '-')
        return unknown_long(c, a + 2);
    if (!o)
        return fa_cli_usage_error(c->name, "unknown option '%s'", a);
    if (takes_value(o) && !inline_val) {
        if (*i + 1 >= argc) {
            char name[64];
            return fa_cli_usage_error(c->name, "%s needs %s", display_name(o, name, sizeof name),
                                      o->what ? o->what : "a value");
        }
        val = argv[++*i];
    }
    return apply(c->name, o, val);
}

/* "unexpected argument '1'", and when the argument before it is a switch ("--causal 1" where
 * --causal takes no value), says so. */
static int unexpected_arg(const fa_opt_cmd *c, char **argv, int i)
{
    const char *prev = i > 1 ? argv[i - 1] : NULL;
    size_t len = prev ? strlen(prev) : 0;
    const fa_option *o = NULL;
    if (len > 2 && prev[0] == '-' && prev[1] == '-' && !strchr(prev, '='))
        o = find_long(c->opts, prev + 2, len - 2);
    else if (len == 2 && prev[0] == '-' && prev[1] != '-')
        o = find_short(c->opts, prev[1]);
    if (o && !takes_value(o)) {
        char name[64];
        return fa_cli_usage_error(c->name,
                                  "unexpected argument '%s': %s is a switch and takes no "
                                  "value",
                                  argv[i], display_name(o, name, sizeof name));
    }
    return fa_cli_usage_error(c->name, "unexpected argument '%s'", argv[i]);
}

int fa_opt_parse(const fa_opt_cmd *c, int argc, char **argv)
{
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc;
        if (!only_args && fa_cli_is_help(a)) {
            fa_opt_usage(c, stdout);
            return FA_EXIT_OK;
        }
        if (!only_args && !strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        if (!only_args && a[0] == '-' && a[1] != '\0')
            rc = parse_one(c, argc, argv, &i);
        else if (c->arg)
            rc = c->arg(c->name, a, c->arg_ctx);
        else
            rc = unexpected_arg(c, argv, i);
        if (rc)
            return rc;
    }
    return -1;
}

/* "  -j, --jobs N" or "  --db FILE" into buf; returns its length. */
static int left_column(const fa_option *o, char *buf, size_t n)
{
    const char *mv = o->metavar ? o->metavar : "";
    const char *sep = o->metavar ? " " : "";
    if (o->short_name && o->name)
        return snprintf(buf, n, "  -%c, --%s%s%s", o->short_name, o->name, sep, mv);
    if (o->name)
        return snprintf(buf, n, "  --%s%s%s", o->name, sep, mv);
    return snprintf(buf, n, "  -%c%s%s", o->short_name, sep, mv);
}

/* The help text, its continuation lines indented to the column. */
static void print_help(FILE *out, const char *help, int column)
{
    for (const char *s = help; *s;) {
        const char *nl = strchr(s, '\n');
        int len = nl ? (int)(nl - s) : (int)strlen(s);
        fprintf(out, "%.*s\n", len, s);
        if (!nl)
            break;
        s = nl + 1;
        fprintf(out, "%*s", column, "");
    }
}

void fa_opt_usage(const fa_opt_cmd *c, FILE *out)
{
    char left[128];
    int column = 0;
    for (const fa_option *o = c->opts; o->kind != FA_OPT_END; o++) {
        int len = o->kind == FA_OPT_GROUP || !o->help ? 0 : left_column(o, left, sizeof left);
        if (len + 2 > column && len + 2 <= HELP_COLUMN_MAX)
            column = len + 2;
    }
    fprintf(out, "%s", c->usage);
    if (c->intro)
        fprintf(out, "\n%s", c->intro);
    int first = 1;
    for (const fa_option *o = c->opts; o->kind != FA_OPT_END; o++) {
        if (!o->help)
            continue;
        if (o->kind == FA_OPT_GROUP || first)
            fprintf(out, "\n");
        first = 0;
        if (o->kind == FA_OPT_GROUP) {
            fprintf(out, "%s:\n", o->help);
            continue;
        }
        int len = left_column(o, left, sizeof left);
        if (len + 2 <= column)
            fprintf(out, "%s%*s", left, column - len, "");
        else
            fprintf(out, "%s\n%*s", left, column, "");
        print_help(out, o->help, column);
    }
    if (c->outro)
        fprintf(out, "\n%s", c->outro);
}
