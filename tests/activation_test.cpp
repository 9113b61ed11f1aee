// ReLU and Sigmoid: gradients against central differences, values, saturation.
#include "test_support.hpp"

using namespace tinygan;

TEST_CASE("ReLU backward matches central differences away from the kink") {
    Rng rng(11);
    ReLU<double> layer;
    const auto x = test::random_away_from_zero<double>(6, 5, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 30);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
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
