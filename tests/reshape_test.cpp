// Reshape and Flatten: shapes only, data passed through without a copy.
#include "test_support.hpp"

using namespace tinygan;

TEST_CASE("Reshape and Flatten pass data and gradients through untouched") {
    Rng rng(5);
    Reshape<double> reshape({2, 3, 1});
    Flatten<double> flatten({2, 3, 1});
    const auto x = test::random_matrix<double>(6, 4, rng);
    CHECK(&reshape.forward(x) == &x);
    CHECK(&flatten.forward(x) == &x);
    CHECK(&reshape.backward(x, x) == &x);
    CHECK(reshape.output_shape({6}) == Shape{2, 3, 1});
    CHECK(flatten.output_shape({2, 3, 1}) == Shape{6});
}

TEST_CASE("Reshape's gradient is the identity, checked numerically") {
    Rng rng(6);
    Reshape<double> layer({3, 2});
    const auto x = test::random_matrix<double>(6, 2, rng);
    GradientCheckOptions options;
    options.check_input = true;
    // Reshape hands dy back as its dx; the checker poisons whatever comes back and must still pass.
    const GradientReport report = check_gradients(layer, x, rng, options);
    CHECK(report.entries_checked == 12);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Reshape and Flatten reject bad shapes with clear messages") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Reshape<float>({28, 0}), ArgumentError, "positive dimensions");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Reshape<float>(Shape{}), ArgumentError, "non-empty shape");
    Reshape<float> reshape({28, 28, 1});
    Matrix<float> wrong(100, 2);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(reshape.forward(wrong), ShapeError, "needs 784 features per sample, got 100");
    Flatten<float> flatten({28, 28, 1});
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(flatten.forward(wrong), ShapeError, "needs 784 features per sample, got 100");
}
