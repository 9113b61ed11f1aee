// mnist_gan's command line: two commands (train, the default, and generate), each with its flags.
// Every value is checked before any work starts; a bad one raises UsageError (exit status 2).
#pragma once

#include <tinygan/app/flags.hpp>
#include <tinygan/app/gan_program.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mnist_gan {

using tinygan::app::UsageError;

struct TrainOptions : tinygan::app::TrainOptions {
    std::int64_t batch_size = 32;
    std::int64_t z_dim = 100;
    std::uint64_t seed = 0;
    double learning_rate = 1e-3;

    TrainOptions() { out = "runs/mnist_gan"; }
};

using GenerateOptions = tinygan::app::GenerateOptions;

struct Command {
    enum class Kind { train, generate, help } kind = Kind::train;
    TrainOptions train;
    GenerateOptions generate;
};

inline tinygan::app::Flags train_flags(TrainOptions& o) {
    tinygan::app::Flags flags;
    tinygan::app::add_train_flags(flags, o);
    flags.add("--batch-size", o.batch_size, 1, 1'000'000, "images per batch (default 32)");
    flags.add("--z-dim", o.z_dim, 1, 100'000, "noise dimensions (default 100)");
    flags.add("--seed", o.seed, "random seed; the same seed gives the same run (default 0)");
    flags.add("--learning-rate", o.learning_rate, "Adam's learning rate for both models (default 0.001, Keras')");
    return flags;
}

inline std::string usage_text() {
    TrainOptions train;
    GenerateOptions generate;
    tinygan::app::Flags generate_flags;
    tinygan::app::add_generate_flags(generate_flags, generate);
    return "usage: mnist_gan [train] [flags]        train the reference MNIST GAN\n"
           "       mnist_gan generate --checkpoint FILE [--count N] [--out PATH] [--seed S]\n"
           "\ntrain flags:\n" +
           train_flags(train).help() + "\ngenerate flags:\n" + generate_flags.help() + "  --help                  this text\n";
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
    if (!args.empty() && (args[0] == "train" || args[0] == "generate")) {
        command.kind = args[0] == "train" ? Command::Kind::train : Command::Kind::generate;
        first = 1;
    }
    if (command.kind == Command::Kind::generate) {
        tinygan::app::Flags flags;
        tinygan::app::add_generate_flags(flags, command.generate);
        flags.parse(args, first, " for generate");
        if (command.generate.checkpoint.empty()) throw UsageError("generate needs --checkpoint FILE");
    } else {
        train_flags(command.train).parse(args, first);
    }
    return command;
}

}  // namespace mnist_gan
