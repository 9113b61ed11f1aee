// tinygan with convolutions: everything gan.hpp has, plus Conv2D and ConvTranspose2D. The
// convolution layers have their own umbrella so that a program without them compiles as fast as
// before (bench/README.md: compile cost).
#pragma once

#include "gan.hpp"
#include "layers/conv2d.hpp"
#include "layers/conv_transpose2d.hpp"
