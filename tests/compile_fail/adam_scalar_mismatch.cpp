// Must not compile: an Adam<double> for a float model. The error must be one sentence.
#include <tinygan/gan.hpp>

int main() {
    tinygan::Dense<float> layer(2, 2, tinygan::zero_init);
    tinygan::Adam<double> adam(layer);
    return static_cast<int>(adam.iterations());
}
