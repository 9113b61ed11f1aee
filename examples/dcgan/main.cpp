// dcgan: the PyTorch C++ frontend's DCGAN example, trained with tinygan on MNIST (or Fashion-MNIST),
// with everything mnist_gan has: sample grids, losses, checkpoints, --resume, Ctrl-C, generate, the
// sample score. The models and the step are in dcgan.hpp and dcgan.cpp, the flags in dcgan_program.cpp,
// everything else in tinygan/app.
#include "dcgan_program.hpp"

int main(int argc, char** argv) {
    dcgan::Options options;
    tinygan::app::Program program = dcgan::make_program(options);
    return tinygan::app::run_program(program, argc, argv);
}
