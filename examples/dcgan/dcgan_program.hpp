// dcgan as the program harness runs it (tinygan/app/gan_program.hpp): the harness's flags and
// commands, plus its own training flags (--epochs, --batch-size, --z-dim, --seed, the learning
// rates), and how a run or a checkpoint builds its GAN.
#pragma once

#include <tinygan/app/gan_program.hpp>

#include <cstdint>

namespace dcgan {

struct Options {
    std::int64_t epochs = 2;
    std::int64_t batch_size = 64;
    std::int64_t z_dim = 100;
    std::uint64_t seed = 1;  // the example's torch::manual_seed(1)
    double learning_rate = 0, g_learning_rate = 0, d_learning_rate = 0;  // 0: not given
    bool conditional = false;  // G draws the class it is given, D sees it (Keras' conditional_gan)
};

// The program, bound to `options` (which its flags fill in).
tinygan::app::Program make_program(Options& options);

}  // namespace dcgan
