// libFuzzer target: any byte string given to the IDX reader, plain or gzip-compressed (the seed
// corpus has both), either parses to a consistent array or raises tinygan::DataError; never a
// crash, a leak, undefined behaviour or an allocation beyond what the input can describe.
#include <tinygan/mnist_idx.hpp>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> bytes(data, data + size);
    try {
        const tinygan::IdxArray array = tinygan::parse_idx(bytes, "fuzz input");
        std::uint64_t count = 1;
        for (auto d : array.dims) count *= d;
        if (count != array.data.size() || array.dims.empty()) std::abort();  // parsed, but inconsistent
    } catch (const tinygan::DataError&) {
    }
    return 0;
}
