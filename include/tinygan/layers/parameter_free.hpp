// What every layer without parameters shares (Reshape, Flatten, the activations): nothing to visit,
// count or train. Elementwise layers (the activations) also keep the shape of their input.
#pragma once

#include "../config.hpp"

#include <optional>
#include <string>

namespace tinygan::detail {

class ParameterFreeLayer {
public:
    Index parameter_count() const { return 0; }
    // Nothing to freeze; the flag is kept so summaries and Frozen treat every layer alike.
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }
    template <class F>
    void for_each_parameter(F&&) {}

private:
    bool trainable_ = true;
};

class ElementwiseLayer : public ParameterFreeLayer {
public:
    Shape output_shape(const Shape& input) const { return input; }
    std::string input_mismatch(const Shape&) const { return {}; }
    std::optional<Shape> declared_input_shape() const { return std::nullopt; }
};

}  // namespace tinygan::detail
