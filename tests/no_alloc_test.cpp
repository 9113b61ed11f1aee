// A steady-state training step of the reference GAN allocates nothing on the heap. Built as its
// own program with EIGEN_RUNTIME_NO_MALLOC, so Eigen checks every allocation it makes, and with
// eigen_assert turned into an exception so a violation fails the test instead of aborting.
#define EIGEN_RUNTIME_NO_MALLOC
#include <stdexcept>
#define eigen_assert(x)                                                                        \
    do {                                                                                       \
        if (!(x)) throw std::runtime_error("Eigen assertion failed: " #x);                    \
    } while (false)

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_support.hpp"

#include "mnist_gan.hpp"

using namespace tinygan;

namespace {

// Runs `steps` training steps with Eigen's heap allocation forbidden; returns what went wrong, or "".
std::string steps_without_heap(mnist_gan::Gan& gan, const ImageSet& images, int steps) {
    Eigen::internal::set_is_malloc_allowed(false);
    std::string failure;
    try {
        for (int i = 0; i < steps; ++i) gan.step(images);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    Eigen::internal::set_is_malloc_allowed(true);
    return failure;
}

}  // namespace

TEST_CASE("A warm GAN training step makes no heap allocation") {
    test::TempDir dir;
    write_idx(dir.file("images"), {64, 28, 28}, test::synthetic_digits(64));
    const ImageSet images = ImageSet::load(dir.file("images"));
    mnist_gan::Gan gan(mnist_gan::Config{100, 32, 5});
    gan.step(images);  // warm-up: every buffer takes its size
    const std::string failure = steps_without_heap(gan, images, 3);
    CHECK_MESSAGE(failure.empty(), failure);
    CHECK(gan.steps_done() == 4);
}

TEST_CASE("The guard itself works: an allocation inside the guarded region is reported") {
    Eigen::internal::set_is_malloc_allowed(false);
    bool caught = false;
    try {
        Matrix<float> fresh(100, 100);
        (void)fresh;
    } catch (const std::runtime_error&) {
        caught = true;
    }
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(caught);
}

TEST_CASE("A warm GAN training step on two threads makes no heap allocation either") {
    test::TempDir dir;
    write_idx(dir.file("images"), {64, 28, 28}, test::synthetic_digits(64));
    const ImageSet images = ImageSet::load(dir.file("images"));
    set_num_threads(2);
    mnist_gan::Gan gan(mnist_gan::Config{100, 32, 5});
    gan.step(images);
    // The flag is a global read by every thread, so the worker's products are checked too.
    const std::string failure = steps_without_heap(gan, images, 3);
    set_num_threads(1);
    CHECK_MESSAGE(failure.empty(), failure);
}
