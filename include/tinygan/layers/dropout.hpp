// Dropout<Scalar>(rate, rng): inverted dropout, as Keras and PyTorch do it. In training mode each
// entry is kept with probability 1 - rate and scaled by 1 / (1 - rate), so the expected output is
// the input; in inference mode (predict) the layer is the identity.
#pragma once

#include "../error.hpp"
#include "../random.hpp"
#include "parameter_free.hpp"

#include <string>

namespace tinygan {

template <class ScalarType>
class Dropout : public detail::ElementwiseLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // The layer draws its masks from `rng`, which must outlive it.
    Dropout(Scalar rate, Rng& rng) : rate_(rate), rng_(&rng) {
        if (!(rate >= 0 && rate < 1))
            throw ArgumentError(detail::concat("Dropout needs a rate in [0, 1), got ", detail::number_text(rate)));
    }

    void set_training(bool on) { training_ = on; }
    bool training() const { return training_; }
    // Keeps the current mask for the following forwards instead of drawing new ones (for gradient
    // checks, which run the same forward many times).
    void hold_mask(bool on) { hold_mask_ = on; }

    // x: n x batch -> y: n x batch.  y = x .* mask, mask = keep / (1 - rate), keep ~ Bernoulli(1 - rate).
    const M& forward(const M& x) {
        if (!training_ || rate_ == 0) return x;
        if (!hold_mask_ || mask_.rows() != x.rows() || mask_.cols() != x.cols()) {
            mask_.resize(x.rows(), x.cols());
            const Scalar scale = Scalar(1) / (Scalar(1) - rate_);
            for (Index i = 0; i < mask_.size(); ++i) mask_.data()[i] = rng_->uniform<Scalar>() < rate_ ? Scalar(0) : scale;
        }
        y_.resize(x.rows(), x.cols());
        y_.array() = x.array() * mask_.array();
        return y_;
    }

    // dx = dy .* mask (the identity in inference mode).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        if (!training_ || rate_ == 0) return dy;
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            dx_.array() = dy.array() * mask_.array();
        }
        return dx_;
    }

    Scalar rate() const { return rate_; }
    std::string type_name() const { return "Dropout"; }
    std::string description() const { return detail::concat("Dropout ", rate_); }

private:
    Scalar rate_;
    Rng* rng_;
    bool training_ = true, hold_mask_ = false;
    M mask_, y_, dx_;
};

}  // namespace tinygan
