// mnist_gan's command line: three commands (train, the default; generate; score), each with its
// flags. Every value is checked before any work starts; a bad one raises UsageError (exit status 2).
#pragma once

#include "mnist_gan.hpp"

#include <tinygan/app/flags.hpp>
#include <tinygan/app/gan_program.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mnist_gan {

using tinygan::app::UsageError;

struct TrainOptions : tinygan::app::TrainOptions {
    std::string recipe;  // "" = document, or the checkpoint's when resuming
    std::int64_t batch_size = 32;
    std::int64_t z_dim = 100;
    std::uint64_t seed = 0;
    double learning_rate = 0;  // 0 = the recipe's

    TrainOptions() { out = "runs/mnist_gan"; }
};

using GenerateOptions = tinygan::app::GenerateOptions;
using ScoreOptions = tinygan::app::ScoreOptions;

struct Command {
    enum class Kind { train, generate, score, help } kind = Kind::train;
    TrainOptions train;
    GenerateOptions generate;
    ScoreOptions score;
};

inline tinygan::app::Flags train_flags(TrainOptions& o) {
    tinygan::app::Flags flags;
    tinygan::app::add_train_flags(flags, o);
    flags.add_choice("--recipe", o.recipe, recipe_names(),
                     "document (the reference GAN, default) or keras-gan (Keras-GAN's MLP with BatchNorm); "
                     "a resumed run takes its checkpoint's");
    flags.add("--batch-size", o.batch_size, 1, 1'000'000, "images per batch (default 32)");
    flags.add("--z-dim", o.z_dim, 1, 100'000, "noise dimensions (default 100)");
    flags.add("--seed", o.seed, "random seed; the same seed gives the same run (default 0)");
    flags.add("--learning-rate", o.learning_rate, "Adam's learning rate for both models (default 0.001 for document, "
                                                  "0.0002 for keras-gan)");
    return flags;
}

inline std::string usage_text() {
    TrainOptions train;
    GenerateOptions generate;
    ScoreOptions score;
    tinygan::app::Flags generate_flags, score_flags;
    tinygan::app::add_generate_flags(generate_flags, generate);
    tinygan::app::add_score_flags(score_flags, score);
    return "usage: mnist_gan [train] [flags]        train a GAN on MNIST (or Fashion-MNIST)\n"
           "       mnist_gan generate --checkpoint FILE [--count N] [--out PATH] [--seed S]\n"
           "       mnist_gan score SAMPLES [--data DIR] [--classifier FILE] | score --calibrate\n"
           "\ntrain flags:\n" +
           train_flags(train).help() + "\ngenerate flags:\n" + generate_flags.help() + "\nscore flags:\n" +
           score_flags.help() + "  --help                  this text\n";
}

// args excludes the program name.
inline Command parse_command_line(const std::vector<std::string>& args) {
    Command command;
    for (const auto& arg : args)
        if (arg == "--help" || arg == "-h") {
            command.kind = Command::Kind::help;
            return command;
        }
    std::size_t first = 0;
    if (!args.empty() && (args[0] == "train" || args[0] == "generate" || args[0] == "score")) {
        command.kind = args[0] == "train" ? Command::Kind::train
                       : args[0] == "generate" ? Command::Kind::generate
                                               : Command::Kind::score;
        first = 1;
    }
    if (command.kind == Command::Kind::generate) {
        tinygan::app::Flags flags;
        tinygan::app::add_generate_flags(flags, command.generate);
        flags.parse(args, first, " for generate");
        if (command.generate.checkpoint.empty()) throw UsageError("generate needs --checkpoint FILE");
    } else if (command.kind == Command::Kind::score) {
        if (first < args.size() && args[first].rfind("--", 0) != 0) command.score.samples = args[first++];
        tinygan::app::Flags flags;
        tinygan::app::add_score_flags(flags, command.score);
        flags.parse(args, first, " for score");
        if (command.score.samples.empty() == !command.score.calibrate)
            throw UsageError("score needs either an IDX file of images or --calibrate");
    } else {
        train_flags(command.train).parse(args, first);
    }
    return command;
}

}  // namespace mnist_gan
