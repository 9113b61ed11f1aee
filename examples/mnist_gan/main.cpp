// mnist_gan: trains a GAN on the real MNIST (or any data set in its format, such as Fashion-MNIST):
// the reference tf.keras GAN (--recipe document, the default) or Keras-GAN's MLP with BatchNorm
// (--recipe keras-gan), with sample grids, a loss log and plot, atomic checkpoints, --resume, a
// clean Ctrl-C and an optional sample-quality score; `generate` draws new digits from a
// checkpoint, `score` rates a set of images. Run with --help for the flags. The models and the
// step are in mnist_gan.hpp, the flags in mnist_gan_program.cpp, everything else in tinygan/app.
#include "mnist_gan_program.hpp"

int main(int argc, char** argv) {
    mnist_gan::Options options;
    tinygan::app::Program program = mnist_gan::make_program(options);
    return tinygan::app::run_program(program, argc, argv);
}
