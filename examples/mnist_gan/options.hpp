// mnist_gan's command line: two commands (train, the default, and generate), each with its flags.
// Every value is checked before any work starts; a bad one raises UsageError (exit code 2).
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace mnist_gan {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct TrainOptions {
    std::string data = "data/mnist";
    std::string out = "runs/mnist_gan";
    std::int64_t steps = 10000;
    std::int64_t batch_size = 32;
    std::int64_t z_dim = 100;
    std::uint64_t seed = 0;
    std::int64_t log_every = 1;          // the reference prints every step
    std::int64_t sample_every = 1000;    // 0: only at the end
    std::int64_t checkpoint_every = 1000;  // 0: only at the end
    double learning_rate = 1e-3;
    bool resume = false;
    int threads = 1;
};

struct GenerateOptions {
    std::string checkpoint;
    std::int64_t count = 100;
    std::string out = "generated-images-idx3-ubyte";
    std::uint64_t seed = 1;
};

struct Command {
    enum class Kind { train, generate, help } kind = Kind::train;
    TrainOptions train;
    GenerateOptions generate;
};

inline const char* usage_text() {
    return "usage: mnist_gan [train] [flags]        train the reference MNIST GAN\n"
           "       mnist_gan generate --checkpoint FILE [--count N] [--out PATH] [--seed S]\n"
           "\n"
           "train flags:\n"
           "  --data DIR              folder with train-images-idx3-ubyte (default data/mnist)\n"
           "  --out DIR               where samples, losses.csv, losses.png and checkpoint.safetensors go\n"
           "                          (default runs/mnist_gan)\n"
           "  --steps N               total training steps (default 10000)\n"
           "  --batch-size N          images per batch (default 32)\n"
           "  --z-dim N               noise dimensions (default 100)\n"
           "  --seed S                random seed; the same seed gives the same run (default 0)\n"
           "  --log-every N           print the loss line every N steps, 0 for never (default 1)\n"
           "  --sample-every N        write a sample grid every N steps, 0 for only at the end (default 1000)\n"
           "  --checkpoint-every N    checkpoint every N steps, 0 for only at the end (default 1000)\n"
           "  --learning-rate R       Adam's learning rate for both models (default 0.001, Keras')\n"
           "  --resume                continue from DIR/checkpoint.safetensors if there is one\n"
           "  --threads N             threads for the matrix products (default 1)\n"
           "generate flags:\n"
           "  --checkpoint FILE       a checkpoint written by training\n"
           "  --count N               how many digits to draw (default 100)\n"
           "  --out PATH              IDX file to write; a PNG grid goes to PATH.png\n"
           "                          (default generated-images-idx3-ubyte)\n"
           "  --seed S                noise seed (default 1)\n"
           "  --help                  this text\n";
}

namespace detail {

inline std::int64_t parse_integer(const std::string& flag, const std::string& text, std::int64_t min, std::int64_t max) {
    if (text.empty()) throw UsageError(flag + " needs a value");
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used, 10);
    } catch (const std::exception&) {
        throw UsageError(flag + " expects an integer, got \"" + text + "\"");
    }
    if (used != text.size()) throw UsageError(flag + " expects an integer, got \"" + text + "\"");
    if (value < min || value > max)
        throw UsageError(flag + " must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
    return value;
}

inline double parse_positive_real(const std::string& flag, const std::string& text) {
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(text, &used);
    } catch (const std::exception&) {
        throw UsageError(flag + " expects a number, got \"" + text + "\"");
    }
    if (used != text.size() || !(value > 0) || !std::isfinite(value))
        throw UsageError(flag + " expects a positive finite number, got \"" + text + "\"");
    return value;
}

inline std::uint64_t parse_seed(const std::string& flag, const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 20)
        throw UsageError(flag + " expects a non-negative integer, got \"" + text + "\"");
    errno = 0;
    const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE) throw UsageError(flag + " is out of range: " + text);
    return value;
}

}  // namespace detail

// args excludes the program name.
inline Command parse_command_line(const std::vector<std::string>& args) {
    Command command;
    std::size_t i = 0;
    if (!args.empty() && (args[0] == "train" || args[0] == "generate")) {
        command.kind = args[0] == "train" ? Command::Kind::train : Command::Kind::generate;
        i = 1;
    }
    const bool generating = command.kind == Command::Kind::generate;
    for (; i < args.size(); ++i) {
        std::string flag = args[i], value;
        if (flag == "--help" || flag == "-h") {
            command.kind = Command::Kind::help;
            return command;
        }
        if (flag.rfind("--", 0) != 0) throw UsageError("unexpected argument \"" + flag + "\"");
        const std::size_t equals = flag.find('=');
        const bool inline_value = equals != std::string::npos;
        if (inline_value) {
            value = flag.substr(equals + 1);
            flag = flag.substr(0, equals);
        }
        auto next_value = [&]() -> std::string {
            if (inline_value) return value;
            if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
            return args[++i];
        };
        constexpr std::int64_t big = 1'000'000'000;
        if (flag == "--resume" && !generating) {
            if (inline_value) throw UsageError("--resume takes no value");
            command.train.resume = true;
        } else if (flag == "--seed") {
            (generating ? command.generate.seed : command.train.seed) = detail::parse_seed(flag, next_value());
        } else if (flag == "--out") {
            const std::string path = next_value();
            if (path.empty()) throw UsageError("--out needs a non-empty path");
            (generating ? command.generate.out : command.train.out) = path;
        } else if (generating && flag == "--checkpoint") {
            command.generate.checkpoint = next_value();
        } else if (generating && flag == "--count") {
            command.generate.count = detail::parse_integer(flag, next_value(), 1, 1'000'000);
        } else if (!generating && flag == "--data") {
            command.train.data = next_value();
            if (command.train.data.empty()) throw UsageError("--data needs a non-empty path");
        } else if (!generating && flag == "--steps") {
            command.train.steps = detail::parse_integer(flag, next_value(), 1, big);
        } else if (!generating && flag == "--batch-size") {
            command.train.batch_size = detail::parse_integer(flag, next_value(), 1, 1'000'000);
        } else if (!generating && flag == "--z-dim") {
            command.train.z_dim = detail::parse_integer(flag, next_value(), 1, 100'000);
        } else if (!generating && flag == "--log-every") {
            command.train.log_every = detail::parse_integer(flag, next_value(), 0, big);
        } else if (!generating && flag == "--sample-every") {
            command.train.sample_every = detail::parse_integer(flag, next_value(), 0, big);
        } else if (!generating && flag == "--checkpoint-every") {
            command.train.checkpoint_every = detail::parse_integer(flag, next_value(), 0, big);
        } else if (!generating && flag == "--learning-rate") {
            command.train.learning_rate = detail::parse_positive_real(flag, next_value());
        } else if (!generating && flag == "--threads") {
            command.train.threads = static_cast<int>(detail::parse_integer(flag, next_value(), 1, 256));
        } else {
            throw UsageError("unknown flag " + flag + (generating ? " for generate" : ""));
        }
    }
    if (generating && command.generate.checkpoint.empty()) throw UsageError("generate needs --checkpoint FILE");
    return command;
}

}  // namespace mnist_gan
