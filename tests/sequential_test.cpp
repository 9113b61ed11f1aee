// Sequential: whole-model gradients, shape checks at build time, summary, chaining without copies.
#include "test_support.hpp"

#include <sstream>

using namespace tinygan;

using test::small_discriminator;
using test::small_generator;

TEST_CASE("A whole Sequential's backward matches central differences for every parameter and the input") {
    Rng rng(21);
    auto generator = small_generator<double>(rng);
    const auto z = test::random_matrix<double>(3, 4, rng);
    const GradientReport report = check_gradients(generator, z, rng);
    CHECK(report.entries_checked == generator.parameter_count() + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Sequential checks layer sizes when it is built and names the layers") {
    Rng rng(1);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        make_sequential("g", Dense<float>(100, 128, zero_init), ReLU<float>{}, Dense<float>(100, 784, zero_init)), ShapeError,
        "layer 2 (Dense 100->784) expects 100 input features, but layer 1 (ReLU) produces 128");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("g", Dense<float>(100, 780, zero_init), Reshape<float>({28, 28, 1})),
                                       ShapeError,
                                       "layer 1 (Reshape to (28, 28, 1)) needs 784 elements per sample, but layer 0 "
                                       "(Dense 100->780) produces 780");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("d", ReLU<float>{}, Dense<float>(3, 1, zero_init)), ArgumentError,
                                       "the first layer of a Sequential (ReLU) does not know the model's input shape: begin with a "
                                       "layer that declares it, e.g. Dense(in, out)");
    auto generator = small_generator<float>(rng);
    auto discriminator = make_sequential("d", Flatten<float>({2, 3, 2}), Dense<float>(12, 1, zero_init));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(chain(generator, discriminator), ShapeError,
                                       "layer 1 (Sequential 'd') expects 12 input features, but layer 0 "
                                       "(Sequential 'generator') produces 6");
}

TEST_CASE("Sequential rejects a batch with the wrong number of features") {
    Rng rng(2);
    auto generator = small_generator<float>(rng);
    Matrix<float> wrong(4, 8);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(generator.forward(wrong), ShapeError,
                                       "Sequential 'generator' expects 3 input features per sample (rows), got 4");
}

TEST_CASE("summary prints a Keras-like table with output shapes and parameter counts") {
    Rng rng(3);
    auto generator = make_sequential("generator", Dense<float>(100, 128, rng), ReLU<float>{},
                                     Dense<float>(128, 784, rng), Sigmoid<float>{}, Reshape<float>({28, 28, 1}));
    std::ostringstream out;
    generator.summary(out);
    const std::string table = out.str();
    INFO(table);
    CHECK(table.find("Model: \"generator\"") != std::string::npos);
    CHECK(table.find("dense_0 (Dense)             (None, 128)               12928") != std::string::npos);
    CHECK(table.find("reshape_4 (Reshape)         (None, 28, 28, 1)         0") != std::string::npos);
    CHECK(table.find("Total params: 114064") != std::string::npos);
    CHECK(generator.parameter_count() == 114064);
    generator.layer<2>().trainable(false);
    CHECK(generator.trainable_parameter_count() == 12928);
}

TEST_CASE("chain() runs the generator into the discriminator by reference") {
    Rng rng(4);
    auto generator = small_generator<double>(rng);
    auto discriminator = small_discriminator<double>(rng);
    auto gan = chain(generator, discriminator);
    const auto z = test::random_matrix<double>(3, 5, rng);
    const Matrix<double> expected = discriminator.forward(generator.forward(z));
    CHECK(gan.forward(z) == expected);
    // The chain holds references: changing a layer of the generator changes the chain's output.
    generator.set_parameter("dense_0.bias", Matrix<double>::Constant(5, 1, 0.25));
    CHECK(gan.forward(z) != expected);
    CHECK(gan.parameter_count() == generator.parameter_count() + discriminator.parameter_count());
}

namespace {
// A Dense that records whether its last backward was asked for dx, and a parameter-free layer that
// counts its backwards: what Sequential asks of each layer is what they see.
struct DenseThatRecordsNeedDx : Dense<double> {
    using Dense<double>::Dense;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        asked_for_dx = need_dx;
        return Dense<double>::backward(x, dy, need_dx);
    }
    bool asked_for_dx = false;
};
struct CountingIdentity : Flatten<double> {
    using Flatten<double>::Flatten;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        ++backwards;
        return Flatten<double>::backward(x, dy, need_dx);
    }
    int backwards = 0;
};
}  // namespace

TEST_CASE("A layer computes dx only when a layer before it has parameters or the caller asks for it") {
    Rng rng(6);
    // A discriminator's shape: parameter-free layers, then the first weighted layer.
    auto d = make_sequential("d", CountingIdentity({2, 3, 1}), DenseThatRecordsNeedDx(6, 4, rng), ReLU<double>{},
                             DenseThatRecordsNeedDx(4, 1, rng), Sigmoid<double>{});
    const auto x = test::random_matrix<double>(6, 5, rng);
    const Matrix<double> dy = Matrix<double>::Ones(1, 5);
    d.forward(x);
    d.backward(x, dy, false);
    CHECK_FALSE(d.layer<1>().asked_for_dx);  // nothing before it needs dx: its product is skipped
    CHECK(d.layer<3>().asked_for_dx);        // the Dense before it needs its dx
    CHECK(d.layer<0>().backwards == 0);      // and the parameter-free front is not run at all
    d.backward(x, dy, true);
    CHECK(d.layer<1>().asked_for_dx);
    CHECK(d.layer<0>().backwards == 1);
    // train_on_batch never needs the model's dx.
    Adam<double> adam(d);
    BinaryCrossEntropy<double> bce;
    train_on_batch(d, bce, adam, x, Matrix<double>::Ones(1, 5));
    CHECK_FALSE(d.layer<1>().asked_for_dx);
    CHECK(d.layer<0>().backwards == 1);
    // Through a chain, D's first layer has G's parameters before it: G's gradients need D's dx.
    auto g = make_sequential("g", Dense<double>(3, 6, rng), Sigmoid<double>{});
    auto gan = chain(g, d);
    const auto z = test::random_matrix<double>(3, 5, rng);
    gan.forward(z);
    gan.backward(z, dy, false);
    CHECK(d.layer<1>().asked_for_dx);
    CHECK(d.layer<0>().backwards == 2);
    // And the gradients stay right: the whole model against central differences.
    const GradientReport report = check_gradients(gan, z, rng);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Named parameters follow Keras' layer names, nested models prefixed") {
    Rng rng(5);
    auto generator = small_generator<float>(rng);
    auto discriminator = small_discriminator<float>(rng);
    auto gan = chain(generator, discriminator);
    std::vector<std::string> names;
    gan.for_each_named_parameter([&](const std::string& name, const Parameter<float>&) { names.push_back(name); });
    const std::vector<std::string> expected{
        "sequential_0.dense_0.kernel", "sequential_0.dense_0.bias", "sequential_0.dense_2.kernel",
        "sequential_0.dense_2.bias",   "sequential_1.dense_1.kernel", "sequential_1.dense_1.bias",
        "sequential_1.dense_3.kernel", "sequential_1.dense_3.bias"};
    CHECK(names == expected);
}

TEST_CASE("Frozen freezes a model for its scope and restores each layer's flag") {
    Rng rng(6);
    auto discriminator = small_discriminator<float>(rng);
    discriminator.layer<3>().trainable(false);  // a layer frozen beforehand stays frozen
    {
        Frozen frozen(discriminator);
        CHECK_FALSE(discriminator.trainable());
        CHECK(discriminator.trainable_parameter_count() == 0);
    }
    CHECK(discriminator.layer<1>().trainable());
    CHECK_FALSE(discriminator.layer<3>().trainable());
}

TEST_CASE("Frozen restores each layer's flag inside nested models, where a sublayer was frozen beforehand") {
    Rng rng(16);
    auto generator = small_generator<float>(rng);
    auto discriminator = small_discriminator<float>(rng);
    discriminator.layer<3>().trainable(false);  // partly frozen: discriminator.trainable() is still true
    auto gan = chain(generator, discriminator);
    REQUIRE(discriminator.trainable());
    {
        Frozen frozen(gan);
        CHECK_FALSE(gan.trainable());
        CHECK_FALSE(generator.layer<0>().trainable());
        CHECK_FALSE(discriminator.layer<1>().trainable());
    }
    CHECK(generator.layer<0>().trainable());
    CHECK(generator.layer<2>().trainable());
    CHECK(discriminator.layer<1>().trainable());
    CHECK_FALSE(discriminator.layer<3>().trainable());  // frozen before the guard, frozen after it
    static_assert(detail::leaf_layer_count<decltype(gan)>::value == 10);
}

TEST_CASE("Parameters can be read and replaced by name, with their shapes checked") {
    Rng rng(7);
    auto discriminator = small_discriminator<float>(rng);
    // dense_1 is (out 4 x in 6), as PyTorch's Linear(6, 4).weight.
    const Matrix<float> kernel = test::random_matrix<float>(4, 6, rng);
    discriminator.set_parameter("dense_1.kernel", kernel);
    CHECK(discriminator.parameter("dense_1.kernel") == kernel);
    CHECK(discriminator.layer<1>().kernel() == kernel);
    const Matrix<double> bias = Matrix<double>::Constant(1, 1, 0.5);  // converted to the model's scalar
    discriminator.set_parameter("dense_3.bias", bias);
    CHECK(discriminator.parameter("dense_3.bias")(0, 0) == 0.5f);

    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(discriminator.set_parameter("dense_1.kernel", Matrix<float>::Ones(6, 4)), ShapeError,
                                       "Sequential 'discriminator': dense_1.kernel is 4 x 6, got a 6 x 4 matrix");
    CHECK(discriminator.parameter("dense_1.kernel") == kernel);  // unchanged
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(discriminator.parameter("dense_0.kernel"), ArgumentError,
                                       "has no parameter \"dense_0.kernel\"; it has: dense_1.kernel, dense_1.bias, "
                                       "dense_3.kernel, dense_3.bias");
}

TEST_CASE("A layer that misses part of the contract is detected by the trait") {
    struct NotALayer {
        using Scalar = float;
    };
    static_assert(!is_layer_v<NotALayer>);
    static_assert(!is_layer_v<int>);
    static_assert(is_layer_v<Dense<float>>);
    static_assert(is_layer_v<Reshape<double>>);
    static_assert(is_layer_v<decltype(small_generator<float>(std::declval<Rng&>()))>);
    // (What a type that misses a member gets from the compiler is tested in tests/compile_fail/.)
}
