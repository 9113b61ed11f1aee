// The document recipe's GAN: its construction and step, compiled once (mnist_gan.hpp declares it
// extern everywhere else; sampling and checkpoints are document_io.cpp).
#include "mnist_gan.hpp"

template class mnist_gan::RecipeGan<mnist_gan::DocumentRecipe>;
