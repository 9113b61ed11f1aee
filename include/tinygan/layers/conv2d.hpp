// Conv2D<Scalar>: a 2-D convolution (cross-correlation, as PyTorch's Conv2d and Keras' Conv2D) over
// channels-last images, stride s, zero padding p on every side, optional bias:
//     y[oy, ox, o] = b[o] + sum over ky, kx, c of x[oy*s - p + ky, ox*s - p + kx, c] * K[ky, kx, c, o]
// Built on im2col (detail/im2col.hpp): the product of the kernel matrix W (out x k*k*in) with the
// input's patches. W's column-major bytes are Keras' kernel, [kh, kw, in, out] row-major, which is
// how checkpoints store it; PyTorch's Conv2d.weight [out, in, kh, kw] is the same tensor permuted.
//
// Images are samples of shape (H, W, C): the layer learns H, W and C from the shape before it when
// a Sequential is built (build). First in a Sequential, it needs that shape declared before it:
// make_sequential("d", Reshape<float>({28, 28, 1}), Conv2D<float>(1, 64, 4, {2, 1}, rng), ...).
#pragma once

#include "../config.hpp"
#include "../detail/gemm_tiles.hpp"
#include "../detail/im2col.hpp"
#include "../error.hpp"
#include "../detail/worker_pool.hpp"
#include "../parameter.hpp"
#include "../random.hpp"
#include "conv_options.hpp"

#include <cmath>
#include <optional>
#include <string>

namespace tinygan {

template <class ScalarType>
class Conv2D {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Initialised as `how` says: Keras' defaults unless asked for PyTorch's.
    Conv2D(Index in_channels, Index out_channels, Index kernel, ConvOptions options, Rng& rng, ConvInit how = ConvInit::keras)
        : Conv2D(in_channels, out_channels, kernel, options, zero_init) {
        init(rng, how);
    }

    // All-zero weights, asked for explicitly (weights about to be loaded); init(rng) draws them later.
    Conv2D(Index in_channels, Index out_channels, Index kernel, ConvOptions options, ZeroInit)
        : kernel_size_(kernel), options_(options) {
        detail::require_conv_arguments("Conv2D", in_channels, out_channels, kernel, options);
        W_ = M::Zero(out_channels, kernel * kernel * in_channels);
        dW_ = M::Zero(W_.rows(), W_.cols());
        b_ = M::Zero(out_channels, 1);
        db_ = M::Zero(out_channels, 1);
    }

    // Without an Rng the weights would be zeros and never break symmetry: refused at compile time.
    template <class Missing = void>
    Conv2D(Index, Index, Index, ConvOptions = {}) {
        static_assert(detail::dependent_false<Missing>,
                      "tinygan: Conv2D(in, out, kernel, options) needs an Rng to draw its weights: "
                      "Conv2D(in, out, kernel, options, rng); Conv2D(in, out, kernel, options, zero_init) for zeros");
    }

    // PyTorch's Conv2d counts fan_in as in * k * k.
    void init(Rng& rng, ConvInit how = ConvInit::keras) {
        const Index field = kernel_size_ * kernel_size_;
        detail::init_conv(how, W_, b_, field, in_channels(), out_channels(), in_channels() * field, rng);
    }

    // The input images' shape (H, W, in); a Sequential calls it with the shape before the layer.
    void build(const Shape& input) {
        const std::string mismatch = input_mismatch(input);
        if (!mismatch.empty()) throw ShapeError(description() + " " + mismatch + ", got " + to_string(input));
        geometry_ = detail::ConvGeometry(input[0], input[1], input[2], kernel_size_, options_.stride, options_.padding);
    }

    // x: (H*W*in) x batch -> y: (OH*OW*out) x batch.  Y = W * im2col(x) + b, where Y is y seen as
    // (out x OH*OW*batch): the product's columns are the output pixels, channels-last already.
    const M& forward(const M& x) {
        require_built();
        if (x.rows() != geometry_.image_size())
            throw ShapeError(detail::concat(description(), " expects ", geometry_.image_size(), " input features (",
                                            geometry_.height, "x", geometry_.width, "x", in_channels(),
                                            " images), got ", x.rows()));
        const Index batch = x.cols(), pixels = geometry_.out_pixels() * batch;
        patches_.resize(geometry_.patch_size(), pixels);
        detail::parallel_for(batch, 1, 1e9, [&](Index first, Index last) {
            detail::im2col(x.data(), patches_.data(), geometry_, first, last);
        });
        y_.resize(geometry_.out_pixels() * out_channels(), batch);
        Eigen::Map<M> Y(y_.data(), out_channels(), pixels);
        if (options_.use_bias) Y.colwise() = b_.col(0);
        detail::multiply_columns_in_parallel(Y, W_, patches_, options_.use_bias);
        return y_;
    }

    // dW = dY patches^T, db = sum of dY over pixels and batch, dx = col2im(W^T dY).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == y_.rows() && dy.cols() == x.cols());
        const Index pixels = geometry_.out_pixels() * x.cols();
        const Eigen::Map<const M> DY(dy.data(), out_channels(), pixels);
        if (trainable_) {
            detail::multiply_columns_in_parallel(dW_, DY, patches_.transpose());
            if (options_.use_bias) db_.noalias() = DY.rowwise().sum();
        }
        if (need_dx) {
            dpatches_.resize(patches_.rows(), pixels);
            detail::multiply_columns_in_parallel(dpatches_, W_.transpose(), DY);
            dx_.setZero(x.rows(), x.cols());
            detail::parallel_for(x.cols(), 1, 1e9, [&](Index first, Index last) {
                detail::col2im_add(dpatches_.data(), dx_.data(), geometry_, first, last);
            });
        }
        return dx_;
    }

    // The kernel is stored as Keras stores it, [kh, kw, in, out]; the bias as [out].
    template <class F>
    void for_each_parameter(F&& f) {
        f(Parameter<Scalar>{"kernel", W_, dW_, trainable_, false,
                            {kernel_size_, kernel_size_, in_channels(), out_channels()}});
        if (options_.use_bias) f(Parameter<Scalar>{"bias", b_, db_, trainable_, false, {out_channels()}});
    }

    Shape output_shape(const Shape& input) const {
        const detail::ConvGeometry g(input[0], input[1], input[2], kernel_size_, options_.stride, options_.padding);
        return {g.out_height, g.out_width, out_channels()};
    }
    std::string input_mismatch(const Shape& input) const {
        if (input.size() != 3) return detail::concat("expects images of shape (height, width, ", in_channels(), ")");
        if (input[2] != in_channels()) return detail::concat("expects images with ", in_channels(), " channels");
        if (input[0] + 2 * options_.padding < kernel_size_ || input[1] + 2 * options_.padding < kernel_size_)
            return detail::concat("has a ", kernel_size_, "x", kernel_size_, " kernel, larger than its padded input of ",
                                  input[0] + 2 * options_.padding, "x", input[1] + 2 * options_.padding);
        return {};
    }
    std::optional<Shape> declared_input_shape() const { return std::nullopt; }
    std::string type_name() const { return "Conv2D"; }
    std::string description() const {
        return detail::concat("Conv2D ", in_channels(), "->", out_channels(), " k", kernel_size_, " s", options_.stride,
                              " p", options_.padding);
    }
    Index parameter_count() const { return W_.size() + (options_.use_bias ? b_.size() : 0); }
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }

    Index in_channels() const { return W_.cols() / (kernel_size_ * kernel_size_); }
    Index out_channels() const { return W_.rows(); }
    Index kernel_size() const { return kernel_size_; }
    const ConvOptions& options() const { return options_; }
    const M& kernel() const { return W_; }  // (out x kh*kw*in), column (ky*kw + kx)*in + c

private:
    void require_built() const {
        if (geometry_.height == 0)
            throw ShapeError(description() + " does not know its input's height and width: put it in a Sequential after "
                                             "a layer of shape (H, W, C), or call build({H, W, C})");
    }

    Index kernel_size_;
    ConvOptions options_;
    detail::ConvGeometry geometry_;
    M W_, b_, dW_, db_;
    M patches_, dpatches_, y_, dx_;
    bool trainable_ = true;
};

}  // namespace tinygan
