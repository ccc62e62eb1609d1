# FERROHSM_SANITIZE selects the sanitizer build: "address,undefined" for the suite,
# "thread" for the concurrency tests. Flags apply to every target in the build.
if(FERROHSM_SANITIZE)
  set(_san "-fsanitize=${FERROHSM_SANITIZE}" -fno-omit-frame-pointer -g)
  if(FERROHSM_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san})
  add_link_options(-fsanitize=${FERROHSM_SANITIZE})
endif()

# FERROHSM_FUZZ (preset `fuzz`): coverage instrumentation for libFuzzer on every target;
# only the harnesses in fuzz/ link the fuzzer's main (-fsanitize=fuzzer).
if(FERROHSM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FERROHSM_FUZZ needs clang (libFuzzer): use the `fuzz` preset")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
