#!/bin/bash
# instr_counts.sh -- instruction counts (cachegrind, deterministic) of NVRTC programs built by
# nvrtc_one.c (compiled to ./one) from two template folders: tA = a3dca44's templates (plus an
# empty fa_half_types.cuh), tB = this branch's. single1 = one variant in a program, batch8 =
# eight in one program (FA_COMPILE_BATCH's default), empty = a program that only includes
# fa_fwd_sm80.cuh. Run from a folder that holds one, tA and tB.
E=("fa_fwd_sm80<__nv_bfloat16, 64, 128, 64, 4, 2, false, false, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 128, 128, 8, 3, false, true, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 64, 48, 4, 1, true, true, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 128, 96, 4, 2, false, false, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 64, 32, 4, 3, false, false, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 128, 80, 8, 2, true, true, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 64, 112, 4, 2, false, true, false>"
"fa_fwd_sm80<__nv_bfloat16, 64, 128, 32, 8, 1, true, false, false>")
cg() { valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 | grep "I *refs" | awk '{print $NF}'; }
for t in tA tB; do
  for opt in "" --minimal; do
    s=$(cg ./one $t sm_80 fa_fwd_sm80.cuh cg.cubin "${E[0]}" -- $opt)
    b=$(cg ./one $t sm_80 fa_fwd_sm80.cuh cg.cubin "${E[@]}" -- $opt)
    e=$(cg ./one $t sm_80 fa_fwd_sm80.cuh cg.cubin -- $opt)
    echo "$t opt='$opt' single1=$s batch8=$b empty=$e"
  done
done
