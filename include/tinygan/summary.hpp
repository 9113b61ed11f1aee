// print_summary(model, out): Keras' model.summary() table (layer, output shape, parameter count,
// then the totals). Sequential::summary(out) calls it.
#pragma once

#include "config.hpp"
#include "detail/snake_case.hpp"

#include <iomanip>
#include <ostream>
#include <string>

namespace tinygan {

template <class Model>
void print_summary(const Model& model, std::ostream& out) {
    // "(28, 28, 1)" -> "(None, 28, 28, 1)": Keras shows the batch axis as None.
    auto with_batch_axis = [](const Shape& shape) {
        std::string s = "(None";
        for (Index dim : shape) s += ", " + std::to_string(dim);
        return s + ")";
    };
    const std::string rule(65, '_'), double_rule(65, '=');
    out << "Model: \"" << (model.name().empty() ? "sequential" : model.name()) << "\"\n" << rule << '\n';
    out << std::left << std::setw(29) << " Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n"
        << double_rule << '\n';
    model.for_each_layer([&](const auto& layer, auto index) {
        out << ' ' << std::left << std::setw(28) << (Model::layer_name_of(layer, index) + " (" + layer.type_name() + ")")
            << std::setw(26) << with_batch_axis(model.shape_before(index + 1)) << layer.parameter_count() << '\n';
    });
    const Index total = model.parameter_count(), trainable = model.trainable_parameter_count();
    out << double_rule << "\nTotal params: " << total << "\nTrainable params: " << trainable
        << "\nNon-trainable params: " << (total - trainable) << '\n'
        << rule << '\n';
}

}  // namespace tinygan
