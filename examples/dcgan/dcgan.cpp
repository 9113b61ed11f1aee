// The DCGAN's run (dcgan.hpp): its construction and its step, compiled once for the program, its
// tests and the benchmarks (sampling and checkpoints are dcgan_io.cpp).
#include "dcgan.hpp"

#include <cmath>

namespace dcgan {

namespace {

void require_finite(float loss) {
    if (!std::isfinite(loss))
        throw tinygan::NumericError(tinygan::detail::concat("the loss is ", tinygan::detail::number_text(loss),
                                                            ": the models have diverged; the step was not taken"));
}

}  // namespace

Dcgan::Dcgan(const Config& config, Index dataset_size)
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

StepResult Dcgan::step(const tinygan::ImageSet& data) {
    const tinygan::ScopedFlushDenormals flush_denormals;  // the whole step computes as TensorFlow would
    if (position_ == steps_per_epoch()) start_epoch();
    for (Index j = 0; j < config_.batch_size; ++j) {  // the next batch of this epoch's order, in [-1, 1]
        const Index k = order_[static_cast<std::size_t>(position_ * config_.batch_size + j)];
        real_.col(j).array() = data.pixels().col(k).cast<float>().array() / 127.5f - 1.0f;
    }
    ++position_;
    rng_.fill_uniform(real_labels_, 0.8f, 1.0f);
    rng_.fill_normal(noise_);
    return step_on(real_, real_labels_, noise_);
}

StepResult Dcgan::step_on(const Mat& real, const Mat& real_labels, const Mat& noise) {
    const tinygan::ScopedFlushDenormals flush_denormals;
    generator_.set_training(true);
    const Mat& fakes = generator_.forward(noise);  // kept in G's buffer for the G step

    // D: the sum of its gradients on the real and on the fake batch, then one step.
    discriminator_.set_training(true);
    const auto real_result = tinygan::test_on_batch(discriminator_, bce_, real, real_labels);
    discriminator_.backward_from_logits(real, bce_.gradient(), false);
    d_gradients_.keep(discriminator_);
    const auto fake_result = tinygan::test_on_batch(discriminator_, bce_, fakes, zeros_);
    discriminator_.backward_from_logits(fakes, bce_.gradient(), false);
    d_gradients_.add_to(discriminator_);
    require_finite(real_result.loss + fake_result.loss);
    d_optimizer_.step(discriminator_);

    // G: through the frozen D on the same fakes, label 1, into G's forward from above.
    tinygan::BatchResult<float> g{};
    {
        tinygan::Frozen frozen_discriminator(discriminator_);
        g = tinygan::test_on_batch(discriminator_, bce_, fakes, ones_);
        require_finite(g.loss);
        const Mat& dfakes = discriminator_.backward_from_logits(fakes, bce_.gradient(), true);
        generator_.backward(noise, dfakes, false);
    }
    g_optimizer_.step(generator_);
    average_->update(generator_);
    ++steps_done_;
    return {real_result.loss + fake_result.loss, 0.5f * (real_result.accuracy + fake_result.accuracy), g.loss};
}

void Dcgan::start_epoch() {
    epoch_start_rng_ = order_rng_;
    std::iota(order_.begin(), order_.end(), Index(0));
    for (std::size_t i = order_.size() - 1; i > 0; --i) std::swap(order_[i], order_[order_rng_.uniform_index(i + 1)]);
    position_ = 0;
}

}  // namespace dcgan
