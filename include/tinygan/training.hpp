// Keras' train_on_batch / test_on_batch for a model trained with binary cross-entropy.
// A model that ends in Sigmoid is trained through its logits, as tf.keras does.
#pragma once

#include "adam.hpp"
#include "config.hpp"
#include "detail/denormals.hpp"
#include "loss.hpp"
#include "sequential.hpp"

namespace tinygan {

template <class Scalar>
struct BatchResult {
    Scalar loss;
    Scalar accuracy;  // Keras' binary_accuracy
};

// Loss and accuracy for one batch, leaving dLoss/doutput (or dLoss/dlogits) in loss.gradient().
template <class Model, class Scalar = typename Model::Scalar>
BatchResult<Scalar> test_on_batch(Model& model, BinaryCrossEntropy<Scalar>& loss, const Matrix<Scalar>& x,
                                  const Matrix<Scalar>& y) {
    const Matrix<Scalar>& output = model.forward(x);
    if constexpr (ends_in_sigmoid_v<Model>) {
        const Matrix<Scalar>& z = model.logits();
        return {loss.from_logits(z, y), binary_accuracy<Scalar>(z, y, Scalar(0))};
    } else {
        return {loss.from_probabilities(output, y), binary_accuracy<Scalar>(output, y)};
    }
}

// One optimisation step on one batch: forward, loss, backward, optimizer.step(model).
// Returns the loss and accuracy measured before the step, as Keras does. Denormal floats are
// flushed to zero during the step, as TensorFlow does.
template <class Model, class Optimizer, class Scalar = typename Model::Scalar>
BatchResult<Scalar> train_on_batch(Model& model, BinaryCrossEntropy<Scalar>& loss, Optimizer& optimizer,
                                   const Matrix<Scalar>& x, const Matrix<Scalar>& y) {
    const detail::ScopedFlushDenormals flush_denormals;  // as TensorFlow trains; see denormals.hpp
    const BatchResult<Scalar> result = test_on_batch(model, loss, x, y);
    // The input gradient of the first layer is never needed here: skip its product.
    if constexpr (ends_in_sigmoid_v<Model>)
        model.backward_from_logits(x, loss.gradient(), false);
    else
        model.backward(x, loss.gradient(), false);
    optimizer.step(model);
    return result;
}

}  // namespace tinygan
