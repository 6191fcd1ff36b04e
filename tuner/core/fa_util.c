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

uint64_t fa_content_hash(const void *bytes, size_t size)
{
    /* Four independent lanes of multiply-xor over 8-byte words (one lane's multiply latency
     * would bound it to a few GB/s), the tail byte by byte, folded with fa_mix64. */
    const unsigned char *p = bytes;
    uint64_t h[4] = {0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full, 0x165667B19E3779F9ull,
                     0x27D4EB2F165667C5ull};
    size_t i = 0;
    for (; i + 32 <= size; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            h[k] = (h[k] ^ w) * 0xFF51AFD7ED558CCDull;
            h[k] ^= h[k] >> 29;
        }
    uint64_t t = size;
    for (; i < size; i++)
        t = (t ^ p[i]) * 0x100000001B3ull;
    const uint64_t r =
        fa_mix64(fa_mix64(h[0] ^ fa_mix64(h[1] ^ fa_mix64(h[2] ^ fa_mix64(h[3])))) ^ t);
    return r ? r : 1;
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
