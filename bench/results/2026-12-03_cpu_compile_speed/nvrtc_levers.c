/*
 * nvrtc_levers.c -- the throw-away NVRTC experiment behind this folder's README (not built by
 * the project): one template, a file of name expressions, and one of
 *     single  one program per expression        batch  K expressions per program
 *     pch     --create-pch once in-process, then --use-pch per program
 *     pchuse  --use-pch of a file made by another process (refused: warning 20282-D)
 *     empty   K programs that only include the template (the fixed cost)
 * printing CPU seconds per expression. XOPT/XOPT2 add an NVRTC option (--time=FILE,
 * --minimal), NOV drops -Xptxas=-v, LOG prints the program logs. Template paths are those of
 * the worktree it ran in.
 *     gcc -O2 -o exp nvrtc_levers.c -I$CUDA/include -L$CUDA/lib64 -lnvrtc
 *     ./exp batch sm_80 fa_fwd_sm80.cuh exprs.txt 8
 */
#define _GNU_SOURCE
#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
static double cpu(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec +
           r.ru_stime.tv_usec / 1e6;
}
static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
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
static const char *hn[] = {"fa_fwd_sm80.cuh",       "fa_params.h",
                           "fa_plan_sm80.h",        "fa_ptx.cuh",
                           "fa_reference.cuh",      "sm90a/fa_fwd_sm90a.cuh",
                           "sm90a/fa_plan_sm90a.h", "sm90a/fa_sm90a_ptx.cuh",
                           "sm90a/fa_wgmma.cuh"};
#define NH 9
static const char *hd[NH];
#define CK(x)                                                                                      \
    do {                                                                                           \
        nvrtcResult r_ = (x);                                                                      \
        if (r_) {                                                                                  \
            fprintf(stderr, "%s: %s\n", #x, nvrtcGetErrorString(r_));                              \
        }                                                                                          \
    } while (0)
/* compile exprs [a,b) in one program */
static size_t one(const char *src, const char *arch, char **ex, int a, int b, const char **extra,
                  int nextra, int printlog)
{
    nvrtcProgram p;
    CK(nvrtcCreateProgram(&p, src, "fa_tune_tu.cu", NH, hd, hn));
    for (int i = a; i < b; i++)
        CK(nvrtcAddNameExpression(p, ex[i]));
    char archopt[64];
    snprintf(archopt, 64, "--gpu-architecture=%s", arch);
    const char *o[16] = {"--std=c++17", archopt, "-I/usr/local/cuda-13.0/include",
                         getenv("NOV") ? "--std=c++17" : "-Xptxas=-v"};
    int n = 4;
    if (getenv("XOPT"))
        o[n++] = getenv("XOPT");
    if (getenv("XOPT2"))
        o[n++] = getenv("XOPT2");
    for (int i = 0; i < nextra; i++)
        o[n++] = extra[i];
    nvrtcResult r = nvrtcCompileProgram(p, n, o);
    size_t ls;
    nvrtcGetProgramLogSize(p, &ls);
    char *log = malloc(ls + 1);
    nvrtcGetProgramLog(p, log);
    if (r || printlog)
        fprintf(stderr, "rc=%d log:\n%s\n", r, log);
    size_t cs = 0;
    nvrtcGetCUBINSize(p, &cs);
    nvrtcDestroyProgram(&p);
    free(log);
    return cs;
}
int main(int argc, char **argv)
{
    /* exp MODE ARCH TPL EXPRFILE [K] */
    const char *mode = argv[1], *arch = argv[2], *tpl = argv[3];
    for (int i = 0; i < NH; i++) {
        char path[512];
        snprintf(path, 512, "/work/wt/speed/templates/%s", hn[i]);
        hd[i] = slurp(path);
    }
    char *all = slurp(argv[4]);
    char *ex[4096];
    int ne = 0;
    for (char *s = strtok(all, "\n"); s; s = strtok(NULL, "\n"))
        ex[ne++] = s;
    int K = argc > 5 ? atoi(argv[5]) : 1;
    char src[256];
    snprintf(src, 256, "#include \"%s\"\n", tpl);
    double c0 = cpu(), w0 = wall();
    if (!strcmp(mode, "empty")) {
        for (int i = 0; i < K; i++)
            one(src, arch, ex, 0, 0, NULL, 0, getenv("LOG") != NULL);
        ne = K;
    } else if (!strcmp(mode, "single") || !strcmp(mode, "batch")) {
        for (int i = 0; i < ne; i += K) {
            int b = i + K > ne ? ne : i + K;
            double c = cpu();
            size_t cs = one(src, arch, ex, i, b, NULL, 0, getenv("LOG") != NULL);
            fprintf(stderr, "  [%d,%d) cubin %zu cpu %.3f\n", i, b, cs, cpu() - c);
        }
    } else if (!strcmp(mode, "pchuse")) {
        const char *use[] = {"--use-pch=/tmp/speed/fa.pch", "--pch-messages=true"};
        for (int i = 0; i < ne; i += K) {
            int b = i + K > ne ? ne : i + K;
            one(src, arch, ex, i, b, use, 2, getenv("LOG") != NULL);
        }
    } else if (!strcmp(mode, "pch")) {
        size_t hs;
        nvrtcGetPCHHeapSize(&hs);
        fprintf(stderr, "heap %zu\n", hs);
        const char *create[] = {"--create-pch=/tmp/speed/fa.pch", "--pch-messages=true"};
        const char *use[] = {"--use-pch=/tmp/speed/fa.pch", "--pch-messages=true"};
        double c = cpu();
        /* create: a program that only includes the headers? use first expr */
        char hsrc[256];
        snprintf(hsrc, 256, "#include \"%s\"\n", tpl);
        nvrtcProgram p;
        CK(nvrtcCreateProgram(&p, hsrc, "fa_tune_tu.cu", NH, hd, hn));
        char archopt[64];
        snprintf(archopt, 64, "--gpu-architecture=%s", arch);
        const char *o[] = {"--std=c++17", archopt,   "-I/usr/local/cuda-13.0/include",
                           "-Xptxas=-v",  create[0], create[1]};
        nvrtcResult r = nvrtcCompileProgram(p, 6, o);
        size_t ls;
        nvrtcGetProgramLogSize(p, &ls);
        char *log = malloc(ls + 1);
        nvrtcGetProgramLog(p, log);
        fprintf(stderr, "create rc=%d pchstatus=%d log:%s\n", r, nvrtcGetPCHCreateStatus(p), log);
        size_t req = 0;
        nvrtcGetPCHHeapSizeRequired(p, &req);
        fprintf(stderr, "required %zu cpu %.3f\n", req, cpu() - c);
        nvrtcDestroyProgram(&p);
        c0 = cpu();
        w0 = wall();
        for (int i = 0; i < ne; i += K) {
            int b = i + K > ne ? ne : i + K;
            double c = cpu();
            size_t cs = one(src, arch, ex, i, b, use, 2, getenv("LOG") != NULL);
            fprintf(stderr, "  [%d,%d) cubin %zu cpu %.3f\n", i, b, cs, cpu() - c);
        }
    }
    fprintf(stderr, "%s K=%d n=%d: cpu %.2f s wall %.2f s => %.3f cpu-s/variant\n", mode, K, ne,
            cpu() - c0, wall() - w0, (cpu() - c0) / ne);
}
