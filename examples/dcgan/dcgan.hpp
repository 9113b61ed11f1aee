// The DCGAN of the PyTorch C++ frontend's example (pytorch/examples, cpp/dcgan) on tinygan: its two
// models, its training step and its checkpoint. Shared by the dcgan program, its tests and the
// benchmarks; the command line is dcgan_program.hpp, the step's code dcgan_step.ipp.
//
// Generator: noise (100) seen as a 1x1 image -> ConvTranspose 100->256 (k4, s1, p0), BN, ReLU ->
// 256->128 (k3, s2, p1), BN, ReLU -> 128->64 (k4, s2, p1), BN, ReLU -> 64->1 (k4, s2, p1), Tanh:
// a 28x28 image in [-1, 1]. Discriminator: Conv 1->64 (k4, s2, p1), LeakyReLU(0.2) -> 64->128
// (k4, s2, p1), BN, LeakyReLU -> 128->256 (k4, s2, p1), BN, LeakyReLU -> 256->1 (k3, s1, p0),
// Sigmoid. No convolution has a bias. PyTorch's defaults: its initialisation, BatchNorm momentum
// 0.1 (0.9 in Keras' terms), epsilon 1e-5, unbiased running variance; Adam with betas (0.5, 0.5)
// in PyTorch's form, epsilon 1e-8, at 2e-4 for D. Images scaled to [-1, 1]; batch 64; the data in a
// new random order every epoch.
//
// The step, in the example's order: G makes fakes from fresh noise (training mode). D's gradient is
// the sum of its loss on the real batch, against labels drawn from U(0.8, 1.0), and on the fakes
// (label 0), each batch with its own batch statistics; one Adam step. Then G's step: D (frozen) on
// the same fakes, label 1, back through D into G's forward from the start of the step; one Adam
// step. D loss is reported as the example prints it: real + fake.
//
// Samples come from an exponential moving average of G's weights (decay 0.999, with TensorFlow's
// warm-up), whose BatchNorm statistics are recomputed on a fixed batch of 512 noise vectors
// (update_batch_norm_statistics, as PyTorch's swa_utils.update_bn does for averaged weights).
//
// Where it differs on purpose: G learns at 5e-4, not the example's 2e-4 (two epochs are few steps
// for G: seeds 1, 2, 3 score FD 8.4 / 8.6 / 7.4 against 12.4 / 13.4 / 12.4 at 2e-4; README); the
// losses are computed from D's logits (stable; the example applies binary cross-entropy to the
// sigmoid's output, which saturates in float); an epoch's last partial batch is dropped (937 steps
// an epoch, not 938); and D's BatchNorm statistics do not move in G's step (D is frozen there; in
// the example its running statistics move, but they are never used).
#pragma once

#include <tinygan/app/gan.hpp>
#include <tinygan/app/gan_checkpoint.hpp>
#include <tinygan/checkpoint.hpp>
#include <tinygan/conv.hpp>
#include <tinygan/mnist_idx.hpp>

#include <cstdint>
#include <numeric>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace dcgan {

using tinygan::Index;
using Mat = tinygan::Matrix<float>;
using tinygan::app::StepResult;

inline constexpr Index image_rows = 28, image_cols = 28, image_pixels = image_rows * image_cols;

inline auto make_generator(Index z_dim, tinygan::Rng& rng) {
    using namespace tinygan;
    const auto torch = ConvInit::pytorch;
    const BatchNorm<float>::Options bn{0.9, 1e-5, true};
    return make_sequential("generator", Reshape<float>({1, 1, z_dim}),
                           ConvTranspose2D<float>(z_dim, 256, 4, ConvOptions{1, 0, false}, rng, torch), BatchNorm<float>(256, bn), ReLU<float>{},
                           ConvTranspose2D<float>(256, 128, 3, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(128, bn), ReLU<float>{},
                           ConvTranspose2D<float>(128, 64, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(64, bn), ReLU<float>{},
                           ConvTranspose2D<float>(64, 1, 4, ConvOptions{2, 1, false}, rng, torch), Tanh<float>{});
}

inline auto make_discriminator(tinygan::Rng& rng) {
    using namespace tinygan;
    const auto torch = ConvInit::pytorch;
    const BatchNorm<float>::Options bn{0.9, 1e-5, true};
    return make_sequential("discriminator", Reshape<float>({image_rows, image_cols, 1}),
                           Conv2D<float>(1, 64, 4, ConvOptions{2, 1, false}, rng, torch), LeakyReLU<float>(0.2f),
                           Conv2D<float>(64, 128, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(128, bn), LeakyReLU<float>(0.2f),
                           Conv2D<float>(128, 256, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(256, bn), LeakyReLU<float>(0.2f),
                           Conv2D<float>(256, 1, 3, ConvOptions{1, 0, false}, rng, torch), Sigmoid<float>{});
}

// The conditional DCGAN (--conditional): the same models, conditioned as Keras' conditional_gan
// example conditions its own: G's noise followed by the one-hot code of its class (z_dim + 10
// inputs), and D's image followed by 10 constant planes, the one-hot code at every pixel.
inline constexpr Index classes = 10;

inline auto make_conditional_generator(Index z_dim, tinygan::Rng& rng) {
    using namespace tinygan;
    const auto torch = ConvInit::pytorch;
    const BatchNorm<float>::Options bn{0.9, 1e-5, true};
    const Index in = z_dim + classes;
    return make_sequential("generator", LabelConcat<float>(z_dim, Embedding<float>::one_hot(classes)), Reshape<float>({1, 1, in}),
                           ConvTranspose2D<float>(in, 256, 4, ConvOptions{1, 0, false}, rng, torch), BatchNorm<float>(256, bn), ReLU<float>{},
                           ConvTranspose2D<float>(256, 128, 3, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(128, bn), ReLU<float>{},
                           ConvTranspose2D<float>(128, 64, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(64, bn), ReLU<float>{},
                           ConvTranspose2D<float>(64, 1, 4, ConvOptions{2, 1, false}, rng, torch), Tanh<float>{});
}

inline auto make_conditional_discriminator(tinygan::Rng& rng) {
    using namespace tinygan;
    const auto torch = ConvInit::pytorch;
    const BatchNorm<float>::Options bn{0.9, 1e-5, true};
    return make_sequential("discriminator", LabelPlanes<float>({image_rows, image_cols, 1}, Embedding<float>::one_hot(classes)),
                           Conv2D<float>(1 + classes, 64, 4, ConvOptions{2, 1, false}, rng, torch), LeakyReLU<float>(0.2f),
                           Conv2D<float>(64, 128, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(128, bn), LeakyReLU<float>(0.2f),
                           Conv2D<float>(128, 256, 4, ConvOptions{2, 1, false}, rng, torch), BatchNorm<float>(256, bn), LeakyReLU<float>(0.2f),
                           Conv2D<float>(256, 1, 3, ConvOptions{1, 0, false}, rng, torch), Sigmoid<float>{});
}

struct Config {
    Index z_dim = 100;
    Index batch_size = 64;
    std::uint64_t seed = 1;
    double g_learning_rate = 5e-4;  // the example's is 2e-4 (see above)
    double d_learning_rate = 2e-4;  // the example's
    // The example's. With it, Adam's first steps move each weight by about +-lr whatever the size of
    // its gradient, so a gradient near 0 moves its weight by a sign that float rounding decides;
    // tests/dcgan_test.cpp takes a larger one, which makes the step a smooth function of its inputs.
    double adam_epsilon = 1e-8;
};

inline constexpr const char* format_name = "tinygan-dcgan-1";

inline tinygan::AdamOptions adam_options(double learning_rate, double epsilon) {
    tinygan::AdamOptions o;
    o.learning_rate = learning_rate;
    o.beta_1 = 0.5;
    o.beta_2 = 0.5;
    o.epsilon = epsilon;
    o.pytorch_epsilon = true;
    return o;
}

// The configuration a checkpoint was written with (its classes: tinygan::app::classes_of).
inline Config read_config(const tinygan::TensorFile& file, const std::string& path) {
    const std::string& format = tinygan::metadata_text(file, "format", path);
    if (format != format_name) throw tinygan::DataError(path + " is not a dcgan checkpoint (format \"" + format + "\")");
    const std::uint64_t z_dim = tinygan::metadata_u64(file, "z_dim", path), batch = tinygan::metadata_u64(file, "batch_size", path);
    if (z_dim == 0 || z_dim > 100000 || batch < 2 || batch > 100000)
        throw tinygan::DataError(path + " has an impossible z_dim or batch_size");
    return {static_cast<Index>(z_dim), static_cast<Index>(batch), tinygan::metadata_u64(file, "seed", path)};
}

// The models of a DCGAN run, unconditional or conditional.
template <bool Conditional>
struct Models;
template <>
struct Models<false> {
    static auto generator(Index z_dim, tinygan::Rng& rng) { return make_generator(z_dim, rng); }
    static auto discriminator(tinygan::Rng& rng) { return make_discriminator(rng); }
};
template <>
struct Models<true> {
    static auto generator(Index z_dim, tinygan::Rng& rng) { return make_conditional_generator(z_dim, rng); }
    static auto discriminator(tinygan::Rng& rng) { return make_conditional_discriminator(rng); }
};

// A DCGAN training run: models, optimizers, random generators, the epoch's order, preallocated
// batches; conditional (every image of a class asked for, classes 0 to 9) or not. Its members are
// compiled once for each, the step in dcgan.cpp and conditional_dcgan.cpp (from dcgan_step.ipp), sampling and
// checkpoints in dcgan_io.cpp.
template <bool Conditional>
class BasicDcgan final : public tinygan::app::Gan {
public:
    using Generator = decltype(Models<Conditional>::generator(1, std::declval<tinygan::Rng&>()));
    using Discriminator = decltype(Models<Conditional>::discriminator(std::declval<tinygan::Rng&>()));

    BasicDcgan(const Config& config, Index dataset_size);
    BasicDcgan(const BasicDcgan&) = delete;
    BasicDcgan& operator=(const BasicDcgan&) = delete;

    Index steps_per_epoch() const { return order_.batches_per_epoch(); }

    // The next batch of the epoch's order (with its labels when conditional), BCE targets drawn
    // from U(0.8, 1) for it, fresh noise (and, when conditional, a uniform class for each fake),
    // then step_on.
    StepResult step(const tinygan::ImageSet& data) override;
    // The step on given batches: real images in [-1, 1] (784 x batch), their BCE targets (1 x
    // batch), and G's noise (z_dim x batch); a conditional run also takes the real images' classes
    // and those G is asked for. step() is this on the batches it draws; tests give their own.
    StepResult step_on(const Mat& real, const Mat& real_targets, const Mat& noise);
    StepResult step_on(const Mat& real, const Mat& real_targets, const Mat& noise, const tinygan::Labels& real_labels,
                       const tinygan::Labels& fake_labels);

    // Images in [0, 1], one per column, from the averaged generator in inference mode; a
    // conditional run's sample() draws every class in turn, sample_classes() the classes given.
    Mat sample(const Mat& noise) override;
    Mat sample_classes(const Mat& noise, const tinygan::Labels& labels) override;
    Index classes() const override { return Conditional ? dcgan::classes : 0; }

    void summary(std::ostream& out) const override;
    void save(const std::string& path) override;
    // Everything is checked before anything changes.
    void load(const tinygan::TensorFile& file, const std::string& source) override;
    void load(const std::string& path) { load(tinygan::load_safetensors(path), path); }
    // "Epoch 2/2, batch 120/937 - D Loss: ... - G Loss: ... - D Acc: ...%": the run has real epochs.
    std::string log_line(std::int64_t step, std::int64_t total_steps, const StepResult& r) const override;

    bool parameters_finite() override { return tinygan::all_finite(generator_) && tinygan::all_finite(discriminator_); }
    std::int64_t steps_done() const override { return steps_done_; }
    Index z_dim() const override { return config_.z_dim; }
    Index batch_size() const override { return config_.batch_size; }
    std::uint64_t seed() const override { return config_.seed; }
    Generator& generator() { return generator_; }
    Discriminator& discriminator() { return discriminator_; }

private:
    StepResult step_with(const Mat& real, const Mat& real_targets, const Mat& noise, const tinygan::Labels* real_labels,
                         const tinygan::Labels* fake_labels);
    Mat sample_with(const Mat& noise, const tinygan::Labels* labels);
    tinygan::app::GanCheckpoint<Generator, Discriminator> state() {
        return {generator_, discriminator_, g_optimizer_, d_optimizer_, average_,
                {{"rng", &rng_}, {"epoch_order_rng", &order_.epoch_start_rng()}}};
    }

    Config config_;
    tinygan::Rng rng_;
    Generator generator_;  // built first, then the discriminator, from the one seeded stream
    Discriminator discriminator_;
    tinygan::Adam<float> g_optimizer_, d_optimizer_;
    tinygan::GradientSum<float> d_gradients_;
    tinygan::BinaryCrossEntropy<float> bce_;
    tinygan::EpochOrder order_;
    Mat real_, noise_, real_targets_, zeros_, ones_;
    tinygan::Labels real_labels_, fake_labels_;
    std::optional<tinygan::ExponentialMovingAverage<float>> average_;  // always there (optional for GanCheckpoint)
    Mat statistics_noise_;  // the batch on which sampling recomputes the averaged weights' BatchNorm statistics
    tinygan::Labels statistics_labels_;  // its classes, every class in turn (conditional)
    std::int64_t steps_done_ = 0;
};

using Dcgan = BasicDcgan<false>;
using ConditionalDcgan = BasicDcgan<true>;
extern template class BasicDcgan<false>;
extern template class BasicDcgan<true>;

}  // namespace dcgan
