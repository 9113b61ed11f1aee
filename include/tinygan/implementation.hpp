// tinygan is header-only: a program includes gan.hpp and is done. A program of several translation
// units (or a test suite of dozens) can compile the heavy parts once instead: define
// TINYGAN_SEPARATE_COMPILATION in every one of its units, and include this header in exactly one
// of them (with tinygan/app, <tinygan/app/implementation.hpp> too, in one unit). The pattern is
// asio's ASIO_SEPARATE_COMPILATION. What it compiles once here: the matrix products of every layer
// (detail/gemm_tiles.hpp), for float and double, which are most of what a unit that trains a model
// costs to compile; the numbers are the same either way (bench/README.md, "Build cost").
#pragma once

#ifndef TINYGAN_SEPARATE_COMPILATION
#error "tinygan/implementation.hpp is for programs built with TINYGAN_SEPARATE_COMPILATION"
#endif

#include "detail/gemm_tiles.hpp"

namespace tinygan::detail {
TINYGAN_DECLARE_PRODUCTS(, float)
TINYGAN_DECLARE_PRODUCTS(, double)
}  // namespace tinygan::detail
