// libFuzzer target: any byte string given as an mnist_gan checkpoint is either loaded whole or
// refused with tinygan::Error, leaving the run untouched; never a crash, a leak or undefined
// behaviour.
#include "mnist_gan.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Small models keep each execution fast; the reader is the same for any size.
    static mnist_gan::Gan gan(mnist_gan::Config{2, 1, 0});
    const std::vector<std::uint8_t> bytes(data, data + size);
    try {
        const tinygan::TensorFile file = tinygan::parse_safetensors(bytes, "fuzz input");
        gan.load(file, "fuzz input");
        if (!gan.parameters_finite()) std::abort();  // load() must refuse NaN/Inf parameters
    } catch (const tinygan::Error&) {
    }
    return 0;
}
