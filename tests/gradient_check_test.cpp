// The gradient checker itself: it must be able to fail. A deliberately wrong backward and a
// backward that forgets to write its gradient are both reported.
#include "test_support.hpp"

using namespace tinygan;

namespace {

// A Dense whose input gradient is 1% too large.
class ScaledInputGradientDense : public Dense<double> {
public:
    using Dense<double>::Dense;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        wrong_ = Dense<double>::backward(x, dy, need_dx) * 1.01;
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

// A Dense that never writes its bias gradient.
class ForgetfulDense : public Dense<double> {
public:
    using Dense<double>::Dense;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        Matrix<double> saved;
        for_each_parameter([&](const char* name, Matrix<double>&, Matrix<double>& gradient, bool) {
            if (std::string(name) == "bias") saved = gradient;
        });
        const Matrix<double>& dx = Dense<double>::backward(x, dy, need_dx);
        for_each_parameter([&](const char* name, Matrix<double>&, Matrix<double>& gradient, bool) {
            if (std::string(name) == "bias") gradient = saved;
        });
        return dx;
    }
};

}  // namespace

TEST_CASE("Negative control: a 1% error in the input gradient fails the check") {
    Rng rng(61);
    ScaledInputGradientDense layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.max_relative_error > 5e-3);
    CHECK(report.worst_entry.find("input(") != std::string::npos);
}

TEST_CASE("Negative control: a gradient the backward never writes is caught by the NaN poison") {
    Rng rng(62);
    ForgetfulDense layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.non_finite.find("bias") != std::string::npos);
}

TEST_CASE("The checker passes the correct layer it was derived from") {
    Rng rng(61);
    Dense<double> layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    CHECK(check_gradients(layer, x, rng).passed(1e-6));
}
