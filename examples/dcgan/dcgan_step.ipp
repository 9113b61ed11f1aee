// The DCGAN's construction and step (dcgan.hpp), for both BasicDcgan<false> and <true>: included
// by dcgan.cpp and conditional_dcgan.cpp, which instantiate one each, so that each translation
// unit compiles one model pair (bench/README.md, "Build cost"). Sampling and checkpoints are
// dcgan_io.cpp.
#pragma once

#include "dcgan.hpp"

#include <cmath>

namespace dcgan {

namespace step_detail {

inline void require_finite(float loss) {
    if (!std::isfinite(loss))
        throw tinygan::NumericError(tinygan::detail::concat("the loss is ", tinygan::detail::number_text(loss),
                                                            ": the models have diverged; the step was not taken"));
}

}  // namespace step_detail

template <bool Conditional>
BasicDcgan<Conditional>::BasicDcgan(const Config& config, Index dataset_size)
    : config_(config),
      rng_(config.seed),
      generator_(Models<Conditional>::generator(config.z_dim, rng_)),
      discriminator_(Models<Conditional>::discriminator(rng_)),
      g_optimizer_(generator_, adam_options(config.g_learning_rate, config.adam_epsilon)),
      d_optimizer_(discriminator_, adam_options(config.d_learning_rate, config.adam_epsilon)),
      order_(dataset_size, config.batch_size, config.seed ^ 0x0da7a0de5eedULL),
      real_(image_pixels, config.batch_size),
      noise_(config.z_dim, config.batch_size),
      real_targets_(1, config.batch_size),
      zeros_(Mat::Zero(1, config.batch_size)),
      ones_(Mat::Ones(1, config.batch_size)),
      real_labels_(Conditional ? config.batch_size : 0),
      fake_labels_(Conditional ? config.batch_size : 0),
      average_(std::in_place, generator_, 0.999),
      statistics_noise_(config.z_dim, 512),
      statistics_labels_(tinygan::app::cycling_labels(Conditional ? 512 : 0, dcgan::classes)) {
    tinygan::Rng(config.seed ^ 0x57a7157ULL).fill_normal(statistics_noise_);
}

template <bool Conditional>
StepResult BasicDcgan<Conditional>::step(const tinygan::ImageSet& data) {
    const tinygan::ScopedFlushDenormals flush_denormals;  // the whole step computes as TensorFlow would
    const Index* batch = order_.next_batch();  // the next batch of this epoch's order, in [-1, 1]
    data.gather_signed(batch, real_, Conditional ? &real_labels_ : nullptr);
    rng_.fill_uniform(real_targets_, 0.8f, 1.0f);
    rng_.fill_normal(noise_);
    if constexpr (Conditional) {  // the fakes' classes: uniform, after the draws an unconditional run makes
        for (Index j = 0; j < fake_labels_.cols(); ++j)
            fake_labels_(j) = static_cast<int>(rng_.uniform_index(static_cast<std::uint64_t>(dcgan::classes)));
        return step_with(real_, real_targets_, noise_, &real_labels_, &fake_labels_);
    } else {
        return step_with(real_, real_targets_, noise_, nullptr, nullptr);
    }
}

template <bool Conditional>
StepResult BasicDcgan<Conditional>::step_on(const Mat& real, const Mat& real_targets, const Mat& noise) {
    if (Conditional) throw tinygan::ArgumentError("a conditional DCGAN's step takes the real and the fake classes too");
    return step_with(real, real_targets, noise, nullptr, nullptr);
}

template <bool Conditional>
StepResult BasicDcgan<Conditional>::step_on(const Mat& real, const Mat& real_targets, const Mat& noise,
                                            const tinygan::Labels& real_labels, const tinygan::Labels& fake_labels) {
    if (!Conditional) throw tinygan::ArgumentError("an unconditional DCGAN's step takes no classes");
    return step_with(real, real_targets, noise, &real_labels, &fake_labels);
}

template <bool Conditional>
StepResult BasicDcgan<Conditional>::step_with(const Mat& real, const Mat& real_targets, const Mat& noise,
                                              const tinygan::Labels* real_labels, const tinygan::Labels* fake_labels) {
    const tinygan::ScopedFlushDenormals flush_denormals;
    generator_.set_training(true);
    auto g_forward = [&]() -> const Mat& {
        if constexpr (Conditional) {
            // Both batches' labels, before G's forward moves its BatchNorm statistics.
            tinygan::require_valid_labels(discriminator_, *real_labels, real.cols());
            tinygan::require_valid_labels(generator_, *fake_labels, noise.cols());
            return generator_.forward(noise, *fake_labels);
        } else {
            return generator_.forward(noise);
        }
    };
    const Mat& fakes = g_forward();  // kept in G's buffer for the G step

    // D's logits-based BCE on a batch, then its backward from the logits, with the batch's classes.
    auto d_backward = [&](const Mat& x, const tinygan::Labels* labels, bool need_dx) -> const Mat& {
        if constexpr (Conditional)
            return discriminator_.backward_from_logits(x, *labels, bce_.gradient(), need_dx);
        else
            return discriminator_.backward_from_logits(x, bce_.gradient(), need_dx);
    };
    auto d_test = [&](const Mat& x, const Mat& targets, const tinygan::Labels* labels) {
        if constexpr (Conditional)
            return tinygan::test_on_batch(discriminator_, bce_, x, targets, *labels);
        else
            return tinygan::test_on_batch(discriminator_, bce_, x, targets);
    };
    auto d_gradients = [&](const Mat& x, const Mat& targets, const tinygan::Labels* labels) {
        if constexpr (Conditional)
            return tinygan::compute_gradients(discriminator_, bce_, x, targets, *labels);
        else
            return tinygan::compute_gradients(discriminator_, bce_, x, targets);
    };

    // D: the sum of its gradients on the real and on the fake batch (train_on_batch's first half,
    // twice), then one step.
    const auto real_result = d_gradients(real, real_targets, real_labels);
    d_gradients_.keep(discriminator_);
    const auto fake_result = d_gradients(fakes, zeros_, fake_labels);
    d_gradients_.add_to(discriminator_);
    d_optimizer_.step(discriminator_);

    // G: through the frozen D on the same fakes, label 1, into G's forward from above.
    tinygan::BatchResult<float> g{};
    {
        tinygan::Frozen frozen_discriminator(discriminator_);
        g = d_test(fakes, ones_, fake_labels);
        step_detail::require_finite(g.loss);
        const Mat& dfakes = d_backward(fakes, fake_labels, true);
        if constexpr (Conditional)
            generator_.backward(noise, *fake_labels, dfakes, false);
        else
            generator_.backward(noise, dfakes, false);
    }
    g_optimizer_.step(generator_, *average_);  // and the moving average, in the same pass
    ++steps_done_;
    return {real_result.loss + fake_result.loss, 0.5f * (real_result.accuracy + fake_result.accuracy), g.loss};
}

}  // namespace dcgan
