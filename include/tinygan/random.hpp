// Rng: a small seeded generator (xoshiro256**) whose whole state is four integers, so a run is
// reproducible bit for bit on every platform and the state fits in a checkpoint. The standard
// <random> distributions are implementation-defined, hence the hand-written uniform and normal.
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tinygan {

class Rng {
public:
    using State = std::array<std::uint64_t, 4>;

    explicit Rng(std::uint64_t seed = 0) { reseed(seed); }

    void reseed(std::uint64_t seed) {
        // splitmix64 spreads any seed (even 0) over the four words, as xoshiro's authors advise.
        for (auto& word : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    std::uint64_t next_u64() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, n) without modulo bias: reject the few draws below 2^64 mod n.
    std::uint64_t uniform_index(std::uint64_t n) {
        if (n == 0) throw ArgumentError("Rng::uniform_index needs n > 0, got 0");
        const std::uint64_t threshold = (0 - n) % n;
        for (;;) {
            const std::uint64_t draw = next_u64();
            if (draw >= threshold) return draw % n;
        }
    }

    // Uniform in [0, 1) with the full mantissa of the type (24 bits for float, 53 for double).
    template <class Scalar>
    Scalar uniform() {
        constexpr int bits = std::numeric_limits<Scalar>::digits;
        return static_cast<Scalar>(next_u64() >> (64 - bits)) * std::ldexp(Scalar(1), -bits);
    }

    // Uniform in [low, high).
    template <class Scalar>
    Scalar uniform(Scalar low, Scalar high) {
        return low + (high - low) * uniform<Scalar>();
    }

    // Fills m with standard normal samples by Box-Muller, in blocks of 128 pairs: a block's
    // transcendental functions run as Eigen arrays (vectorized log, sqrt, sin, cos; the scalar loop
    // cost 6% of a GAN step, bench/README.md), and it fills 256 entries, its 128 cosine outputs and
    // then its 128 sine outputs. A last, partial block fills what is left from the start of that
    // order (so m's first entries are the same whatever its size) and its other draws are unused.
    template <class Derived>
    void fill_normal(Eigen::PlainObjectBase<Derived>& m) {  // a Matrix or Array: contiguous
        using Scalar = typename Derived::Scalar;
        constexpr Index pairs = 128;
        using Block = Eigen::Array<Scalar, pairs, 1>;
        Block radius, angle;
        Scalar* data = m.derived().data();
        const Index size = m.size();
        for (Index start = 0; start < size; start += 2 * pairs) {
            for (Index i = 0; i < pairs; ++i) {
                radius[i] = Scalar(1) - uniform<Scalar>();  // in (0, 1], so the log is finite
                angle[i] = Scalar(6.283185307179586) * uniform<Scalar>();
            }
            radius = (Scalar(-2) * radius.log()).sqrt();
            const Block cosines = radius * angle.cos(), sines = radius * angle.sin();
            const Index n = std::min<Index>(2 * pairs, size - start);
            for (Index i = 0; i < n; ++i) data[start + i] = i < pairs ? cosines[i] : sines[i - pairs];
        }
    }

    // Fills m uniformly in [low, high).
    template <class Derived>
    void fill_uniform(Eigen::MatrixBase<Derived>& m, typename Derived::Scalar low,
                      typename Derived::Scalar high) {
        fill_with(m, [&] { return uniform(low, high); });
    }

    const State& state() const { return state_; }
    void set_state(const State& state) {
        if (state == State{}) throw ArgumentError("Rng state must not be all zeros (xoshiro would stay at 0)");
        state_ = state;
    }

private:
    template <class Derived, class Draw>
    static void fill_with(Eigen::MatrixBase<Derived>& m, Draw draw) {
        // Column-major order, so the same seed fills the same entries on every platform.
        for (Index j = 0; j < m.cols(); ++j)
            for (Index i = 0; i < m.rows(); ++i) m(i, j) = draw();
    }

    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    State state_{};
};

// Keras' GlorotUniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)).
template <class Derived>
void glorot_uniform(Eigen::MatrixBase<Derived>& kernel, Rng& rng) {
    using Scalar = typename Derived::Scalar;
    const double limit = std::sqrt(6.0 / static_cast<double>(kernel.rows() + kernel.cols()));
    rng.fill_uniform(kernel, static_cast<Scalar>(-limit), static_cast<Scalar>(limit));
}

// The tag that asks a layer for all-zero weights, as Keras' `kernel_initializer="zeros"`:
// Dense<float>(784, 128, zero_init). For a model whose weights are about to be loaded; a model
// trained from zeros never breaks the symmetry between its units, so layers with weights take an
// Rng unless they are given this tag explicitly.
struct ZeroInit {};
inline constexpr ZeroInit zero_init{};

namespace detail {
template <class>
inline constexpr bool dependent_false = false;
}  // namespace detail

}  // namespace tinygan
