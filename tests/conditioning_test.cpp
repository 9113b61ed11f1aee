// Conditioning: Embedding and the three layers that join a label to what a model sees
// (LabelConcat, LabelMultiply, LabelPlanes), against values written from their definitions and
// against central differences, alone and in conditional models (G through a frozen D, the
// gradient reaching G's embedding through D), with bad labels refused before anything changes, and
// their tensors named, counted and checkpointed like every other.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>
#include <tinygan/layers/conditioning.hpp>

#include <cmath>

using namespace tinygan;

namespace {

Labels labels_of(std::initializer_list<int> values) {
    Labels labels(static_cast<Index>(values.size()));
    Index j = 0;
    for (int v : values) labels(j++) = v;
    return labels;
}

// The embedding's vector of class c, read through the parameter visitor (as checkpoints see it).
template <class Layer>
Matrix<double> embeddings_of(Layer& layer) {
    return test::tensor_of(layer, "embeddings");
}

// A LabelMultiply whose embedding gradient comes out 1% too large: the check must see it.
class LabelMultiplyWithScaledGradient : public LabelMultiply<double> {
public:
    using LabelMultiply<double>::LabelMultiply;
    const Matrix<double>& backward(const Matrix<double>& x, const Labels& labels, const Matrix<double>& dy,
                                   bool need_dx = true) {
        const Matrix<double>& dx = LabelMultiply<double>::backward(x, labels, dy, need_dx);
        for_each_parameter([](const Parameter<double>& p) { p.gradient *= 1.01; });
        return dx;
    }
};

}  // namespace

TEST_CASE("Embedding draws Keras' or PyTorch's vectors, one-hot is the fixed identity, and labels must be classes") {
    Rng rng(1);
    Embedding<double> keras(10, 400, rng);
    Embedding<double> torch(10, 400, rng, EmbeddingInit::pytorch);
    const Matrix<double> k = test::tensor_of(keras, "embeddings"), t = test::tensor_of(torch, "embeddings");
    CHECK(k.rows() == 400);  // (features x classes): Keras' [classes, features] in row-major bytes
    CHECK(k.cwiseAbs().maxCoeff() <= 0.05);
    CHECK(k.cwiseAbs().maxCoeff() > 0.049);
    CHECK(std::abs(t.mean()) < 0.05);  // N(0, 1): 4000 draws
    CHECK(std::abs(std::sqrt(t.array().square().mean()) - 1.0) < 0.05);
    int tensors = 0;
    Embedding<double> one_hot = Embedding<double>::one_hot(4);
    one_hot.for_each_parameter([&](const Parameter<double>&) { ++tensors; });
    CHECK(tensors == 0);
    CHECK(one_hot.parameter_count() == 0);
    CHECK(one_hot.features() == 4);
    CHECK(Matrix<double>(one_hot.vector(labels_of({2}), 0)) == Matrix<double>::Identity(4, 4).col(2));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(keras.require_classes(labels_of({3, 10})), ArgumentError,
                                       "label 10 of sample 1 is not a class: an Embedding of 10 classes takes labels 0 to 9");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(keras.require_classes(labels_of({-1})), ArgumentError, "label -1 of sample 0");
}

TEST_CASE("The three conditioning layers compute their definitions") {
    Rng rng(2);
    const Labels labels = labels_of({2, 0, 2});
    const Matrix<double> x = test::random_matrix<double>(4, 3, rng);

    LabelConcat<double> concat(4, Embedding<double>::one_hot(3));
    const Matrix<double> y = concat.forward(x, labels);
    REQUIRE(y.rows() == 7);
    for (Index j = 0; j < 3; ++j) {
        CHECK(y.col(j).head(4) == x.col(j));
        for (Index c = 0; c < 3; ++c) CHECK(y(4 + c, j) == (c == labels(j) ? 1.0 : 0.0));
    }

    LabelMultiply<double> multiply({2, 2, 1}, Embedding<double>(3, 4, rng));
    const Matrix<double> e = embeddings_of(multiply);
    const Matrix<double> product = multiply.forward(x, labels);
    for (Index j = 0; j < 3; ++j)
        for (Index i = 0; i < 4; ++i) CHECK(product(i, j) == x(i, j) * e(i, labels(j)));
    CHECK(multiply.output_shape({4}) == Shape{2, 2, 1});

    // Images of 2x3 pixels, 2 channels, channels-last; the code is 3 more channels at every pixel.
    LabelPlanes<double> planes({2, 3, 2}, Embedding<double>(4, 3, rng));
    const Matrix<double> images = test::random_matrix<double>(12, 3, rng);
    const Matrix<double> pe = embeddings_of(planes);
    const Matrix<double> out = planes.forward(images, labels_of({1, 3, 0}));
    REQUIRE(out.rows() == 2 * 3 * 5);
    const Labels image_labels = labels_of({1, 3, 0});
    for (Index j = 0; j < 3; ++j)
        for (Index p = 0; p < 6; ++p) {
            for (Index c = 0; c < 2; ++c) CHECK(out(p * 5 + c, j) == images(p * 2 + c, j));
            for (Index f = 0; f < 3; ++f) CHECK(out(p * 5 + 2 + f, j) == pe(f, image_labels(j)));
        }
    CHECK(planes.output_shape({2, 3, 2}) == Shape{2, 3, 5});
}

TEST_CASE("The conditioning layers' gradients match central differences, the embeddings' included") {
    Rng rng(3);
    // Labels that repeat a class and leave one out, so the scatter into classes is exercised.
    const Labels labels = labels_of({1, 3, 1, 0, 1});
    const Matrix<double> x = test::random_matrix<double>(6, 5, rng);
    LabelConcat<double> concat(6, Embedding<double>(4, 3, rng, EmbeddingInit::pytorch));
    GradientReport report = check_gradients(concat, x, labels, rng);
    CHECK(report.entries_checked == 4 * 3 + x.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);

    LabelMultiply<double> multiply({6}, Embedding<double>(4, 6, rng, EmbeddingInit::pytorch));
    report = check_gradients(multiply, x, labels, rng);
    CHECK(report.entries_checked == 4 * 6 + x.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // The class no sample has gets a zero gradient, assigned (not left as it was).
    multiply.forward(x, labels);
    multiply.for_each_parameter([](const Parameter<double>& p) { p.gradient.setConstant(7); });
    multiply.backward(x, labels, Matrix<double>::Ones(6, 5));
    CHECK(test::tensor_of(multiply, "embeddings", true).col(2).cwiseAbs().maxCoeff() == 0);

    LabelPlanes<double> planes({3, 2, 1}, Embedding<double>(4, 2, rng, EmbeddingInit::pytorch));
    report = check_gradients(planes, x, labels, rng);
    CHECK(report.entries_checked == 4 * 2 + x.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // Two channels a pixel (3 x 1 x 2), so a channel stride mistaken for a pixel stride shows.
    LabelPlanes<double> two_channels({3, 1, 2}, Embedding<double>(4, 2, rng, EmbeddingInit::pytorch));
    report = check_gradients(two_channels, x, labels, rng);
    CHECK(report.entries_checked == 4 * 2 + x.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);

    // Negative control: an embedding gradient 1% too large fails.
    LabelMultiplyWithScaledGradient wrong({6}, Embedding<double>(4, 6, rng, EmbeddingInit::pytorch));
    report = check_gradients(wrong, x, labels, rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.worst_entry.find("embeddings") != std::string::npos);
}

namespace {

// Keras-GAN's cgan in miniature: G multiplies the noise by its label's embedding, D the flattened
// image by its own; BatchNorm, LeakyReLU and Dropout as in the recipe.
template <class Scalar>
auto small_conditional_generator(Rng& rng) {
    return make_sequential("generator", LabelMultiply<Scalar>({3}, Embedding<Scalar>(4, 3, rng, EmbeddingInit::pytorch)),
                           Dense<Scalar>(3, 5, rng), LeakyReLU<Scalar>(0.2), BatchNorm<Scalar>(5, 0.8),
                           Dense<Scalar>(5, 6, rng), Tanh<Scalar>{}, Reshape<Scalar>({2, 3, 1}));
}
template <class Scalar>
auto small_conditional_discriminator(Rng& rng) {
    return make_sequential("discriminator", Flatten<Scalar>({2, 3, 1}),
                           LabelMultiply<Scalar>({6}, Embedding<Scalar>(4, 6, rng, EmbeddingInit::pytorch)),
                           Dense<Scalar>(6, 5, rng), LeakyReLU<Scalar>(0.2), Dropout<Scalar>(0.3, rng),
                           Dense<Scalar>(5, 1, rng), Sigmoid<Scalar>{});
}

}  // namespace

TEST_CASE("A conditional G through a frozen conditional D: the gradient reaches G's embedding through D") {
    Rng rng(4);
    auto generator = small_conditional_generator<double>(rng);
    auto discriminator = small_conditional_discriminator<double>(rng);
    static_assert(decltype(generator)::takes_labels && decltype(discriminator)::takes_labels);
    const Labels labels = labels_of({0, 3, 3, 1, 2, 0});
    const Matrix<double> z = test::random_matrix<double>(3, 6, rng);
    auto gan = chain(generator, discriminator);
    gan.set_training(true);
    gan.forward(z, labels);
    discriminator.layer<4>().hold_mask(true);  // one dropout mask for the whole check
    {
        Frozen frozen(discriminator);
        const GradientReport report = check_loss_gradients(gan, z, Matrix<double>::Ones(1, 6), labels);
        // G's embedding, Dense and BatchNorm weights, and the noise; nothing of D.
        CHECK(report.entries_checked == 4 * 3 + (3 * 5 + 5) + (5 + 5) + (5 * 6 + 6) + z.size());
        CHECK(report.worst_entry.find("discriminator") == std::string::npos);
        CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    }
    // Unfrozen, D's embedding is checked too (the D step's gradient).
    const Matrix<double> images = test::random_matrix<double>(6, 6, rng);
    Matrix<double> targets(1, 6);
    targets << 1, 0, 1, 1, 0, 0;
    const GradientReport d_report = check_loss_gradients(discriminator, images, targets, labels);
    CHECK(d_report.entries_checked == 4 * 6 + (6 * 5 + 5) + (5 + 1) + images.size());
    CHECK_MESSAGE(d_report.passed(1e-6), d_report.worst_entry, " ", d_report.non_finite);
}

TEST_CASE("A conditional model trains, predicts and checkpoints with its labels, and refuses bad ones first") {
    Rng rng(5);
    auto generator = small_conditional_generator<float>(rng);
    auto discriminator = small_conditional_discriminator<float>(rng);
    Adam<float> d_optimizer(discriminator), g_optimizer(generator);
    BinaryCrossEntropy<float> bce;
    const Labels labels = labels_of({0, 1, 2, 3, 0, 1, 2, 3});
    Matrix<float> z(3, 8), real(6, 8);
    rng.fill_normal(z);
    rng.fill_uniform(real, -1.0f, 1.0f);
    const Matrix<float> ones = Matrix<float>::Ones(1, 8), zeros = Matrix<float>::Zero(1, 8);
    const Matrix<float> fakes = generator.predict(z, labels);
    CHECK(fakes.rows() == 6);
    CHECK(std::isfinite(train_on_batch(discriminator, bce, d_optimizer, real, ones, labels).loss));
    CHECK(std::isfinite(train_on_batch(discriminator, bce, d_optimizer, fakes, zeros, labels).loss));
    {
        Frozen frozen(discriminator);
        auto gan = chain(generator, discriminator);
        CHECK(std::isfinite(train_on_batch(gan, bce, g_optimizer, z, ones, labels).loss));
    }
    // A label outside the classes: refused before G's BatchNorm (before the conditioning layer's
    // consumer) moves its statistics, and before the optimizer moves anything.
    const auto generator_before = test::parameters_of(generator);
    const auto optimizer_before = test::state_of(g_optimizer);
    Labels bad = labels;
    bad(5) = 4;
    {
        Frozen frozen(discriminator);
        auto gan = chain(generator, discriminator);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(gan, bce, g_optimizer, z, ones, bad), ArgumentError,
                                           "label 4 of sample 5 is not a class");
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(gan, bce, g_optimizer, z, ones, labels_of({0, 1})), ShapeError,
                                           "the batch has 8 samples (columns of x) but 2 class labels");
    }
    CHECK(test::parameters_of(generator) == generator_before);
    CHECK(test::state_of(g_optimizer) == optimizer_before);
    // The labels are checked before the forward: a BatchNorm ahead of the conditioning layer keeps
    // its moving statistics.
    auto guarded = make_sequential("m", Dense<float>(3, 4, rng), BatchNorm<float>(4, 0.5),
                                   LabelMultiply<float>({4}, Embedding<float>(4, 4, rng)), Dense<float>(4, 1, rng),
                                   Sigmoid<float>{});
    Adam<float> guarded_optimizer(guarded);
    const Matrix<float> moving_before = guarded.parameter("batch_norm_1.moving_mean");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(train_on_batch(guarded, bce, guarded_optimizer, z, ones, bad), ArgumentError,
                                       "label 4 of sample 5 is not a class");
    CHECK(guarded.parameter("batch_norm_1.moving_mean") == moving_before);
    train_on_batch(guarded, bce, guarded_optimizer, z, ones, labels);
    CHECK(guarded.parameter("batch_norm_1.moving_mean") != moving_before);  // the check above can fail
    // compute_gradients is train_on_batch without the step.
    const auto discriminator_before = test::parameters_of(discriminator);
    compute_gradients(discriminator, bce, real, ones, labels);
    CHECK(test::parameters_of(discriminator) == discriminator_before);
    d_optimizer.step(discriminator);
    CHECK(test::parameters_of(discriminator) != discriminator_before);

    // The embeddings are named parameters, stored as Keras stores them, and checkpointed.
    CHECK(discriminator.parameter("label_multiply_1.embeddings").rows() == 6);
    int named = 0;
    for_each_named_parameter(generator, [&](const std::string& name, const Parameter<float>& p) {
        if (name != "label_multiply_0.embeddings") return;
        ++named;
        CHECK(p.stored_shape == StoredShape{4, 3});
    });
    CHECK(named == 1);
    TensorFile file;
    save_model(file, "generator", generator);
    Rng other(99);
    auto restored = small_conditional_generator<float>(other);
    load_model(file, "generator", restored, "memory");
    CHECK(test::parameters_of(restored) == test::parameters_of(generator));
    CHECK(restored.predict(z, labels) == generator.predict(z, labels));
    std::ostringstream table;
    generator.summary(table);
    CHECK(table.str().find("label_multiply_0 (LabelMultiply)") != std::string::npos);
    CHECK(generator.parameter_count() == 4 * 3 + (3 * 5 + 5) + 4 * 5 + (5 * 6 + 6));
}

TEST_CASE("A frozen conditioning layer keeps its embedding and its gradient, and still passes dx back") {
    Rng rng(6);
    LabelMultiply<double> multiply({4}, Embedding<double>(3, 4, rng));
    const Labels labels = labels_of({0, 2});
    const Matrix<double> x = test::random_matrix<double>(4, 2, rng);
    multiply.trainable(false);
    multiply.for_each_parameter([](const Parameter<double>& p) {
        CHECK_FALSE(p.trainable);
        p.gradient.setConstant(5);
    });
    multiply.forward(x, labels);
    const Matrix<double> dx = multiply.backward(x, labels, Matrix<double>::Ones(4, 2));
    CHECK(test::tensor_of(multiply, "embeddings", true).minCoeff() == 5);  // untouched
    const Matrix<double> e = test::tensor_of(multiply, "embeddings");
    CHECK(dx.col(1) == e.col(2));
}
