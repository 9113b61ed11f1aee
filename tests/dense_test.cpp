// Dense: gradients against central differences, Keras initialisation, shape errors.
#include "test_support.hpp"

using namespace tinygan;

TEST_CASE("Dense backward matches central differences for input, kernel and bias") {
    Rng rng(7);
    Dense<double> layer(5, 3, rng);
    layer.bias() = test::random_matrix<double>(3, 1, rng);  // non-zero bias, so db is exercised
    const auto x = test::random_matrix<double>(5, 4, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 5 * 3 + 3 + 5 * 4);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Dense forward computes W x + b per column") {
    Dense<double> layer(2, 2);
    layer.kernel() << 1, 2, 3, 4;
    layer.bias() << 10, 20;
    Matrix<double> x(2, 2);
    x << 1, 0, 1, 1;  // columns (1, 1) and (0, 1)
    const Matrix<double>& y = layer.forward(x);
    CHECK(y(0, 0) == 13);
    CHECK(y(1, 0) == 27);
    CHECK(y(0, 1) == 12);
    CHECK(y(1, 1) == 24);
}

TEST_CASE("Dense initialises like Keras: glorot-uniform kernel within its limit, zero bias, reproducibly") {
    Rng rng(42), same_seed(42);
    Dense<float> a(784, 128, rng), b(784, 128, same_seed);
    const float limit = std::sqrt(6.0f / (784 + 128));
    CHECK(a.kernel().maxCoeff() <= limit);
    CHECK(a.kernel().minCoeff() >= -limit);
    // A uniform distribution's max is close to the limit, and its variance is limit^2 / 3.
    CHECK(a.kernel().maxCoeff() > 0.99f * limit);
    const double mean_square = a.kernel().cast<double>().array().square().mean();
    CHECK(mean_square == doctest::Approx(limit * limit / 3.0).epsilon(0.02));
    CHECK(a.bias().isZero());
    CHECK(a.kernel() == b.kernel());
    CHECK(a.parameter_count() == 784 * 128 + 128);
}

TEST_CASE("Dense rejects bad sizes and mismatched input with clear messages") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Dense<float>(0, 3), ArgumentError, "in_features=0");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Dense<float>(3, -1), ArgumentError, "out_features=-1");
    Dense<float> layer(3, 2);
    Matrix<float> wrong(4, 5);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(layer.forward(wrong), ShapeError, "Dense 3->2 expects 3 input features (rows), got 4");
}

TEST_CASE("A frozen Dense leaves its gradients alone but still returns dx") {
    Rng rng(3);
    Dense<double> layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 2, rng);
    const auto dy = test::random_matrix<double>(3, 2, rng);
    layer.forward(x);
    layer.trainable(false);
    Matrix<double> marker_w, marker_b;
    layer.for_each_parameter([&](const char* name, Matrix<double>&, Matrix<double>& gradient, bool trainable) {
        CHECK_FALSE(trainable);
        gradient.setConstant(-7);
        (std::string(name) == "kernel" ? marker_w : marker_b) = gradient;
    });
    const Matrix<double>& dx = layer.backward(x, dy);
    CHECK(dx.isApprox(layer.kernel().transpose() * dy));
    layer.for_each_parameter([&](const char*, Matrix<double>&, Matrix<double>& gradient, bool) {
        CHECK((gradient.array() == -7).all());
    });
}
