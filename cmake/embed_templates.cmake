# Generates fa_templates_embedded.c: every file of templates/ as a byte array with its name,
# so the fa-tune binary carries its kernel source (NVRTC gets them as in-memory headers) and
# the compile cache key can hash exactly what is compiled.
set(FA_EMBED_OUT ${PROJECT_BINARY_DIR}/generated/fa_templates_embedded.c)
# The file list travels as one argument: its ";" separators are escaped, or CMake would split
# it into separate arguments (and the shell would then run each file name as a command).
string(REPLACE ";" "$<SEMICOLON>" FA_EMBED_FILES_ARG "${FA_TEMPLATE_FILES}")
add_custom_command(
  OUTPUT ${FA_EMBED_OUT}
  COMMAND ${CMAKE_COMMAND} -DOUT=${FA_EMBED_OUT} -DBASE=${FA_TEMPLATE_DIR}
          "-DFILES=${FA_EMBED_FILES_ARG}"
          -P ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
  DEPENDS ${FA_TEMPLATE_FILES} ${PROJECT_SOURCE_DIR}/cmake/embed_run.cmake
  COMMENT "embedding kernel templates"
  VERBATIM)
add_library(fa_templates STATIC ${FA_EMBED_OUT})
target_include_directories(fa_templates PUBLIC ${PROJECT_SOURCE_DIR}/templates
                                                ${PROJECT_SOURCE_DIR}/tuner/core)
