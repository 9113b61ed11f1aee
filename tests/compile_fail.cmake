# Compiles SOURCE, which must fail, with an error that contains EXPECTED, in at most MAX_ERRORS
# error lines (so a mistake is reported in a sentence, not in pages of template instantiations).
# Usage: cmake -DCOMPILER=... -DSOURCE=... -DINCLUDES="a;b" -DEXPECTED=... -DMAX_ERRORS=N -P compile_fail.cmake
set(include_flags)
foreach(dir ${INCLUDES})
  list(APPEND include_flags -I${dir})
endforeach()
execute_process(COMMAND ${COMPILER} -std=c++17 -fsyntax-only ${include_flags} ${SOURCE}
                RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
string(FIND "${output}" "${EXPECTED}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${SOURCE} failed without the expected message \"${EXPECTED}\":\n${output}")
endif()
string(REGEX MATCHALL "error:" errors "${output}")
list(LENGTH errors error_count)
if(error_count GREATER MAX_ERRORS)
  message(FATAL_ERROR "${SOURCE}: ${error_count} error lines, at most ${MAX_ERRORS} expected:\n${output}")
endif()
message(STATUS "${SOURCE}: refused with \"${EXPECTED}\" (${error_count} error lines)")
