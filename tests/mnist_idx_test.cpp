// IDX reading and writing: round trip, and a clear error for every kind of broken file.
#include "test_support.hpp"

#include <tinygan/mnist_idx.hpp>

using namespace tinygan;

namespace {

std::vector<std::uint8_t> idx_bytes(std::vector<std::uint32_t> dims, std::size_t data_size, std::uint8_t type = 0x08) {
    std::vector<std::uint8_t> bytes{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
    for (std::size_t i = 0; i < data_size; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 7));
    return bytes;
}

}  // namespace

TEST_CASE("IDX round trip: what write_idx writes, read_idx reads back, and ImageSet lays out per column") {
    test::TempDir dir;
    const std::vector<std::uint8_t> pixels = test::synthetic_digits(5);
    write_idx(dir.file("images"), {5, 28, 28}, pixels);
    const IdxArray array = read_idx(dir.file("images"));
    CHECK(array.dims == std::vector<std::uint32_t>{5, 28, 28});
    CHECK(array.data == pixels);
    const ImageSet images = ImageSet::load(dir.file("images"));
    CHECK(images.count() == 5);
    CHECK(images.pixels()(3 * 28 + 4, 2) == pixels[2 * 784 + 3 * 28 + 4]);
    // A sampled batch is the chosen images scaled to [0, 1].
    Rng rng(3);
    Matrix<float> batch(784, 4);
    images.sample_batch(batch, rng);
    CHECK(batch.minCoeff() >= 0);
    CHECK(batch.maxCoeff() == 1);
    bool found = false;
    for (Index k = 0; k < 5; ++k) found = found || (images.pixels().col(k).cast<float>() / 255.0f).isApprox(batch.col(0));
    CHECK(found);
}

TEST_CASE("A file that is not there, or is a folder, is named in the error") {
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx("/nonexistent/train-images-idx3-ubyte"), DataError,
                                       "cannot open /nonexistent/train-images-idx3-ubyte: No such file");
    test::TempDir dir;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx(dir.path()), DataError, "is not a regular file");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ImageSet::load(dir.path()), DataError, "is not a regular file");
}

TEST_CASE("Every corruption of an IDX file gets its own clear error") {
    test::TempDir dir;
    const std::string path = dir.file("broken");
    struct Case {
        const char* what;
        std::vector<std::uint8_t> bytes;
        const char* fragment;
    };
    std::vector<std::uint8_t> gzip = idx_bytes({2, 2}, 4);
    gzip[0] = 0x1f;
    gzip[1] = 0x8b;
    const std::vector<Case> cases{
        {"empty", {}, "fewer than the 4-byte magic number"},
        {"bad magic", gzip, "bad magic number: the first two bytes are 31 139"},
        {"float type", idx_bytes({2, 2}, 16, 0x0D), "element type 0xd (float), expected 0x08 (unsigned byte)"},
        {"no dimensions", idx_bytes({}, 0), "declares 0 dimensions"},
        {"truncated header", std::vector<std::uint8_t>{0, 0, 8, 3, 0, 0}, "truncated header: 3 dimensions need 16 bytes"},
        {"truncated data", idx_bytes({3, 28, 28}, 3 * 784 - 100), "truncated: the dimensions need 2352 bytes of data, the file has 2252"},
        {"extra data", idx_bytes({1, 2, 2}, 9), "need 4 bytes of data, but the file has 9 (5 extra)"},
        {"zero items", idx_bytes({0, 28, 28}, 0), "holds zero items"},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        test::write_bytes(path, c.bytes);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx(path), DataError, c.fragment);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx(path), DataError, path);
    }
}

TEST_CASE("ImageSet needs a 3-dimensional file, and write_idx checks its arguments") {
    test::TempDir dir;
    write_idx(dir.file("labels"), {4}, {1, 2, 3, 4});
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ImageSet::load(dir.file("labels")), DataError,
                                       "1-dimensional array; images need 3 dimensions");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(write_idx(dir.file("x"), {2, 2}, {1, 2, 3}), ArgumentError,
                                       "describe 4 bytes, the data has 3");
}
