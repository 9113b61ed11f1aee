// dcgan's flags and how it builds its GAN (dcgan_program.hpp).
#include "dcgan_program.hpp"

#include "dcgan.hpp"

#include <filesystem>
#include <memory>

namespace dcgan {

tinygan::app::Program make_program(Options& options) {
    using tinygan::app::Flags;
    tinygan::app::Program program;
    program.name = "dcgan";
    program.summary = "train the PyTorch example's DCGAN on MNIST (or Fashion-MNIST)";
    program.fetch_hint = "for MNIST run: bash scripts/fetch_mnist.sh DIR; for Fashion-MNIST: apt-get install "
                         "dataset-fashion-mnist";
    program.image_rows = image_rows;
    program.image_cols = image_cols;
    tinygan::app::TrainOptions& train = program.train;
    train.out = "runs/dcgan";
    train.log_every = 10;          // the example's kLogInterval
    train.checkpoint_every = 200;  // its kCheckpointEvery
    train.sample_every = 200;
    train.steps = 0;               // 0: --epochs decides
    train.score_samples = 5000;
    program.add_train_flags = [&options](Flags& flags) {
        flags.add("--epochs", options.epochs, 1, 100000, "passes over the data (default 2); --steps overrides it");
        flags.add("--batch-size", options.batch_size, 2, 100000, "images per batch (default 64)");
        flags.add("--z-dim", options.z_dim, 1, 100000, "noise dimensions (default 100)");
        flags.add("--seed", options.seed, "random seed (default 1)");
        flags.add("--learning-rate", options.learning_rate, "Adam's learning rate for both models (default G 0.0005, D 0.0002)");
        flags.add("--g-learning-rate", options.g_learning_rate,
                  "the generator's, over --learning-rate (the PyTorch example's is 0.0002)");
        flags.add("--d-learning-rate", options.d_learning_rate, "the discriminator's, over --learning-rate");
        flags.add_switch("--conditional", options.conditional,
                         "a conditional DCGAN: G draws the class it is given (one-hot after the noise), D sees it as "
                         "10 more planes of its image; needs the data's labels");
    };
    program.make_gan = [&options](const tinygan::ImageSet& images,
                                  tinygan::app::TrainOptions& train) -> std::unique_ptr<tinygan::app::Gan> {
        tinygan::app::require_batch_fits(options.batch_size, images, train.data);
        Config config{options.z_dim, options.batch_size, options.seed};
        const auto given = [](double specific, double both, double fallback) {
            return specific > 0 ? specific : both > 0 ? both : fallback;
        };
        config.g_learning_rate = given(options.g_learning_rate, options.learning_rate, config.g_learning_rate);
        config.d_learning_rate = given(options.d_learning_rate, options.learning_rate, config.d_learning_rate);
        // A resumed run must be what its checkpoint is: --conditional or not.
        const std::string checkpoint = train.out + "/checkpoint.safetensors";
        if (train.resume && std::filesystem::exists(checkpoint)) {
            const Index saved = tinygan::app::classes_of(tinygan::load_safetensors(checkpoint), checkpoint);
            if (saved > 0 && !options.conditional)
                throw tinygan::ArgumentError(checkpoint + " is a conditional DCGAN's checkpoint: add --conditional to resume it");
            if (saved == 0 && options.conditional)
                throw tinygan::ArgumentError(checkpoint + " is an unconditional DCGAN's checkpoint: --conditional cannot resume it");
        }
        std::unique_ptr<tinygan::app::Gan> gan;
        Index steps_per_epoch = 0;
        if (options.conditional) {
            auto conditional = std::make_unique<ConditionalDcgan>(config, images.count());
            steps_per_epoch = conditional->steps_per_epoch();
            gan = std::move(conditional);
        } else {
            auto plain = std::make_unique<Dcgan>(config, images.count());
            steps_per_epoch = plain->steps_per_epoch();
            gan = std::move(plain);
        }
        if (train.steps == 0) train.steps = options.epochs * steps_per_epoch;
        return gan;
    };
    program.gan_for_checkpoint = [](const tinygan::TensorFile& file,
                                    const std::string& path) -> std::unique_ptr<tinygan::app::Gan> {
        // The data size only sizes the epoch order, which generating does not use.
        if (tinygan::app::classes_of(file, path) > 0)
            return std::make_unique<ConditionalDcgan>(read_config(file, path), 64 * 937);
        return std::make_unique<Dcgan>(read_config(file, path), 64 * 937);
    };
    return program;
}

}  // namespace dcgan
