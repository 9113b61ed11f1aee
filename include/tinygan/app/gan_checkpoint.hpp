// What every GAN's checkpoint holds besides its own metadata: its two models, their Adam
// optimizers, the moving average of the generator's weights when it keeps one, and its random
// generators; saved under fixed names, loaded all or nothing.
#pragma once

#include "../checkpoint.hpp"
#include "../ema.hpp"
#include "../parameter.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tinygan::app {

template <class Generator, class Discriminator>
struct GanCheckpoint {
    Generator& generator;
    Discriminator& discriminator;
    Adam<float>& g_optimizer;
    Adam<float>& d_optimizer;
    std::optional<ExponentialMovingAverage<float>>& generator_average;  // empty when the GAN keeps none
    std::vector<std::pair<const char*, Rng*>> generators;              // metadata key, generator

    // Adds "generator.*", "discriminator.*", "g_optimizer.*", "d_optimizer.*", "generator_average.*"
    // and each random generator's state.
    void save(TensorFile& file) const {
        save_model(file, "generator", generator);
        save_model(file, "discriminator", discriminator);
        save_adam(file, "g_optimizer", g_optimizer);
        save_adam(file, "d_optimizer", d_optimizer);
        if (generator_average) save_ema(file, "generator_average", *generator_average);
        for (const auto& [key, rng] : generators) save_rng(file, key, *rng);
    }

    static bool finite(const std::vector<Matrix<float>>& tensors) {
        return std::all_of(tensors.begin(), tensors.end(), [](const Matrix<float>& t) { return t.allFinite(); });
    }
    // Moments a step can use: finite, and second moments not negative (their square root is taken).
    static bool usable(const Adam<float>& adam) {
        const auto& v = adam.second_moments();
        return finite(adam.first_moments()) && finite(v) &&
               std::all_of(v.begin(), v.end(), [](const Matrix<float>& t) { return t.size() == 0 || t.minCoeff() >= 0; });
    }

    // Reads everything into copies first; the GAN changes only if all of it is there, of the right
    // shapes, and finite. `source` names the file in errors.
    void load(const TensorFile& file, const std::string& source) const {
        Generator g = generator;
        Discriminator d = discriminator;
        Adam<float> g_adam = g_optimizer, d_adam = d_optimizer;
        std::optional<ExponentialMovingAverage<float>> average = generator_average;
        std::vector<Rng> states;
        load_model(file, "generator", g, source);
        load_model(file, "discriminator", d, source);
        load_adam(file, "g_optimizer", g_adam, source);
        load_adam(file, "d_optimizer", d_adam, source);
        if (average) load_ema(file, "generator_average", *average, source);
        for (const auto& [key, rng] : generators) {
            states.push_back(*rng);
            load_rng(file, key, states.back(), source);
        }
        if (!all_finite(g) || !all_finite(d)) throw DataError(source + " holds NaN or Inf parameters");
        if (!usable(g_adam) || !usable(d_adam) || (average && !finite(average->averages())))
            throw DataError(source + " holds an optimizer state or a moving average that is NaN, Inf or (Adam's second "
                                     "moments) negative");
        copy_parameters(g, generator);  // in place: models chained to these keep their references
        copy_parameters(d, discriminator);
        g_optimizer = std::move(g_adam);
        d_optimizer = std::move(d_adam);
        generator_average = std::move(average);
        for (std::size_t i = 0; i < states.size(); ++i) *generators[i].second = states[i];
    }
};

// A conditional GAN's checkpoint records how many classes it draws (metadata "classes"); an
// unconditional GAN's records none, as before conditioning existed.
inline void save_classes(TensorFile& file, Index classes) {
    if (classes > 0) file.metadata["classes"] = std::to_string(classes);
}
inline Index classes_of(const TensorFile& file, const std::string& source) {
    return file.metadata.count("classes") ? static_cast<Index>(metadata_u64(file, "classes", source)) : 0;
}
// DataError unless the checkpoint was written by a GAN of as many classes (0: unconditional).
inline void require_classes(const TensorFile& file, const std::string& source, Index classes) {
    const Index saved = classes_of(file, source);
    if (saved == classes) return;
    const auto kind = [](Index c) {
        return c > 0 ? detail::concat("a conditional GAN of ", c, " classes") : std::string("an unconditional GAN");
    };
    throw DataError(detail::concat(source, " was written by ", kind(saved), ", but this run is ", kind(classes),
                                   saved > 0 && classes == 0 ? " (resume it as a conditional run)" : ""));
}

}  // namespace tinygan::app
