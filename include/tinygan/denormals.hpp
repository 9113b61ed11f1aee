// Flush-to-zero for the duration of a training step. Adam's moments decay geometrically and, for
// parameters whose gradient is often 0 (MNIST's always-black border pixels), sink into the
// denormal range, where x86 arithmetic is ~100x slower: that made Adam half of a step's time.
// TensorFlow runs its ops with denormals flushed too (port::ScopedFlushDenormal), so this is
// also what the Keras reference computes. The mode is per thread: tinygan's workers copy the
// caller's (parallel.hpp). train_on_batch and compute_gradients flush for their own duration; a step
// made of other parts (a GAN's step with its sampling and its generator's forward) holds a
// ScopedFlushDenormals for the whole step, so that every part computes as TensorFlow would.
#pragma once

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define TINYGAN_HAS_MXCSR 1
#else
#define TINYGAN_HAS_MXCSR 0
#endif

namespace tinygan {
namespace detail {

// The calling thread's floating-point control word (MXCSR on x86; 0 elsewhere).
inline unsigned floating_point_mode() {
#if TINYGAN_HAS_MXCSR
    return _mm_getcsr();
#else
    return 0;
#endif
}

inline void set_floating_point_mode([[maybe_unused]] unsigned mode) {
#if TINYGAN_HAS_MXCSR
    _mm_setcsr(mode);
#endif
}

}  // namespace detail

// Flush-to-zero and denormals-are-zero on the calling thread while it lives; the previous mode
// comes back afterwards.
class ScopedFlushDenormals {
public:
    ScopedFlushDenormals() : saved_(detail::floating_point_mode()) {
        detail::set_floating_point_mode(saved_ | flush_to_zero | denormals_are_zero);
    }
    ~ScopedFlushDenormals() { detail::set_floating_point_mode(saved_); }
    ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
    ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

private:
#if TINYGAN_HAS_MXCSR
    static constexpr unsigned flush_to_zero = 0x8000;       // results that would be denormal become 0
    static constexpr unsigned denormals_are_zero = 0x0040;  // denormal inputs are read as 0
#else
    static constexpr unsigned flush_to_zero = 0, denormals_are_zero = 0;
#endif
    unsigned saved_;
};

}  // namespace tinygan
