// Checkpoints as safetensors: a model's parameters, an Adam's state, and a random generator's state,
// each under a name prefix. Not part of gan.hpp.
//
// Tensor layout: a Dense kernel is stored as Keras stores it, shape [in, out] row-major (tinygan
// keeps W as (out x in) column-major: the same bytes); a bias is [out]. Names are
// "<prefix>.<layer>_<index>.kernel|bias", e.g. "generator.dense_2.kernel". An Adam's moments are
// "<prefix>.m.<k>" and "<prefix>.v.<k>", k counting the model's trainable tensors in order, with
// the same shapes as those tensors; its step count is the metadata "<prefix>.iterations".
#pragma once

#include "adam.hpp"
#include "config.hpp"
#include "error.hpp"
#include "random.hpp"
#include "safetensors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <string>

namespace tinygan {

namespace detail {

inline Tensor to_tensor(const Matrix<float>& m) {
    Tensor t;
    // Column-major (r x c) is row-major (c x r); a column vector is just [r].
    t.shape = m.cols() == 1 ? std::vector<std::int64_t>{m.rows()} : std::vector<std::int64_t>{m.cols(), m.rows()};
    t.data.assign(m.data(), m.data() + m.size());
    return t;
}

inline void from_tensor(const TensorFile& file, const std::string& name, Matrix<float>& m, const std::string& source) {
    const Tensor* t = file.find(name);
    if (!t) throw DataError(source + " has no tensor \"" + name + "\" (a checkpoint of another model?)");
    const std::vector<std::int64_t> expected = to_tensor(m).shape;
    if (t->shape != expected) {
        std::ostringstream got, want;
        for (auto d : t->shape) got << d << ' ';
        for (auto d : expected) want << d << ' ';
        throw DataError(source + ": tensor \"" + name + "\" has shape [ " + got.str() + "], expected [ " + want.str() + "]");
    }
    std::copy(t->data.begin(), t->data.end(), m.data());
}

inline const std::string& require_metadata(const TensorFile& file, const std::string& key, const std::string& source) {
    const auto it = file.metadata.find(key);
    if (it == file.metadata.end()) throw DataError(source + " has no metadata \"" + key + "\"");
    return it->second;
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

template <class Model>
void save_model(TensorFile& file, const std::string& prefix, Model& model) {
    model.for_each_named_parameter(
        [&](const std::string& name, Matrix<float>& value) { file.tensors.emplace_back(prefix + "." + name, detail::to_tensor(value)); });
}

// Loads every parameter of `model` from `file`; all are checked before any is changed.
template <class Model>
void load_model(const TensorFile& file, const std::string& prefix, Model& model, const std::string& source) {
    model.for_each_named_parameter([&](const std::string& name, Matrix<float>& value) {
        Matrix<float> probe(value.rows(), value.cols());
        detail::from_tensor(file, prefix + "." + name, probe, source);
    });
    model.for_each_named_parameter(
        [&](const std::string& name, Matrix<float>& value) { detail::from_tensor(file, prefix + "." + name, value, source); });
}

inline void save_adam(TensorFile& file, const std::string& prefix, const Adam<float>& adam) {
    for (std::size_t k = 0; k < adam.first_moments().size(); ++k) {
        file.tensors.emplace_back(prefix + ".m." + std::to_string(k), detail::to_tensor(adam.first_moments()[k]));
        file.tensors.emplace_back(prefix + ".v." + std::to_string(k), detail::to_tensor(adam.second_moments()[k]));
    }
    file.metadata[prefix + ".iterations"] = std::to_string(adam.iterations());
}

inline void load_adam(const TensorFile& file, const std::string& prefix, Adam<float>& adam, const std::string& source) {
    const std::uint64_t iterations =
        detail::parse_u64(detail::require_metadata(file, prefix + ".iterations", source), source + ": " + prefix + ".iterations");
    auto m = adam.first_moments(), v = adam.second_moments();  // loaded into copies, then committed
    for (std::size_t k = 0; k < m.size(); ++k) {
        detail::from_tensor(file, prefix + ".m." + std::to_string(k), m[k], source);
        detail::from_tensor(file, prefix + ".v." + std::to_string(k), v[k], source);
    }
    adam.first_moments() = std::move(m);
    adam.second_moments() = std::move(v);
    adam.set_iterations(static_cast<std::int64_t>(iterations));
}

inline void save_rng(TensorFile& file, const std::string& key, const Rng& rng) {
    std::string text;
    for (std::size_t i = 0; i < rng.state().size(); ++i) text += (i ? "," : "") + std::to_string(rng.state()[i]);
    file.metadata[key] = text;
}

inline void load_rng(const TensorFile& file, const std::string& key, Rng& rng, const std::string& source) {
    const std::string& text = detail::require_metadata(file, key, source);
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
