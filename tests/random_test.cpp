// Rng: reproducible streams, state round trip, distributions with the right moments.
#include "test_support.hpp"

using namespace tinygan;

TEST_CASE("Rng is reproducible and its state round-trips") {
    Rng a(123), b(123), c(124);
    CHECK(a.next_u64() == b.next_u64());
    CHECK(a.next_u64() != c.next_u64());
    const Rng::State saved = a.state();
    const std::uint64_t next = a.next_u64();
    Rng restored(0);
    restored.set_state(saved);
    CHECK(restored.next_u64() == next);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(restored.set_state(Rng::State{}), ArgumentError, "all zeros");
}

TEST_CASE("Rng's uniform and normal samples have the expected moments and ranges") {
    Rng rng(9);
    Matrix<double> u(200, 500), n(200, 500);
    rng.fill_uniform(u, -1.0, 1.0);
    rng.fill_normal(n);
    CHECK(u.minCoeff() >= -1.0);
    CHECK(u.maxCoeff() < 1.0);
    CHECK(std::abs(u.mean()) < 0.01);
    CHECK(u.array().square().mean() == doctest::Approx(1.0 / 3).epsilon(0.01).scale(0));
    CHECK(std::abs(n.mean()) < 0.01);
    CHECK(n.array().square().mean() == doctest::Approx(1.0).epsilon(0.01));
    CHECK(n.array().pow(4).mean() == doctest::Approx(3.0).epsilon(0.03));  // a normal's kurtosis
    // A size that is not a multiple of a block (256 samples) takes the first samples of a block.
    Matrix<float> odd(3, 1);
    Rng same(9), again(9);
    same.fill_normal(odd);
    Matrix<float> block(256, 1);
    again.fill_normal(block);
    CHECK(odd == block.topRows(3));
}

TEST_CASE("uniform_index covers its range without bias and rejects 0") {
    Rng rng(10);
    std::vector<int> counts(7, 0);
    for (int i = 0; i < 70000; ++i) ++counts[rng.uniform_index(7)];
    for (int count : counts) CHECK(count == doctest::Approx(10000).epsilon(0.05));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(rng.uniform_index(0), ArgumentError, "n > 0");
}
