/* This file implements the tuning engine's GPU backend: harness workers, one per device
 * (see fa_gpu_backend.h). */
#include "fa_gpu_backend.h"

#include "fa_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GPUS 64

struct fa_gpu_backend {
    int n;
    fa_worker *w[MAX_GPUS];
};

fa_status fa_devices_parse(const char *s, int *ordinals, int max, int *n, fa_err *err)
{
    if (s && !strcmp(s, "all")) {
        *n = -1;
        return FA_OK;
    }
    int k = 0;
    const char *p = s ? s : "";
    char shown[128], item[32];
    fa_printable(s, shown, sizeof shown);
    while (*p) {
        size_t len = strcspn(p, ",");
        int64_t x = -1;
        if (len < sizeof item) {
            memcpy(item, p, len);
            item[len] = '\0';
            if (fa_parse_int64(item, 0, MAX_GPUS - 1, 0, &x) != 0)
                x = -1;
        }
        if (x < 0 || (p[len] == ',' && !p[len + 1]))
            return FA_ERR(err, FA_INVALID,
                          "--devices '%s': expected GPU ordinals in [0, %d] like 0,1, or all",
                          shown, MAX_GPUS - 1);
        for (int i = 0; i < k; i++)
            if (ordinals[i] == x)
                return FA_ERR(err, FA_INVALID, "--devices '%s': GPU %d given twice", shown, (int)x);
        if (k == max)
            return FA_ERR(err, FA_INVALID, "--devices '%s': at most %d GPUs", shown, max);
        ordinals[k++] = (int)x;
        p += len;
        p += *p == ',';
    }
    if (k == 0)
        return FA_ERR(err, FA_INVALID, "--devices: empty list");
    *n = k;
    return FA_OK;
}

/* The GPUs a probe can see, as "0: NVIDIA H100 80GB HBM3, 1: ..." for error messages. */
static void list_devices(fa_compiler *c, char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    fa_worker_opts o;
    fa_worker_opts_default(&o);
    fa_compiler_service(c, &o.compiler);
    for (int i = 0; i < MAX_GPUS && k < n; i++) {
        fa_worker *w = NULL;
        if (fa_worker_start(i, &o, &w, NULL) != FA_OK)
            break;
        k += (size_t)snprintf(buf + k, n - k, "%s%d: %s", i ? ", " : "", i,
                              fa_worker_device(w)->name);
        fa_worker_stop(w);
    }
    if (!buf[0])
        snprintf(buf, n, "none");
}

fa_status fa_gpu_backend_start(const int *ordinals, int n, fa_compiler *c, fa_gpu_backend **out,
                               fa_err *err)
{
    fa_gpu_backend *g = calloc(1, sizeof *g);
    if (!g)
        return FA_ERR(err, FA_NOMEM, "out of memory");
    fa_worker_opts o;
    fa_worker_opts_default(&o);
    fa_compiler_service(c, &o.compiler);
    fa_status st = FA_OK;
    int count = n < 0 ? MAX_GPUS : n;
    for (int i = 0; i < count; i++) {
        int ord = n < 0 ? i : ordinals[i];
        fa_err e = {0};
        st = fa_worker_start(ord, &o, &g->w[g->n], &e);
        if (st == FA_OK) {
            g->n++;
            continue;
        }
        if (n < 0 && g->n > 0) { /* "all": the first missing ordinal ends the list */
            st = FA_OK;
            break;
        }
        if (st == FA_NO_DEVICE && (i > 0 || ord > 0)) {
            /* The driver works (or another ordinal does): this ordinal does not exist. */
            char found[1024];
            fa_gpu_backend_stop(g);
            g = NULL;
            list_devices(c, found, sizeof found);
            if (strcmp(found, "none") != 0)
                return FA_ERR(err, FA_INVALID, "no GPU %d: the GPUs are %s", ord, found);
        }
        fa_gpu_backend_stop(g);
        if (err)
            *err = e;
        return st;
    }
    *out = g;
    return st;
}

int fa_gpu_backend_slots(const fa_gpu_backend *g)
{
    return g->n;
}

const fa_device_info *fa_gpu_backend_device(const fa_gpu_backend *g, int slot)
{
    return fa_worker_device(g->w[slot]);
}

static fa_status run(void *ctx, int slot, const fa_job *job, fa_measurement *m, fa_err *err)
{
    fa_gpu_backend *g = ctx;
    return fa_worker_check_and_time(g->w[slot], job, m, NULL, err);
}

static fa_status retime(void *ctx, int slot, const fa_job *jobs, int n, fa_measurement *ms,
                        fa_err *err)
{
    fa_gpu_backend *g = ctx;
    return fa_worker_retime_interleaved(g->w[slot], jobs, n, ms, err);
}

void fa_gpu_backend_get(fa_gpu_backend *g, fa_tune_backend *out)
{
    out->ctx = g;
    out->slots = g->n;
    out->run = run;
    out->retime = retime;
}

void fa_gpu_backend_stop(fa_gpu_backend *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n; i++)
        fa_worker_stop(g->w[i]);
    free(g);
}
