// Tanh<Scalar>: y = tanh(x), elementwise: the output of generators trained on images in [-1, 1].
#pragma once

#include "parameter_free.hpp"

#include <string>

namespace tinygan {

template <class ScalarType>
class Tanh : public detail::ElementwiseLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // x: n x batch -> y: n x batch.
    const M& forward(const M& x) {
        y_.resize(x.rows(), x.cols());
        y_.array() = x.array().tanh();
        return y_;
    }

    // dx = dy * (1 - y^2).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == y_.rows() && dy.cols() == y_.cols());
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            dx_.array() = dy.array() * (Scalar(1) - y_.array().square());
        }
        return dx_;
    }

    std::string type_name() const { return "Tanh"; }
    std::string description() const { return "Tanh"; }

private:
    M y_, dx_;
};

}  // namespace tinygan
