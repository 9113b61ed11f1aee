// dst = lhs * rhs computed in tiles of at most 96 rows of dst by 128 of the inner dimension.
// Eigen 3.4 packs the blocks it multiplies into a buffer that goes on the heap when larger than
// EIGEN_STACK_ALLOCATION_LIMIT (128 KiB): for the GAN's 784-wide products that was every call
// (an mmap, then page faults). These tiles keep the buffer on the stack (about 64 KiB).
//
// Threads split a product only at tile boundaries, and tile boundaries depend only on the whole
// product's shape (they are counted from its row 0). Eigen's kernels compute a row differently
// depending on the row block it falls in (a lone 16-row packet sums in another order than a
// 48-row block), so this is what makes a run's numbers independent of the thread count. Tiles are
// 96 rows (two 48-row blocks) for tall products and 64 rows for products of at most 128 rows, so
// that those split evenly between two threads too.
#pragma once

#include "../config.hpp"

#include <algorithm>

#ifndef TINYGAN_GEMM_TILE_ROWS
#define TINYGAN_GEMM_TILE_ROWS 96  // bench/README.md compares tiles with one big product
#endif

namespace tinygan::detail {

inline constexpr Index gemm_tile_depth = 128;

// The tile height for a product with `rows` rows in all.
inline Index gemm_tile_rows(Index rows) { return rows <= 128 ? 64 : TINYGAN_GEMM_TILE_ROWS; }

// dst (+)= lhs * rhs, where dst is rows [first_row, first_row + lhs.rows()) of a product with
// total_rows rows; the tiles align to the whole product. With accumulate, the product is added to
// what dst holds (Eigen's `=` zero-fills dst first, one more pass over it).
template <class Dst, class Lhs, class Rhs>
void multiply_in_tiles(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Index first_row, Index total_rows,
                       bool accumulate = false) {
    const Index rows = lhs.rows(), depth = lhs.cols(), tile_rows = gemm_tile_rows(total_rows);
    Index r = 0;
    while (r < rows) {
        const Index tile_end = (((first_row + r) / tile_rows) + 1) * tile_rows - first_row;
        const Index n = std::min(rows, tile_end) - r;
        auto dst_rows = dst.middleRows(r, n);
        const Index d0 = std::min(gemm_tile_depth, depth);
        if (accumulate)
            dst_rows.noalias() += lhs.block(r, 0, n, d0) * rhs.topRows(d0);
        else
            dst_rows.noalias() = lhs.block(r, 0, n, d0) * rhs.topRows(d0);
        for (Index k = gemm_tile_depth; k < depth; k += gemm_tile_depth) {
            const Index d = std::min(gemm_tile_depth, depth - k);
            dst_rows.noalias() += lhs.block(r, k, n, d) * rhs.middleRows(k, d);
        }
        r += n;
    }
}

}  // namespace tinygan::detail
