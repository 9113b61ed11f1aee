// Keras' train_on_batch / test_on_batch for a model trained with binary cross-entropy (a model that
// ends in Sigmoid is trained through its logits, as tf.keras does) or softmax cross-entropy, and
// compute_gradients, the step without its optimizer, for steps made of parts. A conditional model
// (conditioning.hpp) takes the batch's labels as one more argument.
// A bad batch (NaN or Inf in x or y, a label outside [0, 1], no samples) is refused with an
// exception before anything changes, so it cannot poison the model or its optimizer.
#pragma once

#include "adam.hpp"
#include "config.hpp"
#include "detail/build_check.hpp"
#include "denormals.hpp"
#include "error.hpp"
#include "layer_concept.hpp"
#include "loss.hpp"
#include "sequential.hpp"

#include <cmath>

namespace tinygan {

template <class Scalar>
struct BatchResult {
    Scalar loss;
    Scalar accuracy;  // Keras' binary_accuracy
};

namespace detail {

// T, in a position where a template argument is not deduced: the Scalar comes from the model, and
// an Eigen expression converts to the matrix instead of failing deduction.
template <class T>
struct SameType {
    using type = T;
};
template <class T>
using Same = typename SameType<T>::type;

// Throws NumericError naming the first NaN or Inf entry of m. The scan is one vectorized sum of
// m * 0, which is NaN exactly when an entry is NaN or Inf (Eigen's allFinite() tests entry by
// entry, 4x slower here); the position is searched only when there is something to report.
template <class Scalar>
void require_finite(const Matrix<Scalar>& m, const char* what) {
    const Scalar zero_unless_non_finite = (m.array() * Scalar(0)).sum();
    if (zero_unless_non_finite == zero_unless_non_finite) return;
    for (Index j = 0; j < m.cols(); ++j)
        for (Index i = 0; i < m.rows(); ++i)
            if (!std::isfinite(m(i, j)))
                throw NumericError(concat(what, " holds ", number_text(m(i, j)), " at row ", i, ", column ", j, " (sample ", j,
                                          "); nothing was changed"));
}

template <class Scalar>
void require_valid_batch(const Matrix<Scalar>& x, const Matrix<Scalar>& y) {
    if (x.cols() == 0) throw ArgumentError("the batch is empty: x has 0 columns (samples); nothing was changed");
    if (y.cols() != x.cols())
        throw ShapeError(concat("the batch has ", x.cols(), " samples (columns of x) but ", y.cols(),
                                " labels (columns of y)"));
    require_finite(x, "the batch x");
    // Both bounds in one pass; NaN fails both comparisons, so it is caught here too.
    if (!((y.array() >= Scalar(0)) && (y.array() <= Scalar(1))).all()) {
        for (Index j = 0; j < y.cols(); ++j)
            for (Index i = 0; i < y.rows(); ++i)
                if (!(y(i, j) >= 0 && y(i, j) <= 1))
                    throw ArgumentError(concat("the labels y hold ", number_text(y(i, j)), " at row ", i, ", column ", j,
                                               "; cross-entropy needs labels in [0, 1]; nothing was changed"));
    }
}

}  // namespace detail

namespace detail {

// The backward from the loss's gradient: from the logits when the loss works from them. The input
// gradient of the first layer is never needed here: its product is skipped.
template <class Model, class Scalar>
void backward_of(Model& model, const Matrix<Scalar>& x, const Labels* labels, const Matrix<Scalar>& dy,
                 bool from_logits) {
    if constexpr (ends_in_sigmoid_v<Model>) {
        if (from_logits) {
            if constexpr (takes_labels<Model>::value)
                model.backward_from_logits(x, *labels, dy, false);
            else
                model.backward_from_logits(x, dy, false);
            return;
        }
    }
    backward_with(model, x, labels, dy, false);
}

// Every label a class of every conditioning layer of the model, checked before anything changes
// (a BatchNorm before the conditioning layer would otherwise have moved its statistics).
template <class Model>
void require_valid_labels(Model& model, const Labels* labels, Index samples) {
    if constexpr (takes_labels<Model>::value) {
        if (labels->cols() != samples)
            throw ShapeError(concat("the batch has ", samples, " samples (columns of x) but ", labels->cols(),
                                    " class labels; nothing was changed"));
        for_each_leaf_layer(model, [&](auto& layer) {
            if constexpr (has_require_labels<std::decay_t<decltype(layer)>>::value) layer.require_labels(*labels);
        });
    }
}

// How each loss meets a model: where its value comes from, and where the backward starts.
// Binary cross-entropy works from the logits when the model ends in Sigmoid, as tf.keras does.
template <class Model, class Scalar>
BatchResult<Scalar> evaluate_loss(Model& model, BinaryCrossEntropy<Scalar>& loss, const Matrix<Scalar>& output,
                                  const Matrix<Scalar>& y) {
    if constexpr (ends_in_sigmoid_v<Model>) {
        const Matrix<Scalar>& z = model.logits();
        return {loss.from_logits(z, y), binary_accuracy<Scalar>(z, y, Scalar(0))};
    } else {
        return {loss.from_probabilities(output, y), binary_accuracy<Scalar>(output, y)};
    }
}

template <class Model, class Scalar>
void backpropagate_loss(Model& model, const BinaryCrossEntropy<Scalar>& loss, const Matrix<Scalar>& x,
                        const Labels* labels) {
    backward_of(model, x, labels, loss.gradient(), ends_in_sigmoid_v<Model>);
}

// Softmax cross-entropy takes the model's output as its logits.
template <class Model, class Scalar>
BatchResult<Scalar> evaluate_loss(Model&, SoftmaxCrossEntropy<Scalar>& loss, const Matrix<Scalar>& logits,
                                  const Matrix<Scalar>& y) {
    return {loss.from_logits(logits, y), categorical_accuracy(logits, y)};
}

template <class Model, class Scalar>
void backpropagate_loss(Model& model, const SoftmaxCrossEntropy<Scalar>& loss, const Matrix<Scalar>& x,
                        const Labels* labels) {
    backward_of(model, x, labels, loss.gradient(), false);
}

template <class Model, class Loss, class Scalar>
BatchResult<Scalar> test_batch(Model& model, Loss& loss, const Matrix<Scalar>& x, const Matrix<Scalar>& y,
                               const Labels* labels) {
    require_valid_batch(x, y);
    require_valid_labels(model, labels, x.cols());
    return evaluate_loss(model, loss, forward_with(model, x, labels), y);
}

template <class Model, class Loss, class Scalar>
BatchResult<Scalar> gradients_of_batch(Model& model, Loss& loss, const Matrix<Scalar>& x, const Matrix<Scalar>& y,
                                       const Labels* labels) {
    warn_once_if_unoptimized();
    const ScopedFlushDenormals flush_denormals;  // as TensorFlow trains; see denormals.hpp
    require_valid_batch(x, y);  // before anything changes, the mode included
    require_valid_labels(model, labels, x.cols());
    set_training_mode(model, true);
    const BatchResult<Scalar> result = evaluate_loss(model, loss, forward_with(model, x, labels), y);
    if (!std::isfinite(result.loss))
        throw NumericError(concat("the loss is ", number_text(result.loss), " on a finite batch: ", model.description(),
                                  " has diverged (a parameter or output is no longer finite); the optimizer step was "
                                  "not taken"));
    backpropagate_loss(model, loss, x, labels);
    return result;
}

template <class Model>
constexpr void require_unconditional() {
    static_assert(!takes_labels<Model>::value, "tinygan: this model is conditional: pass the batch's labels too");
}
template <class Model>
constexpr void require_conditional() {
    static_assert(takes_labels<Model>::value, "tinygan: this model takes no labels: call it without them");
}

}  // namespace detail

// What train_on_batch checks of a conditional model's labels before anything changes: one label
// for each of `samples` samples (ShapeError), each a class of every conditioning layer in the
// model (ArgumentError naming the first that is not). For a step made of parts, to refuse a bad
// batch before its first forward moves a BatchNorm's statistics.
template <class Model>
void require_valid_labels(Model& model, const Labels& labels, Index samples) {
    detail::require_conditional<Model>();
    detail::require_valid_labels(model, &labels, samples);
}

// Loss and accuracy for one batch (binary accuracy for BinaryCrossEntropy, categorical for
// SoftmaxCrossEntropy), leaving the loss's gradient in loss.gradient(). Runs the model in its
// current mode; train_on_batch selects training mode first.
//
// x and y are matrices of the model's Scalar; an Eigen expression (Matrix<float>::Ones(1, 32)) is
// evaluated into a temporary matrix first, which allocates: pass matrices in a hot loop.
template <class Model, class Loss, class Scalar = typename Model::Scalar>
BatchResult<Scalar> test_on_batch(Model& model, Loss& loss, const detail::Same<Matrix<Scalar>>& x,
                                  const detail::Same<Matrix<Scalar>>& y) {
    detail::require_unconditional<Model>();
    return detail::test_batch(model, loss, x, y, nullptr);
}
// The same for a conditional model: `labels` holds each sample's class (conditioning.hpp).
template <class Model, class Loss, class Scalar = typename Model::Scalar>
BatchResult<Scalar> test_on_batch(Model& model, Loss& loss, const detail::Same<Matrix<Scalar>>& x,
                                  const detail::Same<Matrix<Scalar>>& y, const Labels& labels) {
    detail::require_conditional<Model>();
    return detail::test_batch(model, loss, x, y, &labels);
}

// A step's first half, in training mode: forward, loss, backward, and nothing else. Every
// trainable parameter's gradient holds dLoss/dparameter for this batch (assigned, not added), for
// optimizer.step(model) to apply, at once or after more (GradientSum adds two batches' gradients, as
// PyTorch accumulates). Returns the loss and accuracy; refuses a bad batch, or a loss that is not
// finite, before the gradients change; flushes denormals to zero while it runs, as TensorFlow does.
template <class Model, class Loss, class Scalar = typename Model::Scalar>
BatchResult<Scalar> compute_gradients(Model& model, Loss& loss, const detail::Same<Matrix<Scalar>>& x,
                                      const detail::Same<Matrix<Scalar>>& y) {
    detail::require_unconditional<Model>();
    return detail::gradients_of_batch(model, loss, x, y, nullptr);
}
template <class Model, class Loss, class Scalar = typename Model::Scalar>
BatchResult<Scalar> compute_gradients(Model& model, Loss& loss, const detail::Same<Matrix<Scalar>>& x,
                                      const detail::Same<Matrix<Scalar>>& y, const Labels& labels) {
    detail::require_conditional<Model>();
    return detail::gradients_of_batch(model, loss, x, y, &labels);
}

// One optimisation step on one batch, Keras' train_on_batch: compute_gradients, then
// optimizer.step(model). Returns the loss and accuracy measured before the step, as Keras does. A
// batch that test_on_batch refuses, or a loss that is not finite (the model has diverged), throws
// before the optimizer changes anything.
template <class Model, class Loss, class Optimizer, class Scalar = typename Model::Scalar>
BatchResult<Scalar> train_on_batch(Model& model, Loss& loss, Optimizer& optimizer, const detail::Same<Matrix<Scalar>>& x,
                                   const detail::Same<Matrix<Scalar>>& y) {
    const ScopedFlushDenormals flush_denormals;  // the optimizer's step too
    const BatchResult<Scalar> result = compute_gradients(model, loss, x, y);
    optimizer.step(model);
    return result;
}
template <class Model, class Loss, class Optimizer, class Scalar = typename Model::Scalar>
BatchResult<Scalar> train_on_batch(Model& model, Loss& loss, Optimizer& optimizer, const detail::Same<Matrix<Scalar>>& x,
                                   const detail::Same<Matrix<Scalar>>& y, const Labels& labels) {
    const ScopedFlushDenormals flush_denormals;
    const BatchResult<Scalar> result = compute_gradients(model, loss, x, y, labels);
    optimizer.step(model);
    return result;
}

}  // namespace tinygan
