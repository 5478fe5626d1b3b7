# One helper per kind of target, so each test or benchmark is one line.
#
#   tracestore_test(NAME store_roundtrip SOURCES roundtrip_test.cc)
#   tracestore_bench(NAME append SOURCES append_bench.cc)
#
# Tests run under ctest with the gtest runner. Benchmarks are also registered
# as quick functional tests (one short repetition) so CI exercises them.

function(tracestore_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "cpp;${T_LABELS}")
endfunction()

function(tracestore_bench)
  cmake_parse_arguments(B "" "NAME" "SOURCES;LIBS;ARGS" ${ARGN})
  add_executable(${B_NAME} ${B_SOURCES})
  target_link_libraries(${B_NAME} PRIVATE ${B_LIBS} benchmark::benchmark)
  add_test(NAME ${B_NAME}_smoke
           COMMAND ${B_NAME} --benchmark_min_time=0.01 ${B_ARGS})
  set_tests_properties(${B_NAME}_smoke PROPERTIES TIMEOUT 600 LABELS "bench")
endfunction()
