// Adam: Keras' update form checked against values computed independently, one counter per step,
// frozen tensors untouched, misuse reported.
#include "test_support.hpp"

using namespace tinygan;

namespace {

// Keras' Adam for one scalar, written out directly from the formula in its docstring.
struct ReferenceAdam {
    double m = 0, v = 0, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-7;
    int t = 0;
    double step(double parameter, double gradient) {
        ++t;
        const double lr_t = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
        m = b1 * m + (1 - b1) * gradient;
        v = b2 * v + (1 - b2) * gradient * gradient;
        return parameter - lr_t * m / (std::sqrt(v) + eps);
    }
};

}  // namespace

TEST_CASE("Adam with a constant gradient follows the closed form") {
    // Dense's dW = dy x^T does not depend on W, so the same batch gives the same gradient every step.
    Dense<double> layer(1, 1, zero_init);
    layer.set_kernel(Matrix<double>::Constant(1, 1, 0.5));
    Matrix<double> x(1, 1), dy(1, 1);
    x << 2;
    dy << 0.3;  // dW = 0.6, db = 0.3
    Adam<double> adam(layer);
    double expected_kernel = 0.5, expected_bias = 0;
    for (int t = 1; t <= 5; ++t) {
        layer.forward(x);
        layer.backward(x, dy);
        adam.step(layer);
        // m_t = g (1 - b1^t), v_t = g^2 (1 - b2^t): the update is lr sqrt(1-b2^t) |g| / (|g| sqrt(1-b2^t) + eps).
        const double c = std::sqrt(1 - std::pow(0.999, t));
        expected_kernel -= 1e-3 * c * 0.6 / (0.6 * c + 1e-7);
        expected_bias -= 1e-3 * c * 0.3 / (0.3 * c + 1e-7);
        CHECK(layer.kernel()(0, 0) == doctest::Approx(expected_kernel).epsilon(1e-12));
        CHECK(layer.bias()(0, 0) == doctest::Approx(expected_bias).epsilon(1e-12));
    }
    CHECK(adam.iterations() == 5);
}

TEST_CASE("Adam on a changing gradient matches a scalar re-implementation to 1e-6, in float") {
    Rng rng(41);
    Dense<float> layer(3, 2, rng);
    Adam<float> adam(layer);
    const Matrix<float> initial = layer.kernel();
    std::vector<ReferenceAdam> reference(6);
    Matrix<double> expected = initial.cast<double>();
    for (int t = 0; t < 20; ++t) {
        const auto x = test::random_matrix<float>(3, 4, rng);
        const auto dy = test::random_matrix<float>(2, 4, rng);
        layer.forward(x);
        layer.backward(x, dy);
        const Matrix<double> gradient = (dy * x.transpose()).cast<double>();
        for (Index i = 0; i < 6; ++i) expected(i) = reference[i].step(expected(i), gradient(i));
        adam.step(layer);
    }
    CHECK((layer.kernel().cast<double>() - expected).cwiseAbs().maxCoeff() < 1e-6);
    CHECK((layer.kernel() - initial).cwiseAbs().minCoeff() > 1e-5);  // every entry really moved
}

TEST_CASE("Adam skips frozen tensors and refuses a model whose trainable tensors differ") {
    Rng rng(42);
    auto model = make_sequential("m", Dense<float>(2, 2, rng), ReLU<float>{}, Dense<float>(2, 1, rng));
    Adam<float> adam_for_first(model.layer<0>());
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(adam_for_first.step(model), ArgumentError,
                                       "built for 2 trainable parameter tensors but the model passed to step() has 4");
    model.layer<2>().trainable(false);
    const Matrix<float> frozen_before = model.layer<2>().kernel(), first_before = model.layer<0>().kernel();
    model.for_each_parameter([](const Parameter<float>& p) { p.gradient.setOnes(); });
    adam_for_first.step(model);  // now the trainable tensors match: only layer 0 moves
    CHECK(model.layer<2>().kernel() == frozen_before);
    CHECK((model.layer<0>().kernel() - first_before).cwiseAbs().minCoeff() > 0);
    CHECK(adam_for_first.iterations() == 1);
}

TEST_CASE("Adam rejects bad options") {
    Dense<float> layer(1, 1, zero_init);
    AdamOptions options;
    options.learning_rate = -1;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Adam<float>(layer, options), ArgumentError, "learning_rate must be a positive number, got -1");
    options = {};
    options.beta_1 = 1;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Adam<float>(layer, options), ArgumentError, "beta_1 must be in [0, 1), got 1");
    options = {};
    options.epsilon = 0;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Adam<float>(layer, options), ArgumentError, "epsilon must be a positive number");
    layer.trainable(false);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Adam<float>(layer), ArgumentError, "no trainable parameters");
}

TEST_CASE("Adam with PyTorch's epsilon follows PyTorch's formula, not Keras'") {
    // PyTorch: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t), p -= lr m_hat / (sqrt(v_hat) + eps),
    // written out here for one scalar; tinygan computes it as Keras' form with a scaled epsilon.
    // Unequal betas, so a bias correction taken from the wrong beta shows.
    Rng rng(43);
    Dense<double> layer(1, 1, rng);
    layer.set_kernel(Matrix<double>::Constant(1, 1, 0.5));
    AdamOptions options;
    options.learning_rate = 2e-4;
    options.beta_1 = 0.7;
    options.beta_2 = 0.95;
    options.epsilon = 1e-3;  // large, so where it sits makes a visible difference
    options.pytorch_epsilon = true;
    Adam<double> adam(layer, options);
    Matrix<double> x(1, 1), dy(1, 1);
    x << 1;
    const double b1 = 0.7, b2 = 0.95;
    double p = 0.5, m = 0, v = 0, keras_p = 0.5, keras_m = 0, keras_v = 0;
    for (int t = 1; t <= 6; ++t) {
        const double g = 0.01 * t;  // dW = dy x
        dy << g;
        layer.forward(x);
        layer.backward(x, dy);
        adam.step(layer);
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        p -= 2e-4 * (m / (1 - std::pow(b1, t))) / (std::sqrt(v / (1 - std::pow(b2, t))) + 1e-3);
        keras_m = b1 * keras_m + (1 - b1) * g;
        keras_v = b2 * keras_v + (1 - b2) * g * g;
        keras_p -= 2e-4 * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t)) * keras_m / (std::sqrt(keras_v) + 1e-3);
        const double library = layer.kernel()(0, 0);
        // The library's parameter is PyTorch's to 1e-13 of its size (a few roundings), and Keras'
        // is more than 1e4 times that far from it, so the check below tells the two forms apart.
        CHECK(std::abs(library - p) <= 1e-13 * std::abs(p));
        CHECK(std::abs(library - keras_p) > 1e-9 * std::abs(p));
    }
}
