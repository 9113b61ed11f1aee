# Installs tinygan into a scratch prefix, then configures, builds and runs a consumer project that
# does find_package(tinygan) and links tinygan::tinygan, as a user's project would.
# Usage: cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P package_test.cmake
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${result}): ${command}\n${out}\n${err}")
  endif()
endfunction()

# tinygan alone (no tests, examples or benchmarks), installed.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${WORK_DIR}/tinygan" -G "${GENERATOR}"
    -DCMAKE_INSTALL_PREFIX=${prefix} -DTINYGAN_BUILD_TESTS=OFF -DTINYGAN_BUILD_EXAMPLES=OFF
    -DTINYGAN_BUILD_BENCH=OFF -DTINYGAN_INSTALL=ON)
run(${CMAKE_COMMAND} --install "${WORK_DIR}/tinygan")
foreach(installed include/tinygan/gan.hpp include/tinygan/detail/build_check.hpp share/cmake/tinygan/tinyganConfig.cmake
                  share/cmake/tinygan/tinyganConfigVersion.cmake share/cmake/tinygan/tinyganTargets.cmake)
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "install did not produce ${installed}")
  endif()
endforeach()

# The consumer, which sees only the installed copy: built as Release with tinygan::native, then
# with no build type at all (CMake's default), where its first training step must say that the
# build is unoptimised (and consumer_quiet, with TINYGAN_NO_BUILD_WARNING, must not).
set(notice "compiled without optimisation")
function(build_and_run name build_type native quiet)
  set(dir "${WORK_DIR}/${name}")
  run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/cmake_import" -B "${dir}" -G "${GENERATOR}"
      -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=${build_type} -DCONSUMER_NATIVE=${native}
      -DCONSUMER_QUIET=${quiet})
  run(${CMAKE_COMMAND} --build "${dir}")
  set(programs consumer)
  if(quiet)
    list(APPEND programs consumer_quiet)
  endif()
  foreach(program ${programs})
    execute_process(COMMAND "${dir}/${program}" RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "${name}/${program} failed (${result}):\n${out}\n${err}")
    endif()
    string(FIND "${err}" "${notice}" at)
    if(build_type STREQUAL "" AND program STREQUAL "consumer")
      string(REGEX MATCHALL "${notice}" notices "${err}")
      list(LENGTH notices count)
      if(NOT count EQUAL 1)
        message(FATAL_ERROR "${name}/${program}, built with no build type, said it is unoptimised ${count} times "
                            "(once expected):\n${err}")
      endif()
    elseif(NOT at EQUAL -1)
      message(FATAL_ERROR "${name}/${program} printed the unoptimised-build notice, but must not:\n${err}")
    endif()
  endforeach()
  message(STATUS "${name}: built and ran against ${prefix}")
endfunction()
build_and_run(consumer_release Release ON OFF)
build_and_run(consumer_no_build_type "" OFF ON)
