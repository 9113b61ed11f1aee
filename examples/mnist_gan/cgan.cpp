// The cgan recipe's run (cgan.hpp): its construction and its step, compiled once.
#include "cgan.hpp"

namespace mnist_gan {

ConditionalGan::ConditionalGan(const Config& config)
    : config_(config),
      rng_(config.seed),
      discriminator_(make_conditional_discriminator(rng_)),
      generator_(make_conditional_generator(config.z_dim, rng_)),
      d_optimizer_(discriminator_, tinygan::AdamOptions{config.learning_rate, 0.5}),
      g_optimizer_(generator_, tinygan::AdamOptions{config.learning_rate, 0.5}),
      combined_(tinygan::chain(generator_, discriminator_)),
      average_(std::in_place, generator_, average_decay),
      real_(image_pixels, config.batch_size / 2),
      half_noise_(config.z_dim, config.batch_size / 2),
      noise_(config.z_dim, config.batch_size),
      half_ones_(Mat::Ones(1, config.batch_size / 2)),
      half_zeros_(Mat::Zero(1, config.batch_size / 2)),
      ones_(Mat::Ones(1, config.batch_size)),
      real_labels_(config.batch_size / 2),
      g_labels_(config.batch_size) {
    if (config.batch_size < 4)
        throw tinygan::ArgumentError(tinygan::detail::concat(
            "--batch-size ", config.batch_size, " is too small for the cgan recipe: D trains on half batches, and G's "
            "and the half batches' BatchNorm layers need at least 2 samples"));
}

StepResult ConditionalGan::step(const tinygan::ImageSet& data) {
    // D: a half batch of real images with their labels, and as many fakes drawn for those labels.
    data.sample_batch_signed(real_, rng_, &real_labels_);
    rng_.fill_normal(half_noise_);
    const Mat& fakes = generator_.predict(half_noise_, real_labels_);  // stays in G's buffer until G's step
    const auto d_real = tinygan::train_on_batch(discriminator_, bce_, d_optimizer_, real_, half_ones_, real_labels_);
    const auto d_fake = tinygan::train_on_batch(discriminator_, bce_, d_optimizer_, fakes, half_zeros_, real_labels_);

    // G: a full batch of fresh noise and uniform classes, through the frozen D.
    rng_.fill_normal(noise_);
    for (Index j = 0; j < g_labels_.cols(); ++j)
        g_labels_(j) = static_cast<int>(rng_.uniform_index(static_cast<std::uint64_t>(cgan_classes)));
    tinygan::BatchResult<float> g{};
    {
        tinygan::Frozen frozen_discriminator(discriminator_);
        g = tinygan::train_on_batch(combined_, bce_, g_optimizer_, noise_, ones_, g_labels_);
    }
    average_->update(generator_);
    ++steps_done_;
    return {0.5f * (d_real.loss + d_fake.loss), 0.5f * (d_real.accuracy + d_fake.accuracy), g.loss};
}

}  // namespace mnist_gan
