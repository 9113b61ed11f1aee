// Must not compile: a layer without type_name() in a Sequential. The error must name the member.
#include <tinygan/gan.hpp>

struct NoTypeName : tinygan::ReLU<float> {
    std::string type_name() = delete;
};

int main() {
    auto model = tinygan::make_sequential("m", tinygan::Dense<float>(2, 2, tinygan::zero_init), NoTypeName{});
    return static_cast<int>(model.parameter_count());
}
