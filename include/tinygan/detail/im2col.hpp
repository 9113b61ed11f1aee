// The image <-> column transforms the convolution layers are built on, for channels-last images
// stored one per matrix column: sample n's pixel (y, x), channel c is row (y * W + x) * C + c.
//
// im2col gathers, for each output pixel of a k x k convolution with stride s and zero padding p,
// the k*k*C input values it sees into one column of `patches`: row (ky * k + kx) * C + c, column
// (n * OH + oy) * OW + ox. Then a convolution is one matrix product, W (out x k*k*C) * patches,
// whose (out x OH*OW*batch) result is already the channels-last output batch. col2im is its
// adjoint: it adds every patch entry back onto the pixel it came from.
#pragma once

#include "../config.hpp"

#include <algorithm>
#include <cstring>

namespace tinygan::detail {

struct ConvGeometry {
    Index height = 0, width = 0, channels = 0;  // the image a kernel slides over
    Index kernel = 1, stride = 1, padding = 0;
    Index out_height = 0, out_width = 0;

    ConvGeometry() = default;
    ConvGeometry(Index h, Index w, Index c, Index k, Index s, Index p)
        : height(h), width(w), channels(c), kernel(k), stride(s), padding(p),
          out_height((h + 2 * p - k) / s + 1), out_width((w + 2 * p - k) / s + 1) {}

    Index image_size() const { return height * width * channels; }
    Index patch_size() const { return kernel * kernel * channels; }
    Index out_pixels() const { return out_height * out_width; }
};

// patches(:, n * OH*OW + q) for samples n in [first_sample, last_sample): the receptive field of
// output pixel q, zero where it hangs over the padding.
template <class Scalar>
void im2col(const Scalar* images, Scalar* patches, const ConvGeometry& g, Index first_sample, Index last_sample) {
    const Index c = g.channels, k = g.kernel, patch = g.patch_size(), run = c * sizeof(Scalar);
    for (Index n = first_sample; n < last_sample; ++n) {
        const Scalar* image = images + n * g.image_size();
        Scalar* column = patches + n * g.out_pixels() * patch;
        for (Index oy = 0; oy < g.out_height; ++oy)
            for (Index ox = 0; ox < g.out_width; ++ox, column += patch)
                for (Index ky = 0; ky < k; ++ky) {
                    const Index y = oy * g.stride - g.padding + ky;
                    Scalar* row = column + ky * k * c;
                    if (y < 0 || y >= g.height) {
                        std::memset(row, 0, static_cast<std::size_t>(k * run));
                        continue;
                    }
                    for (Index kx = 0; kx < k; ++kx) {
                        const Index x = ox * g.stride - g.padding + kx;
                        if (x < 0 || x >= g.width)
                            std::memset(row + kx * c, 0, static_cast<std::size_t>(run));
                        else
                            std::memcpy(row + kx * c, image + (y * g.width + x) * c, static_cast<std::size_t>(run));
                    }
                }
    }
}

// images += col2im(patches) for samples [first_sample, last_sample): the adjoint of im2col, each
// patch entry added onto its pixel (entries in the padding are dropped). Samples do not share
// pixels, so threads may take disjoint sample ranges.
template <class Scalar>
void col2im_add(const Scalar* patches, Scalar* images, const ConvGeometry& g, Index first_sample, Index last_sample) {
    const Index c = g.channels, k = g.kernel, patch = g.patch_size();
    for (Index n = first_sample; n < last_sample; ++n) {
        Scalar* image = images + n * g.image_size();
        const Scalar* column = patches + n * g.out_pixels() * patch;
        for (Index oy = 0; oy < g.out_height; ++oy)
            for (Index ox = 0; ox < g.out_width; ++ox, column += patch)
                for (Index ky = 0; ky < k; ++ky) {
                    const Index y = oy * g.stride - g.padding + ky;
                    if (y < 0 || y >= g.height) continue;
                    for (Index kx = 0; kx < k; ++kx) {
                        const Index x = ox * g.stride - g.padding + kx;
                        if (x < 0 || x >= g.width) continue;
                        Scalar* pixel = image + (y * g.width + x) * c;
                        const Scalar* entry = column + (ky * k + kx) * c;
                        for (Index i = 0; i < c; ++i) pixel[i] += entry[i];
                    }
                }
    }
}

}  // namespace tinygan::detail
