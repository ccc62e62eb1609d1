# Warnings for FerroHSM's own targets (not for third-party headers).
function(ferrohsm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers
                         -Werror=return-type -Werror=format-security)
endfunction()

add_custom_target(release_test_targets)

# A GoogleTest executable registered with CTest; LABELS passed through.
function(ferrohsm_gtest name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  ferrohsm_warnings(${name})
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
  ferrohsm_test_labels(${name} "${T_LABELS}")
endfunction()

# Gives every test discovered from gtest executable `target` the ctest `labels`
# (a list). Set after discovery: gtest_discover_tests' PROPERTIES would split a
# list of several labels into property names.
function(ferrohsm_test_labels target labels)
  # The release run of `make test` takes only the interop and bench labels (the rest
  # runs under ASan+UBSan), so it builds only what those need: release_test_targets.
  if(labels MATCHES "interop|bench")
    add_dependencies(release_test_targets ${target})
  endif()
  if(labels)
    set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
    file(WRITE ${script}
         "if(DEFINED ${target}_TESTS)\n  set_tests_properties(\${${target}_TESTS} PROPERTIES LABELS \"${labels}\")\nendif()\n")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
  endif()
endfunction()
