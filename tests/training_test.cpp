// train_on_batch and the GAN's generator step: gradients of G through a frozen D with BCE,
// D bit-identical after a G step, and learning on a problem with a known answer.
#include "test_support.hpp"

#include <limits>

using namespace tinygan;

using test::parameters_of;
using test::small_discriminator;
using test::small_generator;

TEST_CASE("Generator -> frozen discriminator -> BCE: gradients match central differences") {
    Rng rng(51);
    auto generator = small_generator<double>(rng);
    auto discriminator = small_discriminator<double>(rng);
    const auto z = test::random_matrix<double>(3, 4, rng);
    const Matrix<double> ones = Matrix<double>::Ones(1, 4);
    Frozen frozen(discriminator);
    auto gan = chain(generator, discriminator);
    const GradientReport report = check_loss_gradients(gan, z, ones);
    // Every generator parameter and the noise are checked; the frozen discriminator's are not.
    CHECK(report.entries_checked == generator.parameter_count() + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A whole trainable model with BCE through its logits: gradients match central differences") {
    Rng rng(52);
    auto generator = small_generator<double>(rng);
    auto discriminator = small_discriminator<double>(rng);
    auto gan = chain(generator, discriminator);
    const auto z = test::random_matrix<double>(3, 4, rng);
    Matrix<double> labels(1, 4);
    labels << 1, 0, 0, 1;
    const GradientReport report = check_loss_gradients(gan, z, labels);
    CHECK(report.entries_checked == gan.parameter_count() + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("A model without a final Sigmoid is checked through clipped probabilities") {
    Rng rng(53);
    auto model = make_sequential("m", Dense<double>(3, 2, rng), Sigmoid<double>{}, Reshape<double>({2}));
    const Matrix<double> x = test::random_matrix<double>(3, 5, rng);
    Matrix<double> labels(2, 5);
    rng.fill_uniform(labels, 0.0, 1.0);
    static_assert(!ends_in_sigmoid_v<decltype(model)>);
    const GradientReport report = check_loss_gradients(model, x, labels);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

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

TEST_CASE("A GAN built from the new layers, G through a frozen D with BatchNorm and Dropout: gradients match") {
    Rng rng(58);
    auto generator = make_sequential("generator", Dense<double>(3, 6, rng), LeakyReLU<double>(0.2), BatchNorm<double>(6, 0.8),
                                     Dense<double>(6, 8, rng), Tanh<double>{}, Reshape<double>({2, 2, 2}));
    auto discriminator = make_sequential("discriminator", Flatten<double>({2, 2, 2}), Dense<double>(8, 5, rng),
                                         LeakyReLU<double>(0.2), BatchNorm<double>(5, 0.9), Dropout<double>(0.3, rng),
                                         Dense<double>(5, 1, rng), Sigmoid<double>{});
    const auto z = test::random_matrix<double>(3, 6, rng);
    Frozen frozen(discriminator);
    auto gan = chain(generator, discriminator);
    gan.set_training(true);
    gan.forward(z);
    discriminator.layer<4>().hold_mask(true);  // one dropout mask for the whole check
    const Matrix<double> moving_before = discriminator.parameter("batch_norm_3.moving_mean");
    const GradientReport report = check_loss_gradients(gan, z, Matrix<double>::Ones(1, 6));
    // Every generator weight (not its BatchNorm's moving statistics) and the noise; nothing of D.
    CHECK(report.entries_checked == (3 * 6 + 6) + (6 + 6) + (6 * 8 + 8) + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // The frozen discriminator's BatchNorm kept its statistics through all those forwards.
    CHECK(discriminator.parameter("batch_norm_3.moving_mean") == moving_before);
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
