// What every GAN program of tinygan does apart from its models and its step: the command line
// (train, generate, score, --help), data (plain or gzip IDX: MNIST, Fashion-MNIST), the training
// loop with its log line, progress bar, sample grids, losses.csv and plot, atomic checkpoints,
// --resume and a clean Ctrl-C, `generate` and the sample score. A program is a GAN (gan.hpp), its
// own flags and a Program that says how to build the GAN; examples/mnist_gan and examples/dcgan
// are each that and a main() of one line:
//
//     int main(int argc, char** argv) {
//         MyOptions options;                   // the program's own flags' values
//         tinygan::app::Program program = my_program(options);
//         return tinygan::app::run_program(program, argc, argv);
//     }
//
// Header-only by default; see compilation.hpp to compile it once in a program of several units.
#pragma once

#include "../config.hpp"
#include "../mnist_idx.hpp"
#include "../safetensors.hpp"
#include "compilation.hpp"
#include "flags.hpp"
#include "gan.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tinygan::app {

struct TrainOptions {
    std::string data = "data/mnist";
    std::string out;
    std::int64_t steps = 10000;            // 0: the program decides (the DCGAN: from its --epochs)
    std::int64_t log_every = 1;
    std::int64_t sample_every = 1000;      // 0: only at the end
    std::int64_t checkpoint_every = 1000;  // 0: only at the end
    bool resume = false;
    std::int64_t threads = 1;
    bool score = false;                 // score samples at sample points and at the end
    std::int64_t score_samples = 10000;
    std::string score_data;             // the data set the scorer learns from ("" = --data)
    std::string classifier;             // its cache ("" = default_classifier_path)
};

struct GenerateOptions {
    std::string checkpoint;
    std::int64_t count = 100;  // images, or images per class with --class all
    std::string out = "generated-images-idx3-ubyte";
    std::uint64_t seed = 1;
    std::string classes;  // a conditional GAN's: "" (drawn at random), "all", or one class ("7")
};

struct ScoreOptions {
    std::string samples;  // an IDX file of 28x28 images
    std::string labels;   // the classes they were drawn for ("" = labels_file_for(samples) if it is there)
    std::string data = "data/mnist";
    std::string classifier;
    bool calibrate = false;
};

// A training program, described: its name, its data, its own flags, and how it builds its GAN.
struct Program {
    std::string name;                 // "mnist_gan": in messages and in --help
    std::string summary;              // what `train` does, one line for --help
    std::string fetch_hint;           // how to get the data, for a folder without it
    Index image_rows = 28, image_cols = 28;
    TrainOptions train;               // the shared training flags: the program's defaults, then the values given
    // Adds the program's own training flags (its recipe, batch size, seed, learning rates), bound
    // to its own options.
    std::function<void(Flags&)> add_train_flags;
    // A new GAN for a run on `images`, from the options parsed (a resumed run is loaded into it
    // afterwards); may settle train.steps when it was left at 0.
    std::function<std::unique_ptr<Gan>(const ImageSet& images, TrainOptions& train)> make_gan;
    // The GAN a checkpoint was written by, sized from it, for `generate` (not yet loaded).
    std::function<std::unique_ptr<Gan>(const TensorFile& checkpoint, const std::string& path)> gan_for_checkpoint;
};

// A parsed command line. Training options go into program.train and the program's own options.
struct Command {
    enum class Kind { train, generate, score, help } kind = Kind::train;
    GenerateOptions generate;
    ScoreOptions score;
};

// main(): parses the command line and runs the command, turning errors into messages and exit
// statuses: 0 done, 2 for a bad command line or argument, 3 when training diverged, 1 for anything
// else (a missing or corrupt file), 128 + the signal for a run stopped by SIGINT or SIGTERM.
int run_program(Program& program, int argc, char** argv);

// args excludes the program name. Throws UsageError for a bad command line.
Command parse_command_line(Program& program, const std::vector<std::string>& args);
std::string usage_text(Program& program);

// The flags of every training program, of generate and of score, with the defaults `o` holds.
void add_train_flags(Flags& flags, TrainOptions& o);
void add_generate_flags(Flags& flags, GenerateOptions& o);
void add_score_flags(Flags& flags, ScoreOptions& o);

// The commands, for programs that drive them themselves.
// train: trains `gan` to o.steps (loading o.out/checkpoint.safetensors first with o.resume).
// Returns 0 when done, 128 + the signal when a first SIGINT or SIGTERM stopped it (after a
// checkpoint). Throws NumericError if training diverges, without writing a checkpoint, so the
// last good one stays.
int train(Gan& gan, const ImageSet& images, const TrainOptions& o, Index image_rows, Index image_cols);
// generate: o.count images as an IDX file (MNIST's format, so any MNIST tool reads it) and a PNG
// grid next to it; creates the output folder.
void generate(Gan& gan, const GenerateOptions& o, Index image_rows, Index image_cols);
// score: the sample score of an IDX file of images, or (--calibrate) of reference sets.
int score_command(const ScoreOptions& o);

// FOLDER/NAME, or FOLDER/NAME.gz when only that is there; "" when neither is.
std::string find_data_file(const std::string& folder, const std::string& name);
// The training images of an MNIST-format folder, checked for the shape the models need.
ImageSet load_training_images(const std::string& folder, Index rows, Index cols, const std::string& fetch_hint);
// ArgumentError when a batch would hold more images than the data set (`data` is its folder); a
// Program's make_gan calls it before it sizes its buffers.
void require_batch_fits(std::int64_t batch_size, const ImageSet& images, const std::string& data);
// Creates `folder` and checks that it can be written to, before any work is done.
void require_writable_folder(const std::string& folder);
// set_num_threads, saying so when the machine gives fewer threads than asked.
int start_threads(std::int64_t asked, const std::string& program);
// A PNG grid of images (one per column, values in [0, 1]), `grid_cols` to a row (0: as square as
// their count allows).
void write_samples(const std::string& path, const Matrix<float>& images, Index rows, Index cols, int grid_cols = 0);
// Where the labels of an IDX images file go: digits-idx3-ubyte -> digits-labels-idx1-ubyte (MNIST's
// naming), anything else -> NAME-labels-idx1-ubyte.
std::string labels_file_for(const std::string& images_file);
// Where the scorer's classifier for a data set is cached when --classifier is not given: the
// user's cache directory ($XDG_CACHE_HOME/tinygan, else $HOME/.cache/tinygan, else the system's
// temporary directory), named by a checksum of the data set's four files, so that two folders
// with the same name but other data never share a classifier.
std::string default_classifier_path(const std::string& data);

}  // namespace tinygan::app

#ifndef TINYGAN_SEPARATE_COMPILATION
#include "impl/gan_program.ipp"
#endif
