// ODR check, first translation unit: gan.hpp is included here and in odr_b.cpp, and both are
// linked into the test program; a non-inline definition in a header would fail to link.
#include <tinygan/gan.hpp>

namespace tinygan::test {

float odr_forward_a() {
    Rng rng(1);
    Dense<float> layer(2, 1, rng);
    const Matrix<float> x = Matrix<float>::Ones(2, 1);
    return layer.forward(x)(0, 0);
}

}  // namespace tinygan::test
