// The gradients train_on_batch follows, against central differences in double: G through a frozen
// D with BCE, whole models through their logits or clipped probabilities, a GAN of the new layers.
// (train_on_batch's behaviour in float is train_on_batch_test.cpp.)
#include "test_support.hpp"

#include <limits>

using namespace tinygan;

using test::parameters_of;
using test::small_discriminator;
using test::small_generator;

TEST_CASE("Generator -> frozen discriminator -> BCE: gradients match central differences") {
    Rng rng(51);
    auto generator = small_generator<double>(rng);
    auto discriminator = small_discriminator<double>(rng);
    const auto z = test::random_matrix<double>(3, 4, rng);
    const Matrix<double> ones = Matrix<double>::Ones(1, 4);
    Frozen frozen(discriminator);
    auto gan = chain(generator, discriminator);
    const GradientReport report = check_loss_gradients(gan, z, ones);
    // Every generator parameter and the noise are checked; the frozen discriminator's are not.
    CHECK(report.entries_checked == generator.parameter_count() + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A whole trainable model with BCE through its logits: gradients match central differences") {
    Rng rng(52);
    auto generator = small_generator<double>(rng);
    auto discriminator = small_discriminator<double>(rng);
    auto gan = chain(generator, discriminator);
    const auto z = test::random_matrix<double>(3, 4, rng);
    Matrix<double> labels(1, 4);
    labels << 1, 0, 0, 1;
    const GradientReport report = check_loss_gradients(gan, z, labels);
    CHECK(report.entries_checked == gan.parameter_count() + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A model without a final Sigmoid is checked through clipped probabilities") {
    Rng rng(53);
    auto model = make_sequential("m", Dense<double>(3, 2, rng), Sigmoid<double>{}, Reshape<double>({2}));
    const Matrix<double> x = test::random_matrix<double>(3, 5, rng);
    Matrix<double> labels(2, 5);
    rng.fill_uniform(labels, 0.0, 1.0);
    static_assert(!ends_in_sigmoid_v<decltype(model)>);
    const GradientReport report = check_loss_gradients(model, x, labels);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A GAN built from the new layers, G through a frozen D with BatchNorm and Dropout: gradients match") {
    Rng rng(58);
    auto generator = make_sequential("generator", Dense<double>(3, 6, rng), LeakyReLU<double>(0.2), BatchNorm<double>(6, 0.8),
                                     Dense<double>(6, 8, rng), Tanh<double>{}, Reshape<double>({2, 2, 2}));
    auto discriminator = make_sequential("discriminator", Flatten<double>({2, 2, 2}), Dense<double>(8, 5, rng),
                                         LeakyReLU<double>(0.2), BatchNorm<double>(5, 0.9), Dropout<double>(0.3, rng),
                                         Dense<double>(5, 1, rng), Sigmoid<double>{});
    const auto z = test::random_matrix<double>(3, 6, rng);
    Frozen frozen(discriminator);
    auto gan = chain(generator, discriminator);
    gan.set_training(true);
    gan.forward(z);
    discriminator.layer<4>().hold_mask(true);  // one dropout mask for the whole check
    const Matrix<double> moving_before = discriminator.parameter("batch_norm_3.moving_mean");
    const GradientReport report = check_loss_gradients(gan, z, Matrix<double>::Ones(1, 6));
    // Every generator weight (not its BatchNorm's moving statistics) and the noise; nothing of D.
    CHECK(report.entries_checked == (3 * 6 + 6) + (6 + 6) + (6 * 8 + 8) + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // The frozen discriminator's BatchNorm kept its statistics through all those forwards.
    CHECK(discriminator.parameter("batch_norm_3.moving_mean") == moving_before);
}
