# cmake -DEXE=<test executable> -DSUITES=<a;b;...> -P check_suites.cmake
# Fails when the executable holds a gtest suite that is not in SUITES: a suite
# the scan of the sources missed would otherwise never run under CTest.
execute_process(COMMAND ${EXE} --gtest_list_tests OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --gtest_list_tests failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(missing)
foreach(line ${lines})
  # Suite lines are unindented and end in '.'; TEST_P suites read Instantiation/Suite.
  if(line MATCHES "^([A-Za-z0-9_]+/)?([A-Za-z0-9_]+)\\.")
    list(FIND SUITES "${CMAKE_MATCH_2}" at)
    if(at EQUAL -1)
      list(APPEND missing "${CMAKE_MATCH_2}")
    endif()
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "gtest suites not registered with CTest: ${missing}. Define tests with "
                      "TEST, TEST_F or TEST_P at the start of a line so tests/CMakeLists.txt finds them.")
endif()
list(LENGTH SUITES n)
message(STATUS "${n} suites registered, none missing")
