/*
 * This file implements the CPU test of the option tables (tuner/fa_options.h), the one parser
 * every fa-tune command uses: each value form (--name VALUE, --name=VALUE, -x VALUE, -xVALUE),
 * the typed kinds with their ranges, flags and `seen`, callbacks, arguments and `--`, every
 * usage error with its exit code and message, --help on stdout, and the help layout (groups
 * as headings, help in one column, continuation lines indented to it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FA_CHECK_COUNT
#include "fa_capture.h"
#include "fa_check.h"
#include "fa_cli.h"
#include "fa_options.h"

typedef struct cfg {
    int jobs, force, seen_jobs, hd;
    uint64_t seed;
    double race;
    const char *db;
    unsigned dtypes, causal;
    fa_dtype dtype;
    const char *args[4];
    int n_args, cb_calls;
    const char *cb_value;
} cfg;

static int on_cb(const char *cmd, const fa_option *opt, const char *val)
{
    cfg *c = opt->dst;
    if (!strcmp(val, "bad"))
        return fa_cli_usage_error(cmd, "--pick '%s': not that one", val);
    c->cb_calls++;
    c->cb_value = val;
    return 0;
}

static int on_arg(const char *cmd, const char *arg, void *ctx)
{
    cfg *c = ctx;
    if (c->n_args == 4)
        return fa_cli_usage_error(cmd, "too many arguments");
    c->args[c->n_args++] = arg;
    return 0;
}

static cfg C;

static const fa_option OPTS[] = {
    {.kind = FA_OPT_GROUP, .help = "engine"},
    {.kind = FA_OPT_INT,
     .name = "jobs",
     .short_name = 'j',
     .dst = &C.jobs,
     .lo = 1,
     .hi = 64,
     .seen = &C.seen_jobs,
     .metavar = "N",
     .help = "threads"},
    {.kind = FA_OPT_FLAG, .name = "force", .dst = &C.force, .help = "redo"},
    {.kind = FA_OPT_U64, .name = "seed", .dst = &C.seed, .metavar = "N", .help = "seed"},
    {.kind = FA_OPT_DOUBLE,
     .name = "race",
     .dst = &C.race,
     .lo = 1,
     .hi = 2,
     .metavar = "M",
     .help = "a margin\nover two lines"},
    {.kind = FA_OPT_GROUP, .help = "where"},
    {.kind = FA_OPT_STRING,
     .name = "db",
     .dst = &C.db,
     .flags = FA_OPT_NONEMPTY,
     .what = "a database file",
     .metavar = "FILE",
     .help = "the database"},
    {.kind = FA_OPT_HEADDIM, .name = "headdim", .dst = &C.hd, .metavar = "D", .help = "dim"},
    {.kind = FA_OPT_DTYPES, .name = "dtypes", .dst = &C.dtypes, .metavar = "T", .help = "types"},
    {.kind = FA_OPT_DTYPE, .name = "dtype", .dst = &C.dtype, .metavar = "T", .help = "type"},
    {.kind = FA_OPT_MODE, .name = "causal", .dst = &C.causal, .metavar = "C", .help = "mode"},
    {.kind = FA_OPT_CALLBACK,
     .name = "pick",
     .cb = on_cb,
     .dst = &C,
     .takes_value = 1,
     .what = "a pick",
     .metavar = "A-VERY-LONG-METAVAR",
     .help = "a callback"},
    {.kind = FA_OPT_INT, .name = "hidden", .dst = &C.jobs, .lo = 1, .hi = 2},
    {.kind = FA_OPT_END}};

static const fa_opt_cmd CMD = {.name = "demo",
                               .usage = "usage: fa-tune demo [options] ARG...\n",
                               .intro = "Intro text.\n",
                               .outro = "Outro text.\n",
                               .opts = OPTS,
                               .arg = on_arg,
                               .arg_ctx = &C};

/* Parse a NULL-terminated list (argv[0] "demo" added) with stderr and stdout captured into
 * err and out. Returns fa_opt_parse's result. */
static char err[4096], out[8192];
static int run(const fa_opt_cmd *c, ...)
{
    char *argv[32] = {"demo"};
    int argc = 1;
    va_list ap;
    va_start(ap, c);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL;)
        argv[argc++] = (char *)a;
    va_end(ap);
    memset(&C, 0, sizeof C);
    fa_capture ce, co;
    fa_capture_start(&ce, 2);
    fa_capture_start(&co, 1);
    int rc = fa_opt_parse(c, argc, argv);
    fa_capture_end(&ce, err, sizeof err);
    fa_capture_end(&co, out, sizeof out);
    return rc;
}

#define HAS(buf, s) CHECK_MSG(strstr(buf, s) != NULL, "'%s' not in:\n%s", s, buf)

int main(void)
{
    /* The value forms, and the typed kinds. */
    CHECK(run(&CMD, "--jobs", "4", "--force", "--seed=0x10", "--race", "1.5", "--db", "x.db",
              NULL) == -1);
    CHECK(C.jobs == 4 && C.seen_jobs && C.force && C.seed == 16 && C.race == 1.5);
    CHECK(C.db && !strcmp(C.db, "x.db"));
    CHECK(run(&CMD, "-j8", NULL) == -1 && C.jobs == 8);
    CHECK(run(&CMD, "-j", "9", "--jobs=10", NULL) == -1 && C.jobs == 10); /* the last wins */
    CHECK(run(&CMD, "--headdim", "128", "--dtypes", "all", "--dtype", "fp16", "--causal", "1",
              NULL) == -1);
    CHECK(C.hd == 128 && C.dtypes == ((1u << FA_DTYPE_FP16) | (1u << FA_DTYPE_BF16)));
    CHECK(C.dtype == FA_DTYPE_FP16 && C.causal == 2u);
    CHECK(run(&CMD, "--causal", "0", "--dtypes", "bf16", NULL) == -1);
    CHECK(C.causal == 1u && C.dtypes == 1u << FA_DTYPE_BF16);
    CHECK(run(&CMD, "--causal", "all", NULL) == -1 && C.causal == 3u);
    CHECK(!C.seen_jobs);

    /* Callbacks and arguments; "--" makes the rest arguments; a lone "-" is one. */
    CHECK(run(&CMD, "a", "--pick", "p", "-", "--", "--force", NULL) == -1);
    CHECK(C.cb_calls == 1 && !strcmp(C.cb_value, "p") && !C.force);
    CHECK(C.n_args == 3 && !strcmp(C.args[0], "a") && !strcmp(C.args[1], "-") &&
          !strcmp(C.args[2], "--force"));
    /* The word after an option that takes a value is its value. */
    CHECK(run(&CMD, "--db", "--force", NULL) == -1 && !strcmp(C.db, "--force") && !C.force);

    /* Usage errors: exit 2, "fa-tune demo: ..." and the help hint on stderr, nothing on
     * stdout. Messages name the long option whichever form was typed. */
    CHECK(run(&CMD, "-j", "0", NULL) == FA_EXIT_USAGE);
    HAS(err, "fa-tune demo: --jobs '0': expected an integer in [1, 64]");
    HAS(err, "(see 'fa-tune demo --help')");
    CHECK(out[0] == '\0');
    CHECK(run(&CMD, "--jobs", "4x", NULL) == FA_EXIT_USAGE);
    HAS(err, "--jobs '4x'");
    CHECK(run(&CMD, "--jobs", NULL) == FA_EXIT_USAGE);
    HAS(err, "--jobs needs a value");
    CHECK(run(&CMD, "--pick", NULL) == FA_EXIT_USAGE);
    HAS(err, "--pick needs a pick");
    CHECK(run(&CMD, "--pick", "bad", NULL) == FA_EXIT_USAGE);
    HAS(err, "--pick 'bad': not that one");
    CHECK(run(&CMD, "--db", "", NULL) == FA_EXIT_USAGE);
    HAS(err, "--db '': expected a database file");
    CHECK(run(&CMD, "--db=", NULL) == FA_EXIT_USAGE);
    HAS(err, "--db '': expected a database file");
    CHECK(run(&CMD, "--race", "nan", NULL) == FA_EXIT_USAGE);
    HAS(err, "--race 'nan': expected a number in [1, 2]");
    CHECK(run(&CMD, "--seed", "-1", NULL) == FA_EXIT_USAGE);
    HAS(err, "--seed '-1'");
    CHECK(run(&CMD, "--causal", "2", NULL) == FA_EXIT_USAGE);
    HAS(err, "--causal '2': expected 0, 1 or all");
    CHECK(run(&CMD, "--dtypes", "fp8", NULL) == FA_EXIT_USAGE);
    HAS(err, "unsupported --dtype 'fp8'");
    CHECK(run(&CMD, "--headdim", "100", NULL) == FA_EXIT_USAGE);
    HAS(err, "unsupported --headdim '100'");
    CHECK(run(&CMD, "--frobnicate", NULL) == FA_EXIT_USAGE);
    HAS(err, "unknown option '--frobnicate'\n");          /* nothing near it: no guess */
    CHECK(run(&CMD, "--force=1", NULL) == FA_EXIT_USAGE); /* a flag takes no value */
    HAS(err, "--force takes no value (it is a switch): '--force=1'");
    CHECK(run(&CMD, "--forc", NULL) == FA_EXIT_USAGE); /* names are matched whole */
    HAS(err, "unknown option '--forc': did you mean '--force'?");
    CHECK(run(&CMD, "--jbos=2", NULL) == FA_EXIT_USAGE); /* a swap is one edit; the value aside */
    HAS(err, "unknown option '--jbos=2': did you mean '--jobs'?");
    /* the nearest name, within 1 edit for words up to 4 bytes, 2 beyond */
    {
        const char *names[] = {"list", "best", "show", "export", "merge", "runs", "import-peers"};
        CHECK(!strcmp(fa_cli_nearest("lst", names, 7), "list"));
        CHECK(!strcmp(fa_cli_nearest("exprot", names, 7), "export"));
        CHECK(!strcmp(fa_cli_nearest("import-peer", names, 7), "import-peers"));
        CHECK(fa_cli_nearest("ls", names, 7) == NULL);     /* 2 edits from "list": too far */
        CHECK(fa_cli_nearest("mrg", names, 7) == NULL);    /* 2 edits, 3 bytes */
        CHECK(fa_cli_nearest("xxxxxx", names, 7) == NULL); /* no name near */
        CHECK(fa_cli_nearest("list", names, 0) == NULL);
    }
    CHECK(run(&CMD, "-x", NULL) == FA_EXIT_USAGE);
    HAS(err, "unknown option '-x'");
    CHECK(run(&CMD, "a", "b", "c", "d", "e", NULL) == FA_EXIT_USAGE);
    HAS(err, "too many arguments");
    fa_opt_cmd no_args = CMD;
    no_args.arg = NULL;
    CHECK(run(&no_args, "stray", NULL) == FA_EXIT_USAGE);
    HAS(err, "unexpected argument 'stray'\n");
    CHECK(run(&no_args, "--force", "1", NULL) == FA_EXIT_USAGE); /* a value given to a switch */
    HAS(err, "unexpected argument '1': --force is a switch and takes no value");
    CHECK(run(&no_args, "--jobs", "2", "1", NULL) == FA_EXIT_USAGE); /* not after a value */
    HAS(err, "unexpected argument '1'\n");

    /* --help and -h: the help on stdout, exit 0, nothing on stderr; options before it are
     * read, errors after it are not reached. */
    CHECK(run(&CMD, "--jobs", "2", "--help", "--frobnicate", NULL) == FA_EXIT_OK);
    CHECK(err[0] == '\0');
    CHECK(run(&CMD, "-h", NULL) == FA_EXIT_OK);
    /* The column is the widest option name plus 2, unless that is over 26: longer names
     * put their help on the next line. */
    const char *want = "usage: fa-tune demo [options] ARG...\n"
                       "\n"
                       "Intro text.\n"
                       "\n"
                       "engine:\n"
                       "  -j, --jobs N  threads\n"
                       "  --force       redo\n"
                       "  --seed N      seed\n"
                       "  --race M      a margin\n"
                       "                over two lines\n"
                       "\n"
                       "where:\n"
                       "  --db FILE     the database\n"
                       "  --headdim D   dim\n"
                       "  --dtypes T    types\n"
                       "  --dtype T     type\n"
                       "  --causal C    mode\n"
                       "  --pick A-VERY-LONG-METAVAR\n"
                       "                a callback\n"
                       "\n"
                       "Outro text.\n";
    CHECK_MSG(!strcmp(out, want), "help:\n%s", out);
    /* An option without help is parsed but not listed. */
    CHECK(run(&CMD, "--hidden", "2", NULL) == -1 && C.jobs == 2);
    return fa_check_failures ? 1 : 0;
}
