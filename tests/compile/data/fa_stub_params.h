/*
 * fa_stub_params.h (test stub) -- the stub kernel's argument struct. A second header in the
 * stub template folder, so the tests also cover templates that include one another.
 */
#ifndef FA_STUB_PARAMS_H
#define FA_STUB_PARAMS_H

typedef struct fa_stub_params {
    unsigned long long o;
} fa_stub_params;

#endif /* FA_STUB_PARAMS_H */
