// Binary cross-entropy: both of tf.keras' paths, their values, gradients and saturation behaviour.
#include "test_support.hpp"

using namespace tinygan;

namespace {

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

}  // namespace

TEST_CASE("BCE from logits and from probabilities agree where the clip is inactive") {
    Rng rng(31);
    const auto z = test::random_matrix<double>(2, 8, rng);
    const Matrix<double> p = z.unaryExpr([](double v) { return sigmoid(v); });
    Matrix<double> y(2, 8);
    rng.fill_uniform(y, 0.0, 1.0);  // soft labels are allowed
    BinaryCrossEntropy<double> from_logits, from_probabilities;
    const double a = from_logits.from_logits(z, y);
    const double b = from_probabilities.from_probabilities(p, y);
    CHECK(a == doctest::Approx(b).epsilon(1e-12));
    // Independently: the textbook formula.
    const double textbook = -(y.array() * p.array().log() + (1 - y.array()) * (1 - p.array()).log()).mean();
    CHECK(a == doctest::Approx(textbook).epsilon(1e-12));
    // Chain rule through the sigmoid: dL/dz = dL/dp * p (1 - p).
    const Matrix<double> via_p = from_probabilities.gradient().array() * p.array() * (1 - p.array());
    CHECK(from_logits.gradient().isApprox(via_p, 1e-10));
}

TEST_CASE("BCE gradients match central differences on both paths") {
    Rng rng(32);
    const auto z = test::random_matrix<double>(1, 6, rng);
    const Matrix<double> p = z.unaryExpr([](double v) { return sigmoid(v); });
    Matrix<double> y(1, 6);
    y << 1, 0, 1, 0, 1, 0;
    for (int path = 0; path < 2; ++path) {
        const Matrix<double>& input = path == 0 ? z : p;
        BinaryCrossEntropy<double> loss;
        auto value = [&](const Matrix<double>& v) { return path == 0 ? loss.from_logits(v, y) : loss.from_probabilities(v, y); };
        value(input);
        const Matrix<double> analytic = loss.gradient();
        const double h = 1e-6;
        for (Index i = 0; i < input.size(); ++i) {
            Matrix<double> plus = input, minus = input;
            plus(i) += h;
            minus(i) -= h;
            const double numeric = (value(plus) - value(minus)) / (2 * h);
            INFO("path " << path << " entry " << i);
            CHECK(std::abs(analytic(i) - numeric) <= 1e-6 * std::max(1.0, std::abs(numeric)));
        }
    }
}

TEST_CASE("Saturated: the logits path stays exact, the probability path clips to 1e-7 with zero gradient") {
    Matrix<double> z(1, 2), y(1, 2);
    z << 40, -40;  // sigmoid rounds to exactly 1 and to ~4e-18
    y << 0, 1;     // both confidently wrong
    const Matrix<double> p = z.unaryExpr([](double v) { return sigmoid(v); });
    BinaryCrossEntropy<double> logits_loss, probability_loss;
    const double exact = logits_loss.from_logits(z, y);
    CHECK(exact == doctest::Approx(40.0).epsilon(1e-12));  // log(1 + e^40) ~ 40
    CHECK(logits_loss.gradient()(0) == doctest::Approx(0.5));  // (p - y) / n = (1 - 0) / 2
    CHECK(logits_loss.gradient()(1) == doctest::Approx(-0.5));
    const double clipped = probability_loss.from_probabilities(p, y);
    CHECK(clipped == doctest::Approx(-std::log(1e-7)).epsilon(1e-6));  // Keras' clip caps it near 16.1
    CHECK(probability_loss.gradient()(0) == 0);
    CHECK(probability_loss.gradient()(1) == 0);
    // And the float logits path is finite even far beyond the range of exp.
    BinaryCrossEntropy<float> float_loss;
    Matrix<float> huge(1, 2), labels(1, 2);
    huge << 1e30f, -1e30f;
    labels << 0, 1;
    CHECK(std::isfinite(float_loss.from_logits(huge, labels)));
    CHECK(float_loss.gradient().allFinite());
}

TEST_CASE("BCE rejects labels whose shape differs from the predictions") {
    BinaryCrossEntropy<float> loss;
    Matrix<float> p = Matrix<float>::Constant(1, 4, 0.5f), y = Matrix<float>::Ones(1, 3);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(loss.from_probabilities(p, y), ShapeError,
                                       "labels are 1 x 3 but predictions are 1 x 4");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(loss.from_logits(p, y), ShapeError, "labels are 1 x 3");
}

TEST_CASE("binary_accuracy thresholds at 0.5 like Keras") {
    Matrix<float> p(1, 4), y(1, 4);
    p << 0.9f, 0.4f, 0.6f, 0.5f;
    y << 1, 0, 0, 1;
    CHECK(binary_accuracy<float>(p, y) == doctest::Approx(0.5));
}

TEST_CASE("Softmax cross-entropy: value against the textbook formula, gradient against central differences") {
    Rng rng(33);
    const auto z = test::random_matrix<double>(4, 5, rng);
    const Matrix<double> y = one_hot<double>(std::vector<int>{0, 3, 1, 1, 2}, 4);
    SoftmaxCrossEntropy<double> loss;
    const double value = loss.from_logits(z, y);
    double textbook = 0;
    for (Index j = 0; j < 5; ++j) {
        const Eigen::ArrayXd e = z.col(j).array().exp();
        textbook -= std::log((e / e.sum()).matrix().dot(y.col(j)));
    }
    CHECK(value == doctest::Approx(textbook / 5).epsilon(1e-12));
    const Matrix<double> analytic = loss.gradient();
    const double h = 1e-6;
    Matrix<double> numeric(4, 5);
    Matrix<double> perturbed = z;
    for (Index i = 0; i < z.size(); ++i) {
        perturbed(i) = z(i) + h;
        const double plus = loss.from_logits(perturbed, y);
        perturbed(i) = z(i) - h;
        const double minus = loss.from_logits(perturbed, y);
        perturbed(i) = z(i);
        numeric(i) = (plus - minus) / (2 * h);
    }
    CHECK((analytic - numeric).cwiseAbs().maxCoeff() < 1e-8);
    // Negative control: the gradient without the batch mean's 1/5 is far off.
    CHECK((analytic * 5 - numeric).cwiseAbs().maxCoeff() > 1e-2);
    // Stable for huge logits, and the accuracy counts argmax matches.
    Matrix<double> huge(2, 2);
    huge << 1000, -1000, -1000, 1000;
    // Column 0 puts its label on the +1000 logit (loss 0), column 1 on the -1000 one (loss 2000):
    // the mean is exactly 1000, and the gradient is (softmax - y) / 2, softmax exactly 0 or 1 here.
    CHECK(loss.from_logits(huge, one_hot<double>(std::vector<int>{0, 0}, 2)) == 1000.0);
    Matrix<double> huge_gradient(2, 2);
    huge_gradient << 0, -0.5, 0, 0.5;
    CHECK(loss.gradient() == huge_gradient);
    CHECK(categorical_accuracy(huge, one_hot<double>(std::vector<int>{0, 0}, 2)) == 0.5);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(one_hot<double>(std::vector<int>{0, 7}, 4), ArgumentError, "class 7 of sample 1");
}

TEST_CASE("A classifier trained with softmax cross-entropy learns three separable classes") {
    Rng rng(34);
    auto model = make_sequential("classifier", Dense<float>(2, 16, rng), ReLU<float>{}, Dense<float>(16, 3, rng));
    Adam<float> adam(model, AdamOptions{0.01});
    SoftmaxCrossEntropy<float> loss;
    const auto x = test::random_matrix<float>(2, 90, rng);
    std::vector<int> classes(90);
    for (Index j = 0; j < 90; ++j) classes[static_cast<std::size_t>(j)] = x(0, j) < -0.4f ? 0 : x(0, j) < 0.4f ? 1 : 2;
    const Matrix<float> y = one_hot<float>(classes, 3);
    const float first = test_on_batch(model, loss, x, y).loss;
    BatchResult<float> last{};
    for (int step = 0; step < 400; ++step) last = train_on_batch(model, loss, adam, x, y);
    CHECK(last.loss < 0.25f * first);
    CHECK(test_on_batch(model, loss, x, y).accuracy >= 0.95f);
}
