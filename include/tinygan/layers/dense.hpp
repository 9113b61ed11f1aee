// Dense<Scalar>: y = W x + b, the fully connected layer. W is stored (out x in) so the forward is
// one product W * x; Keras stores its kernel transposed, (in x out).
#pragma once

#include "../config.hpp"
#include "../detail/gemm_tiles.hpp"
#include "../error.hpp"
#include "../random.hpp"

#include <optional>
#include <string>

namespace tinygan {

template <class ScalarType>
class Dense {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Zero weights; call init(rng) for Keras' initialisation.
    Dense(Index in_features, Index out_features) {
        if (in_features <= 0 || out_features <= 0)
            throw ArgumentError(detail::concat("Dense needs positive sizes, got in_features=", in_features,
                                               " out_features=", out_features));
        W_ = M::Zero(out_features, in_features);
        b_ = M::Zero(out_features, 1);
        dW_ = M::Zero(out_features, in_features);
        db_ = M::Zero(out_features, 1);
    }

    // Keras defaults: glorot-uniform kernel, zero bias.
    Dense(Index in_features, Index out_features, Rng& rng) : Dense(in_features, out_features) { init(rng); }

    void init(Rng& rng) {
        glorot_uniform(W_, rng);
        b_.setZero();
    }

    // x: in x batch -> y: out x batch.  y = W x + b.
    const M& forward(const M& x) {
        if (x.rows() != W_.cols())
            throw ShapeError(detail::concat(description(), " expects ", W_.cols(),
                                            " input features (rows), got ", x.rows()));
        y_.resize(W_.rows(), x.cols());
        detail::multiply_in_tiles(y_, W_, x);
        y_.colwise() += b_.col(0);
        return y_;
    }

    // dy: out x batch -> dx: in x batch.  dW = dy x^T, db = sum over the batch of dy, dx = W^T dy.
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(x.rows() == W_.cols() && dy.rows() == W_.rows() && dy.cols() == x.cols());
        if (trainable_) {
            dW_.noalias() = dy * x.transpose();
            db_.noalias() = dy.rowwise().sum();
        }
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            detail::multiply_in_tiles(dx_, W_.transpose(), dy);
        }
        return dx_;
    }

    template <class F>
    void for_each_parameter(F&& f) {
        f("kernel", W_, dW_, trainable_);
        f("bias", b_, db_, trainable_);
    }

    Shape output_shape(const Shape&) const { return {W_.rows()}; }
    std::string input_mismatch(const Shape& input) const {
        if (element_count(input) == W_.cols()) return {};
        return detail::concat("expects ", W_.cols(), " input features");
    }
    std::optional<Shape> declared_input_shape() const { return Shape{W_.cols()}; }
    std::string type_name() const { return "Dense"; }
    std::string description() const { return detail::concat("Dense ", W_.cols(), "->", W_.rows()); }
    Index parameter_count() const { return W_.size() + b_.size(); }
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }

    Index in_features() const { return W_.cols(); }
    Index out_features() const { return W_.rows(); }
    M& kernel() { return W_; }  // (out x in)
    M& bias() { return b_; }    // (out x 1)
    const M& kernel() const { return W_; }
    const M& bias() const { return b_; }

private:
    M W_, b_;    // parameters
    M dW_, db_;  // their gradients, assigned by backward
    M y_, dx_;   // output and input-gradient buffers, reused from batch to batch
    bool trainable_ = true;
};

}  // namespace tinygan
