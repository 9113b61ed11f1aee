// Checkpoints as safetensors: a model's parameters, an Adam's state, and a random generator's state,
// each under a name prefix. Not part of gan.hpp.
//
// Tensor layout: each tensor is stored with its layer's StoredShape (parameter.hpp), row-major; a
// Dense kernel is [in, out] as Keras stores it (tinygan keeps W as (out x in) column-major: the
// same bytes), a bias [out]. Names are "<prefix>.<layer>_<index>.<tensor>", e.g.
// "generator.dense_2.kernel". Float models write F32 tensors, double models F64; loading converts
// to the model's scalar. An Adam's moments are "<prefix>.m.<k>" and "<prefix>.v.<k>", k counting
// the model's trainable tensors in order, with the same shapes as those tensors; its step count is
// the metadata "<prefix>.iterations". An ExponentialMovingAverage's averages are "<prefix>.<k>",
// its update count "<prefix>.updates".
#pragma once

#include "adam.hpp"
#include "config.hpp"
#include "ema.hpp"
#include "error.hpp"
#include "parameter.hpp"
#include "random.hpp"
#include "safetensors.hpp"
#include "sequential.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>

namespace tinygan {

namespace detail {

template <class Scalar>
constexpr DType dtype_of() {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "tinygan: checkpoints hold float or double tensors");
    return std::is_same_v<Scalar, double> ? DType::f64 : DType::f32;
}

template <class Scalar>
Tensor to_tensor(const Matrix<Scalar>& m, const StoredShape& shape) {
    TINYGAN_ASSERT(shape.element_count() == m.size());
    Tensor t;
    t.dtype = dtype_of<Scalar>();
    t.shape.assign(shape.dims.begin(), shape.dims.begin() + shape.rank);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(m.data());
    t.data.assign(bytes, bytes + m.size() * sizeof(Scalar));
    return t;
}

// Copies a tensor's values into out (count elements), converting F32 <-> F64 as needed.
template <class Scalar>
void copy_values(const Tensor& t, Scalar* out) {
    const std::size_t count = t.element_count();
    if (t.dtype == dtype_of<Scalar>()) {
        if (count) std::memcpy(out, t.data.data(), count * sizeof(Scalar));
    } else if (t.dtype == DType::f64) {
        for (std::size_t i = 0; i < count; ++i) {
            double v;
            std::memcpy(&v, t.data.data() + 8 * i, 8);
            out[i] = static_cast<Scalar>(v);
        }
    } else {
        for (std::size_t i = 0; i < count; ++i) {
            float v;
            std::memcpy(&v, t.data.data() + 4 * i, 4);
            out[i] = static_cast<Scalar>(v);
        }
    }
}

// The tensor called `name`, checked against the shape it must have.
inline const Tensor& find_tensor(const TensorFile& file, const std::string& name, const StoredShape& expected,
                                 const std::string& source) {
    const Tensor* t = file.find(name);
    if (!t) throw DataError(source + " has no tensor \"" + name + "\" (a checkpoint of another model?)");
    StoredShape got;
    got.rank = static_cast<int>(std::min<std::size_t>(t->shape.size(), 4));
    std::copy_n(t->shape.begin(), got.rank, got.dims.begin());
    if (t->shape.size() > 4 || got != expected)
        throw DataError(source + ": tensor \"" + name + "\" has shape " + (t->shape.size() > 4 ? "of rank > 4" : got.to_string()) +
                        ", expected " + expected.to_string());
    return *t;
}

inline std::uint64_t parse_u64(const std::string& text, const std::string& what) {
    if (text.empty() || text.size() > 20 || text.find_first_not_of("0123456789") != std::string::npos)
        throw DataError(what + " is not a non-negative integer: \"" + text + "\"");
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE) throw DataError(what + " is out of range: \"" + text + "\"");
    return value;
}

}  // namespace detail

// The metadata string `key`; DataError naming `source` (the file) when it is missing.
inline const std::string& metadata_text(const TensorFile& file, const std::string& key, const std::string& source) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw DataError(source + " has no metadata \"" + key + "\"");
    return it->second;
}

// The metadata `key` as a non-negative integer; DataError when it is missing or not one.
inline std::uint64_t metadata_u64(const TensorFile& file, const std::string& key, const std::string& source) {
    return detail::parse_u64(metadata_text(file, key, source), source + ": metadata \"" + key + "\"");
}

// Adds every tensor of `model` (a Sequential or a lone layer) as "<prefix>.<name>".
template <class Model>
void save_model(TensorFile& file, const std::string& prefix, Model& model) {
    using Scalar = typename Model::Scalar;
    for_each_named_parameter(model, [&](const std::string& name, const Parameter<Scalar>& p) {
        file.tensors.emplace_back(prefix + "." + name, detail::to_tensor(p.value, p.stored_shape));
    });
}

// Loads every tensor of `model` from `file`; all are checked before any is changed.
template <class Model>
void load_model(const TensorFile& file, const std::string& prefix, Model& model, const std::string& source) {
    using Scalar = typename Model::Scalar;
    for_each_named_parameter(model, [&](const std::string& name, const Parameter<Scalar>& p) {
        detail::find_tensor(file, prefix + "." + name, p.stored_shape, source);
    });
    for_each_named_parameter(model, [&](const std::string& name, const Parameter<Scalar>& p) {
        detail::copy_values(detail::find_tensor(file, prefix + "." + name, p.stored_shape, source), p.value.data());
    });
}

template <class Scalar>
void save_adam(TensorFile& file, const std::string& prefix, const Adam<Scalar>& adam) {
    for (std::size_t k = 0; k < adam.first_moments().size(); ++k) {
        const StoredShape& shape = adam.stored_shapes()[k];
        file.tensors.emplace_back(prefix + ".m." + std::to_string(k), detail::to_tensor(adam.first_moments()[k], shape));
        file.tensors.emplace_back(prefix + ".v." + std::to_string(k), detail::to_tensor(adam.second_moments()[k], shape));
    }
    file.metadata[prefix + ".iterations"] = std::to_string(adam.iterations());
}

// Loads an Adam's state; all of it is checked before any is changed.
template <class Scalar>
void load_adam(const TensorFile& file, const std::string& prefix, Adam<Scalar>& adam, const std::string& source) {
    const std::uint64_t iterations = metadata_u64(file, prefix + ".iterations", source);
    auto m = adam.first_moments(), v = adam.second_moments();  // loaded into copies, then committed
    for (std::size_t k = 0; k < m.size(); ++k) {
        const StoredShape& shape = adam.stored_shapes()[k];
        detail::copy_values(detail::find_tensor(file, prefix + ".m." + std::to_string(k), shape, source), m[k].data());
        detail::copy_values(detail::find_tensor(file, prefix + ".v." + std::to_string(k), shape, source), v[k].data());
    }
    adam.first_moments() = std::move(m);
    adam.second_moments() = std::move(v);
    adam.set_iterations(static_cast<std::int64_t>(iterations));
}

// An ExponentialMovingAverage's averages, "<prefix>.<k>" with the shapes of the tensors they average.
template <class Scalar>
void save_ema(TensorFile& file, const std::string& prefix, const ExponentialMovingAverage<Scalar>& ema) {
    for (std::size_t k = 0; k < ema.averages().size(); ++k)
        file.tensors.emplace_back(prefix + "." + std::to_string(k), detail::to_tensor(ema.averages()[k], ema.stored_shapes()[k]));
    file.metadata[prefix + ".updates"] = std::to_string(ema.updates());
}

// Loads an ExponentialMovingAverage's averages; all are checked before any is changed.
template <class Scalar>
void load_ema(const TensorFile& file, const std::string& prefix, ExponentialMovingAverage<Scalar>& ema,
              const std::string& source) {
    const std::uint64_t updates = metadata_u64(file, prefix + ".updates", source);
    auto averages = ema.averages();
    for (std::size_t k = 0; k < averages.size(); ++k)
        detail::copy_values(detail::find_tensor(file, prefix + "." + std::to_string(k), ema.stored_shapes()[k], source),
                            averages[k].data());
    ema.averages() = std::move(averages);
    ema.set_updates(static_cast<std::int64_t>(updates));
}

inline void save_rng(TensorFile& file, const std::string& key, const Rng& rng) {
    std::string text;
    for (std::size_t i = 0; i < rng.state().size(); ++i) text += (i ? "," : "") + std::to_string(rng.state()[i]);
    file.metadata[key] = text;
}

inline void load_rng(const TensorFile& file, const std::string& key, Rng& rng, const std::string& source) {
    const std::string& text = metadata_text(file, key, source);
    Rng::State state{};
    std::size_t start = 0;
    for (std::size_t i = 0; i < state.size(); ++i) {
        const std::size_t comma = text.find(',', start);
        const bool last = i + 1 == state.size();
        if (last != (comma == std::string::npos)) throw DataError(source + ": metadata \"" + key + "\" needs 4 comma-separated integers");
        state[i] = detail::parse_u64(text.substr(start, last ? std::string::npos : comma - start), source + ": " + key);
        start = comma + 1;
    }
    if (state == Rng::State{}) throw DataError(source + ": metadata \"" + key + "\" is an all-zero generator state");
    rng.set_state(state);
}

}  // namespace tinygan
