// Must not compile: a Conv2D built without an Rng would start from all-zero weights. The error
// must say how to build one.
#include <tinygan/conv.hpp>

int main() {
    tinygan::Conv2D<float> layer(1, 64, 4, tinygan::ConvOptions{2, 1, false});
    return static_cast<int>(layer.parameter_count());
}
