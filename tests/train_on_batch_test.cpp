// train_on_batch in float: the generator step leaves a frozen D bit-identical, Eigen expressions as
// batches, an optimizer given the wrong model, learning on a problem with a known answer, bad batches
// and divergence refused before anything changes, denormals flushed during the step.
#include "test_support.hpp"

#include <limits>

using namespace tinygan;

using test::parameters_of;
using test::small_discriminator;
using test::small_generator;

TEST_CASE("A generator step through the frozen discriminator leaves it bit-identical") {
    Rng rng(54);
    auto generator = small_generator<float>(rng);
    auto discriminator = small_discriminator<float>(rng);
    Adam<float> g_optimizer(generator);
    BinaryCrossEntropy<float> loss;
    const auto d_before = parameters_of(discriminator);
    const auto g_before = parameters_of(generator);
    const auto z = test::random_matrix<float>(3, 8, rng);
    const Matrix<float> ones = Matrix<float>::Ones(1, 8);
    {
        Frozen frozen(discriminator);
        auto gan = chain(generator, discriminator);
        const BatchResult<float> result = train_on_batch(gan, loss, g_optimizer, z, ones);
        CHECK(std::isfinite(result.loss));
    }
    CHECK(parameters_of(discriminator) == d_before);
    CHECK(parameters_of(generator) != g_before);
    CHECK(discriminator.trainable());
    // Forgetting to freeze is caught: the generator's optimizer does not fit the discriminator's tensors.
    auto gan = chain(generator, discriminator);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(gan, loss, g_optimizer, z, ones), ArgumentError,
                                       "tinygan::Frozen");
}

TEST_CASE("train_on_batch takes Eigen expressions for x and y, as a Keras user passes np.zeros") {
    Rng rng(57);
    auto discriminator = make_sequential("d", Dense<float>(6, 4, rng), ReLU<float>{}, Dense<float>(4, 1, rng), Sigmoid<float>{});
    Adam<float> optimizer(discriminator);
    BinaryCrossEntropy<float> loss;
    using Mat = Matrix<float>;
    const BatchResult<float> result = train_on_batch(discriminator, loss, optimizer, Mat::Zero(6, 8), Mat::Ones(1, 8));
    // The output for zero inputs is sigmoid(b2 + W2 relu(b1)) = sigmoid(0) with Keras' zero biases.
    CHECK(result.loss == doctest::Approx(std::log(2.0f)));
    CHECK(test_on_batch(discriminator, loss, Mat::Constant(6, 8, 0.5f), Mat::Ones(1, 8)).loss > 0);
}

TEST_CASE("An optimizer given another model's tensors names the first that differs, with both shapes") {
    Rng rng(58);
    auto generator = small_generator<float>(rng);
    auto discriminator = small_discriminator<float>(rng);
    Adam<float> d_optimizer(discriminator);
    generator.for_each_parameter([](const Parameter<float>& p) { p.gradient.setZero(); });
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(d_optimizer.step(generator), ArgumentError,
                                       "trainable tensor 0 differs: this Adam's is dense_1.kernel (4 x 6), the "
                                       "model's is dense_0.kernel (5 x 3)");
    Adam<float> first_layer(generator.layer<0>());  // 2 tensors for a model with 4, all the same shapes so far
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(first_layer.step(generator), ArgumentError,
                                       "built for 2 trainable parameter tensors but the model passed to step() has 4 "
                                       "(the first 2 match)");
}

TEST_CASE("train_on_batch learns a linearly separable problem: loss falls, accuracy reaches 1") {
    Rng rng(55);
    auto model = make_sequential("classifier", Dense<float>(2, 8, rng), ReLU<float>{}, Dense<float>(8, 1, rng),
                                 Sigmoid<float>{});
    Adam<float> optimizer(model, AdamOptions{0.01});
    BinaryCrossEntropy<float> loss;
    const auto x = test::random_matrix<float>(2, 64, rng);
    const Matrix<float> y = (x.row(0) + x.row(1)).unaryExpr([](float v) { return v > 0 ? 1.0f : 0.0f; });
    const BatchResult<float> first = test_on_batch(model, loss, x, y);
    const BatchResult<float> first_step = train_on_batch(model, loss, optimizer, x, y);
    CHECK(first_step.loss == first.loss);  // measured before the update, as Keras does
    CHECK(first_step.accuracy == first.accuracy);
    CHECK(test_on_batch(model, loss, x, y).loss < first.loss);  // and the update did happen
    BatchResult<float> last{};
    for (int step = 1; step < 300; ++step) last = train_on_batch(model, loss, optimizer, x, y);
    CHECK(last.loss < 0.25f * first.loss);
    CHECK(test_on_batch(model, loss, x, y).accuracy >= 0.98f);
    CHECK(optimizer.iterations() == 300);
}

TEST_CASE("A bad batch is refused before anything changes: NaN, Inf, labels outside [0, 1], no samples") {
    Rng rng(56);
    Rng dropout_rng(560);
    // BatchNorm and Dropout change state in a forward (moving statistics, the mask generator), so a
    // check that ran after the forward would show.
    auto model = make_sequential("classifier", Dense<float>(3, 4, rng), BatchNorm<float>(4, 0.5),
                                 Dropout<float>(0.5f, dropout_rng), ReLU<float>{}, Dense<float>(4, 1, rng), Sigmoid<float>{});
    Adam<float> optimizer(model);
    BinaryCrossEntropy<float> loss;
    const auto x = test::random_matrix<float>(3, 5, rng);
    const Matrix<float> y = Matrix<float>::Ones(1, 5);
    train_on_batch(model, loss, optimizer, x, y);  // a real step first, so the optimizer has state
    model.set_training(false);                     // and the model is in inference mode
    const auto parameters_before = test::parameters_of(model);
    const auto optimizer_before = test::state_of(optimizer);
    const Rng::State dropout_before = dropout_rng.state();
    auto unchanged = [&] {
        CHECK(test::parameters_of(model) == parameters_before);  // moving statistics included
        CHECK(test::state_of(optimizer) == optimizer_before);
        CHECK(dropout_rng.state() == dropout_before);
        CHECK_FALSE(model.layer<1>().training());
    };

    Matrix<float> nan_x = x;
    nan_x(2, 3) = std::numeric_limits<float>::quiet_NaN();
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, nan_x, y), NumericError,
                                       "the batch x holds NaN at row 2, column 3 (sample 3); nothing was changed");
    unchanged();
    Matrix<float> inf_x = x;
    inf_x(0, 1) = -std::numeric_limits<float>::infinity();
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, inf_x, y), NumericError,
                                       "the batch x holds -inf at row 0, column 1");
    unchanged();
    Matrix<float> label_two = y;
    label_two(0, 4) = 2;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, x, label_two), ArgumentError,
                                       "the labels y hold 2 at row 0, column 4; cross-entropy needs labels in [0, 1]");
    Matrix<float> nan_label = y;
    nan_label(0, 0) = std::numeric_limits<float>::quiet_NaN();
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, x, nan_label), ArgumentError,
                                       "the labels y hold NaN at row 0, column 0");
    const Matrix<float> empty_x(3, 0), empty_y(1, 0);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, empty_x, empty_y), ArgumentError,
                                       "the batch is empty");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(model, loss, optimizer, x, Matrix<float>(Matrix<float>::Ones(1, 4))), ShapeError,
                                       "the batch has 5 samples (columns of x) but 4 labels");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(test_on_batch(model, loss, nan_x, y), NumericError, "the batch x holds NaN");
    unchanged();

    // The same for a classifier trained with softmax cross-entropy.
    auto classifier = make_sequential("c", Dense<float>(3, 4, rng), BatchNorm<float>(4, 0.5), Dense<float>(4, 3, rng));
    Adam<float> classifier_optimizer(classifier);
    SoftmaxCrossEntropy<float> cross_entropy;
    const Matrix<float> classes = one_hot<float>(std::vector<int>{0, 1, 2, 1, 0}, 3);
    train_on_batch(classifier, cross_entropy, classifier_optimizer, x, classes);
    const auto classifier_before = test::parameters_of(classifier);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(classifier, cross_entropy, classifier_optimizer, nan_x, classes),
                                       NumericError, "the batch x holds NaN");
    CHECK(test::parameters_of(classifier) == classifier_before);
    CHECK(classifier_optimizer.iterations() == 1);

    // And the model still trains on good data afterwards.
    CHECK(std::isfinite(train_on_batch(model, loss, optimizer, x, y).loss));
    CHECK(optimizer.iterations() == 2);
}

TEST_CASE("A diverged model stops with NumericError before its optimizer steps") {
    Rng rng(57);
    auto model = make_sequential("m", Dense<float>(2, 1, rng), Sigmoid<float>{});
    Adam<float> optimizer(model);
    BinaryCrossEntropy<float> loss;
    model.set_parameter("dense_0.kernel", Matrix<float>::Constant(1, 2, std::numeric_limits<float>::quiet_NaN()));
    const auto optimizer_before = test::state_of(optimizer);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        train_on_batch(model, loss, optimizer, test::random_matrix<float>(2, 4, rng), Matrix<float>(Matrix<float>::Ones(1, 4))),
        NumericError, "the loss is NaN on a finite batch: Sequential 'm' has diverged");
    CHECK(test::state_of(optimizer) == optimizer_before);
}

namespace {

// A layer that records, in its forward, whether denormal floats are being flushed to zero.
class FlushProbe : public ReLU<float> {
public:
    const Matrix<float>& forward(const Matrix<float>& x) {
        flushing = (detail::floating_point_mode() & 0x8040u) == 0x8040u;  // FTZ and DAZ
        return ReLU<float>::forward(x);
    }
    bool flushing = false;
};

}  // namespace

TEST_CASE("train_on_batch flushes denormals during the step, as TensorFlow does, and restores the mode") {
    if (!TINYGAN_HAS_MXCSR) return;  // nothing to flush on this architecture
    Rng rng(59);
    auto model = make_sequential("m", Dense<float>(2, 3, rng), FlushProbe{}, Dense<float>(3, 1, rng), Sigmoid<float>{});
    Adam<float> adam(model);
    BinaryCrossEntropy<float> loss;
    const unsigned before = detail::floating_point_mode();
    train_on_batch(model, loss, adam, test::random_matrix<float>(2, 4, rng), Matrix<float>(Matrix<float>::Ones(1, 4)));
    CHECK(model.layer<1>().flushing);
    CHECK(detail::floating_point_mode() == before);
    model.predict(test::random_matrix<float>(2, 4, rng));
    CHECK_FALSE(model.layer<1>().flushing);  // outside a training step the caller's mode holds
}
