// safetensors and checkpoints: bit-exact round trip, a layout NumPy/PyTorch read, corrupt files refused.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>

#include <cstring>

using namespace tinygan;

TEST_CASE("A model, an Adam and an Rng round-trip through safetensors bit for bit") {
    test::TempDir dir;
    Rng rng(71);
    auto model = make_sequential("m", Dense<float>(3, 4, rng), ReLU<float>{}, Dense<float>(4, 1, rng));
    model.layer<0>().bias() = test::random_matrix<float>(4, 1, rng);
    Adam<float> adam(model);
    model.for_each_parameter([&](const char*, Matrix<float>&, Matrix<float>& g, bool) { rng.fill_normal(g); });
    adam.step(model);
    adam.step(model);

    TensorFile file;
    save_model(file, "model", model);
    save_adam(file, "adam", adam);
    save_rng(file, "rng", rng);
    save_safetensors(dir.file("ckpt.safetensors"), file);

    Rng other_rng(1);
    auto restored = make_sequential("m", Dense<float>(3, 4, other_rng), ReLU<float>{}, Dense<float>(4, 1, other_rng));
    Adam<float> restored_adam(restored);
    Rng restored_rng(5);
    const TensorFile loaded = load_safetensors(dir.file("ckpt.safetensors"));
    load_model(loaded, "model", restored, "ckpt");
    load_adam(loaded, "adam", restored_adam, "ckpt");
    load_rng(loaded, "rng", restored_rng, "ckpt");
    CHECK(restored.layer<0>().kernel() == model.layer<0>().kernel());
    CHECK(restored.layer<0>().bias() == model.layer<0>().bias());
    CHECK(restored.layer<2>().kernel() == model.layer<2>().kernel());
    CHECK(restored_adam.iterations() == 2);
    for (std::size_t k = 0; k < adam.first_moments().size(); ++k) {
        CHECK(restored_adam.first_moments()[k] == adam.first_moments()[k]);
        CHECK(restored_adam.second_moments()[k] == adam.second_moments()[k]);
    }
    CHECK(restored_rng.next_u64() == rng.next_u64());
}

TEST_CASE("The file is standard safetensors: header length, JSON, Keras-layout kernels") {
    Dense<float> layer(2, 3);
    layer.kernel() << 1, 2, 3, 4, 5, 6;  // W is (out=3 x in=2): rows (1 2), (3 4), (5 6)
    TensorFile file;
    file.tensors.emplace_back("k", detail::to_tensor(layer.kernel()));
    const std::vector<std::uint8_t> bytes = serialize_safetensors(file);
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), 8);
    const std::string header(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
    CHECK(header_size % 8 == 0);
    CHECK(header.find("\"k\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}") != std::string::npos);
    // Row-major [in, out] = Keras' kernel: element [i][o] is W(o, i).
    float data[6];
    std::memcpy(data, bytes.data() + 8 + header_size, sizeof data);
    CHECK(data[0 * 3 + 2] == 5);  // [in 0][out 2] = W(2, 0)
    CHECK(data[1 * 3 + 0] == 2);  // [in 1][out 0] = W(0, 1)
}

TEST_CASE("Corrupt, truncated or foreign safetensors files are refused with a clear error") {
    test::TempDir dir;
    Rng rng(72);
    auto model = make_sequential("m", Dense<float>(3, 4, rng));
    TensorFile file;
    save_model(file, "model", model);
    save_rng(file, "rng", rng);
    const std::string good = dir.file("good.safetensors"), bad = dir.file("bad.safetensors");
    save_safetensors(good, file);
    const std::vector<std::uint8_t> bytes = test::read_bytes(good);

    auto expect_refused = [&](std::vector<std::uint8_t> corrupt, const char* fragment) {
        test::write_bytes(bad, corrupt);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_safetensors(bad), DataError, fragment);
    };
    expect_refused({1, 2, 3}, "fewer than the 8-byte header length");
    expect_refused(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 40), "truncated: the header claims");
    expect_refused(std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 4), "(truncated?)");
    std::vector<std::uint8_t> longer = bytes;
    longer.push_back(0);
    expect_refused(longer, "but the tensors cover");
    std::vector<std::uint8_t> garbled = bytes;
    garbled[9] = '[';
    expect_refused(garbled, "malformed header JSON");
    std::vector<std::uint8_t> huge_header = bytes;
    huge_header[7] = 0x7f;
    expect_refused(huge_header, "truncated: the header claims");

    // A well-formed file of another model is refused by name, and nothing is half-loaded.
    auto other = make_sequential("m", Dense<float>(3, 5, rng));
    const Matrix<float> before = other.layer<0>().kernel();
    const TensorFile loaded = load_safetensors(good);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_model(loaded, "model", other, "good"), DataError,
                                       "tensor \"model.dense_0.kernel\" has shape [ 3 4 ], expected [ 3 5 ]");
    CHECK(other.layer<0>().kernel() == before);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_model(loaded, "generator", other, "good"), DataError,
                                       "has no tensor \"generator.dense_0.kernel\"");
    Rng target(1);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_rng(loaded, "missing", target, "good"), DataError, "no metadata \"missing\"");
}

TEST_CASE("Saving replaces a checkpoint atomically and leaves no temporary file") {
    test::TempDir dir;
    TensorFile file;
    file.metadata["step"] = "1";
    save_safetensors(dir.file("c.safetensors"), file);
    file.metadata["step"] = "2";
    save_safetensors(dir.file("c.safetensors"), file);
    CHECK(load_safetensors(dir.file("c.safetensors")).metadata.at("step") == "2");
    CHECK_FALSE(std::filesystem::exists(dir.file("c.safetensors.tmp")));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(save_safetensors("/nonexistent/dir/c.safetensors", file), DataError,
                                       "cannot write /nonexistent/dir/c.safetensors.tmp");
}
