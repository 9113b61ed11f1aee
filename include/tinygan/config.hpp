// Version, the debug-only assertion macro, and the matrix aliases every tinygan header uses.
// Layout convention: samples are columns, so a batch is a (features x batch) matrix.
#pragma once

#include <Eigen/Core>

#include <cassert>
#include <cstdint>
#include <vector>

#define TINYGAN_VERSION_MAJOR 0
#define TINYGAN_VERSION_MINOR 1
#define TINYGAN_VERSION_PATCH 0

// Inner-loop invariants that the public entry points already check: on in debug builds only
// (the same split as dlib's DLIB_ASSERT / DLIB_CASSERT). User-facing checks throw tinygan::Error.
#ifndef TINYGAN_ASSERT
#ifdef NDEBUG
#define TINYGAN_ASSERT(condition) ((void)0)
#else
#define TINYGAN_ASSERT(condition) assert(condition)
#endif
#endif

namespace tinygan {

using Index = Eigen::Index;

// Column-major, dynamic: one column per sample.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

// One class label per sample (0 to classes - 1), for conditional models: a row, as samples are columns.
using Labels = Eigen::Matrix<int, 1, Eigen::Dynamic>;

// The shape of one sample, as Keras prints it without the batch axis: {128} or {28, 28, 1}.
using Shape = std::vector<Index>;

inline Index element_count(const Shape& shape) {
    Index count = 1;
    for (Index dim : shape) count *= dim;
    return count;
}

}  // namespace tinygan
