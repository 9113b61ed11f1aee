// Benchmarks of tinygan on the reference GAN: the whole training step, the machine's float32 GEMM
// peak (the floor), and each layer's forward and backward. bench/run_bench.py drives it alongside
// the PyTorch port; see bench/README.md for the method and the numbers.
//
//   gan_bench step   --data DIR [--recipe document|keras-gan] [--threads N] [--steps N] [--warmup N]
//   gan_bench dcgan  --data DIR [--threads N] [--steps N] [--warmup N]
//   gan_bench peak   [--threads N]
//   gan_bench layers [--threads N]
//   gan_bench conditioning --data DIR [--threads N] [--steps N] [--warmup N]
#include "cgan.hpp"
#include "dcgan.hpp"
#include "mnist_gan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using mnist_gan::Mat;

// The FLOPs of one step of each recipe at its minimum (2*m*n*k per product; bench/README.md derives
// the sums).
// The DCGAN's is its minimum: only the taps that land inside an image, no input gradient for a
// first layer (bench/README.md, "The DCGAN").
constexpr double document_step_flops = 66.73e6, keras_gan_step_flops = 599.6e6, dcgan_step_flops = 13.44e9;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Args {
    std::string mode, data = "data/mnist", recipe = "document";
    int threads = 1, steps = 2000, warmup = 200;
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) {
        std::fprintf(stderr, "usage: gan_bench step|dcgan|peak|layers|conditioning [--data DIR] [--recipe document|keras-gan] [--threads N] [--steps N] [--warmup N]\n");
        std::exit(2);
    }
    a.mode = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i], value = argv[i + 1];
        if (flag == "--data") a.data = value;
        else if (flag == "--recipe") a.recipe = value;
        else if (flag == "--threads") a.threads = std::atoi(value.c_str());
        else if (flag == "--steps") a.steps = std::atoi(value.c_str());
        else if (flag == "--warmup") a.warmup = std::atoi(value.c_str());
        else {
            std::fprintf(stderr, "gan_bench: unknown flag %s\n", flag.c_str());
            std::exit(2);
        }
    }
    if (a.threads < 1 || a.steps < 1 || a.warmup < 0) {
        std::fprintf(stderr, "gan_bench: --threads and --steps must be >= 1\n");
        std::exit(2);
    }
    return a;
}

// The median time of a GAN's step in milliseconds, after --warmup steps; `last` gets the last
// step's losses.
template <class Gan>
double median_step_ms(Gan& gan, const tinygan::ImageSet& images, const Args& a, tinygan::app::StepResult& last) {
    for (int i = 0; i < a.warmup; ++i) gan.step(images);
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(a.steps));
    for (int i = 0; i < a.steps; ++i) {
        const auto start = Clock::now();
        last = gan.step(images);
        times.push_back(seconds_since(start));
    }
    return 1000 * median(times);
}

template <class Recipe>
int bench_step(const Args& a) {
    const tinygan::ImageSet images = tinygan::ImageSet::load(a.data + "/train-images-idx3-ubyte");
    mnist_gan::RecipeGan<Recipe> gan(mnist_gan::Config{100, 32, 1, Recipe::default_learning_rate});
    tinygan::app::StepResult last{};
    const double ms = median_step_ms(gan, images, a, last);
    const double flops = std::is_same_v<Recipe, mnist_gan::DocumentRecipe> ? document_step_flops : keras_gan_step_flops;
    std::printf("tinygan recipe=%s threads=%d steps=%d ms_per_step=%.4f gemm_gflops=%.2f final_d_loss=%.4f final_g_loss=%.4f\n",
                Recipe::name, tinygan::num_threads(), a.steps, ms, flops / (ms * 1e-3) / 1e9, last.d_loss, last.g_loss);
    return 0;
}

// The core's own limit: float32 fused multiply-adds at the widest vector the build targets, in
// registers only (no loads), through Eigen's packet math so that one source measures SSE, AVX2,
// AVX-512 or NEON. Enough independent accumulators to cover the FMA latency of two pipes (4
// cycles each), and few enough that they and the two constants fit the 16 vector registers of
// SSE and AVX2 (16 accumulators spilled there: 69 GFLOP/s instead of 110 on a Zen 5 core); the
// result is summed and printed so that the compiler cannot drop the loop.
double fma_loop_gflops(long iterations) {
    using Packet = Eigen::internal::packet_traits<float>::type;
    constexpr int lanes = static_cast<int>(sizeof(Packet) / sizeof(float));
    constexpr int accumulators = 12;
    Packet acc[accumulators];
    for (int k = 0; k < accumulators; ++k) acc[k] = Eigen::internal::pset1<Packet>(1.0f + 1e-3f * static_cast<float>(k));
    const Packet scale = Eigen::internal::pset1<Packet>(0.999999f), shift = Eigen::internal::pset1<Packet>(1e-6f);
    const auto start = Clock::now();
    for (long i = 0; i < iterations; ++i) {
        for (int k = 0; k < accumulators; ++k) acc[k] = Eigen::internal::pmadd(acc[k], scale, shift);
    }
    const double seconds = seconds_since(start);
    float sum = 0;
    for (int k = 0; k < accumulators; ++k) sum += Eigen::internal::predux(acc[k]);
    if (!(sum > 0)) std::fprintf(stderr, "gan_bench: FMA loop went wrong (%g)\n", sum);
    return 2.0 * lanes * accumulators * static_cast<double>(iterations) / seconds / 1e9;
}

// The floors the bench tables compare with: the core's FMA peak (every thread running the loop
// above at once), and Eigen's own GEMM on big square matrices, where, with more than one thread,
// the columns are split between tinygan's threads (Eigen runs single-threaded here: tinygan's
// programs use no OpenMP).
int bench_peak(const Args&) {
    {
        const int threads = tinygan::num_threads();
        const long iterations = 50'000'000;
        double best = 0;
        for (int rep = 0; rep < 5; ++rep) {
            std::vector<double> per_thread(static_cast<std::size_t>(threads), 0.0);
            tinygan::detail::parallel_for(threads, 1, 1e12, [&](tinygan::Index begin, tinygan::Index end) {
                for (tinygan::Index t = begin; t < end; ++t) per_thread[static_cast<std::size_t>(t)] = fma_loop_gflops(iterations);
            });
            double total = 0;
            for (double g : per_thread) total += g;
            best = std::max(best, total);
        }
        std::printf("fma threads=%d vector_bits=%d gflops=%.2f\n", threads,
                    static_cast<int>(8 * sizeof(Eigen::internal::packet_traits<float>::type)),
                    best);
    }
    for (int n : {1024, 2048}) {
        Mat A = Mat::Random(n, n), B = Mat::Random(n, n), C(n, n);
        auto product = [&] {
            tinygan::detail::parallel_for(n, 64, 1e12, [&](tinygan::Index begin, tinygan::Index end) {
                C.middleCols(begin, end - begin).noalias() = A * B.middleCols(begin, end - begin);
            });
        };
        product();  // warm-up
        double best = 1e30;
        for (int rep = 0; rep < 5; ++rep) {
            const auto start = Clock::now();
            product();
            best = std::min(best, seconds_since(start));
        }
        std::printf("peak threads=%d n=%d gflops=%.2f\n", tinygan::num_threads(), n, 2.0 * n * n * n / best / 1e9);
    }
    return 0;
}

// Median microseconds of f over many calls.
template <class F>
double time_us(F&& f, int reps = 2000) {
    for (int i = 0; i < std::min(100, reps); ++i) f();
    std::vector<double> t;
    t.reserve(static_cast<std::size_t>(reps));
    for (int i = 0; i < reps; ++i) {
        const auto start = Clock::now();
        f();
        t.push_back(seconds_since(start));
    }
    return 1e6 * median(t);
}

template <class Layer>
void bench_layer(const char* name, Layer& layer, Mat x) {
    const Mat& y = layer.forward(x);
    Mat dy = Mat::Random(y.rows(), y.cols());
    const double forward = time_us([&] { layer.forward(x); });
    const double backward = time_us([&] { layer.backward(x, dy, true); });
    std::printf("layer %-22s forward_us=%8.2f backward_us=%8.2f\n", name, forward, backward);
}

int bench_layers(const Args&) {
    tinygan::Rng rng(1);
    const tinygan::Index batch = 32;
    tinygan::Dense<float> g1(100, 128, rng), g2(128, 784, rng), d1(784, 128, rng), d2(128, 1, rng);
    tinygan::ReLU<float> relu;
    tinygan::Sigmoid<float> sigmoid;
    bench_layer("Dense 100->128", g1, Mat::Random(100, batch));
    bench_layer("Dense 128->784", g2, Mat::Random(128, batch));
    bench_layer("Dense 784->128", d1, Mat::Random(784, batch));
    bench_layer("Dense 128->1", d2, Mat::Random(128, batch));
    bench_layer("ReLU 128", relu, Mat::Random(128, batch));
    bench_layer("Sigmoid 784", sigmoid, Mat::Random(784, batch));
    tinygan::Adam<float> adam(d1);
    std::printf("layer %-22s step_us=%8.2f\n", "Adam (784x128+128)", time_us([&] { adam.step(d1); }));
    // keras-gan's largest tensor (1024x784): Adam, then the moving average, in two passes or in one.
    tinygan::Dense<float> big(1024, 784, rng);
    tinygan::Adam<float> big_adam(big);
    tinygan::ExponentialMovingAverage<float> average(big);
    std::printf("layer %-22s step_us=%8.2f\n", "Adam & EMA, 2 passes", time_us([&] {
                    big_adam.step(big);
                    average.update(big);
                }, 500));
    std::printf("layer %-22s step_us=%8.2f\n", "Adam & EMA, 1 pass", time_us([&] { big_adam.step(big, average); }, 500));
    Mat noise(100, batch);
    std::printf("layer %-22s fill_us=%8.2f\n", "normal noise 100x32", time_us([&] { rng.fill_normal(noise); }));
    return 0;
}

// The DCGAN's whole step (examples/dcgan), median ms/step, then each layer's forward and backward
// at batch 64 in the step's own order of shapes.
int bench_dcgan(const Args& a) {
    const tinygan::ImageSet images = tinygan::ImageSet::load(a.data + "/train-images-idx3-ubyte");
    dcgan::Dcgan gan(dcgan::Config{}, images.count());
    tinygan::app::StepResult last{};
    const double ms = median_step_ms(gan, images, a, last);
    std::printf("tinygan dcgan threads=%d steps=%d ms_per_step=%.2f gemm_gflops=%.2f final_d_loss=%.4f final_g_loss=%.4f\n",
                tinygan::num_threads(), a.steps, ms, dcgan_step_flops / (ms * 1e-3) / 1e9, last.d_loss, last.g_loss);
    auto each_layer = [&](auto& model, const char* which, Mat x) {
        model.set_training(true);
        model.for_each_layer([&](auto& layer, auto index) {
            const Mat input = x;
            const Mat& y = layer.forward(input);
            Mat dy = Mat::Random(y.rows(), y.cols());
            x = y;
            const double forward = time_us([&] { layer.forward(input); }, 20);
            const double backward = time_us([&] { layer.backward(input, dy, true); }, 20);
            std::printf("layer %s %zu %-28s forward_us=%10.1f backward_us=%10.1f\n", which, std::size_t(index),
                        layer.description().c_str(), forward, backward);
        });
    };
    each_layer(gan.generator(), "G", Mat::Random(100, 64));
    each_layer(gan.discriminator(), "D", Mat::Random(784, 64));
    return 0;
}

// A conditional recipe's layers, forward then backward, at `batch` samples with labels (every class
// in turn): each layer's median microseconds, and the sum over the conditioning layers (the
// embedding, joining and label planes) weighted by how often the step runs them: `forwards` and
// `backwards` calls a step.
template <class Model>
double conditioning_us(Model& model, const char* which, Mat x, tinygan::Index batch, int forwards, int backwards, int reps) {
    const tinygan::Labels labels = tinygan::app::cycling_labels(batch, 10);
    double sum = 0;
    model.set_training(true);
    model.for_each_layer([&](auto& layer, auto index) {
        using Layer = std::decay_t<decltype(layer)>;
        const Mat input = x;
        const Mat& y = tinygan::detail::forward_with(layer, input, &labels);
        const Mat dy = Mat::Random(y.rows(), y.cols());
        x = y;
        const double forward = time_us([&] { tinygan::detail::forward_with(layer, input, &labels); }, reps);
        const double backward = time_us([&] { tinygan::detail::backward_with(layer, input, &labels, dy, true); }, reps);
        const bool conditioning = tinygan::detail::takes_labels<Layer>::value;
        if (conditioning) sum += forwards * forward + backwards * backward;
        std::printf("layer %s %zu batch %lld %-40s forward_us=%9.1f backward_us=%9.1f%s\n", which, std::size_t(index),
                    static_cast<long long>(batch), layer.description().c_str(), forward, backward,
                    conditioning ? "  (conditioning)" : "");
    });
    return sum;
}

// The conditional recipes' steps, and the share of them their conditioning layers take (issue 16:
// at most 5%). The cgan step runs G forward twice at the full batch (the half batch's fakes are
// predicted at full width) and backward once; D forward and backward on two half batches, and its
// copy once at the full batch. The conditional DCGAN runs G forward and backward once, and D three
// times (real, fake, G's step).
int bench_conditioning(const Args& a) {
    tinygan::ImageSet images = tinygan::ImageSet::load(a.data + "/train-images-idx3-ubyte");
    images.set_labels(tinygan::read_labels(a.data + "/train-labels-idx1-ubyte", images.count()));
    tinygan::app::StepResult last{};
    {
        mnist_gan::ConditionalGan gan(mnist_gan::Config{100, 32, 1, mnist_gan::ConditionalGan::default_learning_rate});
        const double ms = median_step_ms(gan, images, a, last);
        const double us = conditioning_us(gan.generator(), "G", Mat::Random(100, 32), 32, 2, 1, 200) +
                          conditioning_us(gan.discriminator(), "D", Mat::Random(784, 16), 16, 2, 2, 200) +
                          conditioning_us(gan.discriminator(), "D", Mat::Random(784, 32), 32, 1, 1, 200);
        std::printf("conditioning recipe=cgan threads=%d steps=%d ms_per_step=%.3f conditioning_us=%.1f share=%.2f%%\n",
                    tinygan::num_threads(), a.steps, ms, us, 100 * us / (1000 * ms));
    }
    {
        dcgan::ConditionalDcgan gan(dcgan::Config{}, images.count());
        Args dcgan_args = a;
        dcgan_args.steps = std::max(1, a.steps / 50), dcgan_args.warmup = std::max(1, a.warmup / 50);
        const double ms = median_step_ms(gan, images, dcgan_args, last);
        const double us = conditioning_us(gan.generator(), "G", Mat::Random(100, 64), 64, 1, 1, 20) +
                          conditioning_us(gan.discriminator(), "D", Mat::Random(784, 64), 64, 3, 3, 20);
        std::printf("conditioning recipe=dcgan threads=%d steps=%d ms_per_step=%.2f conditioning_us=%.1f share=%.2f%%\n",
                    tinygan::num_threads(), dcgan_args.steps, ms, us, 100 * us / (1000 * ms));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    tinygan::set_num_threads(a.threads);
    try {
        if (a.mode == "step" && a.recipe == "document") return bench_step<mnist_gan::DocumentRecipe>(a);
        if (a.mode == "step" && a.recipe == "keras-gan") return bench_step<mnist_gan::KerasGanRecipe>(a);
        if (a.mode == "peak") return bench_peak(a);
        if (a.mode == "dcgan") return bench_dcgan(a);
        if (a.mode == "layers") return bench_layers(a);
        if (a.mode == "conditioning") return bench_conditioning(a);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "gan_bench: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "gan_bench: unknown mode %s\n", a.mode.c_str());
    return 2;
}
