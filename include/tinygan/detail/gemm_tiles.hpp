// dst = lhs * rhs computed in tiles of at most 128 rows of dst by 128 of the inner dimension.
// Eigen 3.4 packs the blocks it multiplies into a buffer that goes on the heap when larger than
// EIGEN_STACK_ALLOCATION_LIMIT (128 KiB): for the GAN's 784-wide products that was every call
// (an mmap, then page faults). 128 x 128 tiles keep the buffer on the stack (about 80 KiB).
// Splitting the inner dimension changes the order of the float sums (Eigen itself splits it by
// its cache-derived block size), not what is computed.
#pragma once

#include "../config.hpp"

#include <algorithm>

namespace tinygan::detail {

#ifndef TINYGAN_GEMM_TILE
#define TINYGAN_GEMM_TILE 128  // bench/README.md compares this with one big product and a larger stack limit
#endif
inline constexpr Index gemm_tile = TINYGAN_GEMM_TILE;

template <class Dst, class Lhs, class Rhs>
void multiply_in_tiles(Dst& dst, const Lhs& lhs, const Rhs& rhs) {
    const Index rows = lhs.rows(), depth = lhs.cols();
    if (rows <= gemm_tile && depth <= gemm_tile) {
        dst.noalias() = lhs * rhs;
        return;
    }
    for (Index r = 0; r < rows; r += gemm_tile) {
        const Index n = std::min(gemm_tile, rows - r);
        auto dst_rows = dst.middleRows(r, n);
        dst_rows.noalias() = lhs.block(r, 0, n, std::min(gemm_tile, depth)) * rhs.topRows(std::min(gemm_tile, depth));
        for (Index k = gemm_tile; k < depth; k += gemm_tile) {
            const Index d = std::min(gemm_tile, depth - k);
            dst_rows.noalias() += lhs.block(r, k, n, d) * rhs.middleRows(k, d);
        }
    }
}

}  // namespace tinygan::detail
