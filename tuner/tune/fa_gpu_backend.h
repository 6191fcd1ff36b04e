/*
 * fa_gpu_backend.h -- the tuning engine's backend on real GPUs: one harness worker process
 * per device ordinal (fa_worker.h), exposed as an fa_tune_backend with one slot per device.
 */
#ifndef FA_GPU_BACKEND_H
#define FA_GPU_BACKEND_H

#include "fa_tune.h"
#include "fa_worker.h"

typedef struct fa_gpu_backend fa_gpu_backend;

/* Parse "0,1", "2" or "all" into ordinals (at most max); FA_INVALID naming the bad item.
 * "all" gives *n = -1 (resolved when the workers start). */
fa_status fa_devices_parse(const char *s, int *ordinals, int max, int *n, fa_err *err);

/* Start one worker per ordinal (n = -1: every GPU, probing 0, 1, ... until one is missing).
 * FA_NO_DEVICE when there is no driver or no GPU at all (err has the one-line reason);
 * FA_INVALID when an ordinal does not exist (err lists the devices found). */
fa_status fa_gpu_backend_start(const int *ordinals, int n, fa_compiler *c, fa_gpu_backend **out,
                               fa_err *err);
int fa_gpu_backend_slots(const fa_gpu_backend *g);
const fa_device_info *fa_gpu_backend_device(const fa_gpu_backend *g, int slot);
void fa_gpu_backend_get(fa_gpu_backend *g, fa_tune_backend *out);
void fa_gpu_backend_stop(fa_gpu_backend *g); /* NULL is a no-op */

#endif /* FA_GPU_BACKEND_H */
