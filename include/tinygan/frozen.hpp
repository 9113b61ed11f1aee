// Frozen: Keras' `model.trainable = False` for the lifetime of a guard. Each layer's own flag, in
// nested models too, is restored afterwards, so a layer frozen beforehand stays frozen:
//     { Frozen frozen_d(discriminator); train_on_batch(gan, ...); }   // D does not learn here
#pragma once

#include "layer_concept.hpp"

#include <array>
#include <cstddef>

namespace tinygan {

template <class Model>
class Frozen {
public:
    explicit Frozen(Model& model) : model_(model) {
        std::size_t k = 0;
        detail::for_each_leaf_layer(model_, [&](const auto& layer) { was_trainable_[k++] = layer.trainable(); });
        model_.trainable(false);
    }
    ~Frozen() {
        std::size_t k = 0;
        detail::for_each_leaf_layer(model_, [&](auto& layer) { layer.trainable(was_trainable_[k++]); });
    }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;

private:
    Model& model_;
    std::array<bool, detail::leaf_layer_count<Model>::value> was_trainable_{};  // one per layer, nested ones opened up
};

}  // namespace tinygan
