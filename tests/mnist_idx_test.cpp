// IDX reading and writing: round trip, and a clear error for every kind of broken file.
#include "test_support.hpp"

#include <tinygan/mnist_idx.hpp>

#include <zlib.h>

#include <algorithm>
#include <numeric>

using namespace tinygan;

namespace {

std::vector<std::uint8_t> idx_bytes(std::vector<std::uint32_t> dims, std::size_t data_size, std::uint8_t type = 0x08) {
    std::vector<std::uint8_t> bytes{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (auto d : dims)
        for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(d >> shift));
    for (std::size_t i = 0; i < data_size; ++i) bytes.push_back(static_cast<std::uint8_t>(i * 7));
    return bytes;
}

// The gzip file `gzip -9` would write for these bytes.
std::vector<std::uint8_t> gzip_bytes(const std::vector<std::uint8_t>& plain) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<std::uint8_t> out(deflateBound(&stream, plain.size()));
    stream.next_in = const_cast<Bytef*>(plain.data());
    stream.avail_in = static_cast<uInt>(plain.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
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
    std::vector<std::uint8_t> zip = idx_bytes({2, 2}, 4);
    zip[0] = 'P';
    zip[1] = 'K';
    const std::vector<Case> cases{
        {"empty", {}, "fewer than the 4-byte magic number"},
        {"bad magic", zip, "bad magic number: the first two bytes are 80 75, expected 0 0 (an IDX file, or one compressed"},
        {"float type", idx_bytes({2, 2}, 16, 0x0D), "element type 0xd (float), expected 0x08 (unsigned byte)"},
        {"no dimensions", idx_bytes({}, 0), "declares 0 dimensions"},
        {"truncated header", std::vector<std::uint8_t>{0, 0, 8, 3, 0, 0}, "truncated header: 3 dimensions need 16 bytes"},
        {"truncated data", idx_bytes({3, 28, 28}, 3 * 784 - 100), "truncated: the dimensions need 2352 bytes of data, the file has 2252"},
        {"extra data", idx_bytes({1, 2, 2}, 9), "need 4 bytes of data, but the file has 9 (5 extra)"},
        {"zero items", idx_bytes({0, 28, 28}, 0), "holds zero items"},
    };
    for (const auto& c : cases) {
        INFO(std::string(c.what));  // the case, not the address of its name
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

TEST_CASE("A gzip-compressed IDX file reads exactly like the plain one, from a file or from memory") {
    test::TempDir dir;
    const std::vector<std::uint8_t> pixels = test::synthetic_digits(7);
    write_idx(dir.file("plain"), {7, 28, 28}, pixels);
    const std::vector<std::uint8_t> plain = test::read_bytes(dir.file("plain"));
    const std::vector<std::uint8_t> compressed = gzip_bytes(plain);
    CHECK(compressed.size() < 7 * 784 / 4);
    test::write_bytes(dir.file("train-images-idx3-ubyte.gz"), compressed);
    const IdxArray array = read_idx(dir.file("train-images-idx3-ubyte.gz"));
    CHECK(array.dims == std::vector<std::uint32_t>{7, 28, 28});
    CHECK(array.data == pixels);
    CHECK(parse_idx(compressed, "memory").data == pixels);
    const ImageSet images = ImageSet::load(dir.file("train-images-idx3-ubyte.gz"));
    CHECK(images.pixels() == ImageSet::load(dir.file("plain")).pixels());
    // Recognised by content, not by name, and two concatenated gzip members are one file.
    std::vector<std::uint8_t> halves = gzip_bytes(std::vector<std::uint8_t>(plain.begin(), plain.begin() + 1000));
    const std::vector<std::uint8_t> rest = gzip_bytes(std::vector<std::uint8_t>(plain.begin() + 1000, plain.end()));
    halves.insert(halves.end(), rest.begin(), rest.end());
    test::write_bytes(dir.file("no-suffix"), halves);
    CHECK(read_idx(dir.file("no-suffix")).data == pixels);
}

TEST_CASE("Every corruption of a gzip-compressed IDX file gets its own clear error") {
    test::TempDir dir;
    const std::string path = dir.file("broken.gz");
    const std::vector<std::uint8_t> good = gzip_bytes(idx_bytes({3, 28, 28}, 3 * 784));
    std::vector<std::uint8_t> garbled = good;
    for (std::size_t i = 20; i < 60; ++i) garbled[i] ^= 0x5a;
    std::vector<std::uint8_t> trailing = good;
    trailing.push_back(7);
    // Two or more bytes after the member are read as the start of another member first: bytes
    // that are not gzip's magic number are still garbage, not a broken second member.
    std::vector<std::uint8_t> trailing_two = good, trailing_five = good;
    trailing_two.insert(trailing_two.end(), {7, 7});
    trailing_five.insert(trailing_five.end(), {0x1f, 0x00, 'a', 'b', 'c'});
    struct Case {
        const char* what;
        std::vector<std::uint8_t> bytes;
        const char* fragment;
    };
    const std::vector<Case> cases{
        {"cut short", std::vector<std::uint8_t>(good.begin(), good.begin() + good.size() / 2),
         "is truncated: the gzip data ends before its last block"},
        {"garbled", garbled, "is not valid gzip data"},
        {"garbage after", trailing, "is not valid gzip data: 1 byte of garbage after the compressed data"},
        {"two bytes of garbage after", trailing_two, "is not valid gzip data: 2 bytes of garbage after the compressed data"},
        {"five bytes of garbage after", trailing_five, "is not valid gzip data: 5 bytes of garbage after the compressed data"},
        {"data too short", gzip_bytes(idx_bytes({3, 28, 28}, 3 * 784 - 100)),
         "truncated: the dimensions need 2352 bytes of data, the decompressed file has 2252"},
        {"data too long", gzip_bytes(idx_bytes({1, 2, 2}, 9)), "need 4 bytes of data, but the decompressed file has 9 (5 extra)"},
        {"bad header inside", gzip_bytes(idx_bytes({2, 2}, 16, 0x0D)), "element type 0xd (float)"},
        {"impossible size", gzip_bytes(idx_bytes({60000, 1000, 1000}, 10)), "more than"},
    };
    for (const auto& c : cases) {
        INFO(std::string(c.what));  // the case, not the address of its name
        test::write_bytes(path, c.bytes);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx(path), DataError, c.fragment);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(read_idx(path), DataError, path);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(parse_idx(c.bytes, "memory"), DataError, c.fragment);
    }
}

TEST_CASE("sample_batch_signed scales pixels to [-1, 1]: 0 -> -1, 255 -> 1, 51 -> -0.6") {
    test::TempDir dir;
    std::vector<std::uint8_t> pixels(784, 51);
    pixels[0] = 0;
    pixels[1] = 255;
    write_idx(dir.file("one"), {1, 28, 28}, pixels);
    const ImageSet images = ImageSet::load(dir.file("one"));
    Rng rng(1);
    Matrix<float> batch(784, 3);
    images.sample_batch_signed(batch, rng);
    for (Index j = 0; j < 3; ++j) {
        CHECK(batch(0, j) == -1.0f);
        CHECK(batch(1, j) == 1.0f);
        CHECK(batch(2, j) == doctest::Approx(-0.6f));
    }
}

namespace {

// 40 images whose every pixel is the image's index, and labels (index * 7) % 10, gzip-compressed,
// so a label can be checked against the image it came with.
ImageSet indexed_images(const test::TempDir& dir) {
    std::vector<std::uint8_t> pixels, labels;
    for (int k = 0; k < 40; ++k) {
        pixels.insert(pixels.end(), 784, static_cast<std::uint8_t>(k));
        labels.push_back(static_cast<std::uint8_t>((k * 7) % 10));
    }
    write_idx(dir.file("images"), {40, 28, 28}, pixels);
    write_idx(dir.file("plain-labels"), {40}, labels);
    std::vector<std::uint8_t> header{0, 0, 8, 1, 0, 0, 0, 40};
    header.insert(header.end(), labels.begin(), labels.end());
    test::write_bytes(dir.file("labels.gz"), gzip_bytes(header));
    ImageSet set = ImageSet::load(dir.file("images"), dir.file("labels.gz"));
    REQUIRE(set.labels() == ImageSet::load(dir.file("images"), dir.file("plain-labels")).labels());
    return set;
}

int label_of_index(float pixel) { return static_cast<int>(std::lround(pixel) * 7 % 10); }

}  // namespace

TEST_CASE("Labels load with their images, plain or gzip, and a count, shape or value mismatch is refused") {
    test::TempDir dir;
    const ImageSet set = indexed_images(dir);
    CHECK(set.labelled());
    CHECK(set.classes() == 10);
    for (Index k = 0; k < set.count(); ++k) CHECK(set.labels()(k) == (k * 7) % 10);
    CHECK_FALSE(ImageSet::load(dir.file("images")).labelled());

    write_idx(dir.file("short"), {39}, std::vector<std::uint8_t>(39, 1));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ImageSet::load(dir.file("images"), dir.file("short")), DataError,
                                       "has 39 labels for 40 images: the labels file does not match its images file");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(ImageSet::load(dir.file("images"), dir.file("images")), DataError,
                                       "holds a 3-dimensional array; labels need 1");
    ImageSet copy = set;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(copy.set_labels(Labels::Constant(40, -1)), DataError, "a label is negative: -1");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(copy.set_labels(Labels::Constant(3, 1)), DataError, "40 images but 3 labels");
}

TEST_CASE("A batch's labels are its images' labels: sampled with replacement, or gathered in an epoch's order") {
    test::TempDir dir;
    const ImageSet set = indexed_images(dir);
    Rng rng(3);
    Matrix<float> batch(784, 25);
    Labels labels(25);
    set.sample_batch(batch, rng, &labels);
    for (Index j = 0; j < 25; ++j) CHECK(labels(j) == label_of_index(batch(0, j) * 255));
    set.sample_batch_signed(batch, rng, &labels);
    for (Index j = 0; j < 25; ++j) CHECK(labels(j) == label_of_index((batch(0, j) + 1) * 127.5f));

    // EpochOrder: batches of 8 from 40 images; each epoch is a permutation, drawn anew.
    EpochOrder order(40, 8, 5);
    CHECK(order.batches_per_epoch() == 5);
    Matrix<float> part(784, 8);
    Labels part_labels(8);
    std::vector<std::vector<int>> epochs(2);
    for (int e = 0; e < 2; ++e)
        for (int b = 0; b < 5; ++b) {
            set.gather_signed(order.next_batch(), part, &part_labels);
            for (Index j = 0; j < 8; ++j) {
                const float index = (part(0, j) + 1) * 127.5f;
                CHECK(part_labels(j) == label_of_index(index));
                epochs[static_cast<std::size_t>(e)].push_back(static_cast<int>(std::lround(index)));
            }
        }
    for (auto& epoch : epochs) {
        std::vector<int> sorted = epoch;
        std::sort(sorted.begin(), sorted.end());
        std::vector<int> all(40);
        std::iota(all.begin(), all.end(), 0);
        CHECK(sorted == all);
    }
    CHECK(epochs[0] != epochs[1]);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(EpochOrder(5, 8, 1), ArgumentError, "--batch-size 8 is larger than the 5 images");
    const ImageSet unlabelled = ImageSet::load(dir.file("images"));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(unlabelled.sample_batch(batch, rng, &labels), DataError, "the data set has no labels");
}
