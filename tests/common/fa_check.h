/*
 * fa_check.h -- the assertion the plain C tests share: on failure print file, line and the
 * condition, and exit 1 (ctest reports the test failed).
 */
#ifndef FA_CHECK_H
#define FA_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif /* FA_CHECK_H */
