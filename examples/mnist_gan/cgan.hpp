// mnist_gan's conditional recipe, "cgan": Keras-GAN's cgan.py (cgan/cgan.py) as it stands. The
// caller says which digit to draw.
//   G: the noise (100) multiplied by its label's embedding (Embedding(10, 100)), then
//      100 -> 256 -> 512 -> 1024 -> 784, each hidden Dense followed by LeakyReLU(0.2) and
//      BatchNormalization(momentum 0.8), tanh output, images in [-1, 1].
//   D: the flattened image (784) multiplied by its label's embedding (Embedding(10, 784)), then
//      784 -> 512 (LeakyReLU 0.2) -> 512 (LeakyReLU, Dropout 0.4) -> 512 (LeakyReLU, Dropout 0.4)
//      -> 1, sigmoid.
//   Adam(2e-4, beta_1 0.5) for both; Keras' Embedding initialisation, U(-0.05, 0.05).
// The step, as the file has it: a half batch (16 of --batch-size 32) of real images with their
// labels; 16 fakes generated (predict, inference mode) for those same labels; one D step on each
// half batch (labels 1 and 0); then one G step through the frozen D on a full batch of fresh noise
// and classes drawn uniformly (label 1). Samples come from a moving average of G's weights
// (decay 0.999, TensorFlow's warm-up), as the keras-gan recipe's.
#pragma once

#include "mnist_gan.hpp"

#include <tinygan/layers/conditioning.hpp>

namespace mnist_gan {

inline constexpr Index cgan_classes = 10;

inline auto make_conditional_generator(Index z_dim, tinygan::Rng& rng) {
    using namespace tinygan;
    const BatchNorm<float>::Options bn{0.8, 1e-3};  // Keras' BatchNormalization(momentum=0.8)
    return make_sequential("generator", LabelMultiply<float>({z_dim}, Embedding<float>(cgan_classes, z_dim, rng)),
                           Dense<float>(z_dim, 256, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(256, bn),
                           Dense<float>(256, 512, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(512, bn),
                           Dense<float>(512, 1024, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(1024, bn),
                           Dense<float>(1024, image_pixels, rng), Tanh<float>{}, Reshape<float>({image_rows, image_cols, 1}));
}

inline auto make_conditional_discriminator(tinygan::Rng& rng) {
    using namespace tinygan;
    return make_sequential("discriminator", Flatten<float>({image_rows, image_cols, 1}),
                           LabelMultiply<float>({image_pixels}, Embedding<float>(cgan_classes, image_pixels, rng)),
                           Dense<float>(image_pixels, 512, rng), LeakyReLU<float>(0.2f),
                           Dense<float>(512, 512, rng), LeakyReLU<float>(0.2f), Dropout<float>(0.4f, rng),
                           Dense<float>(512, 512, rng), LeakyReLU<float>(0.2f), Dropout<float>(0.4f, rng),
                           Dense<float>(512, 1, rng), Sigmoid<float>{});
}

// A cgan training run. Its members are compiled once, in cgan.cpp (the step) and cgan_io.cpp.
class ConditionalGan final : public tinygan::app::Gan {
public:
    static constexpr double default_learning_rate = 2e-4;
    static constexpr double average_decay = 0.999;
    // Sampling recomputes the averaged weights' BatchNorm statistics on this many noise vectors,
    // every class in turn, drawn once from the seed and this salt.
    static constexpr Index statistics_batch = 512;
    static constexpr std::uint64_t statistics_salt = 0x57a7157ULL;

    explicit ConditionalGan(const Config& config);
    ConditionalGan(const ConditionalGan&) = delete;
    ConditionalGan& operator=(const ConditionalGan&) = delete;

    // One step as cgan.py takes it (see above); allocates nothing once the buffers are warm.
    StepResult step(const tinygan::ImageSet& data) override;
    // Images in [0, 1] of the given classes, from the averaged weights in inference mode.
    Mat sample_classes(const Mat& noise, const tinygan::Labels& labels) override;
    // Every class in turn.
    Mat sample(const Mat& noise) override;
    Index classes() const override { return cgan_classes; }

    void summary(std::ostream& out) const override;
    void save(const std::string& path) override;
    void load(const tinygan::TensorFile& file, const std::string& source) override;
    void load(const std::string& path) { load(tinygan::load_safetensors(path), path); }

    bool parameters_finite() override { return tinygan::all_finite(generator_) && tinygan::all_finite(discriminator_); }
    std::int64_t steps_done() const override { return steps_done_; }
    Index z_dim() const override { return config_.z_dim; }
    Index batch_size() const override { return config_.batch_size; }
    std::uint64_t seed() const override { return config_.seed; }
    using Generator = decltype(make_conditional_generator(1, std::declval<tinygan::Rng&>()));
    using Discriminator = decltype(make_conditional_discriminator(std::declval<tinygan::Rng&>()));
    Generator& generator() { return generator_; }
    Discriminator& discriminator() { return discriminator_; }
    tinygan::Rng& rng() { return rng_; }

private:
    tinygan::app::GanCheckpoint<Generator, Discriminator> state() {
        return {generator_, discriminator_, g_optimizer_, d_optimizer_, average_, {{"rng", &rng_}}};
    }

    Config config_;
    tinygan::Rng rng_;  // declared before the models: D's Dropout layers keep a reference to it
    Discriminator discriminator_;  // built first, then the generator, as cgan.py builds them
    Generator generator_;
    // D as G's step sees it: a frozen copy, refreshed before each G step. D itself trains on half
    // batches and G's step runs at the full batch; through one model, every layer's buffers would
    // change size (and allocate) twice a step. The copy's Dropout draws from rng_ too.
    Discriminator discriminator_for_g_;
    tinygan::Adam<float> d_optimizer_, g_optimizer_;
    tinygan::Sequential<float, Generator&, Discriminator&> combined_;
    std::optional<tinygan::ExponentialMovingAverage<float>> average_;
    tinygan::BinaryCrossEntropy<float> d_loss_, g_loss_;  // one each: their gradient buffers are a half and a whole batch wide
    Mat real_, half_noise_, predict_noise_, fakes_, noise_, half_ones_, half_zeros_, ones_;
    tinygan::Labels real_labels_, g_labels_, predict_labels_;
    Mat statistics_noise_;  // the batch on which sampling recomputes the averaged weights' BatchNorm statistics
    tinygan::Labels statistics_labels_;
    std::int64_t steps_done_ = 0;
};

}  // namespace mnist_gan
