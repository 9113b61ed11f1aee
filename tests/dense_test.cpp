// Dense: gradients against central differences, the tiled products against plain Eigen at the
// sizes the GANs use, Keras initialisation, shape errors.
#include "test_support.hpp"

using namespace tinygan;

TEST_CASE("Dense backward matches central differences for input, kernel and bias") {
    Rng rng(7);
    Dense<double> layer(5, 3, rng);
    layer.set_bias(test::random_matrix<double>(3, 1, rng));  // non-zero bias, so db is exercised
    const auto x = test::random_matrix<double>(5, 4, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 5 * 3 + 3 + 5 * 4);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A Dense that spans several product tiles in every direction passes the gradient check") {
    // 260 inputs: three 128-deep tiles; 130 outputs: two 96-row tiles of W x and of dW; dx = W^T dy
    // has 260 rows, three row tiles, and a depth of 130, two tiles.
    Rng rng(8);
    Dense<double> layer(260, 130, rng);
    layer.set_bias(test::random_matrix<double>(130, 1, rng));
    const auto x = test::random_matrix<double>(260, 2, rng);
    // The objective sums 260 outputs of size ~10, so a central difference carries about
    // 1e-16 * 300 / 1e-5 = 3e-9 of rounding: compare small gradients absolutely below 1e-2. A
    // dropped or misplaced tile is wrong by far more (order 1).
    GradientCheckOptions options;
    options.relative_floor = 1e-2;
    const GradientReport report = check_gradients(layer, x, rng, options);
    CHECK(report.entries_checked == 260 * 130 + 130 + 260 * 2);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Dense at the GANs' sizes equals plain Eigen products: forward, dW, db, dx, at 1 and 2 threads") {
    struct Size {
        Index in, out;
    };
    // The document's layers (100->128, 128->784, 784->128), the keras-gan recipe's widths, and odd
    // sizes whose tiles do not divide evenly.
    const Size sizes[] = {{100, 128}, {128, 784}, {784, 128}, {784, 200}, {200, 784}, {130, 97}};
    test::on_one_and_two_threads([&](int) {
        for (const Size size : sizes) {
            for (const Index batch : {1, 32, 33, 128}) {
                CAPTURE(size.in);
                CAPTURE(size.out);
                CAPTURE(batch);
                Rng rng(static_cast<std::uint64_t>(size.in * 1000 + batch));
                Dense<double> layer(size.in, size.out, rng);
                layer.set_bias(test::random_matrix<double>(size.out, 1, rng));
                const auto x = test::random_matrix<double>(size.in, batch, rng);
                const auto dy = test::random_matrix<double>(size.out, batch, rng);
                const Matrix<double> W = layer.kernel(), b = layer.bias();

                const Matrix<double> y = layer.forward(x);
                const Matrix<double> dx = layer.backward(x, dy);
                const Matrix<double> expected_y = (W * x).colwise() + b.col(0);
                const Matrix<double> expected_dW = dy * x.transpose();
                const Matrix<double> expected_db = dy.rowwise().sum();
                const Matrix<double> expected_dx = W.transpose() * dy;
                CHECK(test::max_difference(y, expected_y) <= 1e-12);
                CHECK(test::max_difference(test::tensor_of(layer, "kernel", true), expected_dW) <= 1e-12);
                CHECK(test::max_difference(test::tensor_of(layer, "bias", true), expected_db) <= 1e-12);
                CHECK(test::max_difference(dx, expected_dx) <= 1e-12);
            }
        }
    });
}

TEST_CASE("Dense forward computes W x + b per column") {
    Dense<double> layer(2, 2, zero_init);
    layer.set_kernel((Matrix<double>(2, 2) << 1, 2, 3, 4).finished());
    layer.set_bias((Matrix<double>(2, 1) << 10, 20).finished());
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
    CHECK(mean_square == doctest::Approx(limit * limit / 3.0).epsilon(0.02).scale(0));  // relative: Approx adds 1 to the scale by default
    CHECK(a.bias().isZero());
    CHECK(a.kernel() == b.kernel());
    CHECK(a.parameter_count() == 784 * 128 + 128);
}

TEST_CASE("Dense rejects bad sizes, mismatched input and wrongly shaped weights with clear messages") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Dense<float>(0, 3, zero_init), ArgumentError, "in_features=0");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Dense<float>(3, -1, zero_init), ArgumentError, "out_features=-1");
    Dense<float> layer(3, 2, zero_init);
    Matrix<float> wrong(4, 5);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(layer.forward(wrong), ShapeError, "Dense 3->2 expects 3 input features (rows), got 4");
    // A kernel of the transposed shape (Keras' layout) is refused, not silently resized.
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(layer.set_kernel(Matrix<float>::Ones(3, 2)), ShapeError,
                                       "Dense 3->2: its kernel is 2 x 3, got a 3 x 2 matrix");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(layer.set_bias(Matrix<float>::Ones(3, 1)), ShapeError,
                                       "its bias is 2 x 1, got a 3 x 1 matrix");
    CHECK(layer.kernel().isZero());
}

TEST_CASE("A frozen Dense leaves its gradients alone but still returns dx") {
    Rng rng(3);
    Dense<double> layer(4, 3, rng);
    const auto x = test::random_matrix<double>(4, 2, rng);
    const auto dy = test::random_matrix<double>(3, 2, rng);
    layer.forward(x);
    layer.trainable(false);
    // Distinct markers, so a backward that swapped or rewrote either gradient would show.
    const Matrix<double> marker_w = test::random_matrix<double>(3, 4, rng), marker_b = test::random_matrix<double>(3, 1, rng);
    layer.for_each_parameter([&](const Parameter<double>& p) {
        CHECK_FALSE(p.trainable);
        p.gradient = std::string(p.name) == "kernel" ? marker_w : marker_b;
    });
    const Matrix<double>& dx = layer.backward(x, dy);
    CHECK(dx.isApprox(layer.kernel().transpose() * dy));
    layer.for_each_parameter([&](const Parameter<double>& p) {
        CHECK(p.gradient == (std::string(p.name) == "kernel" ? marker_w : marker_b));
    });
}
