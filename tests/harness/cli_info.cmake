# `fa-tune info`: without a driver (forced: FA_TUNE_LIBCUDA names a file that does not exist)
# one line saying so, then whether NVRTC compiles here, exit 0; with the real driver either that
# or device lines; a toolkit whose headers are incomplete (a CUDA_HOME holding only
# cuda_fp16.h) makes the compile line say FAILED with NVRTC's error and a hint, exit 1, the
# versions still printed; --help on stdout with exit 0; an unknown option exits 2.
set(compiles "\nNVRTC compile: works \\(a test kernel for sm_80 in [0-9]+ ms, CUDA headers in '[^']+'\\)\n$")
execute_process(COMMAND ${CMAKE_COMMAND} -E env FA_TUNE_LIBCUDA=/nonexistent/libcuda.so.1
                        ${FA_TUNE} info
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" nl "${out}")
list(LENGTH nl lines)
if(NOT rc EQUAL 0 OR NOT lines EQUAL 2 OR NOT out MATCHES "no CUDA driver" OR
   NOT out MATCHES "${compiles}")
  message(FATAL_ERROR "info without a driver: want exit 0, a 'no CUDA driver' line and a "
                      "'NVRTC compile: works' line, got exit ${rc} and ${lines} line(s):\n${out}${err}")
endif()
if(NOT out MATCHES "^fa-tune [0-9]+\\.[0-9]+\\.[0-9]+, CUDA toolkit [0-9]+\\.[0-9]+, NVRTC ")
  message(FATAL_ERROR "info's line lacks the versions:\n${out}")
endif()

set(fake ${CMAKE_CURRENT_BINARY_DIR}/cli_info_fake_cuda)
file(REMOVE_RECURSE ${fake})
file(WRITE ${fake}/include/cuda_fp16.h "/* a toolkit without cuda_bf16.h */\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E env FA_TUNE_LIBCUDA=/nonexistent/libcuda.so.1
                        CUDA_HOME=${fake} ${FA_TUNE} info
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(REMOVE_RECURSE ${fake})
if(NOT rc EQUAL 1 OR NOT out MATCHES "^fa-tune [0-9]+\\.[0-9]+\\.[0-9]+, CUDA toolkit" OR
   NOT out MATCHES "\nNVRTC compile: FAILED [^\n]*cuda_bf16\\.h" OR
   NOT out MATCHES "\n  hint: [^\n]*CUDA_HOME")
  message(FATAL_ERROR "info with incomplete CUDA headers: want exit 1, the versions, the NVRTC "
                      "error naming cuda_bf16.h and a hint; got exit ${rc}:\n${out}${err}")
endif()

execute_process(COMMAND ${FA_TUNE} info RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" nl "${out}")
list(LENGTH nl lines)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "info exited ${rc}:\n${out}${err}")
endif()
if(out MATCHES "device 0: ")
  if(NOT out MATCHES "compute capability [0-9]+\\.[0-9]+" OR NOT out MATCHES "SMs")
    message(FATAL_ERROR "info's device lines lack facts:\n${out}")
  endif()
elseif(NOT lines EQUAL 2 OR NOT out MATCHES "${compiles}")
  message(FATAL_ERROR "info without a GPU must print the versions and the compile line, got "
                      "${lines}:\n${out}")
endif()
message(STATUS "fa-tune info:\n${out}")

execute_process(COMMAND ${FA_TUNE} info --help RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^usage: fa-tune info")
  message(FATAL_ERROR "info --help: exit ${rc}:\n${out}")
endif()
execute_process(COMMAND ${FA_TUNE} info --bogus RESULT_VARIABLE rc ERROR_VARIABLE err
                OUTPUT_QUIET)
if(NOT rc EQUAL 2 OR NOT err MATCHES "unknown option '--bogus'")
  message(FATAL_ERROR "info --bogus: want exit 2, got ${rc}:\n${err}")
endif()
