// Must not compile: a gradient check of a float model. The error must say to use double.
#include <tinygan/gan.hpp>

int main() {
    tinygan::Rng rng(1);
    tinygan::Dense<float> layer(2, 2, rng);
    const tinygan::Matrix<double> x = tinygan::Matrix<double>::Ones(2, 1);
    return tinygan::check_gradients(layer, x, rng).passed() ? 0 : 1;
}
