// Must not compile: a layer without for_each_parameter in a Sequential. The error must name the member.
#include <tinygan/gan.hpp>

struct Doubler {
    using Scalar = float;
    tinygan::Matrix<float> y;
    const tinygan::Matrix<float>& forward(const tinygan::Matrix<float>& x) { return y = 2 * x; }
    const tinygan::Matrix<float>& backward(const tinygan::Matrix<float>&, const tinygan::Matrix<float>& dy, bool = true) {
        return y = 2 * dy;
    }
    tinygan::Shape output_shape(const tinygan::Shape& s) const { return s; }
    std::string input_mismatch(const tinygan::Shape&) const { return {}; }
    std::optional<tinygan::Shape> declared_input_shape() const { return std::nullopt; }
    std::string type_name() const { return "Doubler"; }
    std::string description() const { return "Doubler"; }
    tinygan::Index parameter_count() const { return 0; }
    bool trainable() const { return true; }
    void trainable(bool) {}
};

int main() {
    auto model = tinygan::make_sequential("m", tinygan::Dense<float>(2, 2, tinygan::zero_init), Doubler{});
    return static_cast<int>(model.parameter_count());
}
