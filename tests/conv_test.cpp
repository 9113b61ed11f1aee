// Conv2D and ConvTranspose2D: gradients against central differences over a grid of kernels,
// strides and paddings (odd and non-square images, batch 1, a layer spanning several product
// tiles), a comparison with a direct convolution written from the definition at the DCGAN's
// sizes on 1 and 2 threads, negative controls, shape errors, and a small DCGAN checked whole.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>
#include <tinygan/conv.hpp>

#include <cstring>

using namespace tinygan;

namespace {

// y[oy, ox, o] = b[o] + sum x[oy*s - p + ky, ox*s - p + kx, c] K[ky, kx, c, o], straight from the
// definition, with K read from the layer's kernel in its documented layout (Keras' [kh, kw, in, out]).
Matrix<double> direct_conv(const Matrix<double>& x, Index h, Index w, Index cin, const Matrix<double>& kernel,
                           const Matrix<double>& bias, Index k, Index s, Index p) {
    const Index cout = kernel.rows(), oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    auto K = [&](Index ky, Index kx, Index c, Index o) { return kernel(o, (ky * k + kx) * cin + c); };
    Matrix<double> y(oh * ow * cout, x.cols());
    for (Index n = 0; n < x.cols(); ++n)
        for (Index oy = 0; oy < oh; ++oy)
            for (Index ox = 0; ox < ow; ++ox)
                for (Index o = 0; o < cout; ++o) {
                    double sum = bias.size() ? bias(o, 0) : 0.0;
                    for (Index ky = 0; ky < k; ++ky)
                        for (Index kx = 0; kx < k; ++kx) {
                            const Index iy = oy * s - p + ky, ix = ox * s - p + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (Index c = 0; c < cin; ++c) sum += x((iy * w + ix) * cin + c, n) * K(ky, kx, c, o);
                        }
                    y((oy * ow + ox) * cout + o, n) = sum;
                }
    return y;
}

// y[iy*s - p + ky, ix*s - p + kx, o] += x[iy, ix, c] K[ky, kx, o, c], from PyTorch's definition of
// ConvTranspose2d, with K in the layer's documented layout (Keras' [kh, kw, out, in]).
Matrix<double> direct_conv_transpose(const Matrix<double>& x, Index h, Index w, Index cin, const Matrix<double>& kernel,
                                     Index cout, Index k, Index s, Index p) {
    const Index oh = (h - 1) * s - 2 * p + k, ow = (w - 1) * s - 2 * p + k;
    auto K = [&](Index ky, Index kx, Index o, Index c) { return kernel(c, (ky * k + kx) * cout + o); };
    Matrix<double> y = Matrix<double>::Zero(oh * ow * cout, x.cols());
    for (Index n = 0; n < x.cols(); ++n)
        for (Index iy = 0; iy < h; ++iy)
            for (Index ix = 0; ix < w; ++ix)
                for (Index ky = 0; ky < k; ++ky)
                    for (Index kx = 0; kx < k; ++kx) {
                        const Index oy = iy * s - p + ky, ox = ix * s - p + kx;
                        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                        for (Index o = 0; o < cout; ++o)
                            for (Index c = 0; c < cin; ++c)
                                y((oy * ow + ox) * cout + o, n) += x((iy * w + ix) * cin + c, n) * K(ky, kx, o, c);
                    }
    return y;
}

// The gradients of L = sum(dy .* conv(x)) with respect to the kernel and to x, from the same
// definition: dK[ky, kx, c, o] = sum dy[oy, ox, o] x[oy*s - p + ky, ox*s - p + kx, c], and dx the
// sum of dy[oy, ox, o] K[ky, kx, c, o] over every output pixel that saw x's pixel.
void direct_conv_backward(const Matrix<double>& x, const Matrix<double>& dy, Index h, Index w, Index cin,
                          const Matrix<double>& kernel, Index k, Index s, Index p, Matrix<double>& dkernel,
                          Matrix<double>& dx) {
    const Index cout = kernel.rows(), oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
    dkernel = Matrix<double>::Zero(kernel.rows(), kernel.cols());
    dx = Matrix<double>::Zero(x.rows(), x.cols());
    for (Index n = 0; n < x.cols(); ++n)
        for (Index oy = 0; oy < oh; ++oy)
            for (Index ox = 0; ox < ow; ++ox)
                for (Index ky = 0; ky < k; ++ky)
                    for (Index kx = 0; kx < k; ++kx) {
                        const Index iy = oy * s - p + ky, ix = ox * s - p + kx;
                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                        for (Index o = 0; o < cout; ++o) {
                            const double g = dy((oy * ow + ox) * cout + o, n);
                            for (Index c = 0; c < cin; ++c) {
                                dkernel(o, (ky * k + kx) * cin + c) += g * x((iy * w + ix) * cin + c, n);
                                dx((iy * w + ix) * cin + c, n) += g * kernel(o, (ky * k + kx) * cin + c);
                            }
                        }
                    }
}

// The same for the transposed convolution: dK[ky, kx, o, c] = sum dy[iy*s - p + ky, ix*s - p + kx, o] x[iy, ix, c].
void direct_conv_transpose_backward(const Matrix<double>& x, const Matrix<double>& dy, Index h, Index w, Index cin,
                                    const Matrix<double>& kernel, Index cout, Index k, Index s, Index p,
                                    Matrix<double>& dkernel, Matrix<double>& dx) {
    const Index oh = (h - 1) * s - 2 * p + k, ow = (w - 1) * s - 2 * p + k;
    dkernel = Matrix<double>::Zero(kernel.rows(), kernel.cols());
    dx = Matrix<double>::Zero(x.rows(), x.cols());
    for (Index n = 0; n < x.cols(); ++n)
        for (Index iy = 0; iy < h; ++iy)
            for (Index ix = 0; ix < w; ++ix)
                for (Index ky = 0; ky < k; ++ky)
                    for (Index kx = 0; kx < k; ++kx) {
                        const Index oy = iy * s - p + ky, ox = ix * s - p + kx;
                        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                        for (Index o = 0; o < cout; ++o) {
                            const double g = dy((oy * ow + ox) * cout + o, n);
                            for (Index c = 0; c < cin; ++c) {
                                dkernel(c, (ky * k + kx) * cout + o) += g * x((iy * w + ix) * cin + c, n);
                                dx((iy * w + ix) * cin + c, n) += g * kernel(c, (ky * k + kx) * cout + o);
                            }
                        }
                    }
}


template <class Layer>
void randomize(Layer& layer, Rng& rng) {  // every tensor N(0, 1)
    layer.for_each_parameter([&](const Parameter<double>& p) { rng.fill_normal(p.value); });
}

// Negative control: a Conv2D whose kernel gradient is 1% too large.
class Conv2DWithScaledKernelGradient : public Conv2D<double> {
public:
    using Conv2D<double>::Conv2D;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        const Matrix<double>& dx = Conv2D<double>::backward(x, dy, need_dx);
        for_each_parameter([&](const Parameter<double>& p) {
            if (std::string(p.name) == "kernel") p.gradient *= 1.01;
        });
        return dx;
    }
};

// Negative control: a ConvTranspose2D whose input gradient for the first input row is halved.
class ConvTransposeWithTruncatedInputGradient : public ConvTranspose2D<double> {
public:
    using ConvTranspose2D<double>::ConvTranspose2D;
    const Matrix<double>& backward(const Matrix<double>& x, const Matrix<double>& dy, bool need_dx = true) {
        wrong_ = ConvTranspose2D<double>::backward(x, dy, need_dx);
        wrong_.row(0) *= 0.5;
        return wrong_;
    }

private:
    Matrix<double> wrong_;
};

}  // namespace

TEST_CASE("Conv2D and ConvTranspose2D gradients match central differences over kernels, strides and paddings") {
    Rng rng(121);
    // Central differences of an objective near 10 round to about 1e-10 (10 x 2^-52 / 2h): below the
    // default floor of 1e-4 that is 1e-6 of relative error, at the tolerance, and an AVX2 build's
    // summation order went past it (1.3e-6 at an entry of 2.7e-5). A floor of 1e-3 measures such
    // entries to 1e-9, still a million times below any mistake of a layer's.
    GradientCheckOptions options;
    options.relative_floor = 1e-3;
    for (const Index k : {1, 2, 3})
        for (const Index s : {1, 2})
            for (const Index p : {0, 1}) {
                if (p >= k) continue;
                CAPTURE(k);
                CAPTURE(s);
                CAPTURE(p);
                const Index h = 5, w = 4, batch = (k + s) % 2 ? 1 : 2;  // non-square, odd; batch 1 in half the cases
                Conv2D<double> conv(3, 2, k, ConvOptions{s, p, true}, zero_init);
                conv.build({h, w, 3});
                randomize(conv, rng);
                const auto x = test::random_matrix<double>(h * w * 3, batch, rng);
                const GradientReport report = check_gradients(conv, x, rng, options);
                CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);

                ConvTranspose2D<double> deconv(3, 2, k, ConvOptions{s, p, k % 2 == 1}, zero_init);
                deconv.build({3, 2, 3});
                randomize(deconv, rng);
                const auto xt = test::random_matrix<double>(3 * 2 * 3, batch, rng);
                const GradientReport transposed = check_gradients(deconv, xt, rng, options);
                CHECK_MESSAGE(transposed.passed(1e-6), transposed.worst_entry, " ", transposed.non_finite);
            }
}

TEST_CASE("A convolution that spans several product tiles (100 outputs, 135-deep patches) passes the gradient check") {
    Rng rng(122);
    Conv2D<double> conv(15, 100, 3, ConvOptions{1, 1, true}, zero_init);  // 64-row tiles: 2; depth 3*3*15 = 135: 2 tiles
    conv.build({3, 2, 15});
    randomize(conv, rng);
    const auto x = test::random_matrix<double>(3 * 2 * 15, 1, rng);
    GradientCheckOptions options;
    options.relative_floor = 1e-2;  // sums of 135 products carry ~1e-9 of rounding in a central difference
    const GradientReport report = check_gradients(conv, x, rng, options);
    CHECK(report.entries_checked == 100 * 135 + 100 + 90);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Negative controls: a wrong kernel gradient and a wrong input gradient fail the check") {
    Rng rng(123);
    Conv2DWithScaledKernelGradient conv(2, 3, 3, ConvOptions{2, 1, true}, zero_init);
    conv.build({5, 5, 2});
    randomize(conv, rng);
    const GradientReport report = check_gradients(conv, test::random_matrix<double>(50, 2, rng), rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.worst_entry.rfind("conv2d.kernel (", 0) == 0);
    ConvTransposeWithTruncatedInputGradient deconv(2, 3, 3, ConvOptions{2, 1, false}, zero_init);
    deconv.build({3, 3, 2});
    randomize(deconv, rng);
    const GradientReport transposed = check_gradients(deconv, test::random_matrix<double>(18, 2, rng), rng);
    CHECK_FALSE(transposed.passed(1e-6));
    CHECK(transposed.worst_entry.rfind("input (0, ", 0) == 0);
}

TEST_CASE("At the DCGAN's sizes both layers equal a convolution written from its definition, on 1 and 2 threads") {
    test::on_one_and_two_threads([](int) {
        Rng rng(124);
        // The discriminator's second layer: 14x14x64 -> 7x7x128, k4 s2 p1, no bias; every entry of
        // the output, the kernel gradient and the input gradient.
        Conv2D<double> conv(64, 128, 4, ConvOptions{2, 1, false}, zero_init);
        conv.build({14, 14, 64});
        randomize(conv, rng);
        const auto x = test::random_matrix<double>(14 * 14 * 64, 3, rng);
        const Matrix<double> y = conv.forward(x);
        CHECK(test::max_difference(y, direct_conv(x, 14, 14, 64, conv.kernel(), Matrix<double>(), 4, 2, 1)) < 1e-10);
        const auto dy = test::random_matrix<double>(y.rows(), y.cols(), rng);
        const Matrix<double> dx = conv.backward(x, dy);
        Matrix<double> expected_dkernel, expected_dx;
        direct_conv_backward(x, dy, 14, 14, 64, conv.kernel(), 4, 2, 1, expected_dkernel, expected_dx);
        CHECK(test::max_difference(test::tensor_of(conv, "kernel", true), expected_dkernel) < 1e-10);
        CHECK(test::max_difference(dx, expected_dx) < 1e-10);

        // The generator's third layer: 7x7x128 -> 14x14x64, k4 s2 p1.
        ConvTranspose2D<double> deconv(128, 64, 4, ConvOptions{2, 1, false}, zero_init);
        deconv.build({7, 7, 128});
        randomize(deconv, rng);
        const auto xt = test::random_matrix<double>(7 * 7 * 128, 3, rng);
        const Matrix<double> yt = deconv.forward(xt);
        CHECK(test::max_difference(yt, direct_conv_transpose(xt, 7, 7, 128, deconv.kernel(), 64, 4, 2, 1)) < 1e-10);
        const Matrix<double> dyt = test::random_matrix<double>(yt.rows(), 3, rng);
        const Matrix<double> dxt = deconv.backward(xt, dyt);
        direct_conv_transpose_backward(xt, dyt, 7, 7, 128, deconv.kernel(), 64, 4, 2, 1, expected_dkernel, expected_dx);
        CHECK(test::max_difference(test::tensor_of(deconv, "kernel", true), expected_dkernel) < 1e-10);
        CHECK(test::max_difference(dxt, expected_dx) < 1e-10);
    });
}

TEST_CASE("ConvTranspose2D with output_padding, and PyTorch's initialisation with a bias") {
    Rng rng(127);
    ConvTranspose2D<double> deconv(2, 3, 3, ConvOptions{2, 1, true}, rng, ConvInit::pytorch, 1);
    CHECK(deconv.output_shape({3, 4, 2}) == Shape{6, 8, 3});  // (3-1)*2 - 2 + 3 + 1, (4-1)*2 - 2 + 3 + 1
    deconv.build({3, 4, 2});
    const auto x = test::random_matrix<double>(3 * 4 * 2, 2, rng);
    const GradientReport report = check_gradients(deconv, x, rng);
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
    // PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for kernel and bias, fan_in = out * k * k = 27.
    ConvTranspose2D<float> big(64, 27, 3, ConvOptions{1, 0, true}, rng, ConvInit::pytorch);
    const float bound = 1 / std::sqrt(27.0f * 9);
    CHECK(big.kernel().cwiseAbs().maxCoeff() <= bound);
    CHECK(big.kernel().cwiseAbs().maxCoeff() > 0.98f * bound);
    const Matrix<float> bias = test::tensor_of(big, "bias");
    CHECK(bias.cwiseAbs().maxCoeff() <= bound);
    CHECK(bias.cwiseAbs().maxCoeff() > 0);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ConvTranspose2D<float>(2, 3, 3, ConvOptions{2, 1, false}, zero_init, 2), ArgumentError,
                                       "0 <= output_padding < stride, got 2");
}

TEST_CASE("Shape errors name the layer and both shapes") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        make_sequential("d", Reshape<float>({3, 3, 1}), Conv2D<float>(1, 4, 5, {}, zero_init)), ShapeError,
        "layer 1 (Conv2D 1->4 k5 s1 p0) has a 5x5 kernel, larger than its padded input of 3x3, but layer 0 (Reshape to (3, 3, 1)) produces 9 (3, 3, 1)");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("d", Reshape<float>({4, 4, 2}), Conv2D<float>(3, 4, 3, {}, zero_init)), ShapeError,
                                       "(Conv2D 3->4 k3 s1 p0) expects images with 3 channels");
    // A ConvTranspose whose output does not fit the next layer.
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        make_sequential("g", Reshape<float>({1, 1, 8}), ConvTranspose2D<float>(8, 4, 4, ConvOptions{1, 0, false}, zero_init),
                        ConvTranspose2D<float>(4, 1, 3, ConvOptions{2, 1, false}, zero_init), Reshape<float>({28, 28, 1})),
        ShapeError, "layer 3 (Reshape to (28, 28, 1)) needs 784 elements per sample, but layer 2 (ConvTranspose2D 4->1 k3 s2 p1) produces 49 (7, 7, 1)");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("d", Conv2D<float>(1, 4, 3, {}, zero_init)), ArgumentError,
                                       "(Conv2D 1->4 k3 s1 p0) does not know the model's input shape: put "
                                       "Reshape({height, width, channels}) before it");
    Conv2D<float> loose(1, 2, 3, {}, zero_init);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(loose.forward(Matrix<float>::Ones(9, 1)), ShapeError, "does not know its input's height and width");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Conv2D<float>(1, 2, 0, {}, zero_init), ArgumentError, "kernel=0");
}

TEST_CASE("A small DCGAN, generator through a frozen discriminator, passes the gradient check whole") {
    Rng rng(125);
    const BatchNorm<double>::Options bn{0.9, 1e-5, true};
    auto generator = make_sequential("generator", Reshape<double>({1, 1, 4}), ConvTranspose2D<double>(4, 6, 3, ConvOptions{1, 0, false}, rng),
                                     BatchNorm<double>(6, bn), ReLU<double>{},
                                     ConvTranspose2D<double>(6, 1, 4, ConvOptions{2, 1, false}, rng), Tanh<double>{});
    auto discriminator = make_sequential("discriminator", Reshape<double>({6, 6, 1}), Conv2D<double>(1, 4, 4, ConvOptions{2, 1, false}, rng),
                                         LeakyReLU<double>(0.2), Conv2D<double>(4, 5, 3, ConvOptions{1, 0, false}, rng),
                                         BatchNorm<double>(5, bn), LeakyReLU<double>(0.2), Flatten<double>(),
                                         Dense<double>(5, 1, rng), Sigmoid<double>{});
    CHECK(generator.output_shape() == Shape{6, 6, 1});
    const auto z = test::random_matrix<double>(4, 3, rng);
    Frozen frozen(discriminator);
    auto gan = chain(generator, discriminator);
    gan.set_training(true);
    const GradientReport report = check_loss_gradients(gan, z, Matrix<double>::Ones(1, 3));
    CHECK(report.entries_checked == (4 * 9 * 6) + (6 + 6) + (6 * 16) + z.size());
    CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);
}

TEST_CASE("Checkpoints store convolution kernels in Keras' layouts, [kh, kw, in, out] and [kh, kw, out, in]") {
    Rng rng(126);
    Conv2D<float> conv(2, 3, 2, ConvOptions{1, 0, true}, rng);
    ConvTranspose2D<float> deconv(2, 3, 2, ConvOptions{1, 0, false}, rng);
    TensorFile file;
    save_model(file, "c", conv);
    save_model(file, "t", deconv);
    const Tensor& k = *file.find("c.conv2d.kernel");
    CHECK(k.shape == std::vector<std::int64_t>{2, 2, 2, 3});
    CHECK(file.find("c.conv2d.bias")->shape == std::vector<std::int64_t>{3});
    const Tensor& t = *file.find("t.conv_transpose2d.kernel");
    CHECK(t.shape == std::vector<std::int64_t>{2, 2, 3, 2});
    auto at = [](const Tensor& tensor, std::size_t i) {
        float v;
        std::memcpy(&v, tensor.data.data() + 4 * i, 4);
        return v;
    };
    for (Index ky = 0; ky < 2; ++ky)
        for (Index kx = 0; kx < 2; ++kx)
            for (Index c = 0; c < 2; ++c)
                for (Index o = 0; o < 3; ++o) {
                    // Row-major [ky][kx][c][o] for Conv2D; [ky][kx][o][c] for ConvTranspose2D.
                    CHECK(at(k, static_cast<std::size_t>(((ky * 2 + kx) * 2 + c) * 3 + o)) == conv.kernel()(o, (ky * 2 + kx) * 2 + c));
                    CHECK(at(t, static_cast<std::size_t>(((ky * 2 + kx) * 3 + o) * 2 + c)) == deconv.kernel()(c, (ky * 2 + kx) * 3 + o));
                }
}
