/* This file implements the import of peer measurements (bench/peers.py JSON lines) into the
 * results database (see fa_peers_import.h). */
#include "fa_peers_import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fa_json_get(const char *line, const char *key, char *buf, size_t n)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    size_t k = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"' && k + 1 < n; p++) {
            if (*p == '\\' && p[1])
                p++;
            buf[k++] = *p;
        }
    } else {
        if (!strncmp(p, "null", 4))
            return 0;
        while (*p && *p != ',' && *p != '}' && *p != ' ' && k + 1 < n)
            buf[k++] = *p++;
    }
    buf[k] = '\0';
    return k > 0;
}

static int get_int(const char *line, const char *key, int *out)
{
    char b[64], *end;
    if (!fa_json_get(line, key, b, sizeof b))
        return 0;
    long x = strtol(b, &end, 10);
    if (*end)
        return 0;
    *out = (int)x;
    return 1;
}

static int get_double(const char *line, const char *key, double *out)
{
    char b[64], *end;
    if (!fa_json_get(line, key, b, sizeof b))
        return 0;
    *out = strtod(b, &end);
    return *end == '\0';
}

fa_status fa_peers_import(fa_db *db, int64_t run_id, const char *path, fa_peers_import_stats *st,
                          fa_err *err)
{
    fa_status s = FA_OK;
    memset(st, 0, sizeof *st);
    FILE *f = fopen(path, "r");
    if (!f)
        return FA_ERR(err, FA_IO, "cannot read '%s': %s", path, strerror(errno));
    char line[8192], peer[FA_DB_NAME_MAX], dtype[16], version[FA_DB_VERSION_MAX], layout[16],
        tmp[256];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        if (!fa_json_get(line, "peer", peer, sizeof peer)) {
            s = FA_ERR(err, FA_INVALID, "%s:%d: no \"peer\" field", path, lineno);
            break;
        }
        if (fa_json_get(line, "error", tmp, sizeof tmp)) {
            st->skipped++;
            continue;
        }
        fa_dtype dt = FA_DTYPE_BF16;
        if (fa_json_get(line, "dtype", dtype, sizeof dtype) &&
            fa_dtype_parse(dtype, &dt) != FA_OK) {
            s = FA_ERR(err, FA_INVALID, "%s:%d: field 'dtype': '%s' is not fp16 or bf16", path,
                       lineno, dtype);
            break;
        }
        double ms = -1, tflops = -1;
        if (!get_double(line, "median_ms", &ms) || !get_double(line, "tflops", &tflops)) {
            s = FA_ERR(err, FA_INVALID, "%s:%d: fields 'median_ms' and 'tflops' are required", path,
                       lineno);
            break;
        }
        if (!strncmp(peer, "gemm_", 5)) {
            if ((s = fa_db_record_ceiling(db, run_id, peer, dt, ms, tflops, err)) != FA_OK)
                break;
            st->ceilings++;
            continue;
        }
        fa_problem p = {0};
        p.dtype = dt;
        const char *keys[] = {"head_dim", "batch", "heads_q", "heads_kv", "seqlen_q", "seqlen_k"};
        int *dst[] = {&p.head_dim, &p.batch, &p.heads_q, &p.heads_kv, &p.seqlen_q, &p.seqlen_k};
        for (int i = 0; i < 6; i++)
            if (!get_int(line, keys[i], dst[i])) {
                s = FA_ERR(err, FA_INVALID, "%s:%d: field '%s' missing or not an integer", path,
                           lineno, keys[i]);
                goto cleanup;
            }
        get_int(line, "causal", &p.causal);
        get_int(line, "varlen", &p.varlen);
        if (fa_json_get(line, "layout", layout, sizeof layout) && !strcmp(layout, "bhsd"))
            p.layout = FA_LAYOUT_BHSD;
        fa_err perr = {0};
        if (fa_problem_check(&p, &perr) != FA_OK) {
            s = FA_ERR(err, FA_INVALID, "%s:%d: %s", path, lineno, perr.msg);
            break;
        }
        double peak = -1;
        get_double(line, "peak_extra_bytes", &peak);
        if (!fa_json_get(line, "versions", version, sizeof version))
            version[0] = '\0';
        if ((s = fa_db_record_peer(db, run_id, &p, peer, version, ms, tflops, (int64_t)peak,
                                   err)) != FA_OK)
            break;
        st->peers++;
    }
cleanup:
    fclose(f);
    return s;
}
