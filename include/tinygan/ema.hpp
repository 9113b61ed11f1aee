// ExponentialMovingAverage<Scalar>: an average of a model's weights over the training steps, as
// GAN trainers sample from (Keras' `use_ema`, PyTorch's AveragedModel). After each step,
// update(model) moves every average towards the weights: average = d * average + (1 - d) * weight,
// with d = min(decay, (1 + t) / (10 + t)) at the t-th update, as tf.train.ExponentialMovingAverage
// does with num_updates, so the first thousand steps do not linger in the average.
// apply_to(copy) writes the averages into a model of the same architecture; state tensors
// (BatchNorm's moving statistics) are not averaged and keep the copy's own values.
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "detail/worker_pool.hpp"
#include "parameter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace tinygan {

template <class ScalarType>
class ExponentialMovingAverage {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Starts from the model's current weights.
    template <class Model>
    explicit ExponentialMovingAverage(Model& model, double decay = 0.999) : decay_(decay) {
        if (!(decay >= 0 && decay < 1))
            throw ArgumentError(detail::concat("ExponentialMovingAverage needs a decay in [0, 1), got ", decay));
        model.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (p.is_state) return;
            averages_.push_back(p.value);
            stored_shapes_.push_back(p.stored_shape);
        });
    }

    // One step of the average, for every weight (trainable or frozen) of `model`.
    template <class Model>
    void update(Model& model) {
        const Blend blend = next_blend();
        std::size_t k = 0;
        model.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (p.is_state) return;
            require_shape(k, p);
            Scalar* average = averages_[k++].data();
            const Scalar* weight = p.value.data();
            detail::parallel_for(p.value.size(), 4096, 3.0 * p.value.size(), [&](Index begin, Index end) {
                blend.apply(average + begin, weight + begin, end - begin);
            });
        });
        if (k != averages_.size()) throw_mismatch(k);
    }

    // One update's weights, average = keep * average + take * weight. next_blend() counts the update:
    // it is for an optimizer that moves the average in the same pass as its own update of the
    // weights (Adam::step(model, average)), with the same arithmetic as update(), bit for bit.
    struct Blend {
        Scalar keep, take;
        void apply(Scalar* average, const Scalar* weight, Index size) const {
            Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>> a(average, size);
            const Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>> w(weight, size);
            a = keep * a + take * w;
        }
    };
    Blend next_blend() {
        const double t = static_cast<double>(updates_++);
        const double d = std::min(decay_, (1 + t) / (10 + t));
        return {static_cast<Scalar>(d), static_cast<Scalar>(1 - d)};
    }

    // Writes the averages into `target`'s weights; its state tensors are left as they are.
    template <class Model>
    void apply_to(Model& target) const {
        std::size_t k = 0;
        target.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (p.is_state) return;
            require_shape(k, p);
            p.value = averages_[k++];
        });
        if (k != averages_.size()) throw_mismatch(k);
    }

    double decay() const { return decay_; }
    // Updates so far (checkpoints keep it, so a resumed run averages as an uninterrupted one).
    std::int64_t updates() const { return updates_; }
    void set_updates(std::int64_t updates) {
        if (updates < 0) throw ArgumentError(detail::concat("ExponentialMovingAverage updates must be >= 0, got ", updates));
        updates_ = updates;
    }
    // The averages in visiting order, for checkpoints, and the layout each is stored in.
    std::vector<M>& averages() { return averages_; }
    const std::vector<M>& averages() const { return averages_; }
    const std::vector<StoredShape>& stored_shapes() const { return stored_shapes_; }

private:
    void require_shape(std::size_t k, const Parameter<Scalar>& p) const {
        if (k >= averages_.size() || averages_[k].rows() != p.value.rows() || averages_[k].cols() != p.value.cols())
            throw_mismatch(k);
    }
    [[noreturn]] void throw_mismatch(std::size_t k) const {
        throw ShapeError(detail::concat("this ExponentialMovingAverage holds ", averages_.size(),
                                        " tensors of another model (they differ from tensor ", k, " on)"));
    }

    double decay_;
    std::int64_t updates_ = 0;
    std::vector<M> averages_;
    std::vector<StoredShape> stored_shapes_;
};

}  // namespace tinygan
