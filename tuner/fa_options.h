/*
 * fa_options.h -- one option table per command, driving both parsing and --help (git's
 * parse-options habit): each option is written once, as one fa_option row.
 *
 * This file implements the table's types; fa_options.c the parser and the help printer.
 *
 * What a command line may hold, for every command alike:
 *   --name VALUE, --name=VALUE     a long option with a value
 *   -x VALUE, -xVALUE              its short form, where it has one (-j 4, -j4)
 *   --flag, -x                     an option without a value
 *   -h, --help                     the help on stdout, exit 0 (where it appears, before any
 *                                  later error)
 *   --                             the rest are arguments, even when they start with '-'
 *   ARG                            an argument (refused unless the command takes them)
 * The word after an option that takes a value is its value, whatever it looks like. Long
 * names are matched whole (no abbreviations).
 *
 * Messages (stderr, exit 2, through fa_cli_usage_error) name the option by its long name,
 * whichever form was typed: "--jobs '0': expected an integer in [1, 1024]",
 * "--variant needs a variant name" (missing value), "--db '': expected a file" (empty value
 * where FA_OPT_NONEMPTY), "unknown option '--x'", "unexpected argument 'x'".
 *
 * Ownership: tables, commands and what they point to belong to the caller; parsed strings
 * point into argv.
 */
#ifndef FA_OPTIONS_H
#define FA_OPTIONS_H

#include <stdio.h>

typedef enum fa_opt_kind {
    FA_OPT_END = 0, /* ends a table */
    FA_OPT_GROUP,   /* a heading in --help ("search"); nothing to parse */
    FA_OPT_FLAG,    /* no value: *(int *)dst = 1 */
    FA_OPT_INT,     /* *(int *)dst, an integer in [lo, hi] (fa_cli_int) */
    FA_OPT_U64,     /* *(uint64_t *)dst, decimal or 0x hex (fa_cli_u64) */
    FA_OPT_DOUBLE,  /* *(double *)dst, a finite number in [lo, hi] (fa_cli_double) */
    FA_OPT_STRING,  /* *(const char **)dst = the value (into argv) */
    FA_OPT_ARCH,    /* *(const fa_arch **)dst, a supported arch (fa_cli_arch) */
    FA_OPT_HEADDIM, /* *(int *)dst, a supported head dim (fa_cli_headdim) */
    FA_OPT_DTYPE,   /* *(fa_dtype *)dst, fp16 or bf16 (fa_cli_dtype) */
    FA_OPT_DTYPES,  /* *(unsigned *)dst, a set of 1u << dtype: fp16, bf16 or all */
    FA_OPT_MODE,    /* *(unsigned *)dst, a set of modes: 0 -> 1u (off), 1 -> 2u (on), all -> 3u */
    FA_OPT_CALLBACK /* cb(cmd, opt, value): the option's own reading (dst is its context) */
} fa_opt_kind;

/* Flags of an fa_option. */
enum {
    FA_OPT_NONEMPTY = 1u /* an empty value is refused: "--db '': expected <what>" */
};

typedef struct fa_option fa_option;

/* Reads value for opt (cmd names the command in messages). Returns 0, or the exit code after
 * printing a message (fa_cli_usage_error). */
typedef int (*fa_opt_fn)(const char *cmd, const fa_option *opt, const char *value);

struct fa_option {
    fa_opt_kind kind;
    const char *name;    /* long name without the dashes ("headdim"); NULL for a group */
    char short_name;     /* 'j' for -j, or 0 */
    void *dst;           /* where the value goes (see the kinds); a callback's context */
    fa_opt_fn cb;        /* FA_OPT_CALLBACK only */
    int takes_value;     /* FA_OPT_CALLBACK only: 1 the option takes a value, 0 it is a flag */
    double lo, hi;       /* FA_OPT_INT and FA_OPT_DOUBLE: the accepted range */
    unsigned flags;      /* FA_OPT_NONEMPTY */
    int *seen;           /* if set: *seen = 1 when the option is given */
    const char *what;    /* a value in words for messages ("a directory"); NULL: "a value" */
    const char *metavar; /* in --help ("N", "FILE"); NULL for a flag */
    const char *help;    /* in --help; '\n' starts a continuation line; for a group, its
                            heading; NULL: the option is not listed */
};

/* A command's table and the text around it in --help. */
typedef struct fa_opt_cmd {
    const char *name;      /* "tune", "db list": messages say "fa-tune <name>: ..." */
    const char *usage;     /* the usage line(s), printed first, e.g. "usage: fa-tune ..." */
    const char *intro;     /* paragraphs between the usage and the options; may be NULL */
    const char *outro;     /* paragraphs after the options; may be NULL */
    const fa_option *opts; /* ends with an FA_OPT_END row */
    /* Arguments that are not options: called for each in order (same return rule as an
     * fa_opt_fn). NULL: an argument is refused with "unexpected argument 'x'". */
    int (*arg)(const char *cmd, const char *arg, void *ctx);
    void *arg_ctx;
} fa_opt_cmd;

/* Parse argv[1..argc-1] (argv[0] is the command's name) against c's table. Returns -1 when
 * the command should go on, 0 after printing --help on stdout, or 2 after a usage error on
 * stderr. Values are written as the options are read, in order, so a repeated option's last
 * value wins (a callback may collect them instead). */
int fa_opt_parse(const fa_opt_cmd *c, int argc, char **argv);

/* Print c's --help: usage, intro, the options with their help in aligned columns (groups as
 * headings), outro. */
void fa_opt_usage(const fa_opt_cmd *c, FILE *out);

#endif /* FA_OPTIONS_H */
