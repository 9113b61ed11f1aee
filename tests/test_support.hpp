// Helpers shared by the tests: random matrices and a check that an expression throws a given
// tinygan error whose message contains a given fragment.
#pragma once

#include <tinygan/gan.hpp>

#include <doctest/doctest.h>

#include <string>

namespace tinygan::test {

template <class Scalar>
Matrix<Scalar> random_matrix(Index rows, Index cols, Rng& rng) {
    Matrix<Scalar> m(rows, cols);
    rng.fill_normal(m);
    return m;
}

// Normal entries pushed at least `gap` away from 0, so ReLU's kink never sits within a finite-difference step.
template <class Scalar>
Matrix<Scalar> random_away_from_zero(Index rows, Index cols, Rng& rng, Scalar gap = Scalar(0.1)) {
    Matrix<Scalar> m = random_matrix<Scalar>(rows, cols, rng);
    m = m.unaryExpr([gap](Scalar v) { return v >= 0 ? v + gap : v - gap; });
    return m;
}

}  // namespace tinygan::test

// CHECK that `expression` throws ErrorType with `fragment` in its message.
#define TINYGAN_CHECK_THROWS_WITH_FRAGMENT(expression, ErrorType, fragment)                       \
    do {                                                                                        \
        bool tinygan_thrown_ = false;                                                           \
        try {                                                                                   \
            (void)(expression);                                                                 \
        } catch (const ErrorType& tinygan_error_) {                                             \
            tinygan_thrown_ = true;                                                             \
            const std::string tinygan_message_ = tinygan_error_.what();                         \
            INFO("message: " << tinygan_message_);                                              \
            CHECK(tinygan_message_.find(fragment) != std::string::npos);                        \
        }                                                                                       \
        CHECK_MESSAGE(tinygan_thrown_, #expression " did not throw " #ErrorType);                \
    } while (0)

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

namespace tinygan::test {

// A fresh folder under the system's temp directory, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "tinygan_test_XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

// `count` synthetic 28x28 "digits": a bright bar whose position and angle vary, on black.
inline std::vector<std::uint8_t> synthetic_digits(std::uint32_t count, std::uint64_t seed = 1) {
    Rng rng(seed);
    std::vector<std::uint8_t> pixels(std::size_t(count) * 784, 0);
    for (std::uint32_t k = 0; k < count; ++k) {
        const double column = 8 + 12 * rng.uniform<double>(), slope = rng.uniform<double>() - 0.5;
        for (int r = 4; r < 24; ++r) {
            const int c = static_cast<int>(column + slope * (r - 14));
            for (int dc = 0; dc < 3; ++dc) pixels[std::size_t(k) * 784 + r * 28 + c + dc] = 255;
        }
    }
    return pixels;
}

}  // namespace tinygan::test
