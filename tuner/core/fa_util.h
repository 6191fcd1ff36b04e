/*
 * fa_util.h -- small helpers every part of fa-tune shares: a monotonic clock, the FA_PROFILE
 * switch and the splitmix64 mixer that seeds inputs, varlen lengths and the random search
 * order.
 */
#ifndef FA_UTIL_H
#define FA_UTIL_H

#include <stdint.h>

/* Seconds on the monotonic clock (only differences mean anything). */
double fa_now_s(void);

/* Whether FA_PROFILE asks for the profile lines on stderr (set, not empty, not "0"; main
 * refuses other values than 0 and 1 before anything reads it). */
int fa_profile_on(void);

/* splitmix64's finalizer: a bijective 64-bit mix with good avalanche. */
uint64_t fa_mix64(uint64_t z);

/* The next value of the splitmix64 stream whose state is *state (advanced). */
uint64_t fa_splitmix64(uint64_t *state);

#endif /* FA_UTIL_H */
