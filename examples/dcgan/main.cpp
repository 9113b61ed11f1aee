// dcgan: the PyTorch C++ frontend's DCGAN example, trained with tinygan on MNIST (or Fashion-MNIST),
// with everything mnist_gan has: sample grids, losses, checkpoints, --resume, Ctrl-C, generate, the
// sample score. The models and the step are in dcgan.hpp; the rest is tinygan/app/gan_program.hpp.
#include "dcgan.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace app = tinygan::app;

int main(int argc, char** argv) {
    return app::run_program("dcgan", [&]() -> int {
        const std::vector<std::string> args(argv + 1, argv + argc);
        app::TrainOptions train;
        train.out = "runs/dcgan";
        train.log_every = 10;           // the example's kLogInterval
        train.checkpoint_every = 200;   // its kCheckpointEvery
        train.sample_every = 200;
        train.steps = 0;                // 0: --epochs decides
        train.score_samples = 5000;
        std::int64_t epochs = 2, batch_size = 64, z_dim = 100;
        std::uint64_t seed = 1;         // the example's torch::manual_seed(1)
        double learning_rate = 0, g_learning_rate = 0, d_learning_rate = 0;  // 0: not given
        app::Flags train_flags;
        app::add_train_flags(train_flags, train);
        train_flags.add("--epochs", epochs, 1, 100000, "passes over the data (default 2); --steps overrides it");
        train_flags.add("--batch-size", batch_size, 2, 100000, "images per batch (default 64)");
        train_flags.add("--z-dim", z_dim, 1, 100000, "noise dimensions (default 100)");
        train_flags.add("--seed", seed, "random seed (default 1)");
        train_flags.add("--learning-rate", learning_rate, "Adam's learning rate for both models (default G 0.0005, D 0.0002)");
        train_flags.add("--g-learning-rate", g_learning_rate, "the generator's, over --learning-rate (the PyTorch example's is 0.0002)");
        train_flags.add("--d-learning-rate", d_learning_rate, "the discriminator's, over --learning-rate");
        app::GenerateOptions generate;
        app::ScoreOptions score;
        app::Flags generate_flags, score_flags;
        app::add_generate_flags(generate_flags, generate);
        app::add_score_flags(score_flags, score);

        const std::string command = !args.empty() && args[0].rfind("--", 0) != 0 ? args[0] : "train";
        for (const auto& arg : args)
            if (arg == "--help" || arg == "-h") {
                std::printf("usage: dcgan [train] [flags] | dcgan generate --checkpoint FILE [flags] | dcgan score FILE|--calibrate\n"
                            "\ntrain flags:\n%s\ngenerate flags:\n%s\nscore flags:\n%s",
                            train_flags.help().c_str(), generate_flags.help().c_str(), score_flags.help().c_str());
                return 0;
            }
        const std::size_t first = command == "train" && (args.empty() || args[0] != "train") ? 0 : 1;
        if (command == "generate") {
            generate_flags.parse(args, first, " for generate");
            if (generate.checkpoint.empty()) throw app::UsageError("generate needs --checkpoint FILE");
            const tinygan::TensorFile file = tinygan::load_safetensors(generate.checkpoint);
            dcgan::Dcgan gan(dcgan::read_config(file, generate.checkpoint), 64 * 937);
            gan.load(file, generate.checkpoint);
            app::generate(gan, generate, dcgan::image_rows, dcgan::image_cols);
            return 0;
        }
        if (command == "score") {
            std::size_t next = first;
            if (next < args.size() && args[next].rfind("--", 0) != 0) score.samples = args[next++];
            score_flags.parse(args, next, " for score");
            if (score.samples.empty() == !score.calibrate) throw app::UsageError("score needs an IDX file of images or --calibrate");
            return app::score_command(score);
        }
        if (command != "train") throw app::UsageError("unknown command \"" + command + "\"");
        train_flags.parse(args, first);

        const tinygan::ImageSet images = app::load_training_images(
            train.data, dcgan::image_rows, dcgan::image_cols, batch_size,
            "for MNIST run: bash scripts/fetch_mnist.sh DIR; for Fashion-MNIST: apt-get install dataset-fashion-mnist");
        app::require_writable_folder(train.out);
        app::start_threads(train.threads, "dcgan");
        dcgan::Config config{z_dim, batch_size, seed};
        const auto given = [](double specific, double both, double fallback) { return specific > 0 ? specific : both > 0 ? both : fallback; };
        config.g_learning_rate = given(g_learning_rate, learning_rate, config.g_learning_rate);
        config.d_learning_rate = given(d_learning_rate, learning_rate, config.d_learning_rate);
        dcgan::Dcgan gan(config, images.count());
        if (train.steps == 0) train.steps = epochs * gan.steps_per_epoch();
        return app::train(gan, images, train, dcgan::image_rows, dcgan::image_cols);
    });
}
