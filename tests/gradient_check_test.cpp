// The gradient checker itself: it must be able to fail. A deliberately wrong backward, a backward
// that forgets to write its gradient, and a forward that turns NaN under one perturbation are all
// reported, and a report names the tensor and the entry.
#include "test_support.hpp"

#include <limits>

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
        for_each_parameter([&](const Parameter<double>& p) {
            if (std::string(p.name) == "bias") saved = p.gradient;
        });
        const Matrix<double>& dx = Dense<double>::backward(x, dy, need_dx);
        for_each_parameter([&](const Parameter<double>& p) {
            if (std::string(p.name) == "bias") p.gradient = saved;
        });
        return dx;
    }
};

// A Dense whose output turns NaN when input entry (1, 2) rises above the value it was built with:
// only the central difference of that one entry sees it (its backward is correct everywhere).
class NanAbovePointDense : public Dense<double> {
public:
    NanAbovePointDense(Index in, Index out, Rng& rng, double threshold) : Dense<double>(in, out, rng), threshold_(threshold) {}
    const Matrix<double>& forward(const Matrix<double>& x) {
        output_ = Dense<double>::forward(x);
        if (x(1, 2) > threshold_) output_(0, 2) = std::numeric_limits<double>::quiet_NaN();
        return output_;
    }

private:
    double threshold_;
    Matrix<double> output_;
};

}  // namespace

TEST_CASE("Negative control: a 1% error in the input gradient fails the check") {
    Rng rng(61);
    ScaledInputGradientDense layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.max_relative_error > 5e-3);
    CHECK(report.worst_entry.find("input (") != std::string::npos);
}

TEST_CASE("Negative control: a gradient the backward never writes is caught by the NaN poison") {
    Rng rng(62);
    ForgetfulDense layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.non_finite.find("dense.bias (") != std::string::npos);
}

TEST_CASE("Negative control: a forward that gives NaN under a single perturbation fails the check") {
    Rng rng(63);
    const auto x = test::random_matrix<double>(4, 3, rng);
    NanAbovePointDense layer(4, 3, rng, x(1, 2));
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.non_finite.find("input (1, 2)") != std::string::npos);
    // Every other entry agrees, so the failure comes from that entry alone.
    CHECK(report.max_relative_error < 1e-6);
}

TEST_CASE("A report names the layer, the tensor and the entry") {
    Rng rng(64);
    // Layer 2 never writes its bias gradient: the report must name exactly that tensor and entry.
    auto model = make_sequential("m", Dense<double>(3, 4, rng), ReLU<double>{}, ForgetfulDense(4, 2, rng));
    const auto x = test::random_away_from_zero<double>(3, 2, rng);
    const GradientReport report = check_gradients(model, x, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.non_finite.rfind("dense_2.bias (0, 0): analytic nan", 0) == 0);
    ForgetfulDense lone(3, 2, rng);
    const GradientReport lone_report = check_gradients(lone, x, rng);
    CHECK(lone_report.non_finite.rfind("dense.bias (0, 0)", 0) == 0);
    // A worst entry is named the same way: here the input, which ScaledInputGradientDense gets 1% wrong.
    ScaledInputGradientDense scaled(3, 2, rng);
    CHECK(check_gradients(scaled, x, rng).worst_entry.rfind("input (", 0) == 0);
}

TEST_CASE("The checker passes the correct layer it was derived from") {
    Rng rng(61);
    Dense<double> layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 3, rng);
    CHECK(check_gradients(layer, x, rng).passed(1e-6));
}
