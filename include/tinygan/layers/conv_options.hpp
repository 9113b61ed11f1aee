// What Conv2D and ConvTranspose2D share: their options (stride, padding, bias), how their weights
// are initialised, and the checks of their sizes.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../random.hpp"

#include <cmath>

namespace tinygan {

struct ConvOptions {
    Index stride = 1;
    Index padding = 0;
    bool use_bias = true;
};

// How init() draws a convolution's weights: Keras' glorot-uniform kernel and zero bias, or
// PyTorch's default (kaiming-uniform with a = sqrt(5): U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the
// kernel and the bias, fan_in as PyTorch counts it).
enum class ConvInit { keras, pytorch };

namespace detail {

inline void require_conv_arguments(const char* layer, Index in_channels, Index out_channels, Index kernel,
                                   const ConvOptions& o) {
    if (in_channels <= 0 || out_channels <= 0 || kernel <= 0 || o.stride <= 0 || o.padding < 0)
        throw ArgumentError(concat(layer, " needs positive channels, kernel and stride and a padding >= 0, got in_channels=",
                                   in_channels, " out_channels=", out_channels, " kernel=", kernel, " stride=", o.stride,
                                   " padding=", o.padding));
}

// Glorot-uniform for a convolution kernel, as Keras initialises it: fan_in = k*k*in, fan_out = k*k*out.
template <class Scalar>
void glorot_uniform_conv(Matrix<Scalar>& kernel, Index receptive_field, Index in_channels, Index out_channels, Rng& rng) {
    const double limit = std::sqrt(6.0 / static_cast<double>(receptive_field * (in_channels + out_channels)));
    rng.fill_uniform(kernel, static_cast<Scalar>(-limit), static_cast<Scalar>(limit));
}

// The weights of a convolution as `how` draws them; PyTorch's fan_in is given by the layer.
template <class Scalar>
void init_conv(ConvInit how, Matrix<Scalar>& kernel, Matrix<Scalar>& bias, Index receptive_field, Index fan_in_channels,
               Index fan_out_channels, Index pytorch_fan_in, Rng& rng) {
    if (how == ConvInit::keras) {
        glorot_uniform_conv(kernel, receptive_field, fan_in_channels, fan_out_channels, rng);
        bias.setZero();
        return;
    }
    const auto bound = static_cast<Scalar>(1 / std::sqrt(static_cast<double>(pytorch_fan_in)));
    rng.fill_uniform(kernel, -bound, bound);
    rng.fill_uniform(bias, -bound, bound);
}

}  // namespace detail

}  // namespace tinygan
