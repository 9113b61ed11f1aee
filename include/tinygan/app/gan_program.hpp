// What every GAN program of tinygan does apart from its models and its step: flags, data (plain or
// gzip IDX: MNIST, Fashion-MNIST), the training loop with its log line, progress bar, sample
// grids, losses.csv and plot, atomic checkpoints, --resume and a clean Ctrl-C, and `generate`.
// examples/mnist_gan and examples/dcgan are each their models plus a few lines around this.
//
// A GAN, for this driver, is a class with:
//     StepResult step(const ImageSet& images);        one training step
//     Matrix<float> sample(const Matrix<float>& z);    images in [0, 1], one per column (inference mode)
//     Index z_dim() const;  Index batch_size() const;  std::uint64_t seed() const;
//     std::int64_t steps_done() const;  bool parameters_finite();
//     void save(const std::string& path);              atomic, everything --resume needs
//     void load(const std::string& path);              all checked before anything changes
//     void summary(std::ostream& out);                 the models' tables
#pragma once

#include "../error.hpp"
#include "../image_grid.hpp"
#include "../mnist_idx.hpp"
#include "../parallel.hpp"
#include "flags.hpp"
#include "gan_checkpoint.hpp"
#include "interrupt.hpp"
#include "loss_log.hpp"
#include "progress.hpp"
#include "sample_score.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace tinygan::app {

struct StepResult {
    float d_loss;      // mean of the real and fake batches' losses, as Keras' GAN examples report it
    float d_accuracy;  // mean of the two batches' binary accuracies
    float g_loss;
};

struct TrainOptions {
    std::string data = "data/mnist";
    std::string out;
    std::int64_t steps = 10000;
    std::int64_t log_every = 1;
    std::int64_t sample_every = 1000;      // 0: only at the end
    std::int64_t checkpoint_every = 1000;  // 0: only at the end
    bool resume = false;
    std::int64_t threads = 1;
    bool score = false;                 // score samples at sample points and at the end
    std::int64_t score_samples = 10000;
    std::string score_data;             // the data set the scorer learns from ("" = --data)
    std::string classifier;             // its cache ("" = runs/classifier_<data folder name>.safetensors)
};

// The flags every training program takes, with the defaults `o` holds.
inline void add_train_flags(Flags& flags, TrainOptions& o) {
    constexpr std::int64_t big = 1'000'000'000;
    const auto fallback = [](std::int64_t v) { return " (default " + std::to_string(v) + ")"; };
    flags.add("--data", o.data, "folder with train-images-idx3-ubyte, plain or .gz (default " + o.data + ")");
    flags.add("--out", o.out, "where samples, losses.csv, losses.png and checkpoint.safetensors go (default " + o.out + ")");
    flags.add("--steps", o.steps, 1, big, "total training steps" + (o.steps > 0 ? fallback(o.steps) : " (default: --epochs)"));
    flags.add("--log-every", o.log_every, 0, big, "print the loss line every N steps, 0 for never" + fallback(o.log_every));
    flags.add("--sample-every", o.sample_every, 0, big, "write a sample grid every N steps, 0 for only at the end" + fallback(o.sample_every));
    flags.add("--checkpoint-every", o.checkpoint_every, 0, big, "checkpoint every N steps, 0 for only at the end" + fallback(o.checkpoint_every));
    flags.add_switch("--resume", o.resume, "continue from OUT/checkpoint.safetensors if there is one");
    flags.add("--threads", o.threads, 1, 256, "threads for the matrix products (default 1; at most the CPUs available)");
    flags.add_switch("--score", o.score, "score samples at each sample point and at the end (scores.csv)");
    flags.add("--score-samples", o.score_samples, 2, 1'000'000, "images per score" + fallback(o.score_samples));
    flags.add("--score-data", o.score_data, "the labelled data set the scorer's classifier learns from (default --data)");
    flags.add("--classifier", o.classifier, "the scorer's cached classifier (default runs/classifier_<data folder>.safetensors)");
}

// Where the scorer's classifier for a data folder is cached by default.
inline std::string default_classifier_path(const std::string& data) {
    std::string name = std::filesystem::path(data).filename().string();
    if (name.empty()) name = std::filesystem::path(data).parent_path().filename().string();
    return "runs/classifier_" + (name.empty() ? std::string("data") : name) + ".safetensors";
}

struct ScoreOptions {
    std::string samples;  // an IDX file of 28x28 images
    std::string data = "data/mnist";
    std::string classifier;
    bool calibrate = false;
};

inline void add_score_flags(Flags& flags, ScoreOptions& o) {
    flags.add("--data", o.data, "the labelled data set the classifier learns from, with its test set (default " + o.data + ")");
    flags.add("--classifier", o.classifier, "the cached classifier (default runs/classifier_<data folder>.safetensors)");
    flags.add_switch("--calibrate", o.calibrate, "score reference sets instead: real images, one class, noise, black");
}

struct GenerateOptions {
    std::string checkpoint;
    std::int64_t count = 100;
    std::string out = "generated-images-idx3-ubyte";
    std::uint64_t seed = 1;
};

inline void add_generate_flags(Flags& flags, GenerateOptions& o) {
    flags.add("--checkpoint", o.checkpoint, "a checkpoint written by training");
    flags.add("--count", o.count, 1, 1'000'000, "how many images to draw (default 100)");
    flags.add("--out", o.out, "IDX file to write (its folder is created); a PNG grid goes to OUT.png");
    flags.add("--seed", o.seed, "noise seed (default 1)");
}

// Concatenates its arguments as an ostream prints them: the messages below.
template <class... Parts>
std::string text(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

// FOLDER/NAME, or FOLDER/NAME.gz when only that is there; "" when neither is.
inline std::string find_data_file(const std::string& folder, const std::string& name) {
    const std::string plain = folder + "/" + name;
    if (std::filesystem::exists(plain)) return plain;
    if (std::filesystem::exists(plain + ".gz")) return plain + ".gz";
    return "";
}

// The training images of an MNIST-format folder (MNIST, Fashion-MNIST), checked for the shape the
// models need. `fetch_hint` says how to get them.
inline ImageSet load_training_images(const std::string& folder, Index rows, Index cols, Index batch_size,
                                     const std::string& fetch_hint) {
    const std::string path = find_data_file(folder, "train-images-idx3-ubyte");
    if (path.empty())
        throw DataError(text("no training images in ", folder, ": neither train-images-idx3-ubyte nor ",
                             "train-images-idx3-ubyte.gz is there; ", fetch_hint));
    ImageSet images = ImageSet::load(path);
    if (images.image_rows() != rows || images.image_cols() != cols)
        throw DataError(text(path, " holds ", images.image_rows(), "x", images.image_cols(), " images; this model needs ",
                             rows, "x", cols));
    if (batch_size > images.count())
        throw ArgumentError(text("--batch-size ", batch_size, " is larger than the ", images.count(), " images in ", path));
    return images;
}

// Creates `folder` and checks that it can be written to, before any work is done.
inline void require_writable_folder(const std::string& folder) {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error) throw DataError("cannot create output folder " + folder + ": " + error.message());
    const std::string probe = folder + "/.tinygan_write_test";
    const char byte = 0;
    write_file_atomically(probe, &byte, 1);  // throws with the reason if the folder is read-only
    std::filesystem::remove(probe, error);
}

// set_num_threads, saying so when the machine gives fewer threads than asked.
inline int start_threads(std::int64_t asked, const char* program) {
    const int taken = set_num_threads(static_cast<int>(asked));
    if (taken < asked)
        std::fprintf(stderr, "%s: --threads %lld asked, but this process may use %d CPU%s; using %d\n", program,
                     static_cast<long long>(asked), taken, taken == 1 ? "" : "s", taken);
    return taken;
}

// model.predict(x), 512 columns at a time: the activations of 10000 samples at once would take
// gigabytes (a convolution's patch matrix grows with the batch). In inference mode each column is
// computed on its own, so the chunks change nothing but the memory.
template <class Model>
Matrix<float> predict_in_chunks(Model& model, const Matrix<float>& x, Index chunk = 512) {
    Matrix<float> y;
    for (Index start = 0; start < x.cols(); start += chunk) {
        const Index n = std::min(chunk, x.cols() - start);
        const Matrix<float> part = x.middleCols(start, n);
        const Matrix<float>& out = model.predict(part);
        if (y.size() == 0) y.resize(out.rows(), x.cols());
        y.middleCols(start, n) = out;
    }
    return y;
}

inline void write_samples(const std::string& path, const Matrix<float>& images, Index rows, Index cols) {
    const int grid_cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(images.cols()))));
    write_png(path, image_grid(images, rows, cols, grid_cols, 2));
}

inline void write_loss_plot(const std::string& path, const LossLog& log, std::size_t d_column, std::size_t g_column) {
    const BoundedSeries &d = log.series(d_column), &g = log.series(g_column);
    // One panel per loss, each with its own scale: G's loss is often ten times D's.
    const std::vector<Curve> d_curve{{"D loss", d.ys(), {31, 119, 180}}}, g_curve{{"G loss", g.ys(), {214, 39, 40}}};
    write_png(path, stack_vertically({
                        plot_curves("Discriminator loss (light: per step; dark: 100-step mean)", d.xs(), d_curve),
                        plot_curves("Generator loss", g.xs(), g_curve),
                    }));
}

inline constexpr const char* score_header = "step,frechet_distance,classes_over_5_percent,inception_score\n";

inline void say_line(const std::string& line) { std::printf("%s\n", line.c_str()); }

inline std::string step_name(std::int64_t step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%06lld", static_cast<long long>(step));
    return buffer;
}

// Trains `gan` to o.steps. Returns the exit status: 0 when done, 128 + the signal when a first
// SIGINT or SIGTERM stopped it (after a checkpoint). Throws NumericError if training diverges,
// without writing a checkpoint, so the last good one stays.
template <class Gan>
int train(Gan& gan, const ImageSet& images, const TrainOptions& o, Index image_rows, Index image_cols) {
    const std::string checkpoint = o.out + "/checkpoint.safetensors";
    namespace fs = std::filesystem;
    if (fs::exists(checkpoint) && !o.resume)
        throw ArgumentError(checkpoint + " already exists; pass --resume to continue that run, or choose another "
                            "--out (nothing was overwritten)");
    if (o.resume) {
        if (fs::exists(checkpoint)) {
            gan.load(checkpoint);
            std::printf("Resuming from %s at step %lld\n", checkpoint.c_str(), static_cast<long long>(gan.steps_done()));
        } else {
            std::printf("No checkpoint in %s: starting from step 0\n", o.out.c_str());
        }
    }
    const std::int64_t start = gan.steps_done();
    if (start > o.steps)
        throw ArgumentError(text("the checkpoint is at step ", start, ", beyond --steps ", o.steps));

    LossLog log(o.out + "/losses.csv", {"d_loss", "d_acc", "g_loss"}, start);
    constexpr std::uint64_t sample_noise_salt = 0x5a3b1e5c0ffee123ULL;
    Matrix<float> fixed_noise(gan.z_dim(), 100);  // a 10 x 10 grid, the same at every sample point
    Rng(gan.seed() ^ sample_noise_salt).fill_normal(fixed_noise);

    if (start == 0) gan.summary(std::cout);
    std::printf("Training %lld steps (batch %lld, z_dim %lld, seed %llu, %d thread%s) on %lld images\n",
                static_cast<long long>(o.steps - start), static_cast<long long>(gan.batch_size()),
                static_cast<long long>(gan.z_dim()), static_cast<unsigned long long>(gan.seed()), num_threads(),
                num_threads() == 1 ? "" : "s", static_cast<long long>(images.count()));
    std::fflush(stdout);

    auto save_checkpoint = [&](std::int64_t step) {
        // A loss can stay finite while a parameter is already NaN (ReLU maps NaN to 0): never save one.
        if (!gan.parameters_finite())
            throw NumericError(text("training diverged by step ", step, ": a parameter is NaN or Inf; stopped without "
                                    "writing a checkpoint, so ", checkpoint, " (if any) still holds the last good state"));
        gan.save(checkpoint);
    };

    // Scores at sample points and at the end, from noise of their own, into scores.csv.
    std::unique_ptr<SampleScorer> scorer;
    std::FILE* scores = nullptr;
    Matrix<float> score_noise;
    if (o.score) {
        const std::string data = o.score_data.empty() ? o.data : o.score_data;
        scorer = load_or_train_scorer(data, o.classifier.empty() ? default_classifier_path(data) : o.classifier, say_line);
        score_noise.resize(gan.z_dim(), o.score_samples);
        Rng(gan.seed() ^ sample_noise_salt ^ 0x9e3779b97f4a7c15ULL).fill_normal(score_noise);
        const std::string path = o.out + "/scores.csv";
        if (start == 0) write_file_atomically(path, score_header, std::strlen(score_header));
        scores = std::fopen(path.c_str(), "a");
        if (!scores) throw DataError("cannot append to " + path);
    }
    struct CloseScores {
        std::FILE*& file;
        ~CloseScores() {
            if (file) std::fclose(file);
        }
    } close_scores{scores};
    auto score_now = [&](std::int64_t step) {
        if (!scorer) return;
        const SampleScore s = scorer->score(gan.sample(score_noise));
        std::printf("Score at step %lld (%lld samples): %s; classes: %s\n", static_cast<long long>(step),
                    static_cast<long long>(s.samples), s.summary().c_str(), s.histogram().c_str());
        std::fprintf(scores, "%lld,%.4f,%d,%.4f\n", static_cast<long long>(step), s.frechet_distance,
                     s.classes_over_5_percent, s.inception_score);
        std::fflush(scores);
    };

    InterruptHandler interrupts;
    ProgressBar progress(o.steps, isatty(STDOUT_FILENO) != 0);
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    StepResult last{};
    std::int64_t step = start;
    while (step < o.steps) {
        ++step;
        try {
            last = gan.step(images);
        } catch (const NumericError& error) {  // the library refuses to step a diverged model
            progress.clear();
            throw NumericError(text("training diverged at step ", step, ": ", error.what(), "; stopped without writing ",
                                    "a checkpoint, so ", checkpoint, " (if any) still holds the last good state"));
        }
        if (!std::isfinite(last.d_loss) || !std::isfinite(last.g_loss)) {
            progress.clear();
            throw NumericError(text("training diverged at step ", step, ": D loss ", last.d_loss, ", G loss ", last.g_loss,
                                    "; stopped without writing a checkpoint, so ", checkpoint,
                                    " (if any) still holds the last good state"));
        }
        const float row[3] = {last.d_loss, last.d_accuracy, last.g_loss};
        log.append(step, row);
        if (o.log_every > 0 && step % o.log_every == 0) {
            progress.clear();
            // The document numbers its steps from 0 (its loop variable); losses.csv counts from 1.
            std::printf("Epoch: %lld - D Loss: %.4f - G Loss: %.4f - D Acc: %.2f%%\n", static_cast<long long>(step - 1),
                        last.d_loss, last.g_loss, 100 * last.d_accuracy);
        }
        if (o.sample_every > 0 && step % o.sample_every == 0) {
            write_samples(o.out + "/samples_step_" + step_name(step) + ".png", gan.sample(fixed_noise), image_rows, image_cols);
            if (step < o.steps) score_now(step);
        }
        if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) save_checkpoint(step);
        progress.draw(step, step - start, elapsed(), last.d_loss, last.g_loss, step == o.steps);
        if (interrupts.requested() && step < o.steps) break;
    }
    const double seconds = elapsed();
    progress.clear();
    save_checkpoint(step);
    log.close();
    write_loss_plot(o.out + "/losses.png", log, 0, 2);
    if (step < o.steps) {
        std::printf("interrupted at step %lld; checkpoint written to %s; run the same command with --resume to continue\n",
                    static_cast<long long>(step), checkpoint.c_str());
        return InterruptHandler::exit_status(interrupts.signal());
    }
    write_samples(o.out + "/samples_final.png", gan.sample(fixed_noise), image_rows, image_cols);
    score_now(step);
    const std::int64_t ran = o.steps - start;
    std::printf("Done: %lld steps in %.1f s (%.3f ms/step). Final D loss %.4f, G loss %.4f.\n"
                "Wrote %s/samples_final.png, %s/losses.png, %s/losses.csv and %s\n",
                static_cast<long long>(ran), seconds, ran > 0 ? 1000 * seconds / static_cast<double>(ran) : 0.0,
                last.d_loss, last.g_loss, o.out.c_str(), o.out.c_str(), o.out.c_str(), checkpoint.c_str());
    return 0;
}

// Draws o.count images from a trained GAN: an IDX file (MNIST's format, so any MNIST tool reads
// it) and a PNG grid next to it. Creates the output folder.
template <class Gan>
void generate(Gan& gan, const GenerateOptions& o, Index image_rows, Index image_cols) {
    Matrix<float> noise(gan.z_dim(), o.count);
    Rng rng(o.seed);
    rng.fill_normal(noise);
    const Matrix<float> images = gan.sample(noise);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(images.size()));
    for (Index i = 0; i < images.size(); ++i)
        bytes[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(std::lround(std::clamp(images.data()[i], 0.0f, 1.0f) * 255.0f));
    const std::filesystem::path folder = std::filesystem::path(o.out).parent_path();
    std::error_code error;
    if (!folder.empty()) std::filesystem::create_directories(folder, error);
    if (error) throw DataError("cannot create the folder " + folder.string() + ": " + error.message());
    write_idx(o.out, {static_cast<std::uint32_t>(o.count), static_cast<std::uint32_t>(image_rows),
                      static_cast<std::uint32_t>(image_cols)}, bytes);
    write_samples(o.out + ".png", images, image_rows, image_cols);
    std::printf("Wrote %lld images from %s (step %lld) to %s and %s.png\n", static_cast<long long>(o.count),
                o.checkpoint.c_str(), static_cast<long long>(gan.steps_done()), o.out.c_str(), o.out.c_str());
}

// `score`: the score of an IDX file of images, or (--calibrate) of reference sets drawn from the
// data set itself: 10000 random training images, the training images of class 1 only, uniform
// noise, and black images.
inline int score_command(const ScoreOptions& o) {
    const auto scorer = load_or_train_scorer(o.data, o.classifier.empty() ? default_classifier_path(o.data) : o.classifier, say_line);
    auto report = [](const std::string& what, const SampleScore& s) {
        std::printf("%s: %lld samples, %s\n  classes: %s\n", what.c_str(), static_cast<long long>(s.samples),
                    s.summary().c_str(), s.histogram().c_str());
    };
    if (!o.calibrate) {
        const ImageSet images = ImageSet::load(o.samples);
        if (images.image_rows() != 28 || images.image_cols() != 28)
            throw DataError(text(o.samples, " holds ", images.image_rows(), "x", images.image_cols(), " images; the scorer takes 28x28"));
        report(o.samples, scorer->score(images_as_floats(images.pixels(), 0, images.count())));
        return 0;
    }
    const ImageSet train = ImageSet::load(require_data_file(o.data, "train-images-idx3-ubyte"));
    const auto labels = load_labels(require_data_file(o.data, "train-labels-idx1-ubyte"), static_cast<std::size_t>(train.count()));
    Rng rng(2026);
    const Index n = std::min<Index>(10000, train.count());
    Matrix<float> random(score_pixels, n), ones(score_pixels, 0), noise(score_pixels, n);
    for (Index j = 0; j < n; ++j)
        random.col(j) = train.pixels().col(static_cast<Index>(rng.uniform_index(static_cast<std::uint64_t>(train.count())))).cast<float>() / 255.0f;
    std::vector<Index> of_class_one;
    for (Index k = 0; k < train.count() && static_cast<Index>(of_class_one.size()) < n; ++k)
        if (labels[static_cast<std::size_t>(k)] == 1) of_class_one.push_back(k);
    ones.resize(score_pixels, static_cast<Index>(of_class_one.size()));
    for (Index j = 0; j < ones.cols(); ++j) ones.col(j) = train.pixels().col(of_class_one[static_cast<std::size_t>(j)]).cast<float>() / 255.0f;
    rng.fill_uniform(noise, 0.0f, 1.0f);
    report("10000 random training images", scorer->score(random));
    report("training images of class 1 only", scorer->score(ones));
    report("uniform noise", scorer->score(noise));
    report("black images", scorer->score(Matrix<float>::Zero(score_pixels, n)));
    return 0;
}

// main()'s frame: runs `body`, turning errors into messages and exit statuses: 2 for a bad command
// line or argument, 3 when training diverged, 1 for anything else (a missing or corrupt file).
template <class Body>
int run_program(const char* program, Body&& body) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // every log line reaches a file or a pipe as it is printed
    try {
        return body();
    } catch (const UsageError& error) {
        std::fprintf(stderr, "%s: %s\nRun %s --help for the flags.\n", program, error.what(), program);
        return 2;
    } catch (const ArgumentError& error) {
        std::fprintf(stderr, "%s: %s\n", program, error.what());
        return 2;
    } catch (const NumericError& error) {
        std::fprintf(stderr, "%s: %s\n", program, error.what());
        return 3;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\n", program, error.what());
        return 1;
    }
}

}  // namespace tinygan::app
