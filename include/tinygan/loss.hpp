// The losses: BinaryCrossEntropy for GANs and binary classifiers, SoftmaxCrossEntropy for
// classifiers. Each computes its value and its gradient in one pass.
//
// BinaryCrossEntropy<Scalar>: tf.keras' binary cross-entropy, mean over every entry of the batch,
// value and gradient computed in the same pass. Two entry points, as tf.keras has two paths:
//  - from_logits: for a model ending in Sigmoid (tf.keras >= 2.5 and Keras 3 detect the sigmoid and
//    use its logits): stable for any logit, gradient (sigmoid(z) - y) / n even when saturated.
//  - from_probabilities: bare probabilities, clipped to [1e-7, 1 - 1e-7] as Keras does; where the
//    clip is active the gradient is 0, as tf.clip_by_value's is.
#pragma once

#include "config.hpp"
#include "error.hpp"

#include <cmath>

namespace tinygan {

template <class ScalarType>
class BinaryCrossEntropy {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Keras' backend epsilon().
    static constexpr Scalar epsilon = Scalar(1e-7);

    // z: logits, y: labels in [0, 1], both (outputs x batch).
    // loss = mean(max(z, 0) - z y + log(1 + exp(-|z|)));  dloss/dz = (sigmoid(z) - y) / n.
    Scalar from_logits(const M& z, const M& y) {
        require_same_shape(z, y);
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(z.size());
        gradient_.resize(z.rows(), z.cols());
        Scalar total = 0;
        for (Index i = 0; i < z.size(); ++i) {
            const Scalar logit = z.data()[i], label = y.data()[i];
            // exp(-|z|) is in (0, 1], so neither log1p nor the division below can overflow.
            const Scalar e = std::exp(-std::abs(logit));
            total += std::max(logit, Scalar(0)) - logit * label + std::log1p(e);
            const Scalar probability = logit >= 0 ? Scalar(1) / (Scalar(1) + e) : e / (Scalar(1) + e);
            gradient_.data()[i] = (probability - label) * inv_n;
        }
        return total * inv_n;
    }

    // p: probabilities, y: labels, both (outputs x batch).
    // loss = mean(-(y log(pc) + (1 - y) log(1 - pc))), pc = clip(p, eps, 1 - eps);
    // dloss/dp = (pc - y) / (pc (1 - pc)) / n inside the clip, 0 outside.
    Scalar from_probabilities(const M& p, const M& y) {
        require_same_shape(p, y);
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(p.size());
        gradient_.resize(p.rows(), p.cols());
        Scalar total = 0;
        for (Index i = 0; i < p.size(); ++i) {
            const Scalar raw = p.data()[i], label = y.data()[i];
            const Scalar clipped = std::min(std::max(raw, epsilon), Scalar(1) - epsilon);
            total -= label * std::log(clipped) + (Scalar(1) - label) * std::log(Scalar(1) - clipped);
            const bool inside = raw > epsilon && raw < Scalar(1) - epsilon;
            gradient_.data()[i] = inside ? (clipped - label) / (clipped * (Scalar(1) - clipped)) * inv_n : Scalar(0);
        }
        return total * inv_n;
    }

    // dloss/dinput of the last call, with the input's shape.
    const M& gradient() const { return gradient_; }

private:
    static void require_same_shape(const M& prediction, const M& labels) {
        if (prediction.rows() != labels.rows() || prediction.cols() != labels.cols())
            throw ShapeError(detail::concat("binary cross-entropy: labels are ", labels.rows(), " x ", labels.cols(),
                                            " but predictions are ", prediction.rows(), " x ", prediction.cols()));
    }

    M gradient_;
};

// Keras' binary_accuracy: the fraction of entries where (prediction > threshold) == (label > 0.5).
// For logits pass threshold 0 (sigmoid(z) > 0.5 exactly when z > 0).
template <class Scalar>
Scalar binary_accuracy(const Matrix<Scalar>& prediction, const Matrix<Scalar>& labels, Scalar threshold = Scalar(0.5)) {
    if (prediction.size() == 0) return Scalar(0);
    const Index hits = ((prediction.array() > threshold) == (labels.array() > Scalar(0.5))).count();
    return static_cast<Scalar>(hits) / static_cast<Scalar>(prediction.size());
}

// SoftmaxCrossEntropy<Scalar>: categorical cross-entropy of softmax(z) against one-hot (or
// probability) labels, from the logits z, as PyTorch's CrossEntropyLoss and Keras'
// CategoricalCrossentropy(from_logits=True) compute it: the mean over the batch of
// -sum_k y_k log softmax(z)_k. A classifier ends in a Dense layer; it has no Softmax layer.
template <class ScalarType>
class SoftmaxCrossEntropy {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // z: logits, y: labels, both (classes x batch).
    // loss = mean over columns of (logsumexp(z) - y . z) (for labels summing to 1);
    // dloss/dz = (softmax(z) - y) / batch. Stable: the largest logit of a column is subtracted first.
    Scalar from_logits(const M& z, const M& y) {
        if (z.rows() != y.rows() || z.cols() != y.cols())
            throw ShapeError(detail::concat("softmax cross-entropy: labels are ", y.rows(), " x ", y.cols(),
                                            " but logits are ", z.rows(), " x ", z.cols()));
        gradient_.resize(z.rows(), z.cols());
        const Scalar inv_n = Scalar(1) / static_cast<Scalar>(z.cols());
        Scalar total = 0;
        for (Index j = 0; j < z.cols(); ++j) {
            const Scalar largest = z.col(j).maxCoeff();
            auto g = gradient_.col(j);
            g.array() = (z.col(j).array() - largest).exp();
            const Scalar sum = g.sum(), log_sum = largest + std::log(sum);
            total += y.col(j).sum() * log_sum - y.col(j).dot(z.col(j));
            g.array() = (g.array() / sum - y.col(j).array()) * inv_n;
        }
        return total * inv_n;
    }

    const M& gradient() const { return gradient_; }

private:
    M gradient_;
};

// The fraction of columns whose largest logit is in the row of their label's largest entry.
template <class Scalar>
Scalar categorical_accuracy(const Matrix<Scalar>& logits, const Matrix<Scalar>& labels) {
    if (logits.cols() == 0) return Scalar(0);
    Index hits = 0;
    for (Index j = 0; j < logits.cols(); ++j) {
        Index predicted = 0, expected = 0;
        logits.col(j).maxCoeff(&predicted);
        labels.col(j).maxCoeff(&expected);
        hits += predicted == expected;
    }
    return static_cast<Scalar>(hits) / static_cast<Scalar>(logits.cols());
}

// One-hot labels (classes x count) for class indices.
template <class Scalar, class Indices>
Matrix<Scalar> one_hot(const Indices& classes_of_samples, Index classes) {
    Matrix<Scalar> y = Matrix<Scalar>::Zero(classes, static_cast<Index>(classes_of_samples.size()));
    Index j = 0;
    for (const auto c : classes_of_samples) {
        if (c < 0 || static_cast<Index>(c) >= classes)
            throw ArgumentError(detail::concat("one_hot: class ", static_cast<long long>(c), " of sample ", j,
                                               " is outside [0, ", classes, ")"));
        y(static_cast<Index>(c), j++) = Scalar(1);
    }
    return y;
}

}  // namespace tinygan
