/*
 * This file implements the CPU test of the shared helpers: splitmix64 against its reference
 * output (inputs, varlen lengths and the random search order are seeded from it, so a change
 * would silently change every stored seed's meaning), the monotonic clock, and the one-line
 * summary of a compile log used in every message about a compile error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_compile.h"
#include "fa_problem.h"
#include "fa_util.h"
#include "fa_check.h"

int main(void)
{
    /* splitmix64 reference (Vigna): state 0 gives 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4 */
    uint64_t s = 0;
    CHECK(fa_splitmix64(&s) == 0xe220a8397b1dcdafull);
    CHECK(fa_splitmix64(&s) == 0x6e789e6aa1b965f4ull);
    CHECK(fa_mix64(0) == 0);

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
    printf("util: ok\n");
    return 0;
}
