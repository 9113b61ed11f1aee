// The cgan recipe's run (cgan.hpp): its construction and its step, compiled once.
#include "cgan.hpp"

namespace mnist_gan {

ConditionalGan::ConditionalGan(const Config& config)
    : config_(config),
      rng_(config.seed),
      discriminator_(make_conditional_discriminator(rng_)),
      generator_(make_conditional_generator(config.z_dim, rng_)),
      discriminator_for_g_(make_conditional_discriminator(rng_)),
      d_optimizer_(discriminator_, tinygan::AdamOptions{config.learning_rate, 0.5}),
      g_optimizer_(generator_, tinygan::AdamOptions{config.learning_rate, 0.5}),
      combined_(tinygan::chain(generator_, discriminator_for_g_)),
      average_(std::in_place, generator_, average_decay),
      real_(image_pixels, config.batch_size / 2),
      half_noise_(config.z_dim, config.batch_size / 2),
      predict_noise_(Mat::Zero(config.z_dim, config.batch_size)),
      fakes_(image_pixels, config.batch_size / 2),
      noise_(config.z_dim, config.batch_size),
      half_ones_(Mat::Ones(1, config.batch_size / 2)),
      half_zeros_(Mat::Zero(1, config.batch_size / 2)),
      ones_(Mat::Ones(1, config.batch_size)),
      real_labels_(config.batch_size / 2),
      g_labels_(config.batch_size),
      predict_labels_(tinygan::Labels::Zero(config.batch_size)),
      statistics_noise_(config.z_dim, statistics_batch),
      statistics_labels_(tinygan::app::cycling_labels(statistics_batch, cgan_classes)) {
    tinygan::Rng(config.seed ^ statistics_salt).fill_normal(statistics_noise_);
    discriminator_for_g_.trainable(false);
    if (config.batch_size < 4)
        throw tinygan::ArgumentError(tinygan::detail::concat(
            "--batch-size ", config.batch_size, " is too small for the cgan recipe: D trains on half batches, and G's "
            "and the half batches' BatchNorm layers need at least 2 samples"));
}

StepResult ConditionalGan::step(const tinygan::ImageSet& data) {
    // D: a half batch of real images with their labels, and as many fakes drawn for those labels.
    data.sample_batch_signed(real_, rng_, &real_labels_);
    rng_.fill_normal(half_noise_);
    // G predicts them in a full batch, the half batch's noise and labels first: at the width of its
    // training step G's buffers keep their size, where a half-width predict would resize them twice a
    // step (and allocate). In inference mode each column is its own, so the rest changes nothing.
    const Index half = half_noise_.cols();
    predict_noise_.leftCols(half) = half_noise_;
    predict_labels_.head(half) = real_labels_;
    fakes_ = generator_.predict(predict_noise_, predict_labels_).leftCols(half);
    const auto d_real = tinygan::train_on_batch(discriminator_, d_loss_, d_optimizer_, real_, half_ones_, real_labels_);
    const auto d_fake = tinygan::train_on_batch(discriminator_, d_loss_, d_optimizer_, fakes_, half_zeros_, real_labels_);

    // G: a full batch of fresh noise and uniform classes, through the frozen D.
    rng_.fill_normal(noise_);
    for (Index j = 0; j < g_labels_.cols(); ++j)
        g_labels_(j) = static_cast<int>(rng_.uniform_index(static_cast<std::uint64_t>(cgan_classes)));
    tinygan::copy_parameters(discriminator_, discriminator_for_g_);  // D as it now is, frozen
    // train_on_batch, with the moving average in the same pass over G's weights as Adam's update.
    tinygan::BatchResult<float> g{};
    {
        const tinygan::ScopedFlushDenormals flush_denormals;
        g = tinygan::compute_gradients(combined_, g_loss_, noise_, ones_, g_labels_);
        g_optimizer_.step(combined_, *average_);
    }
    ++steps_done_;
    return {0.5f * (d_real.loss + d_fake.loss), 0.5f * (d_real.accuracy + d_fake.accuracy), g.loss};
}

}  // namespace mnist_gan
