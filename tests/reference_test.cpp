// tinygan against an independent implementation: Conv2D, ConvTranspose2D, BatchNorm, Adam and
// SoftmaxCrossEntropy against PyTorch (Keras' Adam written in NumPy), all in float64, on the values
// tests/reference/make_references.py wrote. A gradient check cannot see a bug that forward and
// backward share (an output size from the wrong axis, a statistic divided by the wrong count, an
// optimizer constant raised to the wrong power); these comparisons can. Each test also checks
// that its reference really tells the right answer from the likely wrong one.
#include "reference_support.hpp"
#include "test_support.hpp"

#include <tinygan/conv.hpp>

#include <set>
#include <tuple>
#include <utility>

using namespace tinygan;

namespace {

// Sums of at most 100 products of O(1) numbers, in another order than PyTorch's: ~1e-15 of the
// tensor's largest entry; 1e-10 leaves room for that and catches any real difference.
constexpr double layer_tolerance = 1e-10;

// Loads a convolution's weights from a case, runs forward and backward, and compares everything.
template <class Layer>
void check_convolution_case(Layer& layer, const test::ReferenceCase& c) {
    const Index h = c.integer("height"), w = c.integer("width"), cin = c.integer("in_channels");
    const Index cout = c.integer("out_channels");
    const bool use_bias = c.integer("use_bias") != 0;
    // The shape a Sequential would see, and the shape the layer computes with once built.
    const Shape expected_shape{c.integer("out_height"), c.integer("out_width"), cout};
    const Shape shape = layer.output_shape({h, w, cin});
    CHECK_MESSAGE(shape == expected_shape, "output_shape " << to_string(shape) << ", PyTorch's " << to_string(expected_shape));
    layer.build({h, w, cin});
    test::set_tensor(layer, "kernel", c.tensor("kernel"));
    if (use_bias) test::set_tensor(layer, "bias", c.tensor("bias"));
    const Matrix<double>& x = c.tensor("x");
    const Matrix<double> y = layer.forward(x);
    test::check_close("y", y, c.tensor("y"), layer_tolerance);
    if (y.rows() != c.tensor("dy").rows()) return;  // wrong output size: backward cannot take PyTorch's dy
    const Matrix<double> dx = layer.backward(x, c.tensor("dy"));
    test::check_close("dx", dx, c.tensor("dx"), layer_tolerance);
    test::check_close("dkernel", test::tensor_of(layer, "kernel", true), c.tensor("dkernel"), layer_tolerance);
    if (use_bias) test::check_close("dbias", test::tensor_of(layer, "bias", true), c.tensor("dbias"), layer_tolerance);
}

}  // namespace

TEST_CASE("Reference: Conv2D equals PyTorch's conv2d on non-square images, strides 1-3 x paddings 0-3, forward and backward") {
    const auto cases = test::load_reference("conv2d.txt");
    std::set<std::pair<Index, Index>> strides_and_paddings;
    std::set<Index> kernels;
    int with_bias = 0, non_square_outputs = 0;
    for (const auto& c : cases) {
        CAPTURE(c.name);
        Rng rng(1);  // weights drawn, then replaced by the reference's
        Conv2D<double> conv(c.integer("in_channels"), c.integer("out_channels"), c.integer("kernel"),
                            ConvOptions{c.integer("stride"), c.integer("padding"), c.integer("use_bias") != 0}, rng);
        check_convolution_case(conv, c);
        strides_and_paddings.insert({c.integer("stride"), c.integer("padding")});
        kernels.insert(c.integer("kernel"));
        with_bias += c.integer("use_bias") != 0;
        non_square_outputs += c.integer("out_height") != c.integer("out_width");
    }
    // What the reference covers: strides 1-3 with paddings 0-3 each, kernels 1-5, both kinds of bias,
    // and outputs whose height and width differ (an axis mix-up changes their size).
    CHECK(strides_and_paddings.size() == 12);
    CHECK(kernels == std::set<Index>{1, 2, 3, 4, 5});
    CHECK(with_bias == 12);
    CHECK(cases.size() == 24);
    CHECK(non_square_outputs >= 20);
}

TEST_CASE("Reference: ConvTranspose2D equals PyTorch's conv_transpose2d, strides 1-3 x paddings 0-2 x every output_padding, forward and backward") {
    const auto cases = test::load_reference("conv_transpose2d.txt");
    std::set<std::tuple<Index, Index, Index>> settings;
    std::set<Index> kernels;
    int with_bias = 0, non_square_outputs = 0;
    for (const auto& c : cases) {
        CAPTURE(c.name);
        Rng rng(2);  // weights drawn, then replaced by the reference's
        ConvTranspose2D<double> deconv(c.integer("in_channels"), c.integer("out_channels"), c.integer("kernel"),
                                       ConvOptions{c.integer("stride"), c.integer("padding"), c.integer("use_bias") != 0},
                                       rng, ConvInit::keras, c.integer("output_padding"));
        check_convolution_case(deconv, c);
        settings.insert({c.integer("stride"), c.integer("padding"), c.integer("output_padding")});
        kernels.insert(c.integer("kernel"));
        with_bias += c.integer("use_bias") != 0;
        non_square_outputs += c.integer("out_height") != c.integer("out_width");
    }
    // Strides 1-3, every output_padding below the stride, paddings 0-2: 18 settings, each with and
    // without bias.
    CHECK(settings.size() == 18);
    CHECK(kernels == std::set<Index>{1, 2, 3, 4, 5});
    CHECK(with_bias == 18);
    CHECK(cases.size() == 36);
    CHECK(non_square_outputs >= 30);
}

TEST_CASE("Reference: BatchNorm with PyTorch's settings equals BatchNorm2d / BatchNorm1d: training steps, running statistics, inference") {
    const auto cases = test::load_reference("batch_norm.txt");
    CHECK(cases.size() == 3);
    for (const auto& c : cases) {
        CAPTURE(c.name);
        const Index channels = c.integer("channels");
        // PyTorch's momentum 0.1 is tinygan's 0.9; eps 1e-5; the unbiased running variance.
        BatchNorm<double> layer(channels, BatchNorm<double>::Options{0.9, 1e-5, true});
        test::set_tensor(layer, "gamma", c.tensor("gamma"));
        test::set_tensor(layer, "beta", c.tensor("beta"));
        for (int step = 1; step <= 3; ++step) {
            CAPTURE(step);
            const std::string t = std::to_string(step);
            const Matrix<double>& x = c.tensor("x_" + t);
            REQUIRE(x.size() / channels == c.integer("values_per_channel"));
            test::check_close("y", layer.forward(x), c.tensor("y_" + t), layer_tolerance);
            test::check_close("dx", layer.backward(x, c.tensor("dy_" + t)), c.tensor("dx_" + t), layer_tolerance);
            test::check_close("dgamma", test::tensor_of(layer, "gamma", true), c.tensor("dgamma_" + t), layer_tolerance);
            test::check_close("dbeta", test::tensor_of(layer, "beta", true), c.tensor("dbeta_" + t), layer_tolerance);
            test::check_close("moving_mean", test::tensor_of(layer, "moving_mean"), c.tensor("running_mean_" + t),
                              layer_tolerance);
            test::check_close("moving_variance", test::tensor_of(layer, "moving_variance"),
                              c.tensor("running_variance_" + t), layer_tolerance);
        }
        // Negative controls: the biased variance, and (for images, where a channel holds
        // batch*H*W values) the correction from the batch size, are far from the reference.
        const Matrix<double>& expected = c.tensor("running_variance_3");
        CHECK(test::relative_error(c.tensor("running_variance_3_biased"), expected) > 1e-4);
        if (c.integer("values_per_channel") != c.integer("batch"))
            CHECK(test::relative_error(c.tensor("running_variance_3_batch_count"), expected) > 1e-3);
        layer.set_training(false);
        test::check_close("y in inference mode", layer.forward(c.tensor("x_eval")), c.tensor("y_eval"), layer_tolerance);
    }
}

TEST_CASE("Reference: Adam in both forms, unequal betas, six changing gradients: torch.optim.Adam and Keras' update") {
    const auto cases = test::load_reference("adam.txt");
    CHECK(cases.size() == 4);
    int pytorch_cases = 0;
    for (const auto& c : cases) {
        CAPTURE(c.name);
        AdamOptions options;
        options.learning_rate = c.number("learning_rate");
        options.beta_1 = c.number("beta_1");
        options.beta_2 = c.number("beta_2");
        options.epsilon = c.number("epsilon");
        options.pytorch_epsilon = c.integer("pytorch_epsilon") != 0;
        pytorch_cases += options.pytorch_epsilon;
        REQUIRE(options.beta_1 != options.beta_2);
        Rng rng(3);
        Dense<double> layer(3, 2, rng);  // weights drawn, then replaced by the reference's
        const Matrix<double> kernel_0 = c.tensor("kernel_0"), bias_0 = c.tensor("bias_0");
        layer.set_kernel(kernel_0);
        layer.set_bias(bias_0);
        Adam<double> adam(layer, options);
        for (Index step = 1; step <= c.integer("steps"); ++step) {
            CAPTURE(step);
            const std::string t = std::to_string(step);
            test::set_gradient(layer, "kernel", c.tensor("kernel_gradient_" + t));
            test::set_gradient(layer, "bias", c.tensor("bias_gradient_" + t));
            adam.step(layer);
            // The distance travelled since the start, so the tolerance is relative to the updates,
            // not to the parameters: sums of six updates, each a few roundings off.
            Matrix<double> moved(2, 4), expected(2, 4), other(2, 4), wrong_power(2, 4);
            moved << layer.kernel() - kernel_0, layer.bias() - bias_0;
            expected << c.tensor("kernel_" + t) - kernel_0, c.tensor("bias_" + t) - bias_0;
            other << c.tensor("other_kernel_" + t) - kernel_0, c.tensor("other_bias_" + t) - bias_0;
            wrong_power << c.tensor("wrong_power_kernel_" + t) - kernel_0, c.tensor("wrong_power_bias_" + t) - bias_0;
            test::check_close("parameters moved", moved, expected, layer_tolerance);
            // Negative controls: the other form, and (for PyTorch's) epsilon scaled by
            // sqrt(1 - beta_1^t) instead of sqrt(1 - beta_2^t), are far from what the library did.
            CHECK(test::relative_error(moved, other) > 1e3 * layer_tolerance);
            if (options.pytorch_epsilon) CHECK(test::relative_error(moved, wrong_power) > 1e3 * layer_tolerance);
        }
        CHECK(adam.iterations() == c.integer("steps"));
    }
    CHECK(pytorch_cases == 2);
}

TEST_CASE("Reference: softmax cross-entropy at extreme logits equals PyTorch's cross_entropy, value and gradient") {
    const auto cases = test::load_reference("softmax_cross_entropy.txt");
    CHECK(cases.size() == 3);
    for (const auto& c : cases) {
        CAPTURE(c.name);
        SoftmaxCrossEntropy<double> loss;
        const double value = loss.from_logits(c.tensor("logits"), c.tensor("labels"));
        // One logsumexp per column: a few roundings of the largest logit (1000) in a mean of ~300.
        CHECK(value == doctest::Approx(c.number("loss")).epsilon(1e-12));
        test::check_close("gradient", loss.gradient(), c.tensor("gradient"), layer_tolerance);
    }
    // The extreme case really is extreme: the label on a -1000 logit costs 2000.
    CHECK(cases[0].number("loss") > 2000.0 / 7);
}
