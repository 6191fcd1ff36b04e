/*
 * test_variant_names.h -- a variant from its name, and whether the legality model admits it on
 * an arch, for the family tests (sm90a, splitkv) that state their cases as variant names.
 */
#ifndef TEST_VARIANT_NAMES_H
#define TEST_VARIANT_NAMES_H

#include <stdio.h>
#include <string.h>

#include "fa_family.h"
#include "test_util.h"

/* The variant `name` names; a parse failure is a failed check (with the parser's message). */
static inline fa_variant fa_test_parse(const char *name)
{
    fa_variant v;
    fa_err err;
    fa_err_clear(&err);
    memset(&v, 0, sizeof v);
    CHECK_MSG(fa_variant_parse(name, &v, &err) == FA_OK, "%s: %s", name, err.msg);
    return v;
}

/* 1 if the legality model admits `name` on `arch`; else 0, and why (n bytes) when why != 0. */
static inline int fa_test_legal(const char *name, const char *arch, char *why, size_t n)
{
    fa_variant v = fa_test_parse(name);
    fa_err err;
    fa_err_clear(&err);
    fa_status st = fa_variant_check(&v, fa_arch_find(arch), &err);
    if (why)
        snprintf(why, n, "%s", err.msg);
    return st == FA_OK;
}

#endif /* TEST_VARIANT_NAMES_H */
