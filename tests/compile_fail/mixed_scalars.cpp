// Must not compile: a Sequential mixing float and double layers. The error must say so.
#include <tinygan/gan.hpp>

int main() {
    auto model = tinygan::make_sequential("m", tinygan::Dense<float>(2, 2, tinygan::zero_init), tinygan::ReLU<double>{});
    return static_cast<int>(model.parameter_count());
}
