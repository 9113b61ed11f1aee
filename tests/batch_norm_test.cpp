// BatchNorm: Keras' semantics (batch statistics in training, moving statistics in inference,
// frozen layers keep their statistics), gradients through the batch statistics against central
// differences for feature vectors and channels-last images, and a negative control.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>

using namespace tinygan;

namespace {

// Negative control: a backward that ignores how the batch statistics depend on x (the inference
// formula in training mode). Its dgamma and dbeta are right; its dx is not.
class BatchNormWithoutCoupling : public BatchNorm<double> {
public:
    using BatchNorm<double>::BatchNorm;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        const Matrix<double>& dx = BatchNorm<double>::backward(x, dy, need_dx);
        // Recompute dx = gamma dy / sigma with the batch's sigma.
        const Index c = channels();
        const Eigen::Map<const Matrix<double>> X(x.data(), c, x.size() / c);
        const Eigen::VectorXd mean = X.rowwise().mean();
        const Eigen::VectorXd sigma =
            ((X.colwise() - mean).rowwise().squaredNorm() / static_cast<double>(X.cols())).array().sqrt().matrix();
        wrong_ = dx;
        Eigen::Map<Matrix<double>> W(wrong_.data(), c, x.size() / c);
        const Eigen::Map<const Matrix<double>> DY(dy.data(), c, dy.size() / c);
        const Matrix<double> gamma = test::tensor_of(*this, "gamma");
        W = (DY.array().colwise() * (gamma.col(0).array() / (sigma.array().square() + 1e-3).sqrt())).matrix();
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

template <class Layer>
void randomize_gamma_beta(Layer& layer, Rng& rng) {
    layer.for_each_parameter([&](const Parameter<double>& p) {
        if (std::string(p.name) == "gamma") p.value = test::random_matrix<double>(p.value.rows(), 1, rng).array() + 1.5;
        if (std::string(p.name) == "beta") p.value = test::random_matrix<double>(p.value.rows(), 1, rng);
    });
}

}  // namespace

TEST_CASE("BatchNorm in training mode normalizes with the batch statistics and moves its moving ones") {
    BatchNorm<double> layer(2, 0.8, 1e-3);
    Matrix<double> x(2, 4);
    x << 1, 2, 3, 4,   // mean 2.5, biased variance 1.25
        10, 10, 10, 10;  // mean 10, variance 0
    const Matrix<double> y = layer.forward(x);
    CHECK(y(0, 0) == doctest::Approx((1 - 2.5) / std::sqrt(1.25 + 1e-3)));
    CHECK(y.row(1).isZero());
    const Matrix<double> moving_mean = test::tensor_of(layer, "moving_mean");
    const Matrix<double> moving_variance = test::tensor_of(layer, "moving_variance");
    layer.for_each_parameter([&](const Parameter<double>& p) {
        CHECK(p.is_state == (std::string(p.name).rfind("moving", 0) == 0));
        CHECK(p.trainable != p.is_state);
    });
    CHECK(moving_mean(0, 0) == doctest::Approx(0.2 * 2.5));    // 0.8 * 0 + 0.2 * 2.5
    CHECK(moving_variance(0, 0) == doctest::Approx(0.8 + 0.2 * 1.25));
    // Inference normalizes with the moving statistics instead.
    layer.set_training(false);
    const Matrix<double> z = layer.forward(x);
    CHECK(z(0, 0) == doctest::Approx((1 - 0.5) / std::sqrt(1.05 + 1e-3)));
    // Frozen: still the batch statistics in training mode, but both moving ones stay.
    layer.set_training(true);
    layer.trainable(false);
    const Matrix<double> x3 = x * 3.0;  // mean 7.5, biased variance 11.25 in the first row
    const Matrix<double> frozen = layer.forward(x3);
    CHECK(frozen(0, 3) == doctest::Approx((12 - 7.5) / std::sqrt(11.25 + 1e-3)));
    CHECK(test::tensor_of(layer, "moving_mean") == moving_mean);
    CHECK(test::tensor_of(layer, "moving_variance") == moving_variance);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(layer.forward(Matrix<double>::Ones(2, 1)), ShapeError, "needs more than one value per channel");
}

TEST_CASE("BatchNorm's gradients through the batch statistics match central differences, and a negative control fails") {
    Rng rng(91);
    BatchNorm<double> layer(5, 0.9, 1e-3);
    randomize_gamma_beta(layer, rng);
    Matrix<double> x = test::random_matrix<double>(5, 6, rng);
    x.col(0).array() += 3;  // uneven, so the statistics matter
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK(report.entries_checked == 5 + 5 + 30);  // gamma, beta and the input; the moving statistics are state
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    BatchNormWithoutCoupling wrong(5, 0.9, 1e-3);
    randomize_gamma_beta(wrong, rng);
    const GradientReport wrong_report = check_gradients(wrong, x, rng);
    CHECK_FALSE(wrong_report.passed(1e-6));
    CHECK(wrong_report.worst_entry.rfind("input (", 0) == 0);
    // Inference mode: an affine map, also checked.
    layer.set_training(false);
    CHECK(check_gradients(layer, x, rng).passed(1e-6));
}

TEST_CASE("BatchNorm over the channels of channels-last images: statistics per channel over batch and pixels") {
    Rng rng(92);
    BatchNorm<double> layer(4, 0.9, 1e-5);
    randomize_gamma_beta(layer, rng);
    // Samples of shape (2, 3, 4): 6 pixels of 4 channels, channel fastest; batch 3.
    const auto x = test::random_matrix<double>(24, 3, rng);
    const GradientReport report = check_gradients(layer, x, rng);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // Independently: channel c's values are rows c, c+4, c+8, ... of every column.
    layer.set_training(true);
    const Matrix<double> y = layer.forward(x);
    Eigen::VectorXd values(18);
    for (Index j = 0, k = 0; j < 3; ++j)
        for (Index pixel = 0; pixel < 6; ++pixel) values(k++) = x(pixel * 4 + 2, j);
    const double mean = values.mean(), variance = (values.array() - mean).square().mean();
    const Matrix<double> gamma = test::tensor_of(layer, "gamma"), beta = test::tensor_of(layer, "beta");
    CHECK(y(1 * 4 + 2, 1) == doctest::Approx(gamma(2, 0) * (x(1 * 4 + 2, 1) - mean) / std::sqrt(variance + 1e-5) + beta(2, 0)));
    // In a Sequential it takes the last axis of the image as its channels.
    auto model = make_sequential("m", Flatten<double>({2, 3, 4}), Reshape<double>({2, 3, 4}), BatchNorm<double>(4));
    CHECK(model.output_shape() == Shape{2, 3, 4});
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("m", Dense<double>(3, 6, zero_init), BatchNorm<double>(4)), ShapeError,
                                       "layer 1 (BatchNorm 4) expects samples whose last axis has 4 channels");
}

TEST_CASE("BatchNorm's moving statistics are saved and restored with the model, and PyTorch's variance is available") {
    Rng rng(93);
    auto model = make_sequential("m", Dense<float>(3, 4, rng), BatchNorm<float>(4, 0.5));
    model.forward(test::random_matrix<float>(3, 8, rng));  // moves the statistics
    TensorFile file;
    save_model(file, "m", model);
    CHECK(file.find("m.batch_norm_1.moving_mean") != nullptr);
    CHECK(file.find("m.batch_norm_1.moving_variance")->shape == std::vector<std::int64_t>{4});
    auto restored = make_sequential("m", Dense<float>(3, 4, zero_init), BatchNorm<float>(4, 0.5));
    load_model(file, "m", restored, "file");
    CHECK(test::parameters_of(restored) == test::parameters_of(model));
    CHECK(restored.parameter_count() == 16 + 16);
    CHECK(restored.trainable_parameter_count() == 16 + 8);  // the moving statistics are not trainable
    BatchNorm<double> torch_like(1, BatchNorm<double>::Options{0.0, 1e-5, true});
    Matrix<double> x(1, 4);
    x << 1, 2, 3, 4;
    torch_like.forward(x);
    CHECK(test::tensor_of(torch_like, "moving_variance")(0, 0) == doctest::Approx(5.0 / 3));  // unbiased
}

TEST_CASE("update_batch_norm_statistics makes the moving statistics those of one batch, then inference mode") {
    Rng rng(94);
    auto model = make_sequential("m", Dense<double>(3, 4, rng), BatchNorm<double>(4, 0.9));
    const auto x = test::random_matrix<double>(3, 16, rng);
    update_batch_norm_statistics(model, x);
    const Matrix<double> h = model.layer<0>().forward(x);
    CHECK(test::max_difference(model.parameter("batch_norm_1.moving_mean"), h.rowwise().mean()) < 1e-12);
    const Matrix<double> variance = (h.colwise() - h.rowwise().mean()).rowwise().squaredNorm() / 16.0;
    CHECK(test::max_difference(model.parameter("batch_norm_1.moving_variance"), variance) < 1e-12);
    CHECK_FALSE(model.layer<1>().training());
}

TEST_CASE("update_batch_norm_statistics reaches the BatchNorms of nested models") {
    Rng rng(95);
    auto inner = make_sequential("inner", Dense<double>(3, 4, rng), BatchNorm<double>(4, 0.9));
    auto outer = make_sequential("outer", Dense<double>(2, 3, rng), BatchNorm<double>(3, 0.9));
    auto model = chain(outer, inner);
    // Non-zero biases and shifts, so that the inner BatchNorm's input has a mean that a missed
    // update (0.1 of it kept from the start) would show.
    inner.set_parameter("dense_0.bias", Matrix<double>::Constant(4, 1, 1.5));
    outer.set_parameter("batch_norm_1.beta", Matrix<double>::Constant(3, 1, 0.7));
    const auto x = test::random_matrix<double>(2, 16, rng);
    update_batch_norm_statistics(model, x);
    // The inner BatchNorm's input is what the outer model computes in training mode, batch statistics.
    outer.set_training(true);
    const Matrix<double> h = inner.layer<0>().forward(outer.forward(x));
    REQUIRE(h.rowwise().mean().cwiseAbs().minCoeff() > 0.1);
    CHECK(test::max_difference(inner.parameter("batch_norm_1.moving_mean"), h.rowwise().mean()) < 1e-12);
    const Matrix<double> variance = (h.colwise() - h.rowwise().mean()).rowwise().squaredNorm() / 16.0;
    CHECK(test::max_difference(inner.parameter("batch_norm_1.moving_variance"), variance) < 1e-12);
    CHECK_FALSE(inner.layer<1>().training());
}

namespace {
// What update_batch_norm_statistics stands for: one forward of the whole batch in training mode with
// momentum 0, through every layer (the implementation before it ran in chunks).
template <class Model>
void statistics_in_one_forward(Model& model, const Matrix<double>& x, const Labels* labels = nullptr) {
    std::vector<double> momenta;
    detail::for_each_leaf_layer(model, [&](auto& layer) {
        if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, BatchNorm<double>>) {
            momenta.push_back(layer.options().momentum);
            layer.set_momentum(0);
        }
    });
    model.set_training(true);
    if constexpr (Model::takes_labels)
        model.forward(x, *labels);
    else
        model.forward(x);
    std::size_t k = 0;
    detail::for_each_leaf_layer(model, [&](auto& layer) {
        if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, BatchNorm<double>>) layer.set_momentum(momenta[k++]);
    });
}
}  // namespace

TEST_CASE("update_batch_norm_statistics in chunks equals one training-mode forward of the whole batch") {
    Rng rng(96);
    // Images and vectors, Keras' and PyTorch's variance, BatchNorms one after another (each one's
    // input normalised by the whole batch's statistics of the one before), and a nested model.
    const BatchNorm<double>::Options torch{0.9, 1e-5, true};
    auto inner = make_sequential("inner", Dense<double>(12, 6, rng), BatchNorm<double>(6, 0.99), LeakyReLU<double>(0.2));
    auto original = make_sequential("m", Dense<double>(5, 12, rng), Reshape<double>({2, 2, 3}), BatchNorm<double>(3, torch),
                                    ReLU<double>{}, Flatten<double>{}, std::move(inner), BatchNorm<double>(6, torch));
    original.set_parameter("dense_0.bias", Matrix<double>::Constant(12, 1, 0.8));  // means far from 0
    const auto x = test::random_matrix<double>(5, 50, rng);
    auto expected = original;
    statistics_in_one_forward(expected, x);
    for (Index chunk : {50, 16, 7, 1}) {  // one chunk; several with a short last one; one column each
        CAPTURE(chunk);
        auto model = original;
        update_batch_norm_statistics(model, x, chunk);
        double largest = 0;
        std::vector<Matrix<double>> wanted;
        expected.for_each_parameter([&](const Parameter<double>& p) { wanted.push_back(p.value); });
        std::size_t k = 0;
        model.for_each_parameter([&](const Parameter<double>& p) {
            largest = std::max(largest, test::max_difference(p.value, wanted[k++]));
        });
        CHECK(largest < 1e-12);
        CHECK_FALSE(model.layer<2>().training());
        CHECK_FALSE(model.layer<5>().layer<1>().training());
        CHECK_FALSE(model.layer<6>().training());
        // Not a no-op: the statistics moved from their initial 0 and 1.
        CHECK(std::abs(model.parameter("batch_norm_2.moving_mean")(0, 0)) > 0.1);
    }
    // Refused: a chunk of no columns; one sample, whose single value per channel the later
    // BatchNorm cannot use (the earlier one, with 4 pixels a sample, is put back as it was).
    auto model = original;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(update_batch_norm_statistics(model, x, 0), ArgumentError, "chunks of at least 1 column");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(update_batch_norm_statistics(model, Matrix<double>(test::random_matrix<double>(5, 1, rng))),
                                       ShapeError, "more than one value per channel, BatchNorm 6 got 1");
    std::vector<Matrix<double>> before;
    original.for_each_parameter([&](const Parameter<double>& p) { before.push_back(p.value); });
    std::size_t k = 0;
    model.for_each_parameter([&](const Parameter<double>& p) { CHECK(p.value == before[k++]); });
}

TEST_CASE("update_batch_norm_statistics of a conditional model takes each chunk's labels") {
    Rng rng(97);
    const BatchNorm<double>::Options torch{0.9, 1e-5, true};
    auto original = make_sequential("c", LabelConcat<double>(5, Embedding<double>::one_hot(3)), Dense<double>(8, 6, rng),
                                    BatchNorm<double>(6, torch), ReLU<double>{}, Dense<double>(6, 4, rng),
                                    BatchNorm<double>(4, torch));
    const auto x = test::random_matrix<double>(5, 40, rng);
    Labels labels(40);
    for (Index j = 0; j < 40; ++j) labels(j) = static_cast<int>(rng.uniform_index(3));
    auto expected = original;
    statistics_in_one_forward(expected, x, &labels);
    auto model = original;
    update_batch_norm_statistics(model, x, labels, 16);
    for (const char* name : {"batch_norm_2.moving_mean", "batch_norm_2.moving_variance", "batch_norm_5.moving_mean",
                             "batch_norm_5.moving_variance"}) {
        CAPTURE(name);
        CHECK(test::max_difference(model.parameter(name), expected.parameter(name)) < 1e-12);
    }
    // The labels matter: the same noise with every label 0 gives other statistics.
    auto all_zero = original;
    update_batch_norm_statistics(all_zero, x, Labels(Labels::Zero(40)), 16);
    CHECK(test::max_difference(all_zero.parameter("batch_norm_2.moving_mean"), expected.parameter("batch_norm_2.moving_mean")) > 1e-3);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(update_batch_norm_statistics(model, x, Labels(Labels::Zero(39))), ShapeError,
                                       "the batch has 40 samples (columns of x) but 39 labels");
}
