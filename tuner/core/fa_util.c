/* This file implements the shared clock, profile switch, mixer and text helpers (see
 * fa_util.h). */
#include "fa_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double fa_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int fa_env_on(const char *name)
{
    const char *env = getenv(name);
    return env && env[0] && strcmp(env, "0") != 0;
}

int fa_profile_on(void)
{
    return fa_env_on("FA_PROFILE");
}

uint64_t fa_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t fa_splitmix64(uint64_t *state)
{
    return fa_mix64(*state += 0x9E3779B97F4A7C15ull);
}

void fa_append(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (!buf || !len || *len + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    const int w = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len += (size_t)w < n - *len ? (size_t)w : n - *len - 1;
}
