// Must not compile: a layer without forward() in a Sequential. The error must name the member.
#include <tinygan/gan.hpp>

struct NoForward : tinygan::ReLU<float> {
    void forward() = delete;
};

int main() {
    auto model = tinygan::make_sequential("m", tinygan::Dense<float>(2, 2, tinygan::zero_init), NoForward{});
    return static_cast<int>(model.parameter_count());
}
