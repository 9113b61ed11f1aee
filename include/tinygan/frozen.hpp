// Frozen: Keras' `model.trainable = False` for the lifetime of a guard. Each layer's own flag is
// restored afterwards, so a layer frozen beforehand stays frozen:
//     { Frozen frozen_d(discriminator); train_on_batch(gan, ...); }   // D does not learn here
#pragma once

#include <array>
#include <cstddef>

namespace tinygan {

template <class Model>
class Frozen {
public:
    explicit Frozen(Model& model) : model_(model) {
        model_.for_each_layer([&](const auto& layer, auto index) { was_trainable_[index] = layer.trainable(); });
        model_.trainable(false);
    }
    ~Frozen() {
        model_.for_each_layer([&](auto& layer, auto index) { layer.trainable(was_trainable_[index]); });
    }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;

private:
    Model& model_;
    std::array<bool, Model::size> was_trainable_{};
};

}  // namespace tinygan
