// dst = lhs * rhs computed in tiles: at most 96 rows of dst by 128 of the inner dimension, and as
// many columns as keep the packed right-hand block within 128 KiB.
// Eigen 3.4 packs the blocks it multiplies into two buffers that go on the heap when either is
// larger than EIGEN_STACK_ALLOCATION_LIMIT (128 KiB): for the GAN's 784-wide products that was
// every call (an mmap, then page faults). With these tiles both buffers stay on the stack, for any
// batch size and either scalar type (tests/no_alloc_test.cpp checks batch 1 to 256).
//
// Threads split a product only at row-tile boundaries, and tile boundaries depend only on the whole
// product's shape (they are counted from its row 0). Eigen's kernels compute a row differently
// depending on the row block it falls in (a lone 16-row packet sums in another order than a
// 48-row block), so this is what makes a run's numbers independent of the thread count. Tiles are
// 96 rows (two 48-row blocks) for tall products and 64 rows for products of at most 128 rows, so
// that those split evenly between two threads too. Column tiles are multiples of 16 columns and
// leave each element's sum in the same order (Eigen's kernels work on blocks of at most 8 columns).
#pragma once

#include "../config.hpp"
#include "worker_pool.hpp"

#include <algorithm>
#include <cstddef>
#include <utility>

#ifndef TINYGAN_GEMM_TILE_ROWS
#define TINYGAN_GEMM_TILE_ROWS 96  // bench/README.md compares tiles with one big product
#endif

namespace tinygan::detail {

inline constexpr Index gemm_tile_depth = 128;
inline constexpr std::size_t gemm_packing_limit_bytes = 128 * 1024;  // Eigen's EIGEN_STACK_ALLOCATION_LIMIT

// The tile height for a product with `rows` rows in all.
inline Index gemm_tile_rows(Index rows) { return rows <= 128 ? 64 : TINYGAN_GEMM_TILE_ROWS; }

// The widest column tile whose packed (depth x columns) block fits the limit; `cols` when all do.
template <class Scalar>
Index gemm_tile_cols(Index depth, Index cols) {
    const std::size_t block_bytes = sizeof(Scalar) * static_cast<std::size_t>(std::max<Index>(depth, 1));
    if (block_bytes * static_cast<std::size_t>(cols) <= gemm_packing_limit_bytes) return cols;
    const Index fitting = static_cast<Index>(gemm_packing_limit_bytes / block_bytes);
    return std::max<Index>(16, fitting / 16 * 16);
}

// Every product goes through these few view types: a column-major Map with an outer stride, or
// its transpose. Blocks, middleRows and transposes of them all become one of these, so a program
// instantiates Eigen's product machinery once per scalar and transposition instead of once per
// expression type (most of a test file's compile time; bench/README.md). The views reference the
// same memory with the same strides, so Eigen runs the same kernels on the same blocks: the
// numbers are unchanged.
template <class Scalar>
using ConstView = Eigen::Map<const Matrix<Scalar>, 0, Eigen::OuterStride<>>;
template <class Scalar>
using MutableView = Eigen::Map<Matrix<Scalar>, 0, Eigen::OuterStride<>>;

// A column-major operand as a view; a row-major one (a transpose, or a block of one) as the
// transpose of a view of the same memory.
template <class Derived>
auto view_of(const Eigen::MatrixBase<Derived>& m) {
    using Scalar = typename Derived::Scalar;
    TINYGAN_ASSERT(m.derived().innerStride() == 1);
    if constexpr (bool(Derived::Flags & Eigen::RowMajorBit))
        return Eigen::Transpose<const ConstView<Scalar>>(
            ConstView<Scalar>(m.derived().data(), m.cols(), m.rows(), Eigen::OuterStride<>(m.derived().outerStride())));
    else
        return ConstView<Scalar>(m.derived().data(), m.rows(), m.cols(), Eigen::OuterStride<>(m.derived().outerStride()));
}
template <class Derived>
MutableView<typename Derived::Scalar> mutable_view_of(Eigen::MatrixBase<Derived>&& m) {
    static_assert(!(Derived::Flags & Eigen::RowMajorBit), "tinygan: products write column-major results");
    TINYGAN_ASSERT(m.derived().innerStride() == 1);
    return {m.derived().data(), m.rows(), m.cols(), Eigen::OuterStride<>(m.derived().outerStride())};
}
template <class Derived>
MutableView<typename Derived::Scalar> mutable_view_of(Eigen::MatrixBase<Derived>& m) {
    return mutable_view_of(std::move(m));
}

// The tiled product over views (see multiply_in_tiles).
template <class Scalar, class Lhs, class Rhs>
void multiply_views_in_tiles(MutableView<Scalar> dst, const Lhs& lhs, const Rhs& rhs, Index first_row,
                             Index total_rows, bool accumulate) {
    const Index rows = lhs.rows(), depth = lhs.cols(), cols = rhs.cols(), tile_rows = gemm_tile_rows(total_rows);
    const Index tile_cols = gemm_tile_cols<Scalar>(std::min(gemm_tile_depth, depth), cols);
    for (Index c = 0; c < cols; c += tile_cols) {
        const Index m = std::min(tile_cols, cols - c);
        Index r = 0;
        while (r < rows) {
            const Index tile_end = (((first_row + r) / tile_rows) + 1) * tile_rows - first_row;
            const Index n = std::min(rows, tile_end) - r;
            auto dst_tile = dst.block(r, c, n, m);
            const Index d0 = std::min(gemm_tile_depth, depth);
            if (accumulate)
                dst_tile.noalias() += lhs.block(r, 0, n, d0) * rhs.block(0, c, d0, m);
            else
                dst_tile.noalias() = lhs.block(r, 0, n, d0) * rhs.block(0, c, d0, m);
            for (Index k = gemm_tile_depth; k < depth; k += gemm_tile_depth) {
                const Index d = std::min(gemm_tile_depth, depth - k);
                dst_tile.noalias() += lhs.block(r, k, n, d) * rhs.block(k, c, d, m);
            }
            r += n;
        }
    }
}

// dst (+)= lhs * rhs, where dst is rows [first_row, first_row + lhs.rows()) of a product with
// total_rows rows; the row tiles align to the whole product. With accumulate, the product is added
// to what dst holds (Eigen's `=` zero-fills dst first, one more pass over it). Operands are
// column-major matrices, blocks of them, or transposes of those.
template <class Dst, class Lhs, class Rhs>
void multiply_in_tiles(Dst&& dst, const Lhs& lhs, const Rhs& rhs, Index first_row, Index total_rows,
                       bool accumulate = false) {
    using Scalar = typename Lhs::Scalar;
    multiply_views_in_tiles<Scalar>(mutable_view_of(std::forward<Dst>(dst)), view_of(lhs), view_of(rhs), first_row,
                                    total_rows, accumulate);
}

// dst (+)= lhs * rhs for products with many columns (convolutions: a column per output pixel),
// split between threads by column tiles. The tiles depend only on the product's shape, so the
// numbers do not depend on the thread count.
template <class Dst, class Lhs, class Rhs>
void multiply_columns_in_parallel(Dst&& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate = false) {
    using Scalar = typename Lhs::Scalar;
    const Index rows = lhs.rows(), depth = lhs.cols(), cols = rhs.cols();
    const Index tile_cols = gemm_tile_cols<Scalar>(std::min(gemm_tile_depth, depth), cols);
    parallel_for(cols, tile_cols, 2.0 * rows * depth * cols, [&](Index begin, Index end) {
        multiply_in_tiles(dst.middleCols(begin, end - begin), lhs, rhs.middleCols(begin, end - begin), 0, rows, accumulate);
    });
}

}  // namespace tinygan::detail

// With TINYGAN_SEPARATE_COMPILATION, the products are compiled once, in the translation unit that
// includes <tinygan/implementation.hpp>, instead of in every unit that trains a model: Eigen's
// product kernels are most of what such a unit costs to compile (bench/README.md, "Build cost").
#ifdef TINYGAN_SEPARATE_COMPILATION
#define TINYGAN_DECLARE_PRODUCTS(prefix, S)                                                                         \
    prefix template void multiply_views_in_tiles<S, ConstView<S>, ConstView<S>>(                                    \
        MutableView<S>, const ConstView<S>&, const ConstView<S>&, Index, Index, bool);                              \
    prefix template void multiply_views_in_tiles<S, Eigen::Transpose<const ConstView<S>>, ConstView<S>>(            \
        MutableView<S>, const Eigen::Transpose<const ConstView<S>>&, const ConstView<S>&, Index, Index, bool);      \
    prefix template void multiply_views_in_tiles<S, ConstView<S>, Eigen::Transpose<const ConstView<S>>>(            \
        MutableView<S>, const ConstView<S>&, const Eigen::Transpose<const ConstView<S>>&, Index, Index, bool);      \
    prefix template void multiply_views_in_tiles<S, Eigen::Transpose<const ConstView<S>>,                           \
                                                 Eigen::Transpose<const ConstView<S>>>(                              \
        MutableView<S>, const Eigen::Transpose<const ConstView<S>>&, const Eigen::Transpose<const ConstView<S>>&,   \
        Index, Index, bool);

namespace tinygan::detail {
TINYGAN_DECLARE_PRODUCTS(extern, float)
TINYGAN_DECLARE_PRODUCTS(extern, double)
}  // namespace tinygan::detail
#endif
