// tinygan: a header-only neural-network library on Eigen. This umbrella includes everything needed
// to build and train models, and nothing else: data files (mnist_idx.hpp), checkpoints
// (checkpoint.hpp) and images (image_grid.hpp) are included separately, by those who need them.
#pragma once

#include "adam.hpp"
#include "config.hpp"
#include "error.hpp"
#include "frozen.hpp"
#include "gradient_check.hpp"
#include "layer_concept.hpp"
#include "ema.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conditioning.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/embedding.hpp"
#include "layers/leaky_relu.hpp"
#include "layers/relu.hpp"
#include "layers/reshape.hpp"
#include "layers/sigmoid.hpp"
#include "layers/tanh.hpp"
#include "loss.hpp"
#include "parallel.hpp"
#include "parameter.hpp"
#include "random.hpp"
#include "sequential.hpp"
#include "summary.hpp"
#include "training.hpp"
