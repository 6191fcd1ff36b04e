/* This file implements the unit test of fa_compile_parse_resources on ptxas -v reports
 * captured from real NVRTC 13.0 compiles (and one line in the older "a+b bytes smem" form),
 * so a change in the report's wording fails here and not silently in a sweep. */
#include "fa_compile.h"
#include "test_util.h"

/* fa_fwd_sm80<bf16, 128, 128, 64, 4, 1, false, false, false> for sm_80: spills. */
static const char *log_spill =
    "ptxas info    : 62 bytes gmem, 136 bytes cmem[4]\n"
    "ptxas info    : Compiling entry function "
    "'_Z11fa_fwd_sm80I13__nv_bfloat16Li128ELi128ELi64ELi4ELi1ELb0ELb0ELb0EEv13fa_fwd_params' "
    "for 'sm_80'\n"
    "ptxas info    : Function properties for "
    "_Z11fa_fwd_sm80I13__nv_bfloat16Li128ELi128ELi64ELi4ELi1ELb0ELb0ELb0EEv13fa_fwd_params\n"
    "ptxas         .     8 bytes stack frame, 24 bytes spill stores, 16 bytes spill loads\n"
    "ptxas info    : Used 255 registers, used 1 barriers, 8 bytes cumulative stack size, 552 "
    "bytes cmem[0]\n"
    "ptxas info    : Compile time = 233.387 ms\n";

/* fa_fwd_sm80<bf16, 128, 64, 32, 4, 1, ...> for sm_80: clean, no static smem. */
static const char *log_clean =
    "ptxas info    : 62 bytes gmem, 136 bytes cmem[4]\n"
    "ptxas info    : Compiling entry function "
    "'_Z11fa_fwd_sm80I13__nv_bfloat16Li128ELi64ELi32ELi4ELi1ELb0ELb0ELb0EEv13fa_fwd_params' "
    "for 'sm_80'\n"
    "ptxas info    : Function properties for "
    "_Z11fa_fwd_sm80I13__nv_bfloat16Li128ELi64ELi32ELi4ELi1ELb0ELb0ELb0EEv13fa_fwd_params\n"
    "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
    "ptxas info    : Used 128 registers, used 1 barriers, 552 bytes cmem[0]\n"
    "ptxas info    : Compile time = 109.771 ms\n";

/* A small kernel with static shared memory and a second function, for sm_90a. */
static const char *log_sm90a =
    "ptxas info    : 0 bytes gmem\n"
    "ptxas info    : Compiling entry function '_Z1kILi128EEvPfi' for 'sm_90a'\n"
    "ptxas info    : Function properties for _Z1kILi128EEvPfi\n"
    "ptxas         .     128 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
    "ptxas info    : Used 40 registers, used 1 barriers, 128 bytes cumulative stack size, 512 "
    "bytes smem\n"
    "ptxas info    : Compile time = 7.373 ms\n"
    "ptxas info    : Function properties for _Z1fPfi\n"
    "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n";

/* --maxrregcount=16 on a register-hungry kernel: ptxas' warning lines come first. */
static const char *log_maxrreg =
    "ptxas warning : For profile sm_80 adjusting per thread register count of 16 to lower "
    "bound of 24\n"
    "ptxas info    : Overriding maximum register limit 256 for '_Z1kILi64EEvPfi' with  24 of "
    "maxrregcount option\n"
    "ptxas info    : 0 bytes gmem\n"
    "ptxas info    : Compiling entry function '_Z1kILi64EEvPfi' for 'sm_80'\n"
    "ptxas info    : Function properties for _Z1kILi64EEvPfi\n"
    "ptxas         .     288 bytes stack frame, 32 bytes spill stores, 32 bytes spill loads\n"
    "ptxas info    : Used 24 registers, used 0 barriers, 288 bytes cumulative stack size, 364 "
    "bytes cmem[0]\n"
    "ptxas info    : Compile time = 16.922 ms";

/* Older ptxas printed static smem as "static+reserved"; both count. */
static const char *log_old =
    "ptxas info    : Function properties for _Z6kernelPf\n"
    "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
    "ptxas info    : Used 168 registers, 16384+16 bytes smem, 400 bytes cmem[0]\n";

/* A compile error: no report at all. */
static const char *log_error =
    "fa_tune_tu.cu(3): error: identifier \"undefined_thing\" is undefined\n"
    "1 error detected in the compilation of \"fa_tune_tu.cu\".\n";

static void expect(const char *what, const char *log, int regs, int smem, int stack, int st, int ld)
{
    fa_build_info b;
    b.compile_ms = 12.5;
    b.cache_hit = 1;
    fa_compile_parse_resources(log, &b);
    if (b.registers != regs || b.smem_static != smem || b.stack_bytes != stack ||
        b.spill_stores != st || b.spill_loads != ld)
        fprintf(stderr, "%s: got regs %d smem %d stack %d spill %d/%d\n", what, b.registers,
                b.smem_static, b.stack_bytes, b.spill_stores, b.spill_loads);
    CHECK(b.registers == regs);
    CHECK(b.smem_static == smem);
    CHECK(b.stack_bytes == stack);
    CHECK(b.spill_stores == st);
    CHECK(b.spill_loads == ld);
    CHECK(b.compile_ms == 12.5 && b.cache_hit == 1); /* not the parser's to touch */
}

int main(void)
{
    expect("spill", log_spill, 255, 0, 8, 24, 16);
    expect("clean", log_clean, 128, 0, 0, 0, 0);
    expect("sm90a", log_sm90a, 40, 512, 128, 0, 0);
    expect("maxrreg", log_maxrreg, 24, 0, 288, 32, 32);
    expect("old", log_old, 168, 16400, 0, 0, 0);
    expect("error", log_error, -1, -1, -1, -1, -1);
    expect("empty", "", -1, -1, -1, -1, -1);
    expect("null", NULL, -1, -1, -1, -1, -1);
    return fa_test_done("test_parse_resources");
}
