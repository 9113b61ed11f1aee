// The DCGAN of the PyTorch C++ frontend's example (pytorch/examples, cpp/dcgan) on tinygan: its two
// models, its training step and its checkpoint. Shared by the dcgan program, its tests and the
// benchmarks.
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

#include <tinygan/app/gan_program.hpp>
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

struct Config {
    Index z_dim = 100;
    Index batch_size = 64;
    std::uint64_t seed = 1;
    double g_learning_rate = 5e-4;  // the example's is 2e-4 (see above)
    double d_learning_rate = 2e-4;  // the example's
};

inline constexpr const char* format_name = "tinygan-dcgan-1";

inline tinygan::AdamOptions adam_options(double learning_rate) {
    tinygan::AdamOptions o;
    o.learning_rate = learning_rate;
    o.beta_1 = 0.5;
    o.beta_2 = 0.5;
    o.epsilon = 1e-8;
    o.pytorch_epsilon = true;
    return o;
}

// The configuration a checkpoint was written with.
inline Config read_config(const tinygan::TensorFile& file, const std::string& path) {
    const std::string& format = tinygan::metadata_text(file, "format", path);
    if (format != format_name) throw tinygan::DataError(path + " is not a dcgan checkpoint (format \"" + format + "\")");
    const std::uint64_t z_dim = tinygan::metadata_u64(file, "z_dim", path), batch = tinygan::metadata_u64(file, "batch_size", path);
    if (z_dim == 0 || z_dim > 100000 || batch < 2 || batch > 100000)
        throw tinygan::DataError(path + " has an impossible z_dim or batch_size");
    return {static_cast<Index>(z_dim), static_cast<Index>(batch), tinygan::metadata_u64(file, "seed", path)};
}

class Dcgan {
public:
    using Generator = decltype(make_generator(1, std::declval<tinygan::Rng&>()));
    using Discriminator = decltype(make_discriminator(std::declval<tinygan::Rng&>()));

    Dcgan(const Config& config, Index dataset_size)
        : config_(config),
          rng_(config.seed),
          order_rng_(config.seed ^ 0x0da7a0de5eedULL),
          generator_(make_generator(config.z_dim, rng_)),
          discriminator_(make_discriminator(rng_)),
          g_optimizer_(generator_, adam_options(config.g_learning_rate)),
          d_optimizer_(discriminator_, adam_options(config.d_learning_rate)),
          order_(static_cast<std::size_t>(dataset_size)),
          real_(image_pixels, config.batch_size),
          noise_(config.z_dim, config.batch_size),
          real_labels_(1, config.batch_size),
          zeros_(Mat::Zero(1, config.batch_size)),
          ones_(Mat::Ones(1, config.batch_size)),
          average_(std::in_place, generator_, 0.999),
          statistics_noise_(config.z_dim, 512) {
        tinygan::Rng(config.seed ^ 0x57a7157ULL).fill_normal(statistics_noise_);
        if (dataset_size < config.batch_size)
            throw tinygan::ArgumentError(tinygan::detail::concat("--batch-size ", config.batch_size, " is larger than the ",
                                                                 dataset_size, " images"));
        start_epoch();
    }
    Dcgan(const Dcgan&) = delete;
    Dcgan& operator=(const Dcgan&) = delete;

    Index steps_per_epoch() const { return static_cast<Index>(order_.size()) / config_.batch_size; }

    StepResult step(const tinygan::ImageSet& data) {
        const tinygan::detail::ScopedFlushDenormals flush_denormals;
        if (position_ == steps_per_epoch()) start_epoch();
        for (Index j = 0; j < config_.batch_size; ++j) {  // the next batch of this epoch's order, in [-1, 1]
            const Index k = order_[static_cast<std::size_t>(position_ * config_.batch_size + j)];
            real_.col(j).array() = data.pixels().col(k).cast<float>().array() / 127.5f - 1.0f;
        }
        ++position_;
        rng_.fill_uniform(real_labels_, 0.8f, 1.0f);
        rng_.fill_normal(noise_);
        generator_.set_training(true);
        const Mat& fakes = generator_.forward(noise_);  // kept in G's buffer for the G step

        // D: the sum of its gradients on the real and on the fake batch, then one step.
        discriminator_.set_training(true);
        const auto real = tinygan::test_on_batch(discriminator_, bce_, real_, real_labels_);
        discriminator_.backward_from_logits(real_, bce_.gradient(), false);
        d_gradients_.keep(discriminator_);
        const auto fake = tinygan::test_on_batch(discriminator_, bce_, fakes, zeros_);
        discriminator_.backward_from_logits(fakes, bce_.gradient(), false);
        d_gradients_.add_to(discriminator_);
        require_finite(real.loss + fake.loss);
        d_optimizer_.step(discriminator_);

        // G: through the frozen D on the same fakes, label 1, into G's forward from above.
        tinygan::BatchResult<float> g{};
        {
            tinygan::Frozen frozen_discriminator(discriminator_);
            g = tinygan::test_on_batch(discriminator_, bce_, fakes, ones_);
            require_finite(g.loss);
            const Mat& dfakes = discriminator_.backward_from_logits(fakes, bce_.gradient(), true);
            generator_.backward(noise_, dfakes, false);
        }
        g_optimizer_.step(generator_);
        average_->update(generator_);
        ++steps_done_;
        return {real.loss + fake.loss, 0.5f * (real.accuracy + fake.accuracy), g.loss};
    }

    // Images in [0, 1], one per column, from the averaged generator in inference mode.
    Mat sample(const Mat& noise) const {
        Generator sampler = generator_;
        average_->apply_to(sampler);
        tinygan::update_batch_norm_statistics(sampler, statistics_noise_);
        return (tinygan::app::predict_in_chunks(sampler, noise).array() * 0.5f + 0.5f).matrix();
    }

    void summary(std::ostream& out) const {
        generator_.summary(out);
        discriminator_.summary(out);
    }

    void save(const std::string& path) {
        tinygan::TensorFile file;
        state().save(file);
        file.metadata["format"] = format_name;
        file.metadata["step"] = std::to_string(steps_done_);
        file.metadata["epoch_position"] = std::to_string(position_);
        file.metadata["z_dim"] = std::to_string(config_.z_dim);
        file.metadata["batch_size"] = std::to_string(config_.batch_size);
        file.metadata["seed"] = std::to_string(config_.seed);
        tinygan::save_safetensors(path, file);
    }

    void load(const std::string& path) { load(tinygan::load_safetensors(path), path); }

    // Everything is checked before anything changes.
    void load(const tinygan::TensorFile& file, const std::string& source) {
        const Config saved = read_config(file, source);
        if (saved.z_dim != config_.z_dim || saved.batch_size != config_.batch_size)
            throw tinygan::DataError(tinygan::detail::concat(source, " was written with --z-dim ", saved.z_dim, " --batch-size ",
                                                             saved.batch_size, ", but this run uses --z-dim ", config_.z_dim,
                                                             " --batch-size ", config_.batch_size));
        const auto step = static_cast<std::int64_t>(tinygan::metadata_u64(file, "step", source));
        const auto position = static_cast<Index>(tinygan::metadata_u64(file, "epoch_position", source));
        if (position > steps_per_epoch())
            throw tinygan::DataError(tinygan::detail::concat(source, " is at batch ", position, " of an epoch of ",
                                                             steps_per_epoch(), " (another data set?)"));
        state().load(file, source);
        order_rng_ = epoch_start_rng_;  // the epoch's order, drawn again from the generator it came from
        start_epoch();
        position_ = position;
        steps_done_ = step;
    }

    bool parameters_finite() { return tinygan::all_finite(generator_) && tinygan::all_finite(discriminator_); }
    std::int64_t steps_done() const { return steps_done_; }
    Index z_dim() const { return config_.z_dim; }
    Index batch_size() const { return config_.batch_size; }
    std::uint64_t seed() const { return config_.seed; }
    Generator& generator() { return generator_; }
    Discriminator& discriminator() { return discriminator_; }

private:
    // A new random order of the data set (Fisher-Yates), as PyTorch's RandomSampler draws one.
    void start_epoch() {
        epoch_start_rng_ = order_rng_;
        std::iota(order_.begin(), order_.end(), Index(0));
        for (std::size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[order_rng_.uniform_index(i + 1)]);
        position_ = 0;
    }

    tinygan::app::GanCheckpoint<Generator, Discriminator> state() {
        return {generator_, discriminator_, g_optimizer_, d_optimizer_, average_,
                {{"rng", &rng_}, {"epoch_order_rng", &epoch_start_rng_}}};
    }

    static void require_finite(float loss) {
        if (!std::isfinite(loss))
            throw tinygan::NumericError(tinygan::detail::concat("the loss is ", tinygan::detail::number_text(loss),
                                                                ": the models have diverged; the step was not taken"));
    }

    Config config_;
    tinygan::Rng rng_, order_rng_, epoch_start_rng_;
    Generator generator_;  // built first, then the discriminator, from the one seeded stream
    Discriminator discriminator_;
    tinygan::Adam<float> g_optimizer_, d_optimizer_;
    tinygan::GradientSum<float> d_gradients_;
    tinygan::BinaryCrossEntropy<float> bce_;
    std::vector<Index> order_;
    Index position_ = 0;
    Mat real_, noise_, real_labels_, zeros_, ones_;
    std::optional<tinygan::ExponentialMovingAverage<float>> average_;  // always there (optional for GanCheckpoint)
    Mat statistics_noise_;  // the batch on which sampling recomputes the averaged weights' BatchNorm statistics
    std::int64_t steps_done_ = 0;
};

}  // namespace dcgan
