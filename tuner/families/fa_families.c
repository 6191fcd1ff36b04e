/* This file implements the registry of kernel families (see fa_family.h): adding a family is
 * its description file beside this one and one line here. A build may compile this file with
 * FA_FAMILY_TESTTWO to add the test-only family of tests/family (never in the installed tool). */
#include "fa_family.h"

extern const fa_family fa_family_sm80_def;
extern const fa_family fa_family_sm90a_def;
extern const fa_family fa_family_splitkv_def;
#ifdef FA_FAMILY_TESTTWO
extern const fa_family fa_family_testtwo_def;
#endif

const fa_family *const fa_family_registry[] = {
    &fa_family_sm80_def,
    &fa_family_sm90a_def,
    &fa_family_splitkv_def,
#ifdef FA_FAMILY_TESTTWO
    &fa_family_testtwo_def,
#endif
    NULL,
};
