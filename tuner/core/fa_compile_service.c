/*
 * fa_compile_service.c -- the parts of a compile result every layer shares: releasing an
 * fa_compile_output and summarising a compile log in one line (fa_compile_service.h).
 */
#include "fa_compile_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fa_compile_output_release(fa_compile_output *out)
{
    if (!out)
        return;
    free(out->cubin);
    free(out->log);
    memset(out, 0, sizeof *out);
}

void fa_compile_log_summary(const char *log, char *buf, size_t n)
{
    const char *first = NULL;
    size_t first_len = 0;
    buf[0] = '\0';
    for (const char *line = log; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *hit = strstr(line, "error");
        if (hit && hit < line + len) {
            snprintf(buf, n, "%.*s", (int)len, line);
            return;
        }
        if (!first && len > 0) {
            first = line;
            first_len = len;
        }
        line = end ? end + 1 : line + len;
    }
    if (first)
        snprintf(buf, n, "%.*s", (int)first_len, first);
}

int fa_compile_service_ok(const fa_compile_service *s)
{
    return s && s->compile_source && s->compile_variant;
}
