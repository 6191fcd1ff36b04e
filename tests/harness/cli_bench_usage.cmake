# `fa-tune bench` usage errors exit 2 with a message naming the problem, on any machine (they
# are caught before a worker starts); --help prints usage on stdout and exits 0.
set(cases
    "no subject|say what to time"
    "--bogus|unknown option '--bogus'"
    "--variant|--variant needs a variant name"
    "--variant junk|bad variant name 'junk'"
    "--eager-only --headdim 100|unsupported --headdim '100'"
    "--eager-only --dtype fp8|unsupported --dtype 'fp8'"
    "--param block_m=64|family sm80 needs all of block_m"
    "--param bogus=1|no parameter 'bogus' in family sm80"
    "--param block_m=64 --param block_m=128|--param 'block_m=128': 'block_m' given twice"
    "--eager-only --variant fwd_sm80_hd128_bf16_m128n64w4s2|exclude each other"
    "--variant fwd_sm80_hd128_bf16_m128n64w4s2 --headdim 64|--headdim contradicts variant"
    "--variant fwd_sm80_hd128_bf16_m128n64w4s2 --dtype fp16|--dtype contradicts variant"
    "--variant fwd_sm80_hd128_bf16_m128n64w4s2 --causal|--causal contradicts variant"
    "--eager-only --heads 6 --heads-kv 4|not a multiple of kv heads"
    "--eager-only --seqlen-q 0|--seqlen-q '0'"
    "--eager-only --varlen --layout bhsd|bhsd layout does not apply"
    "--eager-only --layout bsdh|expected bshd or bhsd"
    "--eager-only --repeat 0|--repeat '0'"
    "--eager-only --min-reps 50 --max-reps 10|exceeds --max-reps"
    "--eager-only --rse 2|--rse '2'"
    "--eager-only --seed 99999999999999999999|--seed '99999999999999999999': expected an integer in [0, 18446744073709551615]"
    "--eager-only --check-seed -1|--check-seed '-1'"
    "--eager-only --check-seed 0x1ffffffffffffffff|--check-seed '0x1ffffffffffffffff'"
    "--eager-only --timeout nan|--timeout 'nan': expected a number in [1, 86400]"
    "--eager-only --max-seconds inf|--max-seconds 'inf'"
    "--eager-only --gap-us -5|--gap-us '-5': expected a number in [0, 100000]"
    "--eager-only --scale 1e-400|--scale '1e-400'"
    "--eager-only --headdim 4294967424|unsupported --headdim '4294967424'"
    "--eager-only --batch 4294967297|--batch '4294967297': expected an integer in [1, 65535]"
    "--eager-only --device 0x1|--device '0x1'"
    "--variant fwd_sm80_hd64_bf16_m64n64w4s1 --page-size 64|--page-size is for decode variants"
    "--eager-only --page-size 64|--page-size is for decode variants"
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --seqlen-q 100|decode seqlen_q 100 is above 16"
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --seqlen-q 1 --page-size 8|page size 8 is not 0"
    # a decode variant's default shape is a decode one (seqlen_q 1), not the forward 2048
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --page-size 8|page size 8 is not 0"
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --seqlen-q 1 --page-size 64 --layout bhsd|paged decode caches are bshd"
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --seqlen-q 1 --page-size 512|--page-size '512'"
    "--variant decode_splitkv_hd128_bf16_m16n64w4s3k0 --seqlen-q 1 --cache-lens all|--cache-lens 'all': expected fixed or uniform"
    "--variant fwd_sm80_hd64_bf16_m64n64w4s1 --cache-lens uniform|--cache-lens is for decode variants")
foreach(c IN LISTS cases)
  # "args separated by spaces|text stderr must contain"
  string(FIND "${c}" "|" bar)
  string(SUBSTRING "${c}" 0 ${bar} args)
  math(EXPR bar "${bar} + 1")
  string(SUBSTRING "${c}" ${bar} -1 want)
  if(args STREQUAL "no subject")
    set(parts "")
  else()
    separate_arguments(parts UNIX_COMMAND "${args}")
  endif()
  execute_process(COMMAND ${FA_TUNE} bench ${parts} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 2)
    message(FATAL_ERROR "fa-tune bench ${parts}: want exit 2, got ${rc}\n${out}${err}")
  endif()
  string(FIND "${err}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "fa-tune bench ${parts}: stderr lacks '${want}':\n${err}")
  endif()
  if(NOT out STREQUAL "")
    message(FATAL_ERROR "fa-tune bench ${parts}: usage errors print nothing on stdout:\n${out}")
  endif()
endforeach()
execute_process(COMMAND ${FA_TUNE} bench --help RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^usage: fa-tune bench" OR NOT err STREQUAL "")
  message(FATAL_ERROR "bench --help: want usage on stdout and exit 0, got ${rc}:\n${out}${err}")
endif()
