// What ReLU and Sigmoid share: no parameters, the output has the input's shape, and the backward
// needs only the layer's own output y. Each activation supplies forward and backward.
#pragma once

#include "../config.hpp"

#include <optional>
#include <string>

namespace tinygan::detail {

class ParameterFreeElementwise {
public:
    Shape output_shape(const Shape& input) const { return input; }
    std::string input_mismatch(const Shape&) const { return {}; }
    std::optional<Shape> declared_input_shape() const { return std::nullopt; }
    Index parameter_count() const { return 0; }
    // Nothing to freeze; the flag is kept so summaries and guards treat every layer alike.
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }
    template <class F>
    void for_each_parameter(F&&) {}

private:
    bool trainable_ = true;
};

}  // namespace tinygan::detail
