// The layer contract, written once (in the manner of dlib's EXAMPLE_COMPUTATIONAL_LAYER_), and the
// is_layer_v trait that Sequential static_asserts so a misfit type fails with one readable sentence.
#pragma once

#include "config.hpp"

#include <string>
#include <type_traits>
#include <utility>

namespace tinygan {

/*  A layer L is a class with `using Scalar = ...;` and these members (M is Matrix<Scalar>):

    const M& forward(const M& x);
        requires: x is (input features x batch).
        ensures:  returns y = f(x), (output features x batch), valid until the next forward.
                  A layer may return x itself when it only reinterprets the data (Reshape).

    const M& backward(const M& x, const M& dy, bool need_dx = true);
        requires: forward(x) was the last forward call; dy = dLoss/dy has y's shape.
        ensures:  every trainable parameter's gradient is *assigned* dLoss/dparameter for this
                  batch (never accumulated, so there is nothing to zero); frozen parameters'
                  gradients are left untouched and not computed. When need_dx, returns
                  dx = dLoss/dx with x's shape; otherwise the return value is unspecified (the
                  first layer of a model skips the work). The 1/batch of a mean loss lives in dy.

    template <class F> void for_each_parameter(F&& f);
        ensures:  calls f(const char* name, M& value, M& gradient, bool trainable) for each
                  parameter tensor, always in the same order.

    Shape output_shape(const Shape& input) const;    the shape of one output sample
    std::string input_mismatch(const Shape& input) const;
        ensures:  "" when the layer accepts samples of that shape, else what it expects,
                  e.g. "expects 128 input features".
    std::optional<Shape> declared_input_shape() const;  the input the layer was built for, if any
    std::string type_name() const;     "Dense"
    std::string description() const;   "Dense 128->784"
    Index parameter_count() const;
    bool trainable() const;  void trainable(bool);
*/

namespace detail {

template <class L, class = void>
struct has_layer_members : std::false_type {};

template <class L>
struct has_layer_members<
    L, std::void_t<typename L::Scalar,
                   decltype(std::declval<L&>().forward(std::declval<const Matrix<typename L::Scalar>&>())),
                   decltype(std::declval<L&>().backward(std::declval<const Matrix<typename L::Scalar>&>(),
                                                        std::declval<const Matrix<typename L::Scalar>&>(), true)),
                   decltype(std::declval<const L&>().output_shape(std::declval<const Shape&>())),
                   decltype(std::declval<const L&>().input_mismatch(std::declval<const Shape&>())),
                   decltype(std::declval<const L&>().declared_input_shape()),
                   decltype(std::declval<const L&>().description()),
                   decltype(std::declval<const L&>().parameter_count()),
                   decltype(std::declval<L&>().trainable(true))>> : std::true_type {};

}  // namespace detail

template <class L>
inline constexpr bool is_layer_v = detail::has_layer_members<std::remove_reference_t<L>>::value;

}  // namespace tinygan
