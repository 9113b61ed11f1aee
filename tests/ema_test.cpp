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
