/*
 * fa_cli.h -- helpers every `fa-tune <command>` shares: error printing in one voice,
 * option value parsing with messages that name the bad value and what is accepted, and the
 * mapping from fa_status to the process exit code.
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 numerical mismatch,
 * 130 interrupted (SIGINT/SIGTERM).
 */
#ifndef FA_CLI_H
#define FA_CLI_H

#include <stdint.h>

#include "fa_status.h"
#include "fa_family.h"
#include "fa_variant.h"
#include "fa_version.h"

enum {
    FA_EXIT_OK = 0,
    FA_EXIT_FAIL = 1,
    FA_EXIT_USAGE = 2,
    FA_EXIT_MISMATCH = 3,
    FA_EXIT_INTERRUPTED = 130
};

/* Prints "fa-tune <cmd>: <message>" to stderr, a hint to run --help, and returns 2. */
int fa_cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints "fa-tune <cmd>: <err->msg>" to stderr and returns the exit code for err->status. */
int fa_cli_fail(const char *cmd, const fa_err *err);

/* Exit code for a status: FA_OK 0, FA_INVALID 2, FA_MISMATCH 3, FA_INTERRUPTED 130, else 1. */
int fa_cli_exit_code(fa_status st);

/* Bytes of a user's value echoed in a message (longer values end in "..."). */
#define FA_CLI_SHOWN_MAX 128

/* Parse an integer option value in [lo, hi] (fa_parse_int64: no wrap, no junk). On failure
 * prints a usage error naming opt, the value and the range and returns 2; returns 0 on success
 * with *out written. */
int fa_cli_int(const char *cmd, const char *opt, const char *val, long lo, long hi, int *out);

/* The same for a 64-bit unsigned value, decimal or 0x hex (seeds). */
int fa_cli_u64(const char *cmd, const char *opt, const char *val, uint64_t *out);

/* The same for a finite number in [lo, hi] (nan and inf are refused). */
int fa_cli_double(const char *cmd, const char *opt, const char *val, double lo, double hi,
                  double *out);

/* Read the environment variable name as an integer in [lo, hi]; unset or empty gives dflt. A
 * bad value prints an error naming the variable and returns 2; 0 on success
 * with *out written. */
int fa_cli_env_int(const char *name, long lo, long hi, long dflt, long *out);

/* Install handler for SIGINT and SIGTERM, once: it asks the long work to stop and save what
 * it has; a second signal then kills at once (SA_RESETHAND), even if the work is stuck where
 * it cannot look at the request (a blocking open, a long NVRTC batch). */
void fa_cli_on_interrupt(void (*handler)(int));

/* Parse --arch (not "native": callers resolve that against a device). Prints the supported
 * list on failure and returns 2; 0 on success. */
int fa_cli_arch(const char *cmd, const char *val, const fa_arch **out);

/* Parse --family (a registered kernel family's name: sm80, sm90a, ...). Prints the registered
 * list on failure and returns 2; 0 on success. */
int fa_cli_family(const char *cmd, const char *val, const fa_family **out);

/* Parse --headdim. Prints the supported list on failure and returns 2; 0 on success. */
int fa_cli_headdim(const char *cmd, const char *val, int *out);

/* Parse --dtype fp16|bf16. Returns 2 with a message on failure, 0 on success. */
int fa_cli_dtype(const char *cmd, const char *val, fa_dtype *out);

/* Is this argument a request for help (-h, --help)? */
int fa_cli_is_help(const char *arg);

/* The name among names[0..n) closest to word (edit distance, a swap of two neighbours counting
 * one), if it is close enough to be a typo of it (at most 1 edit for words up to 4 bytes, 2
 * beyond); NULL otherwise. For "did you mean" hints. */
const char *fa_cli_nearest(const char *word, const char *const *names, int n);

/* "fa-tune<where>: unknown <what> 'word' (did you mean 'x'?); <what>s are: a b c" and a hint
 * to run 'fa-tune<where> --help', on stderr; returns 2. where is "" or " db". */
int fa_cli_unknown_name(const char *where, const char *what, const char *word,
                        const char *const *names, int n);

#endif /* FA_CLI_H */
