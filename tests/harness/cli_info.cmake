# `fa-tune info`: exit 0 and one line without a driver (forced: FA_TUNE_LIBCUDA names a file
# that does not exist); exit 0 and either that line or device lines with the real driver;
# --help on stdout with exit 0; an unknown option exits 2.
execute_process(COMMAND ${CMAKE_COMMAND} -E env FA_TUNE_LIBCUDA=/nonexistent/libcuda.so.1
                        ${FA_TUNE} info
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" nl "${out}")
list(LENGTH nl lines)
if(NOT rc EQUAL 0 OR NOT lines EQUAL 1 OR NOT out MATCHES "no CUDA driver")
  message(FATAL_ERROR "info without a driver: want exit 0 and one 'no CUDA driver' line, got "
                      "exit ${rc} and ${lines} line(s):\n${out}${err}")
endif()
if(NOT out MATCHES "^fa-tune [0-9]+\\.[0-9]+\\.[0-9]+, CUDA toolkit [0-9]+\\.[0-9]+, NVRTC ")
  message(FATAL_ERROR "info's line lacks the versions:\n${out}")
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
elseif(NOT lines EQUAL 1)
  message(FATAL_ERROR "info without a GPU must print one line, got ${lines}:\n${out}")
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
