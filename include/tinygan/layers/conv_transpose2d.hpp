// ConvTranspose2D<Scalar>: the transposed convolution of PyTorch's ConvTranspose2d and Keras'
// Conv2DTranspose, over channels-last images; each input pixel spreads its values over a k x k
// window of the output, s pixels apart, cropped by p on every side:
//     y[iy*s - p + ky, ix*s - p + kx, o] += x[iy, ix, c] * K[ky, kx, o, c]   (+ b[o] everywhere)
// Output size, PyTorch's rule: OH = (H - 1) * s - 2p + k (+ output_padding, on the bottom and
// right). It is the adjoint of a Conv2D with the same k, s, p from the output to the input, so it
// is built from the same pieces: cols = W^T x, then col2im onto the output.
// W is (in x k*k*out), column (ky*k + kx)*out + o; its column-major bytes are Keras' kernel,
// [kh, kw, out, in] row-major, which is how checkpoints store it. PyTorch's
// ConvTranspose2d.weight [in, out, kh, kw] is the same tensor permuted.
#pragma once

#include "../config.hpp"
#include "../detail/gemm_tiles.hpp"
#include "../detail/im2col.hpp"
#include "../error.hpp"
#include "../detail/worker_pool.hpp"
#include "../parameter.hpp"
#include "../random.hpp"
#include "conv_options.hpp"

#include <optional>
#include <string>

namespace tinygan {

template <class ScalarType>
class ConvTranspose2D {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Initialised as `how` says: Keras' defaults unless asked for PyTorch's. output_padding
    // (< stride) adds rows and columns at the bottom and right, as PyTorch's output_padding does.
    ConvTranspose2D(Index in_channels, Index out_channels, Index kernel, ConvOptions options, Rng& rng,
                    ConvInit how = ConvInit::keras, Index output_padding = 0)
        : ConvTranspose2D(in_channels, out_channels, kernel, options, zero_init, output_padding) {
        init(rng, how);
    }

    // All-zero weights, asked for explicitly (weights about to be loaded); init(rng) draws them later.
    ConvTranspose2D(Index in_channels, Index out_channels, Index kernel, ConvOptions options, ZeroInit,
                    Index output_padding = 0)
        : kernel_size_(kernel), options_(options), output_padding_(output_padding) {
        detail::require_conv_arguments("ConvTranspose2D", in_channels, out_channels, kernel, options);
        if (output_padding < 0 || output_padding >= options.stride)
            throw ArgumentError(detail::concat("ConvTranspose2D needs 0 <= output_padding < stride, got ", output_padding));
        W_ = M::Zero(in_channels, kernel * kernel * out_channels);
        dW_ = M::Zero(W_.rows(), W_.cols());
        b_ = M::Zero(out_channels, 1);
        db_ = M::Zero(out_channels, 1);
    }

    // Without an Rng the weights would be zeros and never break symmetry: refused at compile time.
    template <class Missing = void>
    ConvTranspose2D(Index, Index, Index, ConvOptions = {}) {
        static_assert(detail::dependent_false<Missing>,
                      "tinygan: ConvTranspose2D(in, out, kernel, options) needs an Rng to draw its weights: "
                      "ConvTranspose2D(in, out, kernel, options, rng); ConvTranspose2D(in, out, kernel, options, "
                      "zero_init) for zeros");
    }

    // Keras' Conv2DTranspose: glorot-uniform with fan_in k*k*out, fan_out k*k*in, zero bias.
    // PyTorch's ConvTranspose2d counts fan_in from its weight's second axis: out * k * k.
    void init(Rng& rng, ConvInit how = ConvInit::keras) {
        const Index field = kernel_size_ * kernel_size_;
        detail::init_conv(how, W_, b_, field, out_channels(), in_channels(), out_channels() * field, rng);
    }

    void build(const Shape& input) {
        const std::string mismatch = input_mismatch(input);
        if (!mismatch.empty()) throw ShapeError(description() + " " + mismatch + ", got " + to_string(input));
        in_height_ = input[0];
        in_width_ = input[1];
        const Shape out = output_shape(input);
        // The convolution this layer is the transpose of: over the output image, onto the input grid.
        geometry_ = detail::ConvGeometry(out[0], out[1], out_channels(), kernel_size_, options_.stride, options_.padding);
        geometry_.out_height = in_height_;
        geometry_.out_width = in_width_;
    }

    // x: (H*W*in) x batch -> y: (OH*OW*out) x batch.  cols = W^T X (X: x as in x H*W*batch), then
    // y = b + col2im(cols).
    const M& forward(const M& x) {
        require_built();
        if (x.rows() != in_height_ * in_width_ * in_channels())
            throw ShapeError(detail::concat(description(), " expects ", in_height_ * in_width_ * in_channels(),
                                            " input features (", in_height_, "x", in_width_, "x", in_channels(),
                                            " images), got ", x.rows()));
        const Index batch = x.cols(), pixels = in_height_ * in_width_ * batch;
        const Eigen::Map<const M> X(x.data(), in_channels(), pixels);
        cols_.resize(geometry_.patch_size(), pixels);
        detail::multiply_columns_in_parallel(cols_, W_.transpose(), X);
        y_.resize(geometry_.image_size(), batch);
        Eigen::Map<M> Y(y_.data(), out_channels(), geometry_.height * geometry_.width * batch);
        if (options_.use_bias)
            Y.colwise() = b_.col(0);
        else
            Y.setZero();
        detail::parallel_for(batch, 1, 1e9, [&](Index first, Index last) {
            detail::col2im_add(cols_.data(), y_.data(), geometry_, first, last);
        });
        return y_;
    }

    // dcols = im2col(dy);  dW = X dcols^T;  db = sum of dy over pixels and batch;  dx = W dcols.
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == y_.rows() && dy.cols() == x.cols());
        const Index batch = x.cols(), pixels = in_height_ * in_width_ * batch;
        dcols_.resize(geometry_.patch_size(), pixels);
        detail::parallel_for(batch, 1, 1e9, [&](Index first, Index last) {
            detail::im2col(dy.data(), dcols_.data(), geometry_, first, last);
        });
        const Eigen::Map<const M> X(x.data(), in_channels(), pixels);
        if (trainable_) {
            detail::multiply_columns_in_parallel(dW_, X, dcols_.transpose());
            if (options_.use_bias)
                db_.noalias() = Eigen::Map<const M>(dy.data(), out_channels(), dy.size() / out_channels()).rowwise().sum();
        }
        if (need_dx) {
            dx_.resize(x.rows(), batch);
            Eigen::Map<M> DX(dx_.data(), in_channels(), pixels);
            detail::multiply_columns_in_parallel(DX, W_, dcols_);
        }
        return dx_;
    }

    // The kernel is stored as Keras stores it, [kh, kw, out, in]; the bias as [out].
    template <class F>
    void for_each_parameter(F&& f) {
        f(Parameter<Scalar>{"kernel", W_, dW_, trainable_, false,
                            {kernel_size_, kernel_size_, out_channels(), in_channels()}});
        if (options_.use_bias) f(Parameter<Scalar>{"bias", b_, db_, trainable_, false, {out_channels()}});
    }

    // PyTorch's rule: (H - 1) * stride - 2 * padding + kernel + output_padding.
    Shape output_shape(const Shape& input) const {
        return {out_size(input[0]), out_size(input[1]), out_channels()};
    }
    std::string input_mismatch(const Shape& input) const {
        if (input.size() != 3) return detail::concat("expects images of shape (height, width, ", in_channels(), ")");
        if (input[2] != in_channels()) return detail::concat("expects images with ", in_channels(), " channels");
        if (out_size(input[0]) <= 0 || out_size(input[1]) <= 0)
            return detail::concat("would produce an empty image (padding ", options_.padding, " crops more than the ",
                                  kernel_size_, "x", kernel_size_, " kernel adds)");
        return {};
    }
    std::optional<Shape> declared_input_shape() const { return std::nullopt; }
    std::string type_name() const { return "ConvTranspose2D"; }
    std::string description() const {
        return detail::concat("ConvTranspose2D ", in_channels(), "->", out_channels(), " k", kernel_size_, " s",
                              options_.stride, " p", options_.padding);
    }
    Index parameter_count() const { return W_.size() + (options_.use_bias ? b_.size() : 0); }
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }

    Index in_channels() const { return W_.rows(); }
    Index out_channels() const { return W_.cols() / (kernel_size_ * kernel_size_); }
    Index kernel_size() const { return kernel_size_; }
    const M& kernel() const { return W_; }  // (in x kh*kw*out), column (ky*kw + kx)*out + o

private:
    Index out_size(Index in) const { return (in - 1) * options_.stride - 2 * options_.padding + kernel_size_ + output_padding_; }

    void require_built() const {
        if (in_height_ == 0)
            throw ShapeError(description() + " does not know its input's height and width: put it in a Sequential after "
                                             "a layer of shape (H, W, C), or call build({H, W, C})");
    }

    Index kernel_size_;
    ConvOptions options_;
    Index output_padding_;
    Index in_height_ = 0, in_width_ = 0;
    detail::ConvGeometry geometry_;  // the adjoint convolution: over the output image, onto the input grid
    M W_, b_, dW_, db_;
    M cols_, dcols_, y_, dx_;
    bool trainable_ = true;
};

}  // namespace tinygan
