// A program compiled without optimisation trains about 150 times slower (Eigen's products are
// templates that only an optimising compiler turns into vector code), and CMake's default build
// type is none at all. The first training step of such a program says so, once, on stderr.
// Define TINYGAN_NO_BUILD_WARNING to silence it (for a debugging session that means it).
#pragma once

#include <cstdio>

namespace tinygan::detail {

// True when the translation unit that calls this was compiled without optimisation.
inline constexpr bool compiled_without_optimization() {
#if defined(__GNUC__) || defined(__clang__)
#if defined(__OPTIMIZE__)
    return false;
#else
    return true;
#endif
#elif defined(_MSC_VER) && defined(_DEBUG)
    return true;
#else
    return false;
#endif
}

inline void warn_once_if_unoptimized() {
#if !defined(TINYGAN_NO_BUILD_WARNING)
    if constexpr (compiled_without_optimization()) {
        static const bool warned = [] {
            std::fputs("tinygan: this program was compiled without optimisation, which makes training about 150x "
                       "slower. Build it optimised: with CMake, -DCMAKE_BUILD_TYPE=Release (and link "
                       "tinygan::native for this CPU's vector instructions); by hand, -O2 -march=native. Define "
                       "TINYGAN_NO_BUILD_WARNING to silence this notice.\n",
                       stderr);
            return true;
        }();
        (void)warned;
    }
#endif
}

}  // namespace tinygan::detail
