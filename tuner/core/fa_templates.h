/*
 * fa_templates.h -- the kernel template sources embedded in the binary at build time
 * (cmake/embed_run.cmake generates the table from templates/). The compile engine hands
 * them to NVRTC as in-memory headers; FA_TUNE_TEMPLATES=<dir> overrides them from disk.
 */
#ifndef FA_TEMPLATES_H
#define FA_TEMPLATES_H

#include <stddef.h>

typedef struct fa_template_file {
    const char *name; /* relative to templates/: "fa_fwd_sm80.cuh", "sm90a/fa_wgmma.cuh" */
    const char *data; /* NUL-terminated contents */
    size_t size;      /* bytes, without the NUL */
} fa_template_file;

/* Sorted by name; ends with an entry whose name is NULL. */
extern const fa_template_file fa_template_files[];

#endif /* FA_TEMPLATES_H */
