// LeakyReLU<Scalar>: y = x for x > 0, slope * x otherwise, elementwise (Keras' LeakyReLU(alpha),
// PyTorch's LeakyReLU(negative_slope)).
#pragma once

#include "../error.hpp"
#include "parameter_free.hpp"

#include <cmath>
#include <string>

namespace tinygan {

template <class ScalarType>
class LeakyReLU : public detail::ElementwiseLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Keras' default slope is 0.3, PyTorch's 0.01; GANs usually take 0.2.
    explicit LeakyReLU(Scalar slope = Scalar(0.3)) : slope_(slope) {
        if (!(slope >= 0 && slope < 1))
            throw ArgumentError(detail::concat("LeakyReLU needs a slope in [0, 1), got ", detail::number_text(slope)));
    }

    // x: n x batch -> y: n x batch.
    const M& forward(const M& x) {
        y_.resize(x.rows(), x.cols());
        y_.array() = (x.array() > Scalar(0)).select(x.array(), slope_ * x.array());
        return y_;
    }

    // dx = dy where x > 0, slope * dy elsewhere (the kink at 0 takes the slope, as in Keras).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == x.rows() && dy.cols() == x.cols());
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            dx_.array() = (x.array() > Scalar(0)).select(dy.array(), slope_ * dy.array());
        }
        return dx_;
    }

    Scalar slope() const { return slope_; }
    std::string type_name() const { return "LeakyReLU"; }
    std::string description() const { return detail::concat("LeakyReLU ", slope_); }

private:
    Scalar slope_;
    M y_, dx_;
};

}  // namespace tinygan
