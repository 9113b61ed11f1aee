// ODR check, second translation unit (see odr_a.cpp).
#include "test_support.hpp"

namespace tinygan::test {
float odr_forward_a();
}

TEST_CASE("gan.hpp included in two translation units links, and both agree") {
    tinygan::Rng rng(1);
    tinygan::Dense<float> layer(2, 1, rng);
    const tinygan::Matrix<float> x = tinygan::Matrix<float>::Ones(2, 1);
    CHECK(tinygan::test::odr_forward_a() == layer.forward(x)(0, 0));
}
