# Runs one signer PKCS#11 test executable (EXE) with its module path pointing at a file
# that does not exist. The run must fail, name the missing module, and skip nothing:
# a suite that skips when its module is missing would pass on a machine without it.
set(missing /nonexistent/ferrohsm-missing-module.so)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env FERROHSM_SIGNER_TEST_MODULE=${missing} ASAN_OPTIONS=detect_leaks=0 ${EXE}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out
  TIMEOUT 240)
if(rc EQUAL 0)
  message(FATAL_ERROR "${EXE} passed with no module at ${missing}:\n${out}")
endif()
if(NOT out MATCHES "ferrohsm-missing-module.so is not there")
  message(FATAL_ERROR "${EXE} failed (${rc}) without naming the missing module:\n${out}")
endif()
if(out MATCHES "\\[  SKIPPED \\]")
  message(FATAL_ERROR "${EXE} skipped tests instead of failing them:\n${out}")
endif()
if(NOT out MATCHES "\\[  FAILED  \\]")
  message(FATAL_ERROR "${EXE} ended (${rc}) without a failed test:\n${out}")
endif()
message(STATUS "${EXE} fails without its module, as it must")
