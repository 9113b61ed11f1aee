// Conv2D and ConvTranspose2D: gradients against central differences over a grid of kernels,
// strides and paddings (odd and non-square images, batch 1, a layer spanning several product
// tiles), a comparison with a direct convolution written from the definition at the DCGAN's
// sizes on 1 and 2 threads, negative controls, shape errors, and a small DCGAN checked whole.
#include "test_support.hpp"

#include <tinygan/conv.hpp>

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

template <class Layer>
Matrix<double> gradient_of(Layer& layer, const char* name) {
    Matrix<double> g;
    layer.for_each_parameter([&](const Parameter<double>& p) {
        if (std::string(p.name) == name) g = p.gradient;
    });
    return g;
}

template <class Layer>
void randomize(Layer& layer, Rng& rng) {
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

// Negative control: a ConvTranspose2D whose input gradient misses the last kernel column's share.
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
    for (const Index k : {1, 2, 3})
        for (const Index s : {1, 2})
            for (const Index p : {0, 1}) {
                if (p >= k) continue;
                CAPTURE(k);
                CAPTURE(s);
                CAPTURE(p);
                const Index h = 5, w = 4, batch = (k + s) % 2 ? 1 : 2;  // non-square, odd; batch 1 in half the cases
                Conv2D<double> conv(3, 2, k, ConvOptions{s, p, true});
                conv.build({h, w, 3});
                randomize(conv, rng);
                const auto x = test::random_matrix<double>(h * w * 3, batch, rng);
                const GradientReport report = check_gradients(conv, x, rng);
                CHECK_MESSAGE(report.passed(1e-6), report.worst_entry, " ", report.non_finite);

                ConvTranspose2D<double> deconv(3, 2, k, ConvOptions{s, p, k % 2 == 1});
                deconv.build({3, 2, 3});
                randomize(deconv, rng);
                const auto xt = test::random_matrix<double>(3 * 2 * 3, batch, rng);
                const GradientReport transposed = check_gradients(deconv, xt, rng);
                CHECK_MESSAGE(transposed.passed(1e-6), transposed.worst_entry, " ", transposed.non_finite);
            }
}

TEST_CASE("A convolution that spans several product tiles (100 outputs, 135-deep patches) passes the gradient check") {
    Rng rng(122);
    Conv2D<double> conv(15, 100, 3, ConvOptions{1, 1, true});  // 64-row tiles: 2; depth 3*3*15 = 135: 2 tiles
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
    Conv2DWithScaledKernelGradient conv(2, 3, 3, ConvOptions{2, 1, true});
    conv.build({5, 5, 2});
    randomize(conv, rng);
    const GradientReport report = check_gradients(conv, test::random_matrix<double>(50, 2, rng), rng);
    CHECK_FALSE(report.passed(1e-6));
    CHECK(report.worst_entry.rfind("conv2d.kernel (", 0) == 0);
    ConvTransposeWithTruncatedInputGradient deconv(2, 3, 3, ConvOptions{2, 1, false});
    deconv.build({3, 3, 2});
    randomize(deconv, rng);
    const GradientReport transposed = check_gradients(deconv, test::random_matrix<double>(18, 2, rng), rng);
    CHECK_FALSE(transposed.passed(1e-6));
    CHECK(transposed.worst_entry.rfind("input (0, ", 0) == 0);
}

TEST_CASE("At the DCGAN's sizes both layers equal a convolution written from its definition, on 1 and 2 threads") {
    for (const int threads : {1, 2}) {
        CAPTURE(threads);
        set_num_threads(threads);
        Rng rng(124);
        // The discriminator's second layer: 14x14x64 -> 7x7x128, k4 s2 p1, no bias.
        Conv2D<double> conv(64, 128, 4, ConvOptions{2, 1, false});
        conv.build({14, 14, 64});
        randomize(conv, rng);
        const auto x = test::random_matrix<double>(14 * 14 * 64, 3, rng);
        const Matrix<double> y = conv.forward(x);
        const Matrix<double> expected = direct_conv(x, 14, 14, 64, conv.kernel(), Matrix<double>(), 4, 2, 1);
        CHECK((y - expected).cwiseAbs().maxCoeff() < 1e-10);
        // Backward against the same definition: dL/dK and dL/dx of L = sum(dy .* y), by linearity.
        const auto dy = test::random_matrix<double>(y.rows(), y.cols(), rng);
        const Matrix<double> dx = conv.backward(x, dy);
        const Matrix<double> dW = gradient_of(conv, "kernel");
        Matrix<double> unit = Matrix<double>::Zero(conv.kernel().rows(), conv.kernel().cols());
        for (const Index i : {Index(0), Index(777), unit.size() - 1}) {  // a few kernel entries, each on its own
            unit.setZero();
            unit(i) = 1;
            CHECK(dW(i) == doctest::Approx((dy.array() * direct_conv(x, 14, 14, 64, unit, Matrix<double>(), 4, 2, 1).array()).sum()));
        }
        for (const Index i : {Index(0), Index(5000), x.rows() - 1}) {
            Matrix<double> e = Matrix<double>::Zero(x.rows(), 3);
            e(i, 1) = 1;
            CHECK(dx(i, 1) == doctest::Approx((dy.array() * direct_conv(e, 14, 14, 64, conv.kernel(), Matrix<double>(), 4, 2, 1).array()).sum()));
        }

        // The generator's third layer: 7x7x128 -> 14x14x64, k4 s2 p1.
        ConvTranspose2D<double> deconv(128, 64, 4, ConvOptions{2, 1, false});
        deconv.build({7, 7, 128});
        randomize(deconv, rng);
        const auto xt = test::random_matrix<double>(7 * 7 * 128, 3, rng);
        const Matrix<double> yt = deconv.forward(xt);
        CHECK((yt - direct_conv_transpose(xt, 7, 7, 128, deconv.kernel(), 64, 4, 2, 1)).cwiseAbs().maxCoeff() < 1e-10);
        // ConvTranspose is Conv2D's adjoint: <conv(a), b> == <a, convT(b)> for the same kernel.
        const Matrix<double> dyt = test::random_matrix<double>(yt.rows(), 3, rng);
        const Matrix<double> dxt = deconv.backward(xt, dyt);
        CHECK((dxt.array() * xt.array()).sum() == doctest::Approx((dyt.array() * yt.array()).sum()));
    }
    set_num_threads(1);
}

TEST_CASE("Shape errors name the layer and both shapes") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        make_sequential("d", Reshape<float>({3, 3, 1}), Conv2D<float>(1, 4, 5)), ShapeError,
        "layer 1 (Conv2D 1->4 k5 s1 p0) has a 5x5 kernel, larger than its padded input of 3x3, but layer 0 (Reshape to (3, 3, 1)) produces 9 (3, 3, 1)");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(make_sequential("d", Reshape<float>({4, 4, 2}), Conv2D<float>(3, 4, 3)), ShapeError,
                                       "(Conv2D 3->4 k3 s1 p0) expects images with 3 channels");
    // A ConvTranspose whose output does not fit the next layer.
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(
        make_sequential("g", Reshape<float>({1, 1, 8}), ConvTranspose2D<float>(8, 4, 4, ConvOptions{1, 0, false}),
                        ConvTranspose2D<float>(4, 1, 3, ConvOptions{2, 1, false}), Reshape<float>({28, 28, 1})),
        ShapeError, "layer 3 (Reshape to (28, 28, 1)) needs 784 elements per sample, but layer 2 (ConvTranspose2D 4->1 k3 s2 p1) produces 49 (7, 7, 1)");
    Conv2D<float> loose(1, 2, 3);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(loose.forward(Matrix<float>::Ones(9, 1)), ShapeError, "does not know its input's height and width");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(Conv2D<float>(1, 2, 0), ArgumentError, "kernel=0");
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
