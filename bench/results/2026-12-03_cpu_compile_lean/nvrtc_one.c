/*
 * nvrtc_one.c -- the throw-away NVRTC probe behind this folder's README (not built by the
 * project): one NVRTC program that includes TPL from the template folder TPLDIR and compiles
 * every EXPR in it, with fa-tune's options (--std=c++17, the arch, -I<toolkit>, -Xptxas=-v)
 * plus any after "--"; writes the cubin to OUTCUBIN and prints CPU seconds (REPS=n repeats).
 * No EXPR: a program that only includes the template (the fixed front end).
 *     gcc -O2 -o one nvrtc_one.c -I$CUDA/include -L$CUDA/lib64 -lnvrtc
 *     ./one TPLDIR sm_80 fa_fwd_sm80.cuh out.cubin EXPR... [-- OPTS...]
 * TPLDIR must hold every file of hn[] below (an empty fa_half_types.cuh for a3dca44's set).
 */
#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
static double cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
}
static char *slurp(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) {
        perror(p);
        exit(1);
    }
    fseek(f, 0, 2);
    long n = ftell(f);
    rewind(f);
    char *b = malloc(n + 1);
    fread(b, 1, n, f);
    b[n] = 0;
    fclose(f);
    return b;
}
static const char *hn[] = {"fa_fwd_sm80.cuh",          "fa_params.h",
                           "fa_plan_sm80.h",           "fa_ptx.cuh",
                           "fa_reference.cuh",         "sm90a/fa_fwd_sm90a.cuh",
                           "sm90a/fa_plan_sm90a.h",    "sm90a/fa_sm90a_ptx.cuh",
                           "sm90a/fa_wgmma.cuh",       "decode/fa_decode_splitkv.cuh",
                           "decode/fa_plan_splitkv.h", "fa_half_types.cuh"};
#define NH 12
int main(int argc, char **argv)
{
    const char *hd[NH];
    char path[512];
    for (int i = 0; i < NH; i++) {
        snprintf(path, 512, "%s/%s", argv[1], hn[i]);
        hd[i] = slurp(path);
    }
    char src[256];
    snprintf(src, 256, "#include \"%s\"\n", argv[3]);
    int reps = getenv("REPS") ? atoi(getenv("REPS")) : 1;
    double c0 = cpu();
    size_t cs = 0;
    for (int rep = 0; rep < reps; rep++) {
        nvrtcProgram p;
        nvrtcCreateProgram(&p, src, "fa_tune_tu.cu", NH, hd, hn);
        int i = 5;
        for (; i < argc && strcmp(argv[i], "--"); i++)
            nvrtcAddNameExpression(p, argv[i]);
        char archopt[64];
        snprintf(archopt, 64, "--gpu-architecture=%s", argv[2]);
        const char *o[32] = {"--std=c++17", archopt, "-I/usr/local/cuda/include", "-Xptxas=-v"};
        int n = 4;
        for (i++; i < argc; i++)
            o[n++] = argv[i];
        nvrtcResult r = nvrtcCompileProgram(p, n, o);
        size_t ls;
        nvrtcGetProgramLogSize(p, &ls);
        char *log = malloc(ls + 1);
        nvrtcGetProgramLog(p, log);
        if (r || getenv("LOG"))
            fprintf(stderr, "rc=%d log:\n%s\n", r, log);
        nvrtcGetCUBINSize(p, &cs);
        char *cb = malloc(cs);
        nvrtcGetCUBIN(p, cb);
        FILE *f = fopen(argv[4], "wb");
        fwrite(cb, 1, cs, f);
        fclose(f);
        nvrtcDestroyProgram(&p);
    }
    printf("cpu %.3f cubin %zu\n", (cpu() - c0) / reps, cs);
    return 0;
}
