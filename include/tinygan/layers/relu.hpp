// ReLU<Scalar>: y = max(x, 0), elementwise.
#pragma once

#include "parameter_free.hpp"

namespace tinygan {

template <class ScalarType>
class ReLU : public detail::ElementwiseLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // x: n x batch -> y: n x batch.
    const M& forward(const M& x) {
        y_.resize(x.rows(), x.cols());
        y_.array() = x.array().max(Scalar(0));
        return y_;
    }

    // dx = dy where y > 0, else 0 (y > 0 exactly when x > 0; the kink at 0 gets 0, as in Keras).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == y_.rows() && dy.cols() == y_.cols());
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            dx_.array() = (y_.array() > Scalar(0)).select(dy.array(), Scalar(0));
        }
        return dx_;
    }

    std::string type_name() const { return "ReLU"; }
    std::string description() const { return "ReLU"; }

private:
    M y_, dx_;
};

}  // namespace tinygan
