// Reshape<Scalar> and Flatten<Scalar>. With samples as columns a sample's features are already
// contiguous in Keras' row-major order, so both only change the shape that is reported: forward
// returns x and backward returns dy, untouched and uncopied.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "parameter_free.hpp"

#include <optional>
#include <string>

namespace tinygan {

namespace detail {

inline void require_positive_dims(const Shape& shape, const char* layer) {
    if (shape.empty()) throw ArgumentError(detail::concat(layer, " needs a non-empty shape"));
    for (Index dim : shape)
        if (dim <= 0) throw ArgumentError(detail::concat(layer, " needs positive dimensions, got ", to_string(shape)));
}

}  // namespace detail

template <class ScalarType>
class Reshape : public detail::ParameterFreeLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    explicit Reshape(Shape target) : target_(std::move(target)) { detail::require_positive_dims(target_, "Reshape"); }

    const M& forward(const M& x) {
        if (x.rows() != element_count(target_))
            throw ShapeError(detail::concat(description(), " needs ", element_count(target_),
                                            " features per sample, got ", x.rows()));
        return x;
    }
    const M& backward(const M&, const M& dy, bool = true) { return dy; }

    Shape output_shape(const Shape&) const { return target_; }
    std::string input_mismatch(const Shape& input) const {
        if (element_count(input) == element_count(target_)) return {};
        return detail::concat("needs ", element_count(target_), " elements per sample");
    }
    // As a first layer it takes flat samples of the same size: Reshape({28, 28, 1}) expects 784 features.
    std::optional<Shape> declared_input_shape() const { return Shape{element_count(target_)}; }
    std::string type_name() const { return "Reshape"; }
    std::string description() const { return "Reshape to " + to_string(target_); }

private:
    Shape target_;
};

template <class ScalarType>
class Flatten : public detail::ParameterFreeLayer {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    // Like Keras' Flatten(input_shape=...): the input shape may be given when Flatten comes first.
    Flatten() = default;
    explicit Flatten(Shape input_shape) : input_shape_(std::move(input_shape)) {
        detail::require_positive_dims(*input_shape_, "Flatten");
    }

    const M& forward(const M& x) {
        if (input_shape_ && x.rows() != element_count(*input_shape_))
            throw ShapeError(detail::concat(description(), " needs ", element_count(*input_shape_),
                                            " features per sample, got ", x.rows()));
        return x;
    }
    const M& backward(const M&, const M& dy, bool = true) { return dy; }

    Shape output_shape(const Shape& input) const { return {element_count(input)}; }
    std::string input_mismatch(const Shape& input) const {
        if (!input_shape_ || element_count(input) == element_count(*input_shape_)) return {};
        return detail::concat("needs ", element_count(*input_shape_), " elements per sample");
    }
    std::optional<Shape> declared_input_shape() const { return input_shape_; }
    std::string type_name() const { return "Flatten"; }
    std::string description() const {
        return input_shape_ ? "Flatten from " + to_string(*input_shape_) : std::string("Flatten");
    }

private:
    std::optional<Shape> input_shape_;
};

}  // namespace tinygan
