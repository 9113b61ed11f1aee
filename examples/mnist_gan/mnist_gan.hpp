// mnist_gan's two recipes on tinygan: their models, their training step and their checkpoint.
// Shared by the mnist_gan program, its tests and the benchmarks; the command line is mnist_gan_program.hpp.
//
// "document" (the default) is the tf.keras MNIST GAN this project started from: z_dim 100;
// generator Dense(128, relu) -> Dense(784, sigmoid) -> Reshape(28, 28, 1); discriminator Flatten ->
// Dense(128, relu) -> Dense(1, sigmoid); Keras defaults (glorot-uniform, zero bias, Adam
// 1e-3/0.9/0.999/1e-7, binary cross-entropy); batch 32; images in [0, 1].
//
// "keras-gan" is the MLP GAN of the widely copied Keras-GAN collection (gan/gan.py): generator
// 100 -> 256 -> 512 -> 1024 -> 784, each hidden Dense followed by LeakyReLU(0.2) and
// BatchNormalization(momentum 0.8), tanh output on images scaled to [-1, 1]; discriminator
// 784 -> 512 -> 256 -> 1 with LeakyReLU(0.2) and a sigmoid output; Adam(2e-4, beta_1 0.5); batch
// 32. Samples come from an exponential moving average of the generator's weights (decay 0.999).
//
// Both take the document's step: sample a real batch with replacement, generate a fake batch with
// generator.predict (inference mode, as Keras does), one D step on the real batch (label 1), one
// D step on the fakes (label 0), then one G step through the frozen D on fresh noise (label 1).
#pragma once

#include <tinygan/app/gan.hpp>
#include <tinygan/app/gan_checkpoint.hpp>
#include <tinygan/checkpoint.hpp>
#include <tinygan/gan.hpp>
#include <tinygan/mnist_idx.hpp>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mnist_gan {

using tinygan::Index;
using Mat = tinygan::Matrix<float>;
using tinygan::app::StepResult;

inline constexpr Index image_rows = 28, image_cols = 28, image_pixels = image_rows * image_cols;

struct DocumentRecipe {
    static constexpr const char* name = "document";
    static constexpr double default_learning_rate = 1e-3;  // Keras' default
    static constexpr bool signed_images = false;           // sigmoid output, images in [0, 1]
    static constexpr bool sample_from_average = false;

    static auto make_generator(Index z_dim, tinygan::Rng& rng) {
        using namespace tinygan;
        return make_sequential("generator", Dense<float>(z_dim, 128, rng), ReLU<float>{},
                               Dense<float>(128, image_pixels, rng), Sigmoid<float>{},
                               Reshape<float>({image_rows, image_cols, 1}));
    }
    static auto make_discriminator(tinygan::Rng& rng) {
        using namespace tinygan;
        return make_sequential("discriminator", Flatten<float>({image_rows, image_cols, 1}),
                               Dense<float>(image_pixels, 128, rng), ReLU<float>{}, Dense<float>(128, 1, rng),
                               Sigmoid<float>{});
    }
    static tinygan::AdamOptions adam(double learning_rate) { return {learning_rate}; }
};

struct KerasGanRecipe {
    static constexpr const char* name = "keras-gan";
    static constexpr double default_learning_rate = 2e-4;
    static constexpr bool signed_images = true;  // tanh output, images in [-1, 1]
    static constexpr bool sample_from_average = true;
    static constexpr double average_decay = 0.999;

    static auto make_generator(Index z_dim, tinygan::Rng& rng) {
        using namespace tinygan;
        const BatchNorm<float>::Options bn{0.8, 1e-3};  // Keras' BatchNormalization(momentum=0.8)
        return make_sequential("generator", Dense<float>(z_dim, 256, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(256, bn),
                               Dense<float>(256, 512, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(512, bn),
                               Dense<float>(512, 1024, rng), LeakyReLU<float>(0.2f), BatchNorm<float>(1024, bn),
                               Dense<float>(1024, image_pixels, rng), Tanh<float>{},
                               Reshape<float>({image_rows, image_cols, 1}));
    }
    static auto make_discriminator(tinygan::Rng& rng) {
        using namespace tinygan;
        return make_sequential("discriminator", Flatten<float>({image_rows, image_cols, 1}),
                               Dense<float>(image_pixels, 512, rng), LeakyReLU<float>(0.2f), Dense<float>(512, 256, rng),
                               LeakyReLU<float>(0.2f), Dense<float>(256, 1, rng), Sigmoid<float>{});
    }
    static tinygan::AdamOptions adam(double learning_rate) { return {learning_rate, 0.5}; }
};

inline constexpr const char* cgan_recipe_name = "cgan";  // cgan.hpp

inline const std::vector<std::string>& recipe_names() {
    static const std::vector<std::string> names{DocumentRecipe::name, KerasGanRecipe::name, cgan_recipe_name};
    return names;
}

struct Config {
    Index z_dim = 100;
    Index batch_size = 32;
    std::uint64_t seed = 0;
    double learning_rate = 1e-3;  // the document's; KerasGanRecipe::default_learning_rate for keras-gan
};

inline constexpr const char* format_name = "tinygan-mnist-gan-1";

// The recipe a checkpoint was written by: its "recipe" metadata, "document" when there is none
// (the document's checkpoints carry no recipe, so they stay as they always were).
inline std::string recipe_of(const tinygan::TensorFile& file, const std::string& path) {
    const std::string& format = tinygan::metadata_text(file, "format", path);
    if (format != format_name)
        throw tinygan::DataError(path + " is not an mnist_gan checkpoint (format \"" + format + "\")");
    const auto it = file.metadata.find("recipe");
    return it == file.metadata.end() ? DocumentRecipe::name : it->second;
}

// The configuration a checkpoint was written with (to size the models before loading them).
inline Config read_config(const tinygan::TensorFile& file, const std::string& path) {
    using tinygan::metadata_u64;
    recipe_of(file, path);
    Config config;
    // Bounded before the cast, so that a huge value cannot wrap around to a plausible one.
    const std::uint64_t z_dim = metadata_u64(file, "z_dim", path), batch_size = metadata_u64(file, "batch_size", path);
    if (z_dim == 0 || z_dim > 100000 || batch_size == 0 || batch_size > 1000000)
        throw tinygan::DataError(path + " has an impossible z_dim or batch_size");
    config.z_dim = static_cast<Index>(z_dim);
    config.batch_size = static_cast<Index>(batch_size);
    config.seed = metadata_u64(file, "seed", path);
    return config;
}

// Everything a training run holds: models, optimizers, generator state, preallocated batches.
// Not copyable or movable: the chained model refers to the two models inside it. Its members are
// compiled once per recipe (explicit instantiations below).
template <class Recipe>
class RecipeGan final : public tinygan::app::Gan {
public:
    using Generator = decltype(Recipe::make_generator(1, std::declval<tinygan::Rng&>()));
    using Discriminator = decltype(Recipe::make_discriminator(std::declval<tinygan::Rng&>()));

    explicit RecipeGan(const Config& config);
    RecipeGan(const RecipeGan&) = delete;
    RecipeGan& operator=(const RecipeGan&) = delete;

    // One training step; it allocates nothing once the buffers are warm (tests/no_alloc_test.cpp,
    // batch 1 to 256; 2 to 256 with BatchNorm, which needs two samples).
    StepResult step(const tinygan::ImageSet& data) override;

    // Draws images (one per column, in [0, 1]) for the given noise, in inference mode, from the
    // averaged weights when the recipe has them, without disturbing the training buffers.
    Mat sample(const Mat& noise) override;

    void summary(std::ostream& out) const override;
    void save(const std::string& path) override;
    // Restores a run saved by save(); refuses a checkpoint of another format, recipe or
    // configuration. Everything is checked before anything changes, so a refused checkpoint leaves
    // the run as it was; `source` names the file in errors.
    void load(const tinygan::TensorFile& file, const std::string& source) override;
    void load(const std::string& path) { load(tinygan::load_safetensors(path), path); }

    bool parameters_finite() override { return tinygan::all_finite(generator_) && tinygan::all_finite(discriminator_); }
    std::int64_t steps_done() const override { return steps_done_; }
    Index z_dim() const override { return config_.z_dim; }
    Index batch_size() const override { return config_.batch_size; }
    std::uint64_t seed() const override { return config_.seed; }
    const Config& config() const { return config_; }
    Generator& generator() { return generator_; }
    Discriminator& discriminator() { return discriminator_; }
    tinygan::Rng& rng() { return rng_; }

private:
    tinygan::app::GanCheckpoint<Generator, Discriminator> state() {
        return {generator_, discriminator_, g_optimizer_, d_optimizer_, average_, {{"rng", &rng_}}};
    }
    void require_config(const tinygan::TensorFile& file, const std::string& path) const;

    Config config_;
    tinygan::Rng rng_;
    Discriminator discriminator_;  // built first, then the generator, from the one seeded stream
    Generator generator_;
    tinygan::Adam<float> d_optimizer_, g_optimizer_;
    tinygan::Sequential<float, Generator&, Discriminator&> combined_;
    std::optional<tinygan::ExponentialMovingAverage<float>> average_;
    tinygan::BinaryCrossEntropy<float> bce_;
    Mat real_, noise_, ones_, zeros_;
    std::int64_t steps_done_ = 0;
};

template <class Recipe>
RecipeGan<Recipe>::RecipeGan(const Config& config)
    : config_(config),
      rng_(config.seed),
      discriminator_(Recipe::make_discriminator(rng_)),
      generator_(Recipe::make_generator(config.z_dim, rng_)),
      d_optimizer_(discriminator_, Recipe::adam(config.learning_rate)),
      g_optimizer_(generator_, Recipe::adam(config.learning_rate)),
      combined_(tinygan::chain(generator_, discriminator_)),
      real_(image_pixels, config.batch_size),
      noise_(config.z_dim, config.batch_size),
      ones_(Mat::Ones(1, config.batch_size)),
      zeros_(Mat::Zero(1, config.batch_size)) {
    if constexpr (Recipe::sample_from_average) average_.emplace(generator_, Recipe::average_decay);
}

template <class Recipe>
StepResult RecipeGan<Recipe>::step(const tinygan::ImageSet& data) {
    if constexpr (Recipe::signed_images)
        data.sample_batch_signed(real_, rng_);
    else
        data.sample_batch(real_, rng_);
    rng_.fill_normal(noise_);
    // The fakes stay in the generator's output buffer: nothing touches it until the G step.
    const Mat& fakes = generator_.predict(noise_);
    const auto d_real = tinygan::train_on_batch(discriminator_, bce_, d_optimizer_, real_, ones_);
    const auto d_fake = tinygan::train_on_batch(discriminator_, bce_, d_optimizer_, fakes, zeros_);

    rng_.fill_normal(noise_);
    tinygan::BatchResult<float> g{};
    {
        // train_on_batch, with the moving average (when the recipe samples from one) in the same
        // pass over G's weights as Adam's update.
        tinygan::Frozen frozen_discriminator(discriminator_);
        const tinygan::ScopedFlushDenormals flush_denormals;
        g = tinygan::compute_gradients(combined_, bce_, noise_, ones_);
        if (average_)
            g_optimizer_.step(combined_, *average_);
        else
            g_optimizer_.step(combined_);
    }
    ++steps_done_;
    return {0.5f * (d_real.loss + d_fake.loss), 0.5f * (d_real.accuracy + d_fake.accuracy), g.loss};
}

// Compiled once each: the construction and the step in document.cpp and keras_gan.cpp, sampling and
// checkpoints (mnist_gan_io.hpp) in document_io.cpp and keras_gan_io.cpp, so that each unit stays
// quick to compile. A file that includes this one only links them.
extern template class RecipeGan<DocumentRecipe>;
extern template class RecipeGan<KerasGanRecipe>;

using Gan = RecipeGan<DocumentRecipe>;
using KerasGan = RecipeGan<KerasGanRecipe>;

// Calls f(recipe_tag) with DocumentRecipe{} or KerasGanRecipe{} for a recipe name.
template <class F>
decltype(auto) with_recipe(const std::string& name, F&& f) {
    if (name == KerasGanRecipe::name) return f(KerasGanRecipe{});
    if (name == DocumentRecipe::name) return f(DocumentRecipe{});
    throw tinygan::DataError("unknown mnist_gan recipe \"" + name + "\"");
}

}  // namespace mnist_gan
