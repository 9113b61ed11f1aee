// safetensors and checkpoints: bit-exact round trip, a layout NumPy/PyTorch read, corrupt files refused.
#include "test_support.hpp"

#include <tinygan/checkpoint.hpp>

#include <cstring>

using namespace tinygan;

TEST_CASE("A model, an Adam and an Rng round-trip through safetensors bit for bit") {
    test::TempDir dir;
    Rng rng(71);
    auto model = make_sequential("m", Dense<float>(3, 4, rng), ReLU<float>{}, Dense<float>(4, 1, rng));
    model.set_parameter("dense_0.bias", test::random_matrix<float>(4, 1, rng));
    Adam<float> adam(model);
    model.for_each_parameter([&](const Parameter<float>& p) { rng.fill_normal(p.gradient); });
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

namespace {

// The JSON header of a serialized safetensors file.
std::string header_of(const std::vector<std::uint8_t>& bytes) {
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), 8);
    return std::string(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
}

}  // namespace

TEST_CASE("The file is standard safetensors: header length, JSON, Keras-layout kernels") {
    Dense<float> layer(2, 3, zero_init);
    layer.set_kernel((Matrix<float>(3, 2) << 1, 2, 3, 4, 5, 6).finished());  // W is (out=3 x in=2): rows (1 2), (3 4), (5 6)
    TensorFile file;
    save_model(file, "m", layer);
    const std::vector<std::uint8_t> bytes = serialize_safetensors(file);
    const std::string header = header_of(bytes);
    const std::uint64_t header_size = header.size();
    CHECK(header_size % 8 == 0);
    CHECK(header.find("\"m.dense.kernel\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}") != std::string::npos);
    CHECK(header.find("\"m.dense.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[24,36]}") != std::string::npos);
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
                                       "tensor \"model.dense_0.kernel\" has shape [3, 4], expected [3, 5]");
    CHECK(other.layer<0>().kernel() == before);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_model(loaded, "generator", other, "good"), DataError,
                                       "has no tensor \"generator.dense_0.kernel\"");
    Rng target(1);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(load_rng(loaded, "missing", target, "good"), DataError, "no metadata \"missing\"");
}

TEST_CASE("Saving replaces a checkpoint and leaves no temporary file (kill_resume_test.sh kills writes midway)") {
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

TEST_CASE("Kernels keep both dimensions when one of them is 1: Dense(1, k) is [1, k], Dense(k, 1) is [k, 1]") {
    Rng rng(73);
    auto model = make_sequential("m", Dense<float>(1, 5, rng), ReLU<float>{}, Dense<float>(5, 1, rng));
    Adam<float> adam(model);
    TensorFile file;
    save_model(file, "model", model);
    save_adam(file, "adam", adam);
    const std::string header = header_of(serialize_safetensors(file));
    INFO(header);
    CHECK(header.find("\"model.dense_0.kernel\":{\"dtype\":\"F32\",\"shape\":[1,5]") != std::string::npos);
    CHECK(header.find("\"model.dense_0.bias\":{\"dtype\":\"F32\",\"shape\":[5]") != std::string::npos);
    CHECK(header.find("\"model.dense_2.kernel\":{\"dtype\":\"F32\",\"shape\":[5,1]") != std::string::npos);
    CHECK(header.find("\"model.dense_2.bias\":{\"dtype\":\"F32\",\"shape\":[1]") != std::string::npos);
    // The optimizer's moments take their tensor's shape.
    CHECK(header.find("\"adam.m.0\":{\"dtype\":\"F32\",\"shape\":[1,5]") != std::string::npos);
    CHECK(header.find("\"adam.v.2\":{\"dtype\":\"F32\",\"shape\":[5,1]") != std::string::npos);
    auto restored = make_sequential("m", Dense<float>(1, 5, zero_init), ReLU<float>{}, Dense<float>(5, 1, zero_init));
    load_model(file, "model", restored, "file");
    CHECK(restored.layer<0>().kernel() == model.layer<0>().kernel());
    CHECK(restored.layer<2>().kernel() == model.layer<2>().kernel());
}

TEST_CASE("A double model and its Adam round-trip as F64 tensors, bit for bit, and a float model can read them") {
    test::TempDir dir;
    Rng rng(74);
    auto model = make_sequential("m", Dense<double>(3, 4, rng), ReLU<double>{}, Dense<double>(4, 2, rng));
    model.set_parameter("dense_0.bias", test::random_matrix<double>(4, 1, rng));
    Adam<double> adam(model);
    model.for_each_parameter([&](const Parameter<double>& p) { rng.fill_normal(p.gradient); });
    adam.step(model);
    TensorFile file;
    save_model(file, "model", model);
    save_adam(file, "adam", adam);
    save_safetensors(dir.file("double.safetensors"), file);
    const std::vector<std::uint8_t> bytes = test::read_bytes(dir.file("double.safetensors"));
    CHECK(header_of(bytes).find("\"model.dense_0.kernel\":{\"dtype\":\"F64\",\"shape\":[3,4]") != std::string::npos);

    const TensorFile loaded = load_safetensors(dir.file("double.safetensors"));
    auto restored = make_sequential("m", Dense<double>(3, 4, zero_init), ReLU<double>{}, Dense<double>(4, 2, zero_init));
    Adam<double> restored_adam(restored);
    load_model(loaded, "model", restored, "double");
    load_adam(loaded, "adam", restored_adam, "double");
    CHECK(test::parameters_of(restored) == test::parameters_of(model));
    CHECK(test::state_of(restored_adam) == test::state_of(adam));

    auto as_float = make_sequential("m", Dense<float>(3, 4, zero_init), ReLU<float>{}, Dense<float>(4, 2, zero_init));
    load_model(loaded, "model", as_float, "double");
    CHECK(as_float.layer<0>().kernel() == model.layer<0>().kernel().cast<float>());
}
