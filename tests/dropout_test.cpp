// Dropout: inverted dropout in training mode (the expected output is the input), the identity in
// inference mode, and gradients checked with a fixed mask.
#include "test_support.hpp"

using namespace tinygan;

namespace {

// Negative control: forgets the 1 / (1 - rate) scale in its backward.
class UnscaledDropout : public Dropout<double> {
public:
    using Dropout<double>::Dropout;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        wrong_ = Dropout<double>::backward(x, dy, need_dx) * (1 - rate());
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

}  // namespace

TEST_CASE("Dropout drops about `rate` of the entries, scales the rest by 1/(1-rate), and is the identity in inference") {
    Rng rng(81);
    Dropout<float> layer(0.25f, rng);
    const Matrix<float> x = Matrix<float>::Ones(200, 100);
    const Matrix<float> y = layer.forward(x);
    const double dropped = static_cast<double>((y.array() == 0).count()) / static_cast<double>(y.size());
    CHECK(dropped == doctest::Approx(0.25).epsilon(0.05).scale(0));
    CHECK(((y.array() == 0) || (y.array() == 1 / 0.75f)).all());
    CHECK(y.mean() == doctest::Approx(1).epsilon(0.02));  // inverted dropout keeps the expectation
    layer.set_training(false);
    CHECK(&layer.forward(x) == &x);
    CHECK(&layer.backward(x, x) == &x);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Dropout<float>(1.0f, rng), ArgumentError, "Dropout needs a rate in [0, 1)");
}

TEST_CASE("Dropout's gradient with a held mask matches central differences, and a negative control fails") {
    Rng rng(82);
    const auto x = test::random_matrix<double>(6, 4, rng);
    Dropout<double> layer(0.5, rng);
    layer.forward(x);
    layer.hold_mask(true);  // the same mask for every forward of the check
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 24);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    UnscaledDropout wrong(0.5, rng);
    wrong.forward(x);
    wrong.hold_mask(true);
    CHECK_FALSE(check_gradients(wrong, x, rng).passed(1e-6));
}

TEST_CASE("A model's predict() runs Dropout in inference mode, train_on_batch in training mode") {
    Rng rng(83);
    auto model = make_sequential("m", Dense<float>(4, 50, rng), Dropout<float>(0.5f, rng), Dense<float>(50, 1, rng),
                                 Sigmoid<float>{});
    const auto x = test::random_matrix<float>(4, 8, rng);
    const Matrix<float> a = model.predict(x), b = model.predict(x);
    CHECK(a == b);  // deterministic: no dropout
    Adam<float> adam(model);
    BinaryCrossEntropy<float> loss;
    train_on_batch(model, loss, adam, x, Matrix<float>(Matrix<float>::Ones(1, 8)));
    CHECK(model.layer<1>().training());
    model.predict(x);
    CHECK_FALSE(model.layer<1>().training());
}
