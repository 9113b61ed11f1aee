// ReLU and Sigmoid: gradients against central differences, values, saturation.
#include "test_support.hpp"

using namespace tinygan;

namespace {

// Negative controls: the same layers with a deliberately wrong backward.
class ReLUPassingNegatives : public ReLU<double> {
public:
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool = true) {
        wrong_ = dy;  // forgets to zero the gradient where x < 0
        (void)x;
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

class SigmoidOffByOnePercent : public Sigmoid<double> {
public:
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        wrong_ = Sigmoid<double>::backward(x, dy, need_dx) * 1.01;
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

class LeakyReLUWithWrongSlope : public LeakyReLU<double> {
public:
    using LeakyReLU<double>::LeakyReLU;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        wrong_ = LeakyReLU<double>::backward(x, dy, need_dx);
        wrong_.array() = (x.array() > 0).select(wrong_.array(), wrong_.array() * 1.05);  // slope 5% off
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

class TanhWithSigmoidDerivative : public Tanh<double> {
public:
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool = true) {
        const Matrix<double>& y = forward(x);
        wrong_ = dy.array() * y.array() * (1 - y.array());  // y(1 - y) instead of 1 - y^2
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

}  // namespace

TEST_CASE("ReLU backward matches central differences away from the kink") {
    Rng rng(11);
    ReLU<double> layer;
    const auto x = test::random_away_from_zero<double>(6, 5, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 30);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Negative controls: a ReLU that passes negative gradients, a Sigmoid 1% off, fail the check") {
    Rng rng(15);
    const auto x = test::random_away_from_zero<double>(6, 5, rng);
    ReLUPassingNegatives relu;
    const GradientReport relu_report = check_gradients(relu, x, rng);
    CHECK_FALSE(relu_report.passed(1e-6));
    CHECK(relu_report.worst_entry.rfind("input (", 0) == 0);
    SigmoidOffByOnePercent sigmoid;
    CHECK_FALSE(check_gradients(sigmoid, x, rng).passed(1e-6));
}

TEST_CASE("ReLU forward clamps negatives to zero and passes positives") {
    ReLU<float> layer;
    Matrix<float> x(1, 3);
    x << -2, 0, 3;
    const Matrix<float>& y = layer.forward(x);
    CHECK(y(0, 0) == 0);
    CHECK(y(0, 1) == 0);
    CHECK(y(0, 2) == 3);
}

TEST_CASE("Sigmoid backward matches central differences") {
    Rng rng(12);
    Sigmoid<double> layer;
    const Matrix<double> x = test::random_matrix<double>(4, 3, rng) * 2.0;  // not auto: an Eigen expression would dangle
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 12);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Sigmoid is finite and exact in its limits") {
    Sigmoid<float> layer;
    Matrix<float> x(1, 4);
    x << -1000, 0, 1000, 2;
    const Matrix<float>& y = layer.forward(x);
    CHECK(y.allFinite());
    CHECK(y(0, 0) == 0);
    CHECK(y(0, 1) == 0.5f);
    CHECK(y(0, 2) == 1);
    CHECK(y(0, 3) == doctest::Approx(1 / (1 + std::exp(-2.0))));
}

TEST_CASE("LeakyReLU: values, gradients against central differences, and a negative control") {
    LeakyReLU<float> layer(0.2f);
    Matrix<float> x(1, 3);
    x << -2, 0, 3;
    const Matrix<float>& y = layer.forward(x);
    CHECK(y(0, 0) == -0.4f);
    CHECK(y(0, 1) == 0);
    CHECK(y(0, 2) == 3);
    Rng rng(13);
    const auto xd = test::random_away_from_zero<double>(6, 5, rng);
    LeakyReLU<double> checked(0.2);
    const GradientReport report = check_gradients(checked, xd, rng);
    CHECK(report.entries_checked == 30);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    LeakyReLUWithWrongSlope wrong(0.2);
    CHECK_FALSE(check_gradients(wrong, xd, rng).passed(1e-6));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(LeakyReLU<float>(-0.1f), ArgumentError, "LeakyReLU needs a slope in [0, 1)");
}

TEST_CASE("Tanh: values, gradients against central differences, and a negative control") {
    Tanh<double> layer;
    Matrix<double> x(1, 3);
    x << -30, 0, 0.5;
    const Matrix<double>& y = layer.forward(x);
    CHECK(y(0, 0) == -1);
    CHECK(y(0, 1) == 0);
    CHECK(y(0, 2) == doctest::Approx(std::tanh(0.5)));
    Rng rng(14);
    const Matrix<double> xd = test::random_matrix<double>(4, 3, rng) * 1.5;
    const GradientReport report = check_gradients(layer, xd, rng);
    CHECK(report.entries_checked == 12);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    TanhWithSigmoidDerivative wrong;
    CHECK_FALSE(check_gradients(wrong, xd, rng).passed(1e-6));
}
