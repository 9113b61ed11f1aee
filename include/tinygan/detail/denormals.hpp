// Flush-to-zero for the duration of a training step. Adam's moments decay geometrically and, for
// parameters whose gradient is often 0 (MNIST's always-black border pixels), sink into the
// denormal range, where x86 arithmetic is ~100x slower: that made Adam half of a step's time.
// TensorFlow runs its ops with denormals flushed too (port::ScopedFlushDenormal), so this is
// also what the Keras reference computes.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TINYGAN_HAS_MXCSR 1
#else
#define TINYGAN_HAS_MXCSR 0
#endif

namespace tinygan::detail {

class ScopedFlushDenormals {
public:
#if TINYGAN_HAS_MXCSR
    ScopedFlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | flush_to_zero | denormals_are_zero); }
    ~ScopedFlushDenormals() { _mm_setcsr(saved_); }

private:
    static constexpr unsigned flush_to_zero = 0x8000;       // results that would be denormal become 0
    static constexpr unsigned denormals_are_zero = 0x0040;  // denormal inputs are read as 0
    unsigned saved_;
#else
    ScopedFlushDenormals() = default;
#endif
public:
    ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
    ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;
};

}  // namespace tinygan::detail
