// ExponentialMovingAverage: the average follows its formula (with the warm-up), applies to a copy,
// round-trips through a checkpoint, and refuses another model.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>

using namespace tinygan;

TEST_CASE("The moving average follows d = min(decay, (1 + t) / (10 + t)) and leaves state tensors alone") {
    Rng rng(101);
    auto model = make_sequential("m", Dense<double>(2, 3, rng), BatchNorm<double>(3));
    ExponentialMovingAverage<double> ema(model, 0.9);
    Matrix<double> expected = model.layer<0>().kernel();
    for (int t = 0; t < 30; ++t) {
        model.set_parameter("dense_0.kernel", test::random_matrix<double>(3, 2, rng));
        ema.update(model);
        const double d = std::min(0.9, (1.0 + t) / (10.0 + t));
        expected = d * expected + (1 - d) * model.layer<0>().kernel();
    }
    CHECK(ema.updates() == 30);
    auto copy = model;
    copy.forward(test::random_matrix<double>(2, 5, rng));  // moves the copy's BatchNorm statistics
    const Matrix<double> copy_moving_mean = copy.parameter("batch_norm_1.moving_mean");
    ema.apply_to(copy);
    CHECK((copy.layer<0>().kernel() - expected).cwiseAbs().maxCoeff() < 1e-12);
    CHECK(copy.parameter("batch_norm_1.moving_mean") == copy_moving_mean);  // state is not averaged
    CHECK(copy.parameter("batch_norm_1.gamma") == model.parameter("batch_norm_1.gamma"));

    TensorFile file;
    save_ema(file, "average", ema);
    ExponentialMovingAverage<double> restored(model, 0.9);
    load_ema(file, "average", restored, "file");
    CHECK(restored.updates() == 30);
    CHECK(restored.averages() == ema.averages());

    auto other = make_sequential("m", Dense<double>(2, 4, rng));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ema.apply_to(other), ShapeError, "holds 4 tensors of another model");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ExponentialMovingAverage<double>(model, 1.0), ArgumentError, "decay in [0, 1)");
}
