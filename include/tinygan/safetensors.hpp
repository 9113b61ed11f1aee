// safetensors files (the format PyTorch users load): an 8-byte little-endian header length, a
// JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// tinygan writes and reads float32 ("F32") and float64 ("F64") tensors plus string metadata.
// Not part of gan.hpp.
#pragma once

#include "config.hpp"
#include "file_io.hpp"
#include "detail/json.hpp"
#include "error.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace tinygan {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tinygan's safetensors I/O assumes a little-endian host");

enum class DType { f32, f64 };

inline const char* dtype_name(DType dtype) { return dtype == DType::f64 ? "F64" : "F32"; }
inline std::size_t dtype_size(DType dtype) { return dtype == DType::f64 ? 8 : 4; }

struct Tensor {
    DType dtype = DType::f32;
    std::vector<std::int64_t> shape;  // row-major, as safetensors and NumPy read it
    std::vector<std::uint8_t> data;   // the values' little-endian bytes, in that order

    std::size_t element_count() const { return data.size() / dtype_size(dtype); }
};

struct TensorFile {
    std::map<std::string, std::string> metadata;  // "__metadata__": string to string
    std::vector<std::pair<std::string, Tensor>> tensors;  // in file order

    const Tensor* find(const std::string& name) const {
        for (const auto& [key, tensor] : tensors)
            if (key == name) return &tensor;
        return nullptr;
    }
};

inline std::vector<std::uint8_t> serialize_safetensors(const TensorFile& file) {
    std::string header = "{\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : file.metadata) {
        if (!first) header += ',';
        first = false;
        detail::append_json_string(header, key);
        header += ':';
        detail::append_json_string(header, value);
    }
    header += '}';
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : file.tensors) {
        header += ',';
        detail::append_json_string(header, name);
        header += ":{\"dtype\":\"";
        header += dtype_name(tensor.dtype);
        header += "\",\"shape\":[";
        for (std::size_t i = 0; i < tensor.shape.size(); ++i) header += (i ? "," : "") + std::to_string(tensor.shape[i]);
        const std::uint64_t end = offset + tensor.data.size();
        header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
        offset = end;
    }
    header += '}';
    while (header.size() % 8 != 0) header += ' ';  // keeps the data 8-byte aligned, as the reference writer does
    std::vector<std::uint8_t> bytes(8 + header.size() + offset);
    const std::uint64_t header_size = header.size();
    std::memcpy(bytes.data(), &header_size, 8);
    std::memcpy(bytes.data() + 8, header.data(), header.size());
    std::uint8_t* data = bytes.data() + 8 + header.size();
    for (const auto& [name, tensor] : file.tensors) {
        if (!tensor.data.empty()) std::memcpy(data, tensor.data.data(), tensor.data.size());
        data += tensor.data.size();
    }
    return bytes;
}

// Parses and validates a safetensors image; `source` names the file in error messages.
inline TensorFile parse_safetensors(const std::vector<std::uint8_t>& bytes, const std::string& source) {
    auto fail = [&](const std::string& what) { return DataError(source + " is not a valid safetensors file: " + what); };
    if (bytes.size() < 8) throw fail(detail::concat("it has ", bytes.size(), " bytes, fewer than the 8-byte header length"));
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), 8);
    if (header_size > bytes.size() - 8)
        throw fail(detail::concat("truncated: the header claims ", header_size, " bytes, only ", bytes.size() - 8,
                                  " follow"));
    const std::string header(reinterpret_cast<const char*>(bytes.data() + 8), header_size);
    const detail::JsonValue root = detail::JsonParser(header, source).parse_document();
    if (root.kind != detail::JsonValue::Kind::object) throw fail("the header is not a JSON object");

    const std::uint64_t data_size = bytes.size() - 8 - header_size;
    const std::uint8_t* data = bytes.data() + 8 + header_size;
    TensorFile file;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (const auto& [name, entry] : root.members) {
        if (name == "__metadata__") {
            if (entry.kind != detail::JsonValue::Kind::object) throw fail("__metadata__ is not an object");
            for (const auto& [key, value] : entry.members) {
                if (value.kind != detail::JsonValue::Kind::string)
                    throw fail("__metadata__ value of \"" + key + "\" is not a string");
                file.metadata[key] = value.text;
            }
            continue;
        }
        const auto* dtype = entry.find("dtype");
        const auto* shape = entry.find("shape");
        const auto* offsets = entry.find("data_offsets");
        if (entry.kind != detail::JsonValue::Kind::object || !dtype || !shape || !offsets)
            throw fail("tensor \"" + name + "\" lacks dtype, shape or data_offsets");
        if (dtype->kind != detail::JsonValue::Kind::string || (dtype->text != "F32" && dtype->text != "F64"))
            throw fail("tensor \"" + name + "\" has dtype " + (dtype->kind == detail::JsonValue::Kind::string ? dtype->text : "?") +
                       ", tinygan reads F32 and F64");
        if (shape->kind != detail::JsonValue::Kind::array || shape->items.size() > 8)
            throw fail("tensor \"" + name + "\" has a malformed shape");
        Tensor tensor;
        tensor.dtype = dtype->text == "F64" ? DType::f64 : DType::f32;
        const std::uint64_t element_size = dtype_size(tensor.dtype);
        std::uint64_t count = 1;
        for (const auto& dim : shape->items) {
            if (dim.kind != detail::JsonValue::Kind::integer) throw fail("tensor \"" + name + "\" has a non-integer dimension");
            if (dim.integer != 0 && count > (std::uint64_t(1) << 40) / dim.integer)
                throw fail("tensor \"" + name + "\" is impossibly large");
            count *= dim.integer;
            tensor.shape.push_back(static_cast<std::int64_t>(dim.integer));
        }
        if (offsets->kind != detail::JsonValue::Kind::array || offsets->items.size() != 2 ||
            offsets->items[0].kind != detail::JsonValue::Kind::integer ||
            offsets->items[1].kind != detail::JsonValue::Kind::integer)
            throw fail("tensor \"" + name + "\" has malformed data_offsets");
        const std::uint64_t begin = offsets->items[0].integer, end = offsets->items[1].integer;
        if (begin > end || end > data_size)
            throw fail(detail::concat("tensor \"", name, "\" spans bytes [", begin, ", ", end, ") but the data section has ",
                                      data_size, " bytes (truncated?)"));
        if (end - begin != count * element_size)
            throw fail(detail::concat("tensor \"", name, "\" has ", end - begin, " bytes, its shape needs ",
                                      count * element_size));
        tensor.data.assign(data + begin, data + end);
        ranges.emplace_back(begin, end);
        file.tensors.emplace_back(name, std::move(tensor));
    }
    // The tensors must tile the data section exactly: no overlaps, no holes, nothing after.
    std::sort(ranges.begin(), ranges.end());
    std::uint64_t covered = 0;
    for (const auto& [begin, end] : ranges) {
        if (begin != covered) throw fail("tensor data ranges overlap or leave a gap");
        covered = end;
    }
    if (covered != data_size)
        throw fail(detail::concat("the data section has ", data_size, " bytes but the tensors cover ", covered));
    return file;
}

inline void save_safetensors(const std::string& path, const TensorFile& file) {
    const std::vector<std::uint8_t> bytes = serialize_safetensors(file);
    write_file_atomically(path, bytes.data(), bytes.size());
}

inline TensorFile load_safetensors(const std::string& path) {
    return parse_safetensors(read_file_bytes(path), path);
}

}  // namespace tinygan
