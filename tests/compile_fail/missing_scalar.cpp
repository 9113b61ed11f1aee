// Must not compile: a layer type without `Scalar` in a Sequential. The error must name it.
#include <tinygan/gan.hpp>

struct NoScalar {};

int main() {
    auto model = tinygan::Sequential<float, tinygan::Dense<float>, NoScalar>(tinygan::Dense<float>(2, 2, tinygan::zero_init), NoScalar{});
    return static_cast<int>(model.parameter_count());
}
