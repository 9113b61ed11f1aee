// Must not compile: a Dense built without an Rng would start from all-zero weights, which a GAN
// never breaks out of. The error must say how to build one.
#include <tinygan/gan.hpp>

int main() {
    tinygan::Dense<float> layer(784, 128);
    return static_cast<int>(layer.parameter_count());
}
