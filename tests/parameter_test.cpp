// What parameter.hpp offers over a model's tensors: all_finite, copy_parameters and GradientSum.
#include "test_support.hpp"

#include <limits>

using namespace tinygan;

TEST_CASE("GradientSum adds a kept gradient to the next backward's: the gradient of a sum of two losses") {
    Rng rng(131);
    Dense<double> layer(3, 2, rng);
    const auto x1 = test::random_matrix<double>(3, 4, rng), x2 = test::random_matrix<double>(3, 5, rng);
    const auto dy1 = test::random_matrix<double>(2, 4, rng), dy2 = test::random_matrix<double>(2, 5, rng);
    GradientSum<double> sum;
    layer.forward(x1);
    layer.backward(x1, dy1);
    sum.keep(layer);
    layer.forward(x2);
    layer.backward(x2, dy2);
    sum.add_to(layer);
    CHECK(test::max_difference(test::tensor_of(layer, "kernel", true), dy1 * x1.transpose() + dy2 * x2.transpose()) < 1e-12);
    CHECK(test::max_difference(test::tensor_of(layer, "bias", true), dy1.rowwise().sum() + dy2.rowwise().sum()) < 1e-12);
    Dense<double> other(3, 3, rng);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(sum.add_to(other), ShapeError, "the model differs from the one kept, at tensor 0");
}

TEST_CASE("all_finite sees a NaN in any tensor, and copy_parameters copies values and refuses another architecture") {
    Rng rng(132);
    auto model = make_sequential("m", Dense<float>(2, 3, rng), BatchNorm<float>(3), Dense<float>(3, 1, rng));
    CHECK(all_finite(model));
    auto copy = make_sequential("m", Dense<float>(2, 3, zero_init), BatchNorm<float>(3), Dense<float>(3, 1, zero_init));
    copy_parameters(model, copy);
    CHECK(test::parameters_of(copy) == test::parameters_of(model));
    model.set_parameter("dense_2.bias", Matrix<float>::Constant(1, 1, std::numeric_limits<float>::infinity()));
    CHECK_FALSE(all_finite(model));
    auto wider = make_sequential("m", Dense<float>(2, 4, zero_init), BatchNorm<float>(4), Dense<float>(4, 1, zero_init));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(copy_parameters(model, wider), ShapeError, "the models differ at tensor 0 (kernel)");
}
