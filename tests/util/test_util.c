/*
 * This file implements the CPU test of the shared helpers: splitmix64 against its reference
 * output (inputs, varlen lengths and the random search order are seeded from it, so a change
 * would silently change every stored seed's meaning), the monotonic clock, the FA_PROFILE
 * switch, the one-line summary of a compile log used in every message about a compile
 * error, and the FLOP count of a causal problem whose lengths differ (bottom-right mask).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_compile.h"
#include "fa_parse.h"
#include "fa_problem.h"
#include "fa_util.h"
#include "fa_check.h"

/* Visible pairs of one causal sequence counted row by row (bottom-right aligned). */
static double pairs_by_row(int sq, int sk)
{
    double total = 0;
    for (int i = 0; i < sq; i++) {
        const long long last = (long long)i + sk - sq; /* keys 0..last are visible */
        if (last >= 0)
            total += (double)(last + 1 < sk ? last + 1 : sk);
    }
    return total;
}

/* fa_problem_flops of causal problems with sq != sk: the row-by-row count on every pair of
 * lengths up to 300 and at 128k keys; and a length read from a crafted database (2^31 - 1
 * queries) costs no loop (it hung `fa-tune report` for tens of seconds before). */
static void test_causal_flops(void)
{
    fa_problem p;
    memset(&p, 0, sizeof p);
    p.batch = 1;
    p.heads_q = p.heads_kv = 1;
    p.head_dim = 1;
    p.causal = 1;
    int bad = 0;
    for (int sq = 1; sq <= 300; sq++)
        for (int sk = 1; sk <= 300; sk++) {
            p.seqlen_q = sq;
            p.seqlen_k = sk;
            const double want = sq == sk ? 0.5 * sq * sk : pairs_by_row(sq, sk);
            bad += fa_problem_flops(&p, NULL, NULL) != 4.0 * want;
        }
    static const int big[][2] = {{1, 131072}, {16, 131072}, {100000, 3}, {65536, 65537}};
    for (int i = 0; i < 4; i++) {
        p.seqlen_q = big[i][0];
        p.seqlen_k = big[i][1];
        bad += fa_problem_flops(&p, NULL, NULL) != 4.0 * pairs_by_row(big[i][0], big[i][1]);
    }
    CHECK_MSG(bad == 0, "%d causal FLOP counts differ from the row-by-row count", bad);
    p.seqlen_q = 2147483647;
    p.seqlen_k = 5;
    const double t0 = fa_now_s();
    const double f = fa_problem_flops(&p, NULL, NULL);
    CHECK_MSG(f == 4.0 * 15 && fa_now_s() - t0 < 0.1, "2^31 - 1 queries, 5 keys: %g FLOPs", f);
}

int main(void)
{
    test_causal_flops();
    /* splitmix64 reference (Vigna): state 0 gives 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 */
    uint64_t s = 0;
    CHECK(fa_splitmix64(&s) == 0xe220a8397b1dcdafull);
    CHECK(fa_splitmix64(&s) == 0x6e789e6aa1b965f4ull);
    CHECK(fa_mix64(0) == 0);

    /* FA_PROFILE: on when set to anything but empty or "0" */
    unsetenv("FA_PROFILE");
    CHECK(!fa_profile_on());
    setenv("FA_PROFILE", "", 1);
    CHECK(!fa_profile_on());
    setenv("FA_PROFILE", "0", 1);
    CHECK(!fa_profile_on());
    setenv("FA_PROFILE", "1", 1);
    CHECK(fa_profile_on());
    unsetenv("FA_PROFILE");
    /* ... the rule of every such switch (FA_VERBOSE, FA_NO_PDL) */
    unsetenv("FA_NO_PDL");
    CHECK(!fa_env_on("FA_NO_PDL"));
    setenv("FA_NO_PDL", "0", 1);
    CHECK(!fa_env_on("FA_NO_PDL"));
    setenv("FA_NO_PDL", "1", 1);
    CHECK(fa_env_on("FA_NO_PDL") && !fa_profile_on());
    unsetenv("FA_NO_PDL");

    /* varlen lengths: uniform in [N/2, N], reproducible from the seed */
    int a[64], b[64];
    fa_varlen_lengths(42, 1000, 64, a);
    fa_varlen_lengths(42, 1000, 64, b);
    CHECK(!memcmp(a, b, sizeof a));
    for (int i = 0; i < 64; i++)
        CHECK(a[i] >= 500 && a[i] <= 1000);

    double t0 = fa_now_s(), t1 = fa_now_s();
    CHECK(t1 >= t0);

    char buf[128];
    fa_compile_log_summary("warning: x\nkernel.cu(3): error: expected a ';'\nmore\n", buf,
                           sizeof buf);
    CHECK(!strcmp(buf, "kernel.cu(3): error: expected a ';'"));
    fa_compile_log_summary("\nptxas info: Used 96 registers\n", buf, sizeof buf);
    CHECK(!strcmp(buf, "ptxas info: Used 96 registers"));
    fa_compile_log_summary(NULL, buf, sizeof buf);
    CHECK(buf[0] == '\0');
    fa_compile_log_summary("", buf, sizeof buf);
    CHECK(buf[0] == '\0');
    /* fa_parse: the whole text is the number, in range, suffixes without overflow. */
    int64_t x = 7;
    CHECK(fa_parse_int64("4096", 1, 1 << 24, 0, &x) == 0 && x == 4096);
    CHECK(fa_parse_int64("-3", -5, 5, 0, &x) == 0 && x == -3);
    CHECK(fa_parse_int64("4k", 1, 1 << 24, FA_NUM_SUFFIX_K, &x) == 0 && x == 4096);
    CHECK(fa_parse_int64("2M", 1, 1 << 24, FA_NUM_SUFFIX_M, &x) == 0 && x == 2 << 20);
    CHECK(fa_parse_int64("-9223372036854775808", INT64_MIN, 0, 0, &x) == 0 && x == INT64_MIN);
    x = 7;
    static const char *const bad_ints[] = {"",
                                           " 1",
                                           "1 ",
                                           "+1",
                                           "0x10",
                                           "1.0",
                                           "4k",
                                           "4294967360",
                                           "9007199254740993k",
                                           "18446744073709551617",
                                           "9223372036854775808",
                                           "-",
                                           "1e3",
                                           "k"};
    for (size_t i = 0; i < sizeof bad_ints / sizeof bad_ints[0]; i++)
        CHECK_MSG(fa_parse_int64(bad_ints[i], 0, 1 << 24, i == 6 ? 0 : FA_NUM_SUFFIX_K, &x) != 0,
                  "'%s' read as %lld", bad_ints[i], (long long)x);
    CHECK(fa_parse_int64("9007199254740993k", 0, INT64_MAX, FA_NUM_SUFFIX_K, &x) != 0);
    CHECK(fa_parse_int64(NULL, 0, 1, 0, &x) != 0 && x == 7); /* untouched on failure */
    uint64_t u = 0;
    CHECK(fa_parse_uint64("0xffffffffffffffff", &u) == 0 && u == UINT64_MAX);
    CHECK(fa_parse_uint64("18446744073709551615", &u) == 0 && u == UINT64_MAX);
    CHECK(fa_parse_uint64("18446744073709551616", &u) != 0);
    CHECK(fa_parse_uint64("0x1ffffffffffffffff", &u) != 0);
    CHECK(fa_parse_uint64("-1", &u) != 0 && fa_parse_uint64("0x", &u) != 0);
    double d = 0;
    CHECK(fa_parse_double("1.5", 0, 10, &d) == 0 && d == 1.5);
    CHECK(fa_parse_double("1e-3", 0, 10, &d) == 0 && d == 1e-3);
    static const char *const bad_doubles[] = {"nan", "inf", "-inf",  "1e30", "1e999", "1e-400",
                                              " 1",  "1 ",  "0x1p3", "",     "-",     "1e"};
    for (size_t i = 0; i < sizeof bad_doubles / sizeof bad_doubles[0]; i++)
        CHECK_MSG(fa_parse_double(bad_doubles[i], 0, 1e20, &d) != 0, "'%s' read as %g",
                  bad_doubles[i], d);
    char shown[16];
    CHECK(!strcmp(fa_printable("a\x1b[2J\n", shown, sizeof shown), "a\\x1b[2J\\x0a"));
    CHECK(!strcmp(fa_printable("0123456789abcdefghij", shown, sizeof shown), "0123456789ab..."));
    CHECK(!strcmp(fa_printable(NULL, shown, sizeof shown), ""));
    CHECK(!strcmp(fa_printable_n("a\0b", 3, shown, sizeof shown), "a\\x00b"));

    /* fa_read_line: lines of any length, a NUL byte reported. */
    FILE *f = tmpfile();
    CHECK(f);
    for (int i = 0; i < 10000; i++)
        fputc('y', f);
    fwrite("\nz\0z\nlast", 1, 9, f);
    rewind(f);
    char *line = NULL;
    size_t cap = 0, len = 0;
    CHECK(fa_read_line(f, &line, &cap, &len) == 1 && len == 10001);
    CHECK(fa_read_line(f, &line, &cap, &len) == -2 && len == 4);
    CHECK(fa_read_line(f, &line, &cap, &len) == 1 && len == 4 && !strcmp(line, "last"));
    CHECK(fa_read_line(f, &line, &cap, &len) == 0);
    fclose(f);
    /* A file with no newline is read no further than FA_READ_LINE_MAX bytes: -3 for text, -2
     * once a NUL byte was among them (/dev/zero), and memory stays bounded either way. */
    f = tmpfile();
    CHECK(f);
    for (size_t i = 0; i < FA_READ_LINE_MAX + 10; i++)
        fputc('y', f);
    rewind(f);
    CHECK(fa_read_line(f, &line, &cap, &len) == -3 && len == FA_READ_LINE_MAX);
    CHECK(cap <= 2 * FA_READ_LINE_MAX + 2);
    rewind(f);
    fputc('\0', f);
    rewind(f);
    CHECK(fa_read_line(f, &line, &cap, &len) == -2 && len == FA_READ_LINE_MAX);
    fclose(f);
    /* The longest line accepted is exactly FA_READ_LINE_MAX bytes with its newline. */
    f = tmpfile();
    CHECK(f);
    for (size_t i = 0; i + 1 < FA_READ_LINE_MAX; i++)
        fputc('y', f);
    fputs("\nz", f);
    rewind(f);
    CHECK(fa_read_line(f, &line, &cap, &len) == 1 && len == FA_READ_LINE_MAX);
    CHECK(fa_read_line(f, &line, &cap, &len) == 1 && len == 1 && !strcmp(line, "z"));
    free(line);
    fclose(f);
    printf("util: ok\n");
    return 0;
}
