// A steady-state training step of the reference GAN allocates nothing on the heap: no operator new,
// no malloc, at batch 1, 32, 64, 128 and 256, on 1 and 2 threads. Built as its own program: it
// counts every call of the global operator new and of malloc (through the sanitizer's hooks under
// AddressSanitizer, by interposing malloc otherwise), from every thread and every translation unit
// of the program. Eigen allocates through malloc, so its allocations are counted with the rest
// (EIGEN_RUNTIME_NO_MALLOC would check only the units compiled with it, which the examples'
// objects are not).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "test_support.hpp"

#include "dcgan.hpp"
#include "cgan.hpp"
#include "mnist_gan.hpp"

#include <atomic>
#include <memory>
#include <cstdlib>
#include <new>

namespace {

std::atomic<long> heap_allocations{0};  // operator new and malloc calls, from every thread

}  // namespace

// The global operator new, counted (all the others forward to these two). They allocate with
// malloc and free with free, which GCC cannot see through once they are inlined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t size) {
    ++heap_allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t alignment) {
    ++heap_allocations;
    const std::size_t a = static_cast<std::size_t>(alignment);
    if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer owns malloc; it calls hooks installed here for every allocation. (Declared by
// hand: GCC ships no <sanitizer/allocator_interface.h>, but its libasan has the function.)
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
void count_malloc(const volatile void*, std::size_t) { ++heap_allocations; }
void ignore_free(const volatile void*) {}
const bool hooks_installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0;
}  // namespace
#define TINYGAN_TEST_COUNTS_MALLOC hooks_installed
#elif defined(__GLIBC__)
// glibc lets a program replace malloc and friends; these count, then call glibc's own.
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);

void* malloc(std::size_t size) {
    ++heap_allocations;
    return __libc_malloc(size);
}
void* calloc(std::size_t count, std::size_t size) {
    ++heap_allocations;
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t size) {
    ++heap_allocations;
    return __libc_realloc(p, size);
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
    ++heap_allocations;
    return __libc_memalign(alignment, size);
}
void* memalign(std::size_t alignment, std::size_t size) {
    ++heap_allocations;
    return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    ++heap_allocations;
    *out = __libc_memalign(alignment, size);
    return *out ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}
#define TINYGAN_TEST_COUNTS_MALLOC 1
#else
#define TINYGAN_TEST_COUNTS_MALLOC 0
#endif

using namespace tinygan;

namespace {

struct GuardedSteps {
    long allocations = 0;
    int steps = 0;              // steps run
    bool worker_took_part = false;  // the pool's worker computed a part in these steps
};

// Runs `steps` training steps, counting every allocation.
// With `until_worker_took_part` it goes on, guarded the same way, one step at a time, until the
// pool's worker has computed a part in these steps (test::until_worker_took_part: on a machine busy
// with other tests the caller may take every part of a few small steps itself).
template <class Gan>
GuardedSteps steps_without_heap(Gan& gan, const ImageSet& images, int steps, bool until_worker_took_part = false) {
    GuardedSteps result;
    const auto step = [&] {
        gan.step(images);
        ++result.steps;
    };
    const std::uint64_t worker_parts_before = test::TwoThreads::worker_parts();
    const long before = heap_allocations.load();
    while (result.steps < steps) step();
    result.worker_took_part = test::TwoThreads::worker_parts() > worker_parts_before ||
                              (until_worker_took_part && test::until_worker_took_part(step));
    result.allocations = heap_allocations.load() - before;
    return result;
}

// Warm steps of a GAN recipe at each batch size, on 1 and 2 threads: no allocation of any kind.
template <class Gan>
void check_no_heap_in_steps(const std::vector<Index>& batches);

}  // namespace

TEST_CASE("The counters see an allocation: operator new, malloc, and an Eigen matrix's") {
    long before = heap_allocations.load();
    int* volatile boxed = new int(3);  // volatile: the compiler may not elide the pair
    CHECK(heap_allocations.load() > before);
    delete boxed;
    before = heap_allocations.load();
    void* volatile raw = std::malloc(64);
    CHECK(heap_allocations.load() > before);
    std::free(raw);
    before = heap_allocations.load();
    {
        Matrix<float> fresh(100, 100);
        fresh.setZero();
        CHECK(fresh.sum() == 0);
    }
    CHECK(heap_allocations.load() > before);
}

namespace {

// Images with labels 0..9 in turn, for the conditional recipes (the others ignore them).
ImageSet labelled_digits(const test::TempDir& dir, Index count) {
    write_idx(dir.file("images"), {static_cast<std::uint32_t>(count), 28, 28}, test::synthetic_digits(count));
    ImageSet images = ImageSet::load(dir.file("images"));
    Labels labels(count);
    for (Index j = 0; j < count; ++j) labels(j) = static_cast<int>(j % 10);
    images.set_labels(labels);
    return images;
}

template <class Gan>
void check_no_heap_in_steps(const std::vector<Index>& batches) {
    CHECK(TINYGAN_TEST_COUNTS_MALLOC);  // this test is only as good as its counter
    test::TempDir dir;
    const ImageSet images = labelled_digits(dir, 300);
    for (const int threads : {1, 2}) {
        for (const Index batch : batches) {
            CAPTURE(threads);
            CAPTURE(batch);
            set_num_threads(1);
            const auto two = threads == 2 ? std::make_unique<test::TwoThreads>() : nullptr;
            Gan gan(mnist_gan::Config{100, batch, 5});
            gan.step(images);  // warm-up: every buffer takes its size
            // The flag and the counter are global, so the worker thread's products are checked too.
            const bool splits = two && batch >= 32;  // batch 1's products are too small to split
            const GuardedSteps guarded = steps_without_heap(gan, images, 3, splits);
            CHECK(guarded.allocations == 0);
            CHECK(guarded.steps >= 3);
            CHECK(gan.steps_done() == 1 + guarded.steps);
            if (splits) CHECK(guarded.worker_took_part);  // in the guarded steps, not only in the warm-up
        }
    }
    set_num_threads(1);
}

}  // namespace

TEST_CASE("A warm step of the keras-gan recipe (LeakyReLU, BatchNorm, Tanh, moving average) allocates nothing either") {
    check_no_heap_in_steps<mnist_gan::KerasGan>({2, 32, 64, 128, 256});
}

TEST_CASE("A warm step of the cgan recipe (labels drawn for the fakes, embeddings, half batches) allocates nothing") {
    check_no_heap_in_steps<mnist_gan::ConditionalGan>({4, 32, 64, 256});  // 4: D's half batches need 2 for BatchNorm
}

TEST_CASE("A warm GAN training step makes no heap allocation, at batch 1 to 256, on 1 and 2 threads") {
    check_no_heap_in_steps<mnist_gan::Gan>({1, 32, 64, 128, 256});
}

template <class Gan>
void check_no_heap_in_dcgan_steps() {
    CHECK(TINYGAN_TEST_COUNTS_MALLOC);
    test::TempDir dir;
    const ImageSet images = labelled_digits(dir, 64);
    for (const int threads : {1, 2}) {
        CAPTURE(threads);
        set_num_threads(1);
        const auto two = threads == 2 ? std::make_unique<test::TwoThreads>() : nullptr;
        Gan gan(dcgan::Config{100, 8, 5}, images.count());  // 8 steps an epoch
        gan.step(images);
        const GuardedSteps guarded = steps_without_heap(gan, images, 9, two != nullptr);  // across an epoch boundary
        CHECK(guarded.allocations == 0);
        CHECK(guarded.steps >= 9);
        if (two) CHECK(guarded.worker_took_part);  // in the guarded steps
    }
    set_num_threads(1);
}

TEST_CASE("A warm DCGAN step (convolutions, BatchNorm over channels, summed gradients) allocates nothing") {
    check_no_heap_in_dcgan_steps<dcgan::Dcgan>();
}

TEST_CASE("A warm conditional DCGAN step (one-hot labels joined to G's noise and D's image) allocates nothing") {
    check_no_heap_in_dcgan_steps<dcgan::ConditionalDcgan>();
}
