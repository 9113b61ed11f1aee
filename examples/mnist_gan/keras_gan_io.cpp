// The keras-gan recipe's sampling, summary and checkpoint, compiled once (mnist_gan_io.hpp).
#include "mnist_gan_io.hpp"

namespace mnist_gan {
MNIST_GAN_INSTANTIATE_IO(KerasGanRecipe)
}  // namespace mnist_gan
