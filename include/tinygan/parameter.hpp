// Parameter<Scalar>: one tensor of a layer, as optimizers, gradient checkers, EMA and checkpoints
// see it. A layer's for_each_parameter(f) calls f(Parameter{...}) once per tensor, in a fixed order.
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tinygan {

// How a checkpoint lays a tensor out: its shape in row-major order, as safetensors, NumPy and
// PyTorch read it (Dense's kernel {in, out} as Keras stores it, a bias {out}). At most four
// dimensions, held inline so that visiting parameters in a training step allocates nothing.
struct StoredShape {
    std::array<std::int64_t, 4> dims{};
    int rank = 0;

    StoredShape() = default;
    StoredShape(std::initializer_list<std::int64_t> list) {
        for (std::int64_t d : list) dims[static_cast<std::size_t>(rank++)] = d;
    }
    std::int64_t element_count() const {
        std::int64_t count = 1;
        for (int i = 0; i < rank; ++i) count *= dims[static_cast<std::size_t>(i)];
        return count;
    }
    bool operator==(const StoredShape& other) const { return rank == other.rank && dims == other.dims; }
    bool operator!=(const StoredShape& other) const { return !(*this == other); }
    // "[784, 128]"
    std::string to_string() const {
        std::string text = "[";
        for (int i = 0; i < rank; ++i) text += (i ? ", " : "") + std::to_string(dims[static_cast<std::size_t>(i)]);
        return text + "]";
    }
};

template <class Scalar>
struct Parameter {
    const char* name;          // "kernel", "bias", "gamma", "moving_mean": unique within its layer
    Matrix<Scalar>& value;
    Matrix<Scalar>& gradient;  // dLoss/dvalue, assigned by backward; empty for state
    bool trainable;            // backward computes its gradient and optimizers step it (false when frozen)
    bool is_state;             // never trained: statistics a layer keeps (BatchNorm's moving mean and variance)
    StoredShape stored_shape;  // its layout in checkpoints; element_count() == value.size()
};

// True when every tensor of `model` (parameters and state) is finite: a diverged run fails this.
template <class Model>
bool all_finite(Model& model) {
    bool finite = true;
    model.for_each_parameter([&](const Parameter<typename Model::Scalar>& p) { finite = finite && p.value.allFinite(); });
    return finite;
}

// Copies every tensor's values (parameters and state) from one model into another of the same
// architecture. The destination keeps its own buffers, so models chained to it stay valid, and
// nothing is allocated: the k-th tensor of the source is found by a walk, not a list (a model has
// tens of tensors, so the walks cost nothing beside the copies).
template <class Model>
void copy_parameters(Model& from, Model& to) {
    using Scalar = typename Model::Scalar;
    std::size_t k = 0, sources = 0;
    from.for_each_parameter([&](const Parameter<Scalar>&) { ++sources; });
    to.for_each_parameter([&](const Parameter<Scalar>& p) {
        const Matrix<Scalar>* source = nullptr;
        std::size_t i = 0;
        from.for_each_parameter([&](const Parameter<Scalar>& q) {
            if (i++ == k) source = &q.value;
        });
        if (!source || source->rows() != p.value.rows() || source->cols() != p.value.cols())
            throw ShapeError(detail::concat("copy_parameters: the models differ at tensor ", k, " (", p.name, ")"));
        p.value = *source;
        ++k;
    });
    if (k != sources)
        throw ShapeError(detail::concat("copy_parameters: the source has ", sources, " tensors, the target ", k));
}

// The trainable gradients of a model, kept aside and added back: for a step whose gradient is the
// sum of two backward passes (PyTorch's accumulating .backward(), e.g. a discriminator's loss on
// a real and a fake batch), since tinygan's backward assigns gradients. Buffers are reused.
template <class Scalar>
class GradientSum {
public:
    // Keeps a copy of every trainable gradient of `model`.
    template <class Model>
    void keep(Model& model) {
        std::size_t k = 0;
        model.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (!p.trainable) return;
            if (k == kept_.size()) kept_.emplace_back();
            kept_[k++] = p.gradient;  // same size after the first step: no allocation
        });
        count_ = k;
    }
    // gradient += the kept copy, for every trainable gradient of `model` (the same model).
    template <class Model>
    void add_to(Model& model) const {
        std::size_t k = 0;
        model.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (!p.trainable) return;
            if (k >= count_ || kept_[k].rows() != p.gradient.rows() || kept_[k].cols() != p.gradient.cols())
                throw ShapeError(detail::concat("GradientSum: the model differs from the one kept, at tensor ", k));
            p.gradient += kept_[k++];
        });
    }

private:
    std::vector<Matrix<Scalar>> kept_;
    std::size_t count_ = 0;
};

}  // namespace tinygan
