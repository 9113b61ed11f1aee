// RecipeGan's sampling, summary and checkpoint (mnist_gan.hpp), for document_io.cpp and
// keras_gan_io.cpp, which compile them for each recipe apart from the step.
#pragma once

#include "mnist_gan.hpp"

#include <string>
#include <type_traits>

namespace mnist_gan {

template <class Recipe>
Mat RecipeGan<Recipe>::sample(const Mat& noise) {
    Generator sampler = generator_;
    if (average_) average_->apply_to(sampler);
    const Mat images = tinygan::app::predict_in_chunks(sampler, noise);
    if constexpr (Recipe::signed_images)
        return (images.array() * 0.5f + 0.5f).matrix();
    else
        return images;
}

template <class Recipe>
void RecipeGan<Recipe>::summary(std::ostream& out) const {
    generator_.summary(out);
    discriminator_.summary(out);
}

template <class Recipe>
void RecipeGan<Recipe>::save(const std::string& path) {
    tinygan::TensorFile file;
    state().save(file);
    file.metadata["format"] = format_name;
    if constexpr (!std::is_same_v<Recipe, DocumentRecipe>) file.metadata["recipe"] = Recipe::name;
    file.metadata["step"] = std::to_string(steps_done_);
    file.metadata["z_dim"] = std::to_string(config_.z_dim);
    file.metadata["batch_size"] = std::to_string(config_.batch_size);
    file.metadata["seed"] = std::to_string(config_.seed);
    tinygan::save_safetensors(path, file);
}

template <class Recipe>
void RecipeGan<Recipe>::load(const tinygan::TensorFile& file, const std::string& source) {
    require_config(file, source);
    const auto step = static_cast<std::int64_t>(tinygan::metadata_u64(file, "step", source));
    state().load(file, source);
    steps_done_ = step;
}

template <class Recipe>
void RecipeGan<Recipe>::require_config(const tinygan::TensorFile& file, const std::string& path) const {
    const std::string recipe = recipe_of(file, path);
    if (recipe != Recipe::name)
        throw tinygan::DataError(path + " was written by the " + recipe + " recipe, but this run uses " + Recipe::name);
    const Config saved = read_config(file, path);
    if (saved.z_dim != config_.z_dim || saved.batch_size != config_.batch_size)
        throw tinygan::DataError(path + " was written with --z-dim " + std::to_string(saved.z_dim) + " --batch-size " +
                                 std::to_string(saved.batch_size) + ", but this run uses --z-dim " +
                                 std::to_string(config_.z_dim) + " --batch-size " + std::to_string(config_.batch_size));
}

// The members above, compiled for one recipe (in the unit that includes this file).
#define MNIST_GAN_INSTANTIATE_IO(Recipe)                                                              \
    template Mat RecipeGan<Recipe>::sample(const Mat&);                                               \
    template void RecipeGan<Recipe>::summary(std::ostream&) const;                                    \
    template void RecipeGan<Recipe>::save(const std::string&);                                        \
    template void RecipeGan<Recipe>::load(const tinygan::TensorFile&, const std::string&);            \
    template void RecipeGan<Recipe>::require_config(const tinygan::TensorFile&, const std::string&) const;

}  // namespace mnist_gan
