/* This file implements `fa-tune info`: the versions a result depends on (fa-tune, the CUDA
 * toolkit it was built against, NVRTC, the driver) and every GPU's facts. It is the one
 * command that initialises CUDA in the main process: it forks no worker. With no driver or no
 * GPU it says so in one line and exits 0 -- that is an answer, not a failure. */
#include <cuda.h>
#include <stdio.h>
#include <string.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_harness.h"
#include "fa_nvrtc.h"

static const char *const cmd = "info";

#define FA_INFO_MAX_DEVICES 64

static void usage(FILE *out)
{
    fprintf(out, "usage: fa-tune info\n"
                 "\n"
                 "Prints the fa-tune version, the CUDA toolkit fa-tune was built against, the\n"
                 "NVRTC library it compiles with, the CUDA driver, and for each GPU: name,\n"
                 "compute capability, SM count, opt-in shared memory per block, L2 size, memory\n"
                 "and clocks. Without a CUDA driver or a GPU it prints one line saying so.\n"
                 "\n"
                 "exit codes: 0 (also when there is no GPU), 2 usage error.\n");
}

static void versions(char *buf, size_t n)
{
    /* NVRTC is found at run time like the rest of the toolkit (fa_nvrtc.h): say which. */
    char nvrtc[4096 + 48];
    fa_nvrtc *nv = NULL;
    fa_err err;
    fa_err_clear(&err);
    if (fa_nvrtc_load(&nv, &err) == FA_OK)
        snprintf(nvrtc, sizeof nvrtc, "%d.%d (%s)", nv->major, nv->minor, nv->path);
    else
        snprintf(nvrtc, sizeof nvrtc, "unavailable: %s", err.msg);
    fa_nvrtc_free(nv);
    snprintf(buf, n, "fa-tune %s, CUDA toolkit %d.%d, NVRTC %s", FA_TUNE_VERSION_STRING,
             CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10, nvrtc);
}

int cmd_info(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (fa_cli_is_help(argv[i])) {
            usage(stdout);
            return FA_EXIT_OK;
        }
        return fa_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
    }
    char ver[4096 + 256];
    versions(ver, sizeof ver);

    fa_device_info dev[FA_INFO_MAX_DEVICES];
    int n = 0, driver = 0;
    fa_err err;
    fa_err_clear(&err);
    fa_status st = fa_harness_devices(dev, FA_INFO_MAX_DEVICES, &n, &driver, &err);
    if (st != FA_OK) {
        /* One line: what fa-tune is, and why there is nothing more to say. */
        printf("%s: %s\n", ver, err.msg);
        return st == FA_NO_DEVICE ? FA_EXIT_OK : fa_cli_exit_code(st);
    }
    printf("%s\n", ver);
    printf("CUDA driver supports CUDA %d.%d\n", driver / 1000, driver % 1000 / 10);
    for (int i = 0; i < n; i++) {
        const fa_device_info *d = &dev[i];
        const fa_arch *a = fa_arch_from_cc(d->cc);
        printf("device %d: %s\n", d->ordinal, d->name);
        printf("  compute capability %d.%d (%s%s), %d SMs\n", d->cc / 10, d->cc % 10,
               a ? a->name : "not a fa-tune arch", a ? " family" : "", d->sm_count);
        printf("  shared memory: %d KiB per block (opt-in), %d KiB per SM; L2 %.1f MiB\n",
               d->smem_per_block_optin / 1024, d->smem_per_sm / 1024,
               d->l2_bytes / (1024.0 * 1024.0));
        printf("  memory %.1f GiB, %d-bit bus, memory clock %d MHz; SM clock %d MHz\n",
               (double)d->total_mem / (1024.0 * 1024.0 * 1024.0), d->mem_bus_bits,
               d->mem_clock_khz / 1000, d->clock_khz / 1000);
    }
    return FA_EXIT_OK;
}
