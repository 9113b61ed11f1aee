// mnist_gan as the program harness runs it (tinygan/app/gan_program.hpp): the harness's flags and
// commands, plus its own training flags (--recipe, --batch-size, --z-dim, --seed,
// --learning-rate), and which recipe's GAN a run or a checkpoint needs.
#pragma once

#include <tinygan/app/gan_program.hpp>

#include <cstdint>
#include <string>

namespace mnist_gan {

struct Options {
    std::string recipe;  // "" = document, or the checkpoint's when resuming
    std::int64_t batch_size = 32;
    std::int64_t z_dim = 100;
    std::uint64_t seed = 0;
    double learning_rate = 0;  // 0 = the recipe's
};

// The program, bound to `options` (which its flags fill in).
tinygan::app::Program make_program(Options& options);

}  // namespace mnist_gan
