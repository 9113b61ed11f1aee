// Embedding<Scalar>: a trainable vector for each class, as Keras' Embedding(input_dim=classes,
// output_dim=features) and PyTorch's nn.Embedding; or, from Embedding::one_hot(classes), the fixed
// one-hot code of a class. It is the part of a conditioning layer (conditioning.hpp) that turns the
// labels into what is joined to the model's input:
//     gather:  e[:, j] = E[:, labels(j)]                        labels: 1 x batch -> e: features x batch
//     scatter: dE[:, c] = sum of de[:, j] over the samples j with labels(j) == c
// E is stored (features x classes), a class's vector contiguous; its column-major bytes are Keras'
// embeddings [classes, features] row-major, which is how checkpoints store them.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../parameter.hpp"
#include "../random.hpp"

#include <string>

namespace tinygan {

// How an Embedding's vectors are drawn: Keras' default U(-0.05, 0.05), or PyTorch's N(0, 1).
enum class EmbeddingInit { keras, pytorch };

template <class ScalarType>
class Embedding {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    Embedding(Index classes, Index features, Rng& rng, EmbeddingInit how = EmbeddingInit::keras)
        : Embedding(classes, features, false) {
        if (how == EmbeddingInit::keras)
            rng.fill_uniform(E_, Scalar(-0.05), Scalar(0.05));
        else
            rng.fill_normal(E_);
    }
    // All-zero vectors, asked for explicitly (vectors about to be loaded).
    Embedding(Index classes, Index features, ZeroInit) : Embedding(classes, features, false) {}

    // The one-hot code: E is the identity, fixed, and no parameter (Keras' conditional_gan joins
    // one_hot(labels) to its inputs).
    static Embedding one_hot(Index classes) { return Embedding(classes, classes, true); }

    Index classes() const { return E_.cols(); }
    Index features() const { return E_.rows(); }
    bool is_one_hot() const { return one_hot_; }

    // ArgumentError naming the first label that is not a class; called by every forward.
    void require_classes(const Labels& labels) const {
        for (Index j = 0; j < labels.cols(); ++j)
            if (labels(j) < 0 || labels(j) >= classes())
                throw ArgumentError(detail::concat("label ", labels(j), " of sample ", j, " is not a class: an Embedding of ",
                                                   classes(), " classes takes labels 0 to ", classes() - 1));
    }

    // The vector of the label of sample j.
    auto vector(const Labels& labels, Index j) const { return E_.col(labels(j)); }

    // dE[:, c] = sum over the samples j of class c of their gradients: add(j, column) adds sample
    // j's into the column of its class. Assigned, like every parameter gradient; nothing for the
    // one-hot code or when frozen.
    template <class AddGradient>
    void scatter_gradient(const Labels& labels, AddGradient&& add) {
        if (one_hot_ || !trainable_) return;
        dE_.setZero();
        for (Index j = 0; j < labels.cols(); ++j) add(j, dE_.col(labels(j)));
    }

    template <class F>
    void for_each_parameter(F&& f) {
        if (!one_hot_) f(Parameter<Scalar>{"embeddings", E_, dE_, trainable_, false, {E_.cols(), E_.rows()}});
    }
    Index parameter_count() const { return one_hot_ ? 0 : E_.size(); }
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }
    std::string description() const {
        return one_hot_ ? detail::concat("one-hot ", classes()) : detail::concat("embedding ", classes(), "x", features());
    }

private:
    Embedding(Index classes, Index features, bool one_hot) : one_hot_(one_hot) {
        if (classes <= 0 || features <= 0)
            throw ArgumentError(detail::concat("Embedding needs positive sizes, got classes=", classes, " features=", features));
        E_ = one_hot ? M(M::Identity(classes, classes)) : M(M::Zero(features, classes));
        dE_ = M::Zero(E_.rows(), E_.cols());
    }

    M E_, dE_;  // (features x classes) and its gradient
    bool one_hot_ = false, trainable_ = true;
};

}  // namespace tinygan
