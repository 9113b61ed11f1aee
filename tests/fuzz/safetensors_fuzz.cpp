// libFuzzer target: any byte string given as a checkpoint is either loaded whole or refused with
// tinygan::Error, leaving the run untouched; never a crash, a leak or undefined behaviour.
//
// Two loaders see each input. mnist_gan's own load() (its metadata checks, then the shared
// GanCheckpoint), and GanCheckpoint over two tiny models: a whole valid checkpoint of those is
// about 3 KB, within the fuzzer's -max_len, so mutations reach the commit at the end of load(). For
// those the harness checks what load() promises: refused, every tensor, optimizer moment, average
// and random generator is as before (compared as saved bytes); accepted, every parameter, moment and
// average is finite, and no second moment is negative.
//
// The seed corpus/safetensors/tiny_gan is this harness's own state, saved:
//   TINYGAN_FUZZ_WRITE_SEED=tests/fuzz/corpus/safetensors/tiny_gan build-fuzz/tests/fuzz/safetensors_fuzz
#include "mnist_gan.hpp"

#include <tinygan/app/gan_checkpoint.hpp>
#include <tinygan/gan.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

namespace {

// Models with each kind of tensor a checkpoint holds: kernels of every shape class ([in, out],
// [1, out], [in, 1]), biases, BatchNorm's trainable and state tensors.
auto make_generator(tinygan::Rng& rng) {
    using namespace tinygan;
    return make_sequential("generator", Dense<float>(1, 3, rng), BatchNorm<float>(3), Tanh<float>{});
}
auto make_discriminator(tinygan::Rng& rng) {
    using namespace tinygan;
    return make_sequential("discriminator", Dense<float>(3, 2, rng), LeakyReLU<float>(0.2f), Dense<float>(2, 1, rng), Sigmoid<float>{});
}

struct TinyGan {
    tinygan::Rng rng{7};
    decltype(make_generator(rng)) generator = make_generator(rng);
    decltype(make_discriminator(rng)) discriminator = make_discriminator(rng);
    tinygan::Adam<float> g_optimizer{generator}, d_optimizer{discriminator};
    std::optional<tinygan::ExponentialMovingAverage<float>> average{std::in_place, generator};

    tinygan::app::GanCheckpoint<decltype(generator), decltype(discriminator)> checkpoint() {
        return {generator, discriminator, g_optimizer, d_optimizer, average, {{"rng", &rng}}};
    }
    std::vector<std::uint8_t> saved() {
        tinygan::TensorFile file;
        checkpoint().save(file);
        return tinygan::serialize_safetensors(file);
    }
};

TinyGan& tiny() {
    static TinyGan gan;
    return gan;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (const char* seed = std::getenv("TINYGAN_FUZZ_WRITE_SEED")) {
        tinygan::TensorFile file;
        tiny().checkpoint().save(file);
        tinygan::save_safetensors(seed, file);
        std::printf("wrote %s\n", seed);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static mnist_gan::Gan gan(mnist_gan::Config{2, 1, 0});
    const std::vector<std::uint8_t> bytes(data, data + size);
    tinygan::TensorFile file;
    try {
        file = tinygan::parse_safetensors(bytes, "fuzz input");
    } catch (const tinygan::Error&) {
        return 0;
    }
    try {
        gan.load(file, "fuzz input");
        if (!gan.parameters_finite()) std::abort();  // load() must refuse NaN/Inf parameters
    } catch (const tinygan::Error&) {
    }
    TinyGan& small = tiny();
    const std::vector<std::uint8_t> before = small.saved();
    try {
        small.checkpoint().load(file, "fuzz input");
    } catch (const tinygan::Error&) {
        if (small.saved() != before) std::abort();  // refused, yet something changed
        return 0;
    }
    using Checkpoint = decltype(small.checkpoint());
    if (!tinygan::all_finite(small.generator) || !tinygan::all_finite(small.discriminator) ||
        !Checkpoint::usable(small.g_optimizer) || !Checkpoint::usable(small.d_optimizer) ||
        !Checkpoint::finite(small.average->averages()))
        std::abort();  // accepted, so a training step can use all of it
    return 0;
}
