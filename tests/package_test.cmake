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
foreach(installed include/tinygan/gan.hpp share/cmake/tinygan/tinyganConfig.cmake
                  share/cmake/tinygan/tinyganConfigVersion.cmake share/cmake/tinygan/tinyganTargets.cmake)
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "install did not produce ${installed}")
  endif()
endforeach()

# The consumer, which sees only the installed copy.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/cmake_import" -B "${WORK_DIR}/consumer" -G "${GENERATOR}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build "${WORK_DIR}/consumer")
run("${WORK_DIR}/consumer/consumer")
message(STATUS "find_package(tinygan) consumer built and ran against ${prefix}")
