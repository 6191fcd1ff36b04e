/*
 * fa_emit_src.h -- the fixed C code of an emitted dispatch header, embedded in the binary at
 * build time (reports/CMakeLists.txt runs cmake/embed_run.cmake over reports/emit_src/, as
 * the kernel templates are embedded). Each file is real C99 that tests/emit/test_emit_src.c
 * compiles; fa_emit_render.c copies the text between its "fa-tune emit" marker lines.
 */
#ifndef FA_EMIT_SRC_H
#define FA_EMIT_SRC_H

#include "fa_templates.h"

/* Sorted by name; ends with an entry whose name is NULL. */
extern const fa_template_file fa_emit_src_files[];

#endif /* FA_EMIT_SRC_H */
