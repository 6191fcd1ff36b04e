/* This file implements `fa-tune info`: the versions a result depends on (fa-tune, the CUDA
 * toolkit it was built against, NVRTC, the driver), whether NVRTC can compile here (a small
 * kernel that includes the toolkit's bf16 header, built for sm_80 without the cache), and
 * every GPU's facts. It is the one command that initialises CUDA in the main process: it forks
 * no worker. With no driver or no GPU it says so in one line and exits 0 -- that is an answer,
 * not a failure; a compiler that does not work is one (exit 1), since nothing else can run. */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fa_cli.h"
#include "fa_commands.h"
#include "fa_compile.h"
#include "fa_harness.h"
#include "fa_nvrtc.h"
#include "fa_options.h"
#include "fa_parse.h"
#include "fa_util.h"

static const char *const cmd = "info";

#define FA_INFO_MAX_DEVICES 64

/* The probe: the include every template needs, one instance named as the engine names them. */
static const char probe_source[] =
    "#include <cuda_bf16.h>\n"
    "template <int N> __global__ void fa_info_probe(__nv_bfloat16 *x)\n"
    "{\n"
    "    x[threadIdx.x] = __float2bfloat16(__bfloat162float(x[threadIdx.x]) * N);\n"
    "}\n";

/* What to do about a failed compile, from its message. */
static const char *probe_hint(const char *msg)
{
    if (strstr(msg, "builtins"))
        return "NVRTC could not load libnvrtc-builtins: fa-tune loads it from the folder of "
               "libnvrtc (shown above); check that the toolkit there is complete, or set "
               "CUDA_HOME to one that is";
    if (strstr(msg, "cuda_") || strstr(msg, "toolkit headers") || strstr(msg, "source file"))
        return "the CUDA headers were not found or are incomplete: set CUDA_HOME to the toolkit "
               "folder that holds include/cuda_bf16.h";
    return "check the CUDA toolkit installation (NVRTC and its headers come with it)";
}

/* A CUDA_HOME or CUDA_PATH that names no folder is skipped by the toolkit search (the next
 * root is tried): say so here, where a user looks when the wrong toolkit is picked up. */
static void note_unused_toolkit_vars(void)
{
    static const char *const vars[] = {"CUDA_HOME", "CUDA_PATH"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        struct stat sb;
        char shown[FA_CLI_SHOWN_MAX];
        if (v && *v && (stat(v, &sb) != 0 || !S_ISDIR(sb.st_mode)))
            printf("note: %s='%s' is not a folder: ignored in the toolkit search\n", vars[i],
                   fa_printable(v, shown, sizeof shown));
    }
}

/* Compile the probe and print one line (two on failure). Returns 0 when it compiled. */
static int probe_compile(void)
{
    fa_compiler *c = NULL;
    fa_compile_output out;
    fa_err err;
    char msg[sizeof err.msg] = "";
    fa_err_clear(&err);
    memset(&out, 0, sizeof out);
    fa_compiler_opts o = {0};
    o.no_cache = 1;
    double t0 = fa_now_s();
    fa_status st = fa_compiler_new(&o, &c, &err);
    if (st == FA_OK)
        st = fa_compile_source(c, probe_source, "fa_info_probe<2>", "sm_80", NULL, 0, &out, &err);
    double ms = (fa_now_s() - t0) * 1000.0;
    if (st != FA_OK)
        snprintf(msg, sizeof msg, "%s", err.msg);
    else if (out.status != FA_OK)
        fa_compile_log_summary(out.log, msg, sizeof msg);
    int ok = st == FA_OK && out.status == FA_OK;
    if (ok)
        printf("NVRTC compile: works (a test kernel for sm_80 in %.0f ms, CUDA headers in '%s')\n",
               ms, fa_compiler_cuda_include(c));
    else
        printf("NVRTC compile: FAILED (a test kernel for sm_80%s%s%s): %s\n  hint: %s\n",
               c ? ", CUDA headers in '" : "", c ? fa_compiler_cuda_include(c) : "", c ? "'" : "",
               msg[0] ? msg : "no message", probe_hint(msg));
    fa_compile_output_release(&out);
    fa_compiler_free(c);
    return ok ? 0 : -1;
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
    static const fa_option opts[] = {{.kind = FA_OPT_END}};
    const fa_opt_cmd c = {
        .name = cmd,
        .usage = "usage: fa-tune info\n",
        .intro = "Prints the fa-tune version, the CUDA toolkit fa-tune was built against, the\n"
                 "NVRTC library it compiles with, the CUDA driver, and for each GPU: name,\n"
                 "compute capability, SM count, opt-in shared memory per block, L2 size, memory\n"
                 "and clocks. Without a CUDA driver or a GPU it says so in one line.\n"
                 "It also compiles a small kernel for sm_80 with NVRTC (no cache) and prints\n"
                 "whether that works, how long it took and which CUDA headers it used; when it\n"
                 "fails, NVRTC's error and what to fix.\n",
        .outro = "exit codes: 0 compiling works (also when there is no GPU), 1 it does not,\n"
                 "2 usage error.\n",
        .opts = opts};
    int rc = fa_opt_parse(&c, argc, argv);
    if (rc >= 0)
        return rc;
    char ver[4096 + 256];
    versions(ver, sizeof ver);
    note_unused_toolkit_vars();

    fa_device_info dev[FA_INFO_MAX_DEVICES];
    int n = 0, driver = 0;
    fa_err err;
    fa_err_clear(&err);
    fa_status st = fa_harness_devices(dev, FA_INFO_MAX_DEVICES, &n, &driver, &err);
    if (st != FA_OK) {
        /* One line: what fa-tune is, and why there are no devices to describe. */
        printf("%s: %s\n", ver, err.msg);
        int compiles = probe_compile() == 0;
        if (st != FA_NO_DEVICE)
            return fa_cli_exit_code(st);
        return compiles ? FA_EXIT_OK : FA_EXIT_FAIL;
    }
    printf("%s\n", ver);
    int compiles = probe_compile() == 0;
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
    return compiles ? FA_EXIT_OK : FA_EXIT_FAIL;
}
