// Sequential<Scalar, Layers...>: layers composed left to right, as Keras' Sequential([...]).
// The layers live in a flat std::tuple (no heap, no virtual calls); the forward is a left fold, the
// backward walks the same layers right to left, each fed the input it saw in the forward.
// A Sequential is itself a layer, and may hold references: chain(generator, discriminator) is the
// GAN's combined model without copying either.
#pragma once

#include "config.hpp"
#include "detail/tuple.hpp"
#include "error.hpp"
#include "layer_concept.hpp"
#include "parameter.hpp"
#include "detail/snake_case.hpp"
#include "summary.hpp"

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace tinygan {

template <class ScalarType, class... Layers>
class Sequential;

namespace detail {

// A layer that maps logits to probabilities with the logistic function (Sigmoid) says so with
// `static constexpr bool squashes_logits = true;`, so a loss can work from its input instead.
template <class L, class = void>
struct squashes_logits : std::false_type {};
template <class L>
struct squashes_logits<L, std::enable_if_t<L::squashes_logits>> : std::true_type {};

// True when L's Scalar is S, or when L has no Scalar at all (require_layer_contract says so).
template <class S, class L>
constexpr bool scalar_is() {
    using Layer = std::remove_reference_t<L>;
    if constexpr (has_scalar<Layer>::value)
        return std::is_same_v<typename Layer::Scalar, S>;
    else
        return true;
}

template <class L>
struct is_sequential : std::false_type {};
template <class S, class... Ls>
struct is_sequential<Sequential<S, Ls...>> : std::true_type {};

template <class L>
struct ends_in_sigmoid : squashes_logits<L> {};
template <class S, class... Ls>
struct ends_in_sigmoid<Sequential<S, Ls...>>
    : ends_in_sigmoid<std::decay_t<std::tuple_element_t<sizeof...(Ls) - 1, std::tuple<Ls...>>>> {};

}  // namespace detail

// True when a model's output is a Sigmoid, so the loss can be computed from its logits.
template <class Model>
inline constexpr bool ends_in_sigmoid_v = detail::ends_in_sigmoid<std::decay_t<Model>>::value;

template <class ScalarType, class... Layers>
class Sequential {
    static_assert(sizeof...(Layers) > 0, "tinygan: a Sequential needs at least one layer");
    static_assert((require_layer_contract<Layers>() && ...));
    static_assert((detail::scalar_is<ScalarType, Layers>() && ...),
                  "tinygan: all layers of a Sequential must use the same Scalar type");

public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;
    using layer_types = std::tuple<Layers...>;
    static constexpr std::size_t size = sizeof...(Layers);

    explicit Sequential(Layers... layers) : layers_(std::forward<Layers>(layers)...) { infer_shapes(); }

    // Copies and moves are allowed; the input pointers are only meaningful within one step.

    // A conditional model: some layer takes the samples' labels (conditioning.hpp). Such a model
    // is called with them, forward(x, labels), and passes them to the layers that take them.
    static constexpr bool takes_labels = (detail::takes_labels<std::decay_t<Layers>>::value || ...);

    // x: input features x batch -> output features x batch, in the current mode (set_training).
    const M& forward(const M& x) {
        static_assert(!takes_labels, "tinygan: this model is conditional: call forward(x, labels)");
        require_input_rows(x);
        labels_ = nullptr;
        return forward_all(x, std::index_sequence_for<Layers...>{});
    }
    // The same for a conditional model, with one label per sample (column of x).
    const M& forward(const M& x, const Labels& labels) {
        static_assert(takes_labels, "tinygan: this model takes no labels: call forward(x)");
        require_input_rows(x);
        if (labels.cols() != x.cols())
            throw ShapeError(detail::concat(description(), ": the batch has ", x.cols(), " samples (columns of x) but ",
                                            labels.cols(), " labels"));
        labels_ = &labels;
        return forward_all(x, std::index_sequence_for<Layers...>{});
    }

    // Keras' predict(): the output for a batch, in inference mode (BatchNorm uses its moving
    // statistics, Dropout passes everything through).
    const M& predict(const M& x) {
        set_training(false);
        return forward(x);
    }
    const M& predict(const M& x, const Labels& labels) {
        set_training(false);
        return forward(x, labels);
    }

    // Backpropagates dy = dLoss/doutput through every layer, right to left. Needs the last forward's
    // x (and labels).
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        static_assert(!takes_labels, "tinygan: this model is conditional: call backward(x, labels, dy)");
        TINYGAN_ASSERT(&x == inputs_[0]);
        (void)x;
        return backward_through<size>(dy, need_dx);
    }
    const M& backward(const M& x, const Labels& labels, const M& dy, bool need_dx = true) {
        static_assert(takes_labels, "tinygan: this model takes no labels: call backward(x, dy)");
        TINYGAN_ASSERT(&x == inputs_[0] && &labels == labels_);
        (void)x;
        (void)labels;
        return backward_through<size>(dy, need_dx);
    }

    // Training mode (batch statistics, dropout) or inference mode, for every layer that has one.
    // train_on_batch selects training, predict() inference.
    void set_training(bool on) {
        detail::tuple_for_each(layers_, [&](auto& layer, auto) { detail::set_training_mode(layer, on); });
    }

    // For a model ending in Sigmoid: the Sigmoid's input, i.e. the output before squashing.
    const M& logits() const {
        static_assert(ends_in_sigmoid_v<Sequential>, "tinygan: logits() needs a model that ends in Sigmoid");
        if constexpr (detail::squashes_logits<std::decay_t<Last>>::value)
            return *inputs_[size - 1];
        else
            return std::get<size - 1>(layers_).logits();
    }

    // Like backward, but starting from dLoss/dlogits: the final Sigmoid is folded into the loss,
    // which is how tf.keras trains a sigmoid output (stable, never NaN).
    const M& backward_from_logits(const M& x, const M& dlogits, bool need_dx = true) {
        static_assert(!takes_labels, "tinygan: this model is conditional: call backward_from_logits(x, labels, dlogits)");
        TINYGAN_ASSERT(&x == inputs_[0]);
        (void)x;
        return backward_from_logits_through(dlogits, need_dx);
    }
    const M& backward_from_logits(const M& x, const Labels& labels, const M& dlogits, bool need_dx = true) {
        static_assert(takes_labels, "tinygan: this model takes no labels: call backward_from_logits(x, dlogits)");
        TINYGAN_ASSERT(&x == inputs_[0] && &labels == labels_);
        (void)x;
        (void)labels;
        return backward_from_logits_through(dlogits, need_dx);
    }

    // f(Parameter<Scalar>) for every tensor of every layer, in order.
    template <class F>
    void for_each_parameter(F&& f) {
        detail::tuple_for_each(layers_, [&](auto& layer, auto) { layer.for_each_parameter(f); });
    }

    // f(const std::string& name, const Parameter<Scalar>&) with Keras-like names: "dense_2.kernel",
    // nested models prefixed ("sequential_0.dense_2.kernel"). For I/O and reports, not the hot path.
    template <class F>
    void for_each_named_parameter(F&& f, const std::string& prefix = "") {
        detail::tuple_for_each(layers_, [&](auto& layer, auto index) {
            const std::string layer_name = prefix + layer_name_of(layer, index);
            if constexpr (detail::is_sequential<std::decay_t<decltype(layer)>>::value) {
                layer.for_each_named_parameter(f, layer_name + ".");
            } else {
                layer.for_each_parameter([&](const Parameter<Scalar>& p) { f(layer_name + "." + p.name, p); });
            }
        });
    }

    // The tensor called `name` ("dense_2.kernel"); ArgumentError lists the names when there is none.
    const M& parameter(const std::string& name) { return find_parameter(name).value; }

    // Replaces the tensor called `name` with `value`, which must have its shape (ShapeError names
    // both shapes otherwise; nothing is resized). Dense kernels are (out x in), as PyTorch's
    // Linear.weight, Keras' kernel transposed.
    template <class Derived>
    void set_parameter(const std::string& name, const Eigen::MatrixBase<Derived>& value) {
        M& target = find_parameter(name).value;
        if (value.rows() != target.rows() || value.cols() != target.cols())
            throw ShapeError(detail::concat(description(), ": ", name, " is ", target.rows(), " x ", target.cols(),
                                            ", got a ", value.rows(), " x ", value.cols(), " matrix"));
        target = value.template cast<Scalar>();
    }

    template <std::size_t I>
    auto& layer() { return std::get<I>(layers_); }
    template <std::size_t I>
    const auto& layer() const { return std::get<I>(layers_); }

    // Calls f(layer, index) for each layer, left to right.
    template <class F>
    void for_each_layer(F&& f) { detail::tuple_for_each(layers_, f); }
    template <class F>
    void for_each_layer(F&& f) const { detail::tuple_for_each(layers_, f); }

    // Keras' `model.trainable = on`: applies to every layer.
    void trainable(bool on) {
        detail::tuple_for_each(layers_, [&](auto& layer, auto) { layer.trainable(on); });
    }
    // True when any layer is trainable.
    bool trainable() const {
        bool any = false;
        detail::tuple_for_each(layers_, [&](const auto& layer, auto) { any = any || layer.trainable(); });
        return any;
    }

    Index parameter_count() const {
        Index count = 0;
        detail::tuple_for_each(layers_, [&](const auto& layer, auto) { count += layer.parameter_count(); });
        return count;
    }
    // Keras' "Trainable params": the elements of tensors that an optimizer would step now.
    Index trainable_parameter_count() const {
        Index count = 0;
        const_cast<Sequential&>(*this).for_each_parameter([&](const Parameter<Scalar>& p) {
            if (p.trainable) count += p.value.size();
        });
        return count;
    }

    const Shape& input_shape() const { return shapes_.front(); }
    const Shape& output_shape() const { return shapes_.back(); }
    // The shape of layer i's input (i < size) or of the model's output (i == size).
    const Shape& shape_before(std::size_t i) const { return shapes_.at(i); }

    // Layer contract, so a Sequential can be an element of another.
    Shape output_shape(const Shape&) const { return shapes_.back(); }
    std::string input_mismatch(const Shape& input) const {
        if (element_count(input) == element_count(shapes_.front())) return {};
        return detail::concat("expects ", element_count(shapes_.front()), " input features");
    }
    std::optional<Shape> declared_input_shape() const { return shapes_.front(); }
    std::string type_name() const { return "Sequential"; }
    std::string description() const { return name_.empty() ? "Sequential" : "Sequential '" + name_ + "'"; }

    const std::string& name() const { return name_; }
    Sequential& set_name(std::string name) {
        name_ = std::move(name);
        return *this;
    }

    // A Keras-like table of the layers, their output shapes and parameter counts (summary.hpp).
    void summary(std::ostream& out) const { print_summary(*this, out); }

    // Keras' name for the layer at `index`: "dense_2", "re_lu_1".
    template <class Layer, std::size_t I>
    static std::string layer_name_of(const Layer& layer, std::integral_constant<std::size_t, I>) {
        return detail::snake_case(layer.type_name()) + "_" + std::to_string(I);
    }

private:
    using Last = std::tuple_element_t<size - 1, std::tuple<Layers...>>;

    Parameter<Scalar> find_parameter(const std::string& name) {
        std::optional<Parameter<Scalar>> found;
        std::string known;
        for_each_named_parameter([&](const std::string& candidate, const Parameter<Scalar>& p) {
            if (candidate == name && !found) found.emplace(p);
            known += (known.empty() ? "" : ", ") + candidate;
        });
        if (!found)
            throw ArgumentError(detail::concat(description(), " has no parameter \"", name, "\"; it has: ",
                                               known.empty() ? "none" : known));
        return *found;
    }

    // Walks the layers once at construction: each must accept what the previous one produces.
    void infer_shapes() {
        using First = std::decay_t<std::tuple_element_t<0, std::tuple<Layers...>>>;
        const auto first_input = std::get<0>(layers_).declared_input_shape();
        if (!first_input) {
            // A layer that needs the whole image shape (a convolution) learns it from a Reshape.
            const char* hint = detail::has_build<First>::value
                                   ? "put Reshape({height, width, channels}) before it, e.g. Reshape<float>({28, 28, 1})"
                                   : "begin with a layer that declares it, e.g. Dense(in, out) or Flatten({28, 28, 1})";
            throw ArgumentError(detail::concat("the first layer of a Sequential (", std::get<0>(layers_).description(),
                                               ") does not know the model's input shape: ", hint));
        }
        shapes_.assign(1, *first_input);
        std::string previous = "the model input";
        detail::tuple_for_each(layers_, [&](auto& layer, auto index) {
            const Shape input = shapes_.back();
            const std::string mismatch = layer.input_mismatch(input);
            if (!mismatch.empty())
                throw ShapeError(detail::concat("layer ", std::size_t(index), " (", layer.description(), ") ",
                                                mismatch, ", but ", previous, " produces ", element_count(input),
                                                " ", to_string(input)));
            if constexpr (detail::has_build<std::decay_t<decltype(layer)>>::value) layer.build(input);
            shapes_.push_back(layer.output_shape(input));
            parameters_before_[index + 1] = parameters_before_[index] || layer.parameter_count() > 0;
            previous = detail::concat("layer ", std::size_t(index), " (", layer.description(), ")");
        });
    }

    void require_input_rows(const M& x) const {
        if (x.rows() != element_count(shapes_.front()))
            throw ShapeError(detail::concat(description(), " expects ", element_count(shapes_.front()),
                                            " input features per sample (rows), got ", x.rows()));
    }

    template <std::size_t... I>
    const M& forward_all(const M& x, std::index_sequence<I...>) {
        inputs_[0] = &x;
        ((inputs_[I + 1] = &detail::forward_with(std::get<I>(layers_), *inputs_[I], labels_)), ...);
        return *inputs_[size];
    }

    // Runs the backward of layers Count-1 down to 0. A layer computes its dx only when a layer before
    // it has parameters (whose gradients need it) or the caller asks for the model's dx; the
    // parameter-free layers at the front (a discriminator's Flatten) are not run at all then.
    template <std::size_t Count>
    const M& backward_through(const M& dy, bool need_dx) {
        if constexpr (Count == 0) {
            return dy;
        } else {
            if (!need_dx && !parameters_before_[Count]) return dy;
            const M& dx = detail::backward_with(std::get<Count - 1>(layers_), *inputs_[Count - 1], labels_, dy,
                                                need_dx || parameters_before_[Count - 1]);
            return backward_through<Count - 1>(dx, need_dx);
        }
    }

    const M& backward_from_logits_through(const M& dlogits, bool need_dx) {
        static_assert(ends_in_sigmoid_v<Sequential>, "tinygan: backward_from_logits() needs a model that ends in Sigmoid");
        if constexpr (detail::squashes_logits<std::decay_t<Last>>::value) {
            return backward_through<size - 1>(dlogits, need_dx);
        } else {  // the last layer is a model ending in Sigmoid
            auto& last = std::get<size - 1>(layers_);
            const bool need = need_dx || parameters_before_[size - 1];
            const M* d = nullptr;
            if constexpr (detail::takes_labels<std::decay_t<Last>>::value)
                d = &last.backward_from_logits(*inputs_[size - 1], *labels_, dlogits, need);
            else
                d = &last.backward_from_logits(*inputs_[size - 1], dlogits, need);
            return backward_through<size - 1>(*d, need_dx);
        }
    }

    std::tuple<Layers...> layers_;
    std::vector<Shape> shapes_;                  // shapes_[i] is layer i's input; back() is the output
    std::array<const M*, size + 1> inputs_{};    // the last forward's activations, by address
    const Labels* labels_ = nullptr;             // the last forward's labels (conditional models)
    std::array<bool, size + 1> parameters_before_{};  // [i]: some layer before layer i has parameters
    std::string name_;
};

// f(name, parameter) for a model or a lone layer, with the names checkpoints and reports use:
// "dense_2.kernel" in a Sequential, "dense.kernel" for a lone Dense.
template <class Model, class F>
void for_each_named_parameter(Model& model, F&& f) {
    using Scalar = typename Model::Scalar;
    if constexpr (detail::is_sequential<Model>::value) {
        model.for_each_named_parameter(f);
    } else {
        const std::string layer = detail::snake_case(model.type_name());
        model.for_each_parameter([&](const Parameter<Scalar>& p) { f(layer + "." + p.name, p); });
    }
}

// Sequential{Dense<float>(100, 128, rng), ReLU<float>{}, ...} deduces the Scalar from the first layer.
template <class First, class... Rest>
Sequential(First, Rest...) -> Sequential<typename First::Scalar, First, Rest...>;

// Builds a Sequential from layers, like Keras' Sequential([...], name=...).
template <class First, class... Rest>
auto make_sequential(std::string name, First first, Rest... rest) {
    Sequential<typename First::Scalar, First, Rest...> model(std::move(first), std::move(rest)...);
    model.set_name(std::move(name));
    return model;
}

// The models one after another, by reference: chain(generator, discriminator) is the GAN.
template <class... Models>
auto chain(Models&... models) {
    using First = std::tuple_element_t<0, std::tuple<Models...>>;
    return Sequential<typename First::Scalar, Models&...>(models...);
}

}  // namespace tinygan
