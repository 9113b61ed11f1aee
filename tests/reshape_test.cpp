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
    // Reshape hands dy back as its dx; the checker gives it a fresh copy of the probe each time.
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

namespace {

// Negative control: a Reshape whose backward scales the gradient it passes through.
class LeakyReshape : public Reshape<double> {
public:
    using Reshape<double>::Reshape;
    const Matrix<double>& backward(const Matrix<double>&, const Matrix<double>& dy, bool = true) {
        wrong_ = dy * 0.99;
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

}  // namespace

TEST_CASE("Negative control: a Reshape that changes the gradient it passes on fails the check") {
    Rng rng(7);
    LeakyReshape layer({3, 2});
    const GradientReport report = check_gradients(layer, test::random_matrix<double>(6, 2, rng), rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.worst_entry.rfind("input (", 0) == 0);
}
