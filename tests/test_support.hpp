// Helpers shared by the tests: random matrices and a check that an expression throws a given
// tinygan error whose message contains a given fragment.
#pragma once

#include <tinygan/gan.hpp>
#include <tinygan/mnist_idx.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

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

// The document's two models at a size small enough to check every parameter numerically:
// generator 3 -> 5 (ReLU) -> 6 (Sigmoid) -> (2, 3, 1), discriminator (2, 3, 1) -> 4 (ReLU) -> 1 (Sigmoid).
template <class Scalar>
auto small_generator(Rng& rng) {
    return make_sequential("generator", Dense<Scalar>(3, 5, rng), ReLU<Scalar>{}, Dense<Scalar>(5, 6, rng),
                           Sigmoid<Scalar>{}, Reshape<Scalar>({2, 3, 1}));
}
template <class Scalar>
auto small_discriminator(Rng& rng) {
    return make_sequential("discriminator", Flatten<Scalar>({2, 3, 1}), Dense<Scalar>(6, 4, rng), ReLU<Scalar>{},
                           Dense<Scalar>(4, 1, rng), Sigmoid<Scalar>{});
}

// The largest entry of |a - b|, or infinity when either holds a NaN or an Inf (so a comparison
// `<= tolerance` cannot be passed by a NaN), or when the shapes differ.
template <class A, class B>
double max_difference(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols() || !a.allFinite() || !b.allFinite())
        return std::numeric_limits<double>::infinity();
    if (a.size() == 0) return 0;
    return static_cast<double>((a - b).cwiseAbs().maxCoeff());
}

// The value (or, with gradient = true, the gradient) of the tensor called `name` of a layer.
template <class Layer>
Matrix<typename Layer::Scalar> tensor_of(Layer& layer, const std::string& name, bool gradient = false) {
    Matrix<typename Layer::Scalar> found;
    bool seen = false;
    layer.for_each_parameter([&](const Parameter<typename Layer::Scalar>& p) {
        if (name != p.name) return;
        found = gradient ? p.gradient : p.value;
        seen = true;
    });
    REQUIRE_MESSAGE(seen, "no tensor " << name);
    return found;
}

// Two threads for its lifetime, checked: the machine must give them, and worker_took_part() says
// whether the worker really computed something since (so a "2 threads" test proves it used two).
// The pool's back-off is off meanwhile, so every split is offered to the worker, however busy the
// machine; worker_parts() counts the worker's parts, to check a stretch of work on its own.
class TwoThreads {
public:
    TwoThreads() {
        REQUIRE_MESSAGE(set_num_threads(2) == 2, "this test needs 2 CPUs");
        detail::WorkerPool::instance().set_backoff(false);
        before_ = worker_parts();
    }
    ~TwoThreads() {
        detail::WorkerPool::instance().set_backoff(true);
        set_num_threads(1);
    }
    TwoThreads(const TwoThreads&) = delete;
    TwoThreads& operator=(const TwoThreads&) = delete;
    bool worker_took_part() const { return worker_parts() > before_; }
    static std::uint64_t worker_parts() { return detail::WorkerPool::instance().parts_run_by_workers(); }

private:
    std::uint64_t before_ = 0;
};

// Runs body() again until the pool's worker has computed a part of one run (for at most 10 s) and
// says whether it did; call it with a TwoThreads alive. On a machine busy with other tests the
// worker may not be scheduled before the caller has taken every part of a short run itself, and a
// run on one thread proves nothing about two, so such a run is repeated, not counted.
template <class Body>
bool until_worker_took_part(Body&& body) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
        const std::uint64_t before = TwoThreads::worker_parts();
        body();
        if (TwoThreads::worker_parts() > before) return true;
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
}

// Runs body() on 1 thread, then on 2 threads until the worker took part in a run.
template <class Body>
void on_one_and_two_threads(Body&& body) {
    set_num_threads(1);
    {
        CAPTURE("1 thread");
        body(1);
    }
    TwoThreads two;
    CAPTURE("2 threads");
    CHECK_MESSAGE(until_worker_took_part([&] { body(2); }), "the worker thread computed nothing: the split did not happen");
}

// Copies of every tensor of a model (parameters and state), to compare before and after.
template <class Model>
std::vector<Matrix<typename Model::Scalar>> parameters_of(Model& model) {
    std::vector<Matrix<typename Model::Scalar>> out;
    model.for_each_parameter([&](const Parameter<typename Model::Scalar>& p) { out.push_back(p.value); });
    return out;
}

// Copies of an Adam's whole state: its moments, with the step count appended as a 1x1 matrix.
template <class Scalar>
std::vector<Matrix<Scalar>> state_of(const Adam<Scalar>& adam) {
    std::vector<Matrix<Scalar>> out = adam.first_moments();
    out.insert(out.end(), adam.second_moments().begin(), adam.second_moments().end());
    out.push_back(Matrix<Scalar>::Constant(1, 1, static_cast<Scalar>(adam.iterations())));
    return out;
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

// A temporary folder holding `count` synthetic digits as train-images-idx3-ubyte, and them loaded.
struct SyntheticImages {
    TempDir dir;
    ImageSet images;
    explicit SyntheticImages(std::uint32_t count = 64) {
        write_idx(dir.file("train-images-idx3-ubyte"), {count, 28, 28}, synthetic_digits(count));
        images = ImageSet::load(dir.file("train-images-idx3-ubyte"));
    }
};

// Every tensor of two float models of one architecture: the largest difference (0: the same bits).
template <class Model>
float largest_difference(Model& a, Model& b) {
    std::vector<Matrix<float>> values;
    a.for_each_parameter([&](const Parameter<float>& p) { values.push_back(p.value); });
    float largest = 0;
    std::size_t k = 0;
    b.for_each_parameter([&](const Parameter<float>& p) {
        REQUIRE(k < values.size());
        largest = std::max(largest, (p.value - values[k++]).cwiseAbs().maxCoeff());
    });
    CHECK(k == values.size());
    return largest;
}

// Two classes a conditional GAN must tell apart at a glance: class 0 the synthetic strokes on
// black, class 1 the same inverted (on white); labels alternate.
struct TwoClassImages {
    TempDir dir;
    ImageSet images;
    explicit TwoClassImages(std::uint32_t count = 64) {
        std::vector<std::uint8_t> pixels = synthetic_digits(count);
        Labels labels(count);
        for (std::uint32_t k = 0; k < count; ++k) {
            labels(k) = static_cast<int>(k % 2);
            if (k % 2)
                for (std::size_t i = 0; i < 784; ++i) pixels[k * 784 + i] = static_cast<std::uint8_t>(255 - pixels[k * 784 + i]);
        }
        write_idx(dir.file("train-images-idx3-ubyte"), {count, 28, 28}, pixels);
        images = ImageSet::load(dir.file("train-images-idx3-ubyte"));
        images.set_labels(labels);
    }
    // How much brighter a GAN draws class 1 than class 0 (mean pixel in [0, 1]; 0.87 for the data).
    template <class Gan>
    static float brightness_gap(Gan& gan, Index z_dim) {
        Matrix<float> noise(z_dim, 20);
        Rng(5).fill_normal(noise);
        return gan.sample_classes(noise, Labels::Constant(20, 1)).mean() - gan.sample_classes(noise, Labels::Zero(20)).mean();
    }
};

// CHECKs that `parse(args)` throws ErrorType with `fragment` in its message.
template <class ErrorType, class Parse>
void check_rejects(Parse&& parse, const std::vector<std::string>& args, const std::string& fragment) {
    bool thrown = false;
    try {
        parse(args);
    } catch (const ErrorType& e) {
        thrown = true;
        INFO(e.what());
        CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
    CHECK_MESSAGE(thrown, fragment);
}

}  // namespace tinygan::test
