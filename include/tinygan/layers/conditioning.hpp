// The layers that join a class label to what a model sees, for conditional GANs. Each takes the
// labels as a second argument, forward(x, labels) and backward(x, labels, dy), which a Sequential
// passes to them as model.forward(x, labels) passes it in (PyTorch's forward(noise, labels), Keras'
// second Input). The label's code is an Embedding (embedding.hpp): trainable vectors, or one-hot.
//   LabelConcat     y = [x; e]                vectors: n -> n + features      (one-hot: Keras' conditional_gan G)
//   LabelMultiply   y = x .* e                n -> n, n == features           (Keras-GAN's cgan, G and D)
//   LabelPlanes     y[p] = [x[p]; e] at every pixel p of a channels-last image:
//                   (H, W, C) -> (H, W, C + features)                          (Keras' conditional_gan D)
// with e = E[:, label] for each sample. Each checks its labels (0 to classes - 1) in forward.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../parameter.hpp"
#include "embedding.hpp"

#include <optional>
#include <string>
#include <utility>

namespace tinygan {

namespace detail {

// What the three layers share: their Embedding, its parameters and flag, their buffers.
template <class ScalarType>
class LabelJoin {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;
    static constexpr bool takes_labels = true;

    template <class F>
    void for_each_parameter(F&& f) {
        embedding_.for_each_parameter(f);
    }
    Index parameter_count() const { return embedding_.parameter_count(); }
    bool trainable() const { return embedding_.trainable(); }
    void trainable(bool on) { embedding_.trainable(on); }
    const Embedding<Scalar>& embedding() const { return embedding_; }
    // ArgumentError naming the first label that is not a class (train_on_batch checks a batch's
    // labels with it before anything changes).
    void require_labels(const Labels& labels) const { embedding_.require_classes(labels); }
    // The input each layer is built for: a Sequential checks the layer before it against it.
    std::optional<Shape> declared_input_shape() const { return input_; }

protected:
    LabelJoin(Shape input, Embedding<Scalar> embedding) : input_(std::move(input)), embedding_(std::move(embedding)) {}

    // `describe()` names the layer in a message; it runs only on failure, so a good batch allocates
    // nothing (tests/no_alloc_test.cpp).
    template <class Describe>
    void require_batch(const M& x, const Labels& labels, Describe describe) const {
        if (x.rows() != element_count(input_))
            throw ShapeError(concat(describe(), " expects ", element_count(input_), " input features ", to_string(input_),
                                    " (rows), got ", x.rows()));
        if (labels.cols() != x.cols())
            throw ShapeError(concat(describe(), ": the batch has ", x.cols(), " samples (columns of x) but ", labels.cols(),
                                    " labels"));
        embedding_.require_classes(labels);
    }

    Shape input_;
    Embedding<Scalar> embedding_;
    M y_, dx_;
};

}  // namespace detail

template <class ScalarType>
class LabelConcat : public detail::LabelJoin<ScalarType> {
    using Base = detail::LabelJoin<ScalarType>;
    using Base::dx_, Base::embedding_, Base::input_, Base::y_;

public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Samples of `in_features` features, then the label's code.
    LabelConcat(Index in_features, Embedding<Scalar> embedding) : Base(Shape{in_features}, std::move(embedding)) {
        if (in_features <= 0) throw ArgumentError(detail::concat("LabelConcat needs in_features > 0, got ", in_features));
    }

    // x: n x batch -> y: (n + features) x batch.  y = [x; e].
    const M& forward(const M& x, const Labels& labels) {
        this->require_batch(x, labels, [this] { return description(); });
        const Index n = x.rows();
        y_.resize(n + embedding_.features(), x.cols());
        y_.topRows(n) = x;
        for (Index j = 0; j < x.cols(); ++j) y_.col(j).tail(embedding_.features()) = embedding_.vector(labels, j);
        return y_;
    }
    // dx = the top n rows of dy; dE[:, c] = sum over class c's samples of dy's bottom rows.
    const M& backward(const M& x, const Labels& labels, const M& dy, bool need_dx = true) {
        const Index n = x.rows(), f = embedding_.features();
        embedding_.scatter_gradient(labels, [&](Index j, auto column) { column += dy.col(j).tail(f); });
        if (need_dx) {
            dx_.resize(n, x.cols());
            dx_ = dy.topRows(n);
        }
        return dx_;
    }

    Shape output_shape(const Shape&) const { return {input_[0] + embedding_.features()}; }
    std::string input_mismatch(const Shape& input) const {
        if (element_count(input) == input_[0]) return {};
        return detail::concat("expects ", input_[0], " input features");
    }
    std::string type_name() const { return "LabelConcat"; }
    std::string description() const {
        return detail::concat("LabelConcat ", input_[0], "+", embedding_.features(), " (", embedding_.description(), ")");
    }
};

template <class ScalarType>
class LabelMultiply : public detail::LabelJoin<ScalarType> {
    using Base = detail::LabelJoin<ScalarType>;
    using Base::dx_, Base::embedding_, Base::input_, Base::y_;

public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Samples of any shape with as many elements as the embedding has features: Keras-GAN's cgan
    // multiplies the noise (100) and the flattened image (784) by their label's embedding.
    LabelMultiply(Shape input, Embedding<Scalar> embedding) : Base(std::move(input), std::move(embedding)) {
        if (element_count(input_) != embedding_.features())
            throw ArgumentError(detail::concat("LabelMultiply of ", to_string(input_), " samples needs an embedding of ",
                                               element_count(input_), " features, got ", embedding_.features()));
    }

    // x: n x batch -> y: n x batch.  y = x .* e.
    const M& forward(const M& x, const Labels& labels) {
        this->require_batch(x, labels, [this] { return description(); });
        y_.resize(x.rows(), x.cols());
        for (Index j = 0; j < x.cols(); ++j) y_.col(j) = x.col(j).cwiseProduct(embedding_.vector(labels, j));
        return y_;
    }
    // dx = dy .* e; dE[:, c] = sum over class c's samples of dy .* x.
    const M& backward(const M& x, const Labels& labels, const M& dy, bool need_dx = true) {
        embedding_.scatter_gradient(labels, [&](Index j, auto column) { column += dy.col(j).cwiseProduct(x.col(j)); });
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            for (Index j = 0; j < x.cols(); ++j) dx_.col(j) = dy.col(j).cwiseProduct(embedding_.vector(labels, j));
        }
        return dx_;
    }

    Shape output_shape(const Shape&) const { return input_; }
    std::string input_mismatch(const Shape& input) const {
        if (element_count(input) == element_count(input_)) return {};
        return detail::concat("expects ", element_count(input_), " input features");
    }
    std::string type_name() const { return "LabelMultiply"; }
    std::string description() const {
        return detail::concat("LabelMultiply ", to_string(input_), " (", embedding_.description(), ")");
    }
};

template <class ScalarType>
class LabelPlanes : public detail::LabelJoin<ScalarType> {
    using Base = detail::LabelJoin<ScalarType>;
    using Base::dx_, Base::embedding_, Base::input_, Base::y_;

public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Channels-last images of shape {height, width, channels}; the label's code becomes
    // `features` more channels, constant over the image.
    LabelPlanes(Shape image, Embedding<Scalar> embedding) : Base(std::move(image), std::move(embedding)) {
        if (input_.size() != 3)
            throw ArgumentError(detail::concat("LabelPlanes needs an image shape {height, width, channels}, got ",
                                               to_string(input_)));
    }

    // x: (H*W*C) x batch -> y: (H*W*(C + F)) x batch; pixel p of sample j is [x_p; e_j].
    const M& forward(const M& x, const Labels& labels) {
        this->require_batch(x, labels, [this] { return description(); });
        const Index pixels = input_[0] * input_[1], c = input_[2], f = embedding_.features();
        y_.resize(pixels * (c + f), x.cols());
        for (Index j = 0; j < x.cols(); ++j) {
            // The sample seen as (channels x pixels): pixel p is column p, channels-last in memory.
            Eigen::Map<const M> in(x.col(j).data(), c, pixels);
            Eigen::Map<M> out(y_.col(j).data(), c + f, pixels);
            out.topRows(c) = in;
            out.bottomRows(f).colwise() = embedding_.vector(labels, j);
        }
        return y_;
    }
    // dx = dy's first C channels at every pixel; dE[:, c] = sum over class c's samples and every
    // pixel of dy's last F channels.
    const M& backward(const M& x, const Labels& labels, const M& dy, bool need_dx = true) {
        const Index pixels = input_[0] * input_[1], c = input_[2], f = embedding_.features();
        embedding_.scatter_gradient(labels, [&](Index j, auto column) {
            column += Eigen::Map<const M>(dy.col(j).data(), c + f, pixels).bottomRows(f).rowwise().sum();
        });
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            for (Index j = 0; j < x.cols(); ++j)
                Eigen::Map<M>(dx_.col(j).data(), c, pixels) = Eigen::Map<const M>(dy.col(j).data(), c + f, pixels).topRows(c);
        }
        return dx_;
    }

    Shape output_shape(const Shape&) const { return {input_[0], input_[1], input_[2] + embedding_.features()}; }
    std::string input_mismatch(const Shape& input) const {
        if (input == input_ || (input.size() == 1 && input[0] == element_count(input_))) return {};
        return detail::concat("expects images of shape ", to_string(input_));
    }
    std::string type_name() const { return "LabelPlanes"; }
    std::string description() const {
        return detail::concat("LabelPlanes ", to_string(input_), "+", embedding_.features(), " (", embedding_.description(), ")");
    }
};

}  // namespace tinygan
