/*
 * fa_util.h -- small helpers every part of fa-tune shares: a monotonic clock, the FA_PROFILE
 * switch, the splitmix64 mixer that seeds inputs, varlen lengths and the random search
 * order, a content hash for cubins, and appending formatted text to a fixed buffer.
 */
#ifndef FA_UTIL_H
#define FA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock (only differences mean anything). */
double fa_now_s(void);

/* Whether the on/off switch `name` (FA_PROFILE, FA_VERBOSE, FA_NO_PDL) is on: set, not empty,
 * not "0" (main refuses other values than 0 and 1 before anything reads them). */
int fa_env_on(const char *name);

/* Whether FA_PROFILE asks for the profile lines on stderr: fa_env_on("FA_PROFILE"). */
int fa_profile_on(void);

/* splitmix64's finalizer: a bijective 64-bit mix with good avalanche. */
uint64_t fa_mix64(uint64_t z);

/* The next value of the splitmix64 stream whose state is *state (advanced). */
uint64_t fa_splitmix64(uint64_t *state);

/* A 64-bit hash of size bytes, never 0 (0 can then mean "not computed"): with the size, the
 * identity of a cubin where fa-tune keeps one per content (a worker's ledger and its loaded
 * modules). Not a cryptographic hash: the cubins come from fa-tune's own compiler, and among a
 * run's few thousand a collision has a chance of about 1e-13. */
uint64_t fa_content_hash(const void *bytes, size_t size);

/* Append what fmt says to buf (n bytes, *len of them used, NUL-terminated), cut to fit;
 * *len stays below n. For help and report text assembled piece by piece. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void fa_append(char *buf, size_t n, size_t *len, const char *fmt, ...);

#endif /* FA_UTIL_H */
