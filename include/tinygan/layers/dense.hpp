// Dense<Scalar>: y = W x + b, the fully connected layer. W is stored (out x in) so the forward is
// one product W * x; Keras stores its kernel transposed, (in x out).
#pragma once

#include "../config.hpp"
#include "../detail/gemm_tiles.hpp"
#include "../detail/worker_pool.hpp"
#include "../error.hpp"
#include "../parameter.hpp"
#include "../random.hpp"

#include <optional>
#include <string>

namespace tinygan {

template <class ScalarType>
class Dense {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Keras defaults: glorot-uniform kernel, zero bias.
    Dense(Index in_features, Index out_features, Rng& rng) : Dense(in_features, out_features, zero_init) { init(rng); }

    // All-zero weights, asked for explicitly (weights about to be loaded); init(rng) draws them later.
    Dense(Index in_features, Index out_features, ZeroInit) {
        if (in_features <= 0 || out_features <= 0)
            throw ArgumentError(detail::concat("Dense needs positive sizes, got in_features=", in_features,
                                               " out_features=", out_features));
        W_ = M::Zero(out_features, in_features);
        b_ = M::Zero(out_features, 1);
        dW_ = M::Zero(out_features, in_features);
        db_ = M::Zero(out_features, 1);
    }

    // Without an Rng the weights would be zeros and never break symmetry: refused at compile time.
    template <class Missing = void>
    Dense(Index, Index) {
        static_assert(detail::dependent_false<Missing>,
                      "tinygan: Dense(in, out) needs an Rng to draw its weights: Dense(in, out, rng); "
                      "Dense(in, out, zero_init) for zeros");
    }

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
        // Threads take disjoint row ranges of y (the output features), at tile boundaries.
        const Index out = W_.rows();
        detail::parallel_for(out, detail::gemm_tile_rows(out), 2.0 * W_.size() * x.cols(), [&](Index begin, Index end) {
            const Index n = end - begin;
            y_.middleRows(begin, n).colwise() = b_.col(0).segment(begin, n);  // the bias first, then += W x:
            detail::multiply_in_tiles(y_.middleRows(begin, n), W_.middleRows(begin, n), x, begin, out, true);  // one pass fewer
        });
        return y_;
    }

    // dy: out x batch -> dx: in x batch.  dW = dy x^T, db = sum over the batch of dy, dx = W^T dy.
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(x.rows() == W_.cols() && dy.rows() == W_.rows() && dy.cols() == x.cols());
        const Index out = W_.rows(), in = W_.cols();
        const double flops = 2.0 * W_.size() * x.cols();
        if (trainable_) {  // threads take disjoint rows of dW and db (the output features)
            detail::parallel_for(out, detail::gemm_tile_rows(out), flops, [&](Index begin, Index end) {
                const Index n = end - begin;
                detail::multiply_in_tiles(dW_.middleRows(begin, n), dy.middleRows(begin, n), x.transpose(), begin, out);
                db_.middleRows(begin, n).noalias() = dy.middleRows(begin, n).rowwise().sum();
            });
        }
        if (need_dx) {  // threads take disjoint rows of dx (the input features)
            dx_.resize(in, x.cols());
            detail::parallel_for(in, detail::gemm_tile_rows(in), flops, [&](Index begin, Index end) {
                const Index n = end - begin;
                detail::multiply_in_tiles(dx_.middleRows(begin, n), W_.middleCols(begin, n).transpose(), dy, begin, in);
            });
        }
        return dx_;
    }

    // Checkpoints store the kernel as Keras does, [in, out] row-major: the same bytes as W.
    template <class F>
    void for_each_parameter(F&& f) {
        f(Parameter<Scalar>{"kernel", W_, dW_, trainable_, false, {W_.cols(), W_.rows()}});
        f(Parameter<Scalar>{"bias", b_, db_, trainable_, false, {b_.rows()}});
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
    const M& kernel() const { return W_; }  // (out x in): PyTorch's Linear.weight; Keras' kernel transposed
    const M& bias() const { return b_; }    // (out x 1)
    // Replace the kernel or the bias; a matrix of another shape is refused (nothing is resized).
    template <class Derived>
    void set_kernel(const Eigen::MatrixBase<Derived>& kernel) { assign_checked(W_, kernel, "kernel"); }
    template <class Derived>
    void set_bias(const Eigen::MatrixBase<Derived>& bias) { assign_checked(b_, bias, "bias"); }

private:
    template <class Derived>
    void assign_checked(M& target, const Eigen::MatrixBase<Derived>& source, const char* name) {
        if (source.rows() != target.rows() || source.cols() != target.cols())
            throw ShapeError(detail::concat(description(), ": its ", name, " is ", target.rows(), " x ", target.cols(),
                                            ", got a ", source.rows(), " x ", source.cols(), " matrix"));
        target = source.template cast<Scalar>();
    }

    M W_, b_;    // parameters
    M dW_, db_;  // their gradients, assigned by backward
    M y_, dx_;   // output and input-gradient buffers, reused from batch to batch
    bool trainable_ = true;
};

}  // namespace tinygan
