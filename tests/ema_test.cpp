// ExponentialMovingAverage: the average follows its formula (the warm-up, then the decay cap),
// applies to a copy, round-trips through a checkpoint, and refuses another model.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>

using namespace tinygan;

TEST_CASE("The moving average follows d = min(decay, (1 + t) / (10 + t)) and leaves state tensors alone") {
    Rng rng(101);
    auto model = make_sequential("m", Dense<double>(2, 3, rng), BatchNorm<double>(3));
    // decay 0.5: the warm-up formula is below it for the first update or two, the cap after.
    ExponentialMovingAverage<double> ema(model, 0.5);
    std::vector<Matrix<double>> expected;
    model.for_each_parameter([&](const Parameter<double>& p) {
        if (!p.is_state) expected.push_back(p.value);
    });
    for (int t = 0; t < 12; ++t) {
        model.for_each_parameter([&](const Parameter<double>& p) { rng.fill_normal(p.value); });  // every weight moves
        ema.update(model);
        const double d = std::min(0.5, (1.0 + t) / (10.0 + t));
        std::size_t k = 0;
        model.for_each_parameter([&](const Parameter<double>& p) {
            if (p.is_state) return;
            expected[k] = d * expected[k] + (1 - d) * p.value;
            ++k;
        });
    }
    CHECK(ema.updates() == 12);
    auto copy = model;
    copy.forward(test::random_matrix<double>(2, 5, rng));  // moves the copy's BatchNorm statistics
    const Matrix<double> copy_moving_mean = copy.parameter("batch_norm_1.moving_mean");
    ema.apply_to(copy);
    std::size_t k = 0;
    copy.for_each_parameter([&](const Parameter<double>& p) {
        if (p.is_state) return;
        INFO(p.name);
        CHECK(test::max_difference(p.value, expected[k++]) < 1e-12);  // kernel, bias, gamma, beta
    });
    CHECK(k == 4);
    CHECK(copy.parameter("batch_norm_1.moving_mean") == copy_moving_mean);  // state is not averaged

    TensorFile file;
    save_ema(file, "average", ema);
    ExponentialMovingAverage<double> restored(model, 0.5);
    load_ema(file, "average", restored, "file");
    CHECK(restored.updates() == 12);
    CHECK(restored.averages() == ema.averages());

    auto other = make_sequential("m", Dense<double>(2, 4, rng));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ema.apply_to(other), ShapeError, "holds 4 tensors of another model");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ExponentialMovingAverage<double>(model, 1.0), ArgumentError, "decay in [0, 1)");
}

TEST_CASE("Adam::step(model, average) is step(model) then average.update(model), bit for bit, in one pass") {
    // Sizes where the update runs vectorised, in chunks and (at 2 threads) in parts; a frozen model
    // after the trained one, as in G's step through the frozen D.
    test::on_one_and_two_threads([](int) {
        Rng rng(7);
        auto generator = make_sequential("g", Dense<float>(100, 256, rng), LeakyReLU<float>(0.2f), Dense<float>(256, 1001, rng));
        auto discriminator = make_sequential("d", Dense<float>(1001, 3, rng));
        discriminator.trainable(false);
        auto fused_generator = generator;
        auto gan = chain(generator, discriminator);
        auto fused_gan = chain(fused_generator, discriminator);
        Adam<float> adam(gan, AdamOptions{2e-4, 0.5, 0.999, 1e-7, false}), fused_adam(fused_gan, adam.options());
        ExponentialMovingAverage<float> average(generator, 0.9), fused_average(fused_generator, 0.9);
        const Matrix<float> initial_kernel = generator.parameter("dense_0.kernel");
        for (int step = 0; step < 6; ++step) {
            generator.for_each_parameter([&](const Parameter<float>& p) { rng.fill_normal(p.gradient); });
            std::size_t k = 0;
            std::vector<Matrix<float>> gradients;
            generator.for_each_parameter([&](const Parameter<float>& p) { gradients.push_back(p.gradient); });
            fused_generator.for_each_parameter([&](const Parameter<float>& p) { p.gradient = gradients[k++]; });
            adam.step(gan);
            average.update(generator);
            fused_adam.step(fused_gan, fused_average);
        }
        CHECK(fused_average.updates() == average.updates());
        CHECK(test::largest_difference(generator, fused_generator) == 0);
        for (std::size_t k = 0; k < average.averages().size(); ++k) {
            CHECK(fused_average.averages()[k] == average.averages()[k]);
            CHECK(fused_adam.first_moments()[k] == adam.first_moments()[k]);
            CHECK(fused_adam.second_moments()[k] == adam.second_moments()[k]);
        }
        // The average moved from where it started, and not all the way to the weights.
        const Matrix<float>& averaged = fused_average.averages()[0];
        REQUIRE(averaged.allFinite());
        CHECK((averaged - initial_kernel).cwiseAbs().maxCoeff() > 1e-6f);
        CHECK((averaged - fused_generator.parameter("dense_0.kernel")).cwiseAbs().maxCoeff() > 1e-6f);
    });
}

TEST_CASE("Adam::step(model, average) refuses an average of other tensors than those it steps") {
    Rng rng(8);
    auto generator = make_sequential("g", Dense<float>(3, 4, rng), Dense<float>(4, 2, rng));
    auto other = make_sequential("o", Dense<float>(3, 4, rng), Dense<float>(4, 3, rng));
    Adam<float> adam(generator);
    ExponentialMovingAverage<float> of_other(other), of_all(generator);
    const Matrix<float> before = generator.parameter("dense_1.kernel");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(adam.step(generator, of_other), ArgumentError,
                                       "needs an average of exactly the 4 tensors this Adam steps");
    generator.layer<0>().trainable(false);  // the average holds a tensor Adam does not step
    Adam<float> partial(generator);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(partial.step(generator, of_all), ArgumentError,
                                       "this one holds 4 others");
    CHECK(generator.parameter("dense_1.kernel") == before);
    CHECK(of_all.updates() == 0);
}
