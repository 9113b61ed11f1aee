// The layer contract, written once (in the manner of dlib's EXAMPLE_COMPUTATIONAL_LAYER_), and the
// checks that Sequential runs on each of its layers: one static_assert per member, so a type that
// misses one fails with a sentence naming that member, not deep inside a template.
#pragma once

#include "config.hpp"
#include "parameter.hpp"

#include <optional>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace tinygan {

/*  A layer L is a class with `using Scalar = ...;` and these members (M is Matrix<Scalar>):

    const M& forward(const M& x);
        requires: x is (input features x batch).
        ensures:  returns y = f(x), (output features x batch), valid until the next forward.
                  A layer that only reinterprets its data (Reshape, Flatten) may return x itself.

    const M& backward(const M& x, const M& dy, bool need_dx = true);
        requires: forward(x) was the last forward call; dy = dLoss/dy has y's shape.
        ensures:  every trainable parameter's gradient is *assigned* dLoss/dparameter for this
                  batch (never accumulated, so there is nothing to zero); frozen parameters'
                  gradients are left untouched and not computed. When need_dx, returns
                  dx = dLoss/dx with x's shape, which may be dy itself when the layer is the
                  identity on its data (Reshape, Flatten); otherwise the return value is
                  unspecified. A Sequential asks a layer for dx only when a layer before it has
                  parameters or its own caller asked for dx. The 1/batch of a mean loss lives in dy.

    template <class F> void for_each_parameter(F&& f);
        ensures:  calls f(Parameter<Scalar>{...}) (parameter.hpp) once per tensor, always in the
                  same order; a layer without parameters never calls f.

    Shape output_shape(const Shape& input) const;    the shape of one output sample
    std::string input_mismatch(const Shape& input) const;
        ensures:  "" when the layer accepts samples of that shape, else what it expects,
                  e.g. "expects 128 input features".
    std::optional<Shape> declared_input_shape() const;  the input the layer was built for, if any
    std::string type_name() const;     "Dense"
    std::string description() const;   "Dense 128->784"
    Index parameter_count() const;
    bool trainable() const;  void trainable(bool);

    A layer that takes the samples' labels (a conditioning layer, conditioning.hpp) declares
    `static constexpr bool takes_labels = true;` and has, instead of the pair above,
        const M& forward(const M& x, const Labels& labels);
        const M& backward(const M& x, const Labels& labels, const M& dy, bool need_dx = true);
    with labels (1 x batch) the class of each sample; a Sequential holding one is conditional
    and passes the labels it is given to the layers that take them.

    Optional: void set_training(bool);  for layers that behave differently when training
    (BatchNorm, Dropout); Sequential forwards the mode to the layers that have it.
    Optional: void build(const Shape& input);  for layers that need the whole input shape, not
    only its size (Conv2D: height and width); Sequential calls it once, when it is built, with
    the shape the layer before produces.
*/

namespace detail {

// A visitor that accepts any Parameter: for checking that for_each_parameter can be called.
template <class Scalar>
struct AnyParameterVisitor {
    void operator()(const Parameter<Scalar>&) const {}
};

template <class Scalar>
struct AnyNamedParameterVisitor {
    void operator()(const std::string&, const Parameter<Scalar>&) const {}
};

#define TINYGAN_DETECT_MEMBER(trait, expression)                        \
    template <class L, class = void>                                    \
    struct trait : std::false_type {};                                  \
    template <class L>                                                  \
    struct trait<L, std::void_t<decltype(expression)>> : std::true_type {};

template <class L>
using layer_matrix_t = Matrix<typename L::Scalar>;

TINYGAN_DETECT_MEMBER(has_scalar, std::declval<typename L::Scalar>())
TINYGAN_DETECT_MEMBER(has_forward, std::declval<L&>().forward(std::declval<const layer_matrix_t<L>&>()))
TINYGAN_DETECT_MEMBER(has_backward, std::declval<L&>().backward(std::declval<const layer_matrix_t<L>&>(),
                                                                 std::declval<const layer_matrix_t<L>&>(), true))
TINYGAN_DETECT_MEMBER(has_labelled_forward,
                      std::declval<L&>().forward(std::declval<const layer_matrix_t<L>&>(), std::declval<const Labels&>()))
TINYGAN_DETECT_MEMBER(has_labelled_backward,
                      std::declval<L&>().backward(std::declval<const layer_matrix_t<L>&>(), std::declval<const Labels&>(),
                                                  std::declval<const layer_matrix_t<L>&>(), true))
TINYGAN_DETECT_MEMBER(has_for_each_parameter,
                      std::declval<L&>().for_each_parameter(AnyParameterVisitor<typename L::Scalar>{}))
TINYGAN_DETECT_MEMBER(has_output_shape, std::declval<const L&>().output_shape(std::declval<const Shape&>()))
TINYGAN_DETECT_MEMBER(has_input_mismatch, std::declval<const L&>().input_mismatch(std::declval<const Shape&>()))
TINYGAN_DETECT_MEMBER(has_declared_input_shape, std::declval<const L&>().declared_input_shape())
TINYGAN_DETECT_MEMBER(has_type_name, std::declval<const L&>().type_name())
TINYGAN_DETECT_MEMBER(has_description, std::declval<const L&>().description())
TINYGAN_DETECT_MEMBER(has_parameter_count, std::declval<const L&>().parameter_count())
TINYGAN_DETECT_MEMBER(has_trainable_flag, (std::declval<const L&>().trainable(), std::declval<L&>().trainable(true)))
TINYGAN_DETECT_MEMBER(has_training_mode, std::declval<L&>().set_training(true))
TINYGAN_DETECT_MEMBER(has_build, std::declval<L&>().build(std::declval<const Shape&>()))
TINYGAN_DETECT_MEMBER(has_require_labels, std::declval<const L&>().require_labels(std::declval<const Labels&>()))
TINYGAN_DETECT_MEMBER(has_named_parameters,
                      std::declval<L&>().for_each_named_parameter(AnyNamedParameterVisitor<typename L::Scalar>{}))

#undef TINYGAN_DETECT_MEMBER

// Scalar is checked first and alone: every other check needs it.
template <class L, bool = has_scalar<L>::value>
struct layer_members {
    static constexpr bool all = false;
};

template <class L>
struct layer_members<L, true> {
    // A conditioning layer has the labelled pair instead (forward(x, labels), backward(x, labels, dy)).
    static constexpr bool forward = has_forward<L>::value || has_labelled_forward<L>::value,
                          backward = has_backward<L>::value || has_labelled_backward<L>::value,
                          for_each_parameter = has_for_each_parameter<L>::value,
                          output_shape = has_output_shape<L>::value, input_mismatch = has_input_mismatch<L>::value,
                          declared_input_shape = has_declared_input_shape<L>::value,
                          type_name = has_type_name<L>::value, description = has_description<L>::value,
                          parameter_count = has_parameter_count<L>::value, trainable = has_trainable_flag<L>::value;
    static constexpr bool all = forward && backward && for_each_parameter && output_shape && input_mismatch &&
                                declared_input_shape && type_name && description && parameter_count && trainable;
};

// A layer that takes the samples' labels (a conditioning layer, or a model holding one) says so with
// `static constexpr bool takes_labels = true;`, and is called forward(x, labels).
template <class L, class = void>
struct takes_labels : std::false_type {};
template <class L>
struct takes_labels<L, std::enable_if_t<L::takes_labels>> : std::true_type {};

// A layer's (or model's) forward and backward, with the labels when it takes them (`labels` may be
// null for one that does not).
template <class L, class M>
const M& forward_with(L& layer, const M& x, const Labels* labels) {
    if constexpr (takes_labels<L>::value)
        return layer.forward(x, *labels);
    else
        return layer.forward(x);
}
template <class L, class M>
const M& backward_with(L& layer, const M& x, const Labels* labels, const M& dy, bool need_dx) {
    if constexpr (takes_labels<L>::value)
        return layer.backward(x, *labels, dy, need_dx);
    else
        return layer.backward(x, dy, need_dx);
}

// A model made of layers (Sequential) names them in `using layer_types = std::tuple<Layers...>;`.
template <class L, class = void>
struct is_model : std::false_type {};
template <class L>
struct is_model<L, std::void_t<typename L::layer_types>> : std::true_type {};

// How many layers a model holds once nested models are opened up (1 for a plain layer).
template <class L, class = void>
struct leaf_layer_count : std::integral_constant<std::size_t, 1> {};
template <class Tuple>
struct leaf_layers_of;
template <class... Layers>
struct leaf_layers_of<std::tuple<Layers...>>
    : std::integral_constant<std::size_t, (std::size_t(0) + ... + leaf_layer_count<std::decay_t<Layers>>::value)> {};
template <class L>
struct leaf_layer_count<L, std::void_t<typename L::layer_types>> : leaf_layers_of<typename L::layer_types> {};

// f(layer) for every layer of `layer` that is not itself a model, nested models opened up, in
// order (a plain layer is its own only leaf).
template <class L, class F>
void for_each_leaf_layer(L& layer, F&& f) {
    if constexpr (is_model<std::decay_t<L>>::value)
        layer.for_each_layer([&](auto& inner, auto) { for_each_leaf_layer(inner, f); });
    else
        f(layer);
}

// Selects training or inference mode in a layer that has one; nothing for the others.
template <class L>
void set_training_mode(L& layer, bool on) {
    if constexpr (has_training_mode<L>::value) layer.set_training(on);
}

}  // namespace detail

template <class L>
inline constexpr bool is_layer_v = detail::layer_members<std::remove_reference_t<L>>::all;

// Fails to compile, with one sentence per missing member, unless L satisfies the layer contract.
// Returns true so that it can sit inside a static_assert or a constexpr variable.
template <class L>
constexpr bool require_layer_contract() {
    using Layer = std::remove_reference_t<L>;
    static_assert(detail::has_scalar<Layer>::value,
                  "tinygan: a layer needs a member type `Scalar` (float or double), see layer_concept.hpp");
    if constexpr (detail::has_scalar<Layer>::value) {
        using Members = detail::layer_members<Layer>;
        static_assert(Members::forward, "tinygan: a layer needs `const M& forward(const M& x)`, see layer_concept.hpp");
        static_assert(Members::backward,
                      "tinygan: a layer needs `const M& backward(const M& x, const M& dy, bool need_dx)`, see "
                      "layer_concept.hpp");
        static_assert(Members::for_each_parameter,
                      "tinygan: a layer needs `template <class F> void for_each_parameter(F&& f)` calling "
                      "f(Parameter<Scalar>{...}), see layer_concept.hpp");
        static_assert(Members::output_shape,
                      "tinygan: a layer needs `Shape output_shape(const Shape&) const`, see layer_concept.hpp");
        static_assert(Members::input_mismatch,
                      "tinygan: a layer needs `std::string input_mismatch(const Shape&) const`, see layer_concept.hpp");
        static_assert(Members::declared_input_shape,
                      "tinygan: a layer needs `std::optional<Shape> declared_input_shape() const`, see "
                      "layer_concept.hpp");
        static_assert(Members::type_name, "tinygan: a layer needs `std::string type_name() const`, see layer_concept.hpp");
        static_assert(Members::description,
                      "tinygan: a layer needs `std::string description() const`, see layer_concept.hpp");
        static_assert(Members::parameter_count,
                      "tinygan: a layer needs `Index parameter_count() const`, see layer_concept.hpp");
        static_assert(Members::trainable,
                      "tinygan: a layer needs `bool trainable() const` and `void trainable(bool)`, see "
                      "layer_concept.hpp");
    }
    return true;
}

}  // namespace tinygan
