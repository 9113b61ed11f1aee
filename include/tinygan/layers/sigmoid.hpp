// Sigmoid<Scalar>: y = 1 / (1 + exp(-x)), elementwise. A model that ends in Sigmoid is trained
// through its logits (see loss.hpp), so this backward runs only when a Sigmoid sits mid-model
// (the generator's output feeding the discriminator).
#pragma once

#include "parameter_free.hpp"

namespace tinygan {

template <class ScalarType>
class Sigmoid : public detail::ElementwiseLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;
    // Losses may work from this layer's input, the logits (Sequential::logits, loss.hpp).
    static constexpr bool squashes_logits = true;

    // x: n x batch -> y: n x batch.
    const M& forward(const M& x) {
        y_.resize(x.rows(), x.cols());
        // exp(-x) overflows to +inf for very negative x, and 1/(1+inf) = 0 is the right limit.
        y_.array() = Scalar(1) / (Scalar(1) + (-x.array()).exp());
        return y_;
    }

    // dx = dy * y * (1 - y).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == y_.rows() && dy.cols() == y_.cols());
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            dx_.array() = dy.array() * y_.array() * (Scalar(1) - y_.array());
        }
        return dx_;
    }

    std::string type_name() const { return "Sigmoid"; }
    std::string description() const { return "Sigmoid"; }

private:
    M y_, dx_;
};

}  // namespace tinygan
