// The definitions of gan_program.hpp (see compilation.hpp for when they are compiled).
#pragma once

#include "../../error.hpp"
#include "../../file_io.hpp"
#include "../../image_grid.hpp"
#include "../../parallel.hpp"
#include "../../random.hpp"
#include "../gan_program.hpp"
#include "../interrupt.hpp"
#include "../loss_log.hpp"
#include "../progress.hpp"
#include "../sample_score.hpp"

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace tinygan::app {

namespace internal {

// Concatenates its arguments as an ostream prints them: the messages below.
template <class... Parts>
std::string text(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

inline constexpr const char* score_header = "step,frechet_distance,classes_over_5_percent,inception_score\n";
inline constexpr const char* conditional_score_header =
    "step,frechet_distance,classes_over_5_percent,inception_score,conditional_accuracy\n";
inline constexpr std::uint64_t sample_noise_salt = 0x5a3b1e5c0ffee123ULL;

inline void say_line(const std::string& line) { std::printf("%s\n", line.c_str()); }

inline std::string step_name(std::int64_t step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%06lld", static_cast<long long>(step));
    return buffer;
}

// A tinygan::Error's message without its "tinygan: " prefix: a program prints its own name.
inline const char* without_library_prefix(const char* message) {
    constexpr const char prefix[] = "tinygan: ";
    return std::strncmp(message, prefix, sizeof prefix - 1) == 0 ? message + sizeof prefix - 1 : message;
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

// "Score at step 200 (5000 samples): FD 12.34, ..." with the caveat when there are few samples.
inline void print_score(const std::string& what, const SampleScore& s) {
    std::printf("%s: %lld samples, %s\n  classes: %s\n", what.c_str(), static_cast<long long>(s.samples),
                s.summary().c_str(), s.histogram().c_str());
    if (s.conditional()) std::printf("  conditional accuracy per requested class: %s\n", s.class_accuracies().c_str());
    if (!s.caveat().empty()) std::printf("  note: %s\n", s.caveat().c_str());
}

// The sample grid of a conditional GAN: a row per class, 10 images a row, row k of class k.
inline Labels grid_labels(Index classes) {
    Labels labels(classes * 10);
    for (Index j = 0; j < labels.cols(); ++j) labels(j) = static_cast<int>(j / 10);
    return labels;
}

// A GAN's images for noise: of the given classes for a conditional GAN.
inline Matrix<float> sample_of(Gan& gan, const Matrix<float>& noise, const Labels& labels) {
    return gan.classes() > 0 ? gan.sample_classes(noise, labels) : gan.sample(noise);
}

// The scorer for `data` from --classifier, or from the default cache.
inline std::unique_ptr<SampleScorer> scorer_for(const std::string& data, const std::string& classifier) {
    return load_or_train_scorer(data, classifier.empty() ? default_classifier_path(data) : classifier, say_line);
}

}  // namespace internal

TINYGAN_APP_INLINE void add_train_flags(Flags& flags, TrainOptions& o) {
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
    flags.add("--classifier", o.classifier, "the scorer's cached classifier (default: in ~/.cache/tinygan, by data checksum)");
}

TINYGAN_APP_INLINE void add_generate_flags(Flags& flags, GenerateOptions& o) {
    flags.add("--checkpoint", o.checkpoint, "a checkpoint written by training (required)");
    flags.add("--count", o.count, 1, 1'000'000,
              "how many images to draw, per class with --class all (default " + std::to_string(o.count) + ")");
    flags.add("--class", o.classes, "a conditional GAN's class to draw, or all (the same count of each); the labels "
                                    "go next to the images (default: classes drawn at random)", "K|all");
    flags.add("--out", o.out, "IDX file to write (its folder is created; a PNG grid goes to OUT.png) (default " + o.out + ")");
    flags.add("--seed", o.seed, "noise seed (default " + std::to_string(o.seed) + ")");
}

TINYGAN_APP_INLINE void add_score_flags(Flags& flags, ScoreOptions& o) {
    flags.add("--labels", o.labels, "the classes the images were drawn for, for the conditional accuracy (default: "
                                    "the labels file generate wrote next to them, if there is one)");
    flags.add("--data", o.data, "the labelled data set the classifier learns from, with its test set (default " + o.data + ")");
    flags.add("--classifier", o.classifier, "the cached classifier (default: in ~/.cache/tinygan, by data checksum)");
    flags.add_switch("--calibrate", o.calibrate, "score reference sets instead: real images, one class, noise, black");
}

namespace internal {

inline Flags program_train_flags(Program& program) {
    Flags flags;
    add_train_flags(flags, program.train);
    if (program.add_train_flags) program.add_train_flags(flags);
    return flags;
}

}  // namespace internal

TINYGAN_APP_INLINE std::string usage_text(Program& program) {
    const Flags train_flags = internal::program_train_flags(program);
    GenerateOptions generate;
    ScoreOptions score;
    Flags generate_flags, score_flags;
    add_generate_flags(generate_flags, generate);
    add_score_flags(score_flags, score);
    const std::string& name = program.name;
    return "usage: " + name + " [train] [flags]                 " + program.summary + "\n" +
           "       " + name + " generate --checkpoint FILE [flags]  draw images from a trained GAN\n" +
           "       " + name + " score FILE [flags]                  rate an IDX file of 28x28 images\n" +
           "       " + name + " score --calibrate [flags]           rate reference sets, to read the scale\n" +
           "       " + name + " --help                              this text\n" +
           "\ntrain flags:\n" + train_flags.help() + "\ngenerate flags:\n" + generate_flags.help() +
           "\nscore flags:\n" + score_flags.help();
}

TINYGAN_APP_INLINE Command parse_command_line(Program& program, const std::vector<std::string>& args) {
    Command command;
    for (const auto& arg : args)
        if (arg == "--help" || arg == "-h") {
            command.kind = Command::Kind::help;
            return command;
        }
    std::size_t first = 0;
    if (!args.empty() && args[0].rfind("--", 0) != 0) {
        if (args[0] == "train")
            command.kind = Command::Kind::train;
        else if (args[0] == "generate")
            command.kind = Command::Kind::generate;
        else if (args[0] == "score")
            command.kind = Command::Kind::score;
        else
            throw UsageError("unknown command \"" + args[0] + "\" (the commands are train, generate and score)");
        first = 1;
    }
    if (command.kind == Command::Kind::generate) {
        Flags flags;
        add_generate_flags(flags, command.generate);
        flags.parse(args, first, " for generate");
        if (command.generate.checkpoint.empty()) throw UsageError("generate needs --checkpoint FILE");
    } else if (command.kind == Command::Kind::score) {
        if (first < args.size() && args[first].rfind("--", 0) != 0) command.score.samples = args[first++];
        Flags flags;
        add_score_flags(flags, command.score);
        flags.parse(args, first, " for score");
        if (command.score.samples.empty() == !command.score.calibrate)
            throw UsageError("score needs either an IDX file of images or --calibrate");
    } else {
        internal::program_train_flags(program).parse(args, first);
    }
    return command;
}

TINYGAN_APP_INLINE std::string find_data_file(const std::string& folder, const std::string& name) {
    const std::string plain = folder + "/" + name;
    if (std::filesystem::exists(plain)) return plain;
    if (std::filesystem::exists(plain + ".gz")) return plain + ".gz";
    return "";
}

TINYGAN_APP_INLINE ImageSet load_training_images(const std::string& folder, Index rows, Index cols,
                                                 const std::string& fetch_hint) {
    using internal::text;
    const std::string path = find_data_file(folder, "train-images-idx3-ubyte");
    if (path.empty())
        throw DataError(text("no training images in ", folder, ": neither train-images-idx3-ubyte nor ",
                             "train-images-idx3-ubyte.gz is there; ", fetch_hint));
    ImageSet images = ImageSet::load(path);
    if (images.image_rows() != rows || images.image_cols() != cols)
        throw DataError(text(path, " holds ", images.image_rows(), "x", images.image_cols(), " images; this model needs ",
                             rows, "x", cols));
    return images;
}

TINYGAN_APP_INLINE void require_batch_fits(std::int64_t batch_size, const ImageSet& images, const std::string& data) {
    if (batch_size > images.count())
        throw ArgumentError(internal::text("--batch-size ", batch_size, " is larger than the ", images.count(), " images in ",
                                         find_data_file(data, "train-images-idx3-ubyte")));
}

TINYGAN_APP_INLINE void require_writable_folder(const std::string& folder) {
    std::error_code error;
    std::filesystem::create_directories(folder, error);
    if (error) throw DataError("cannot create output folder " + folder + ": " + error.message());
    const std::string probe = folder + "/.tinygan_write_test";
    const char byte = 0;
    write_file_atomically(probe, &byte, 1);  // throws with the reason if the folder is read-only
    std::filesystem::remove(probe, error);
}

TINYGAN_APP_INLINE int start_threads(std::int64_t asked, const std::string& program) {
    const int taken = set_num_threads(static_cast<int>(asked));
    if (taken < asked)
        std::fprintf(stderr, "%s: --threads %lld asked, but this process may use %d CPU%s; using %d\n", program.c_str(),
                     static_cast<long long>(asked), taken, taken == 1 ? "" : "s", taken);
    return taken;
}

TINYGAN_APP_INLINE void write_samples(const std::string& path, const Matrix<float>& images, Index rows, Index cols,
                                       int grid_cols) {
    if (grid_cols <= 0) grid_cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(images.cols()))));
    write_png(path, image_grid(images, rows, cols, grid_cols, 2));
}

TINYGAN_APP_INLINE std::string labels_file_for(const std::string& images_file) {
    const std::string suffix = "-idx3-ubyte";
    if (images_file.size() > suffix.size() && images_file.compare(images_file.size() - suffix.size(), suffix.size(), suffix) == 0)
        return images_file.substr(0, images_file.size() - suffix.size()) + "-labels-idx1-ubyte";
    return images_file + "-labels-idx1-ubyte";
}

TINYGAN_APP_INLINE std::string default_classifier_path(const std::string& data) {
    // The data set's identity: a CRC-32 of each of its four files, as stored (plain or gzip).
    uLong checksum = crc32(0L, Z_NULL, 0);
    for (const char* name :
         {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
        const std::vector<std::uint8_t> bytes = read_file_bytes(require_data_file(data, name));
        for (std::size_t done = 0; done < bytes.size();) {  // crc32 takes at most 4 GiB - 1 at a time
            const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
            checksum = crc32(checksum, bytes.data() + done, n);
            done += n;
        }
    }
    namespace fs = std::filesystem;
    fs::path folder;
    if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache)
        folder = fs::path(cache) / "tinygan";
    else if (const char* home = std::getenv("HOME"); home && *home)
        folder = fs::path(home) / ".cache" / "tinygan";
    else
        folder = fs::temp_directory_path() / "tinygan-cache";
    char name[64];
    std::snprintf(name, sizeof name, "classifier_%08lx.safetensors", static_cast<unsigned long>(checksum));
    return (folder / name).string();
}

TINYGAN_APP_INLINE int train(Gan& gan, const ImageSet& images, const TrainOptions& o, Index image_rows, Index image_cols) {
    using internal::text;
    const std::string checkpoint = o.out + "/checkpoint.safetensors";
    namespace fs = std::filesystem;
    if (fs::exists(checkpoint) && !o.resume)
        throw ArgumentError(checkpoint + " already exists; pass --resume to continue that run, or choose another "
                            "--out (nothing was overwritten)");
    if (o.resume) {
        if (fs::exists(checkpoint)) {
            gan.load(load_safetensors(checkpoint), checkpoint);
            std::printf("Resuming from %s at step %lld\n", checkpoint.c_str(), static_cast<long long>(gan.steps_done()));
        } else {
            std::printf("No checkpoint in %s: starting from step 0\n", o.out.c_str());
        }
    }
    const std::int64_t start = gan.steps_done();
    if (start > o.steps)
        throw ArgumentError(text("the checkpoint is at step ", start, ", beyond --steps ", o.steps));

    LossLog log(o.out + "/losses.csv", {"d_loss", "d_acc", "g_loss"}, start);
    // A 10 x 10 grid, the same noise at every sample point; a conditional GAN's draws class k in row k.
    const bool conditional = gan.classes() > 0;
    if (conditional && !images.labelled())
        throw DataError("this GAN is conditional: it trains on the images' labels, but the data set has none "
                        "(train-labels-idx1-ubyte or .gz next to the images)");
    if (conditional && images.classes() > gan.classes())
        throw DataError(text("the data set's labels name ", images.classes(), " classes; this GAN draws ", gan.classes()));
    const Labels grid_labels = internal::grid_labels(conditional ? gan.classes() : 10);
    Matrix<float> fixed_noise(gan.z_dim(), grid_labels.cols());
    Rng(gan.seed() ^ internal::sample_noise_salt).fill_normal(fixed_noise);
    auto write_grid = [&](const std::string& path) {
        write_samples(path, internal::sample_of(gan, fixed_noise, grid_labels), image_rows, image_cols, 10);
    };

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
        scorer = internal::scorer_for(o.score_data.empty() ? o.data : o.score_data, o.classifier);
        score_noise.resize(gan.z_dim(), o.score_samples);
        Rng(gan.seed() ^ internal::sample_noise_salt ^ 0x9e3779b97f4a7c15ULL).fill_normal(score_noise);
        const std::string path = o.out + "/scores.csv";
        const std::string header = conditional ? internal::conditional_score_header : internal::score_header;
        if (start == 0) write_file_atomically(path, header.data(), header.size());
        scores = std::fopen(path.c_str(), "a");
        if (!scores) throw DataError("cannot append to " + path);
    }
    // A conditional GAN is scored on every class in turn, for its conditional accuracy too.
    const Labels score_labels = cycling_labels(o.score ? o.score_samples : 0, conditional ? gan.classes() : 1);
    struct CloseScores {
        std::FILE*& file;
        ~CloseScores() {
            if (file) std::fclose(file);
        }
    } close_scores{scores};
    auto score_now = [&](std::int64_t step) {
        if (!scorer) return;
        const SampleScore s = conditional ? scorer->score(gan.sample_classes(score_noise, score_labels), &score_labels)
                                          : scorer->score(gan.sample(score_noise));
        internal::print_score(text("Score at step ", step), s);
        std::fprintf(scores, "%lld,%.4f,%d,%.4f", static_cast<long long>(step), s.frechet_distance,
                     s.classes_over_5_percent, s.inception_score);
        if (conditional) std::fprintf(scores, ",%.4f", s.conditional_accuracy);
        std::fprintf(scores, "\n");
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
            throw NumericError(text("training diverged at step ", step, ": ", internal::without_library_prefix(error.what()),
                                    "; stopped without writing a checkpoint, so ", checkpoint,
                                    " (if any) still holds the last good state"));
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
            std::printf("%s\n", gan.log_line(step, o.steps, last).c_str());
        }
        // The last step's grid is samples_final.png, written below: not a second copy of it here.
        if (o.sample_every > 0 && step % o.sample_every == 0 && step < o.steps) {
            write_grid(o.out + "/samples_step_" + internal::step_name(step) + ".png");
            score_now(step);
        }
        if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) save_checkpoint(step);
        progress.draw(step, step - start, elapsed(), last.d_loss, last.g_loss, step == o.steps);
        if (interrupts.requested() && step < o.steps) break;
    }
    const double seconds = elapsed();
    progress.clear();
    save_checkpoint(step);
    log.close();
    internal::write_loss_plot(o.out + "/losses.png", log, 0, 2);
    if (step < o.steps) {
        std::printf("interrupted at step %lld; checkpoint written to %s; run the same command with --resume to continue\n",
                    static_cast<long long>(step), checkpoint.c_str());
        return InterruptHandler::exit_status(interrupts.signal());
    }
    write_grid(o.out + "/samples_final.png");
    score_now(step);
    const std::int64_t ran = o.steps - start;
    std::printf("Done: %lld steps in %.1f s (%.3f ms/step). Final D loss %.4f, G loss %.4f.\n"
                "Wrote %s/samples_final.png, %s/losses.png, %s/losses.csv and %s\n",
                static_cast<long long>(ran), seconds, ran > 0 ? 1000 * seconds / static_cast<double>(ran) : 0.0,
                last.d_loss, last.g_loss, o.out.c_str(), o.out.c_str(), o.out.c_str(), checkpoint.c_str());
    return 0;
}

TINYGAN_APP_INLINE void generate(Gan& gan, const GenerateOptions& o, Index image_rows, Index image_cols) {
    using internal::text;
    const Index classes = gan.classes();
    if (!o.classes.empty() && classes == 0)
        throw ArgumentError(text("--class needs a conditional GAN, but ", o.checkpoint.empty() ? "this GAN" : o.checkpoint,
                                 " was trained without labels: it draws no chosen class"));
    // The classes to draw: one (--class 7), each in turn, o.count of each (--class all), or at random.
    Index count = o.count;
    Labels labels;
    Rng rng(o.seed);
    if (o.classes == "all") {
        count = o.count * classes;
        labels = cycling_labels(count, classes);
    } else if (!o.classes.empty()) {
        std::size_t used = 0;
        long long wanted = -1;
        try {
            wanted = std::stoll(o.classes, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != o.classes.size() || wanted < 0 || wanted >= classes)
            throw ArgumentError(text("--class must be a class 0 to ", classes - 1, " or all, got \"", o.classes, "\""));
        labels = Labels::Constant(count, static_cast<int>(wanted));
    } else if (classes > 0) {
        labels.resize(count);
        for (Index j = 0; j < count; ++j) labels(j) = static_cast<int>(rng.uniform_index(static_cast<std::uint64_t>(classes)));
    }
    Matrix<float> noise(gan.z_dim(), count);
    rng.fill_normal(noise);
    const Matrix<float> images = classes > 0 ? gan.sample_classes(noise, labels) : gan.sample(noise);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(images.size()));
    for (Index i = 0; i < images.size(); ++i)
        bytes[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(std::lround(std::clamp(images.data()[i], 0.0f, 1.0f) * 255.0f));
    const std::filesystem::path folder = std::filesystem::path(o.out).parent_path();
    std::error_code error;
    if (!folder.empty()) std::filesystem::create_directories(folder, error);
    if (error) throw DataError("cannot create the folder " + folder.string() + ": " + error.message());
    write_idx(o.out, {static_cast<std::uint32_t>(count), static_cast<std::uint32_t>(image_rows),
                      static_cast<std::uint32_t>(image_cols)}, bytes);
    write_samples(o.out + ".png", images, image_rows, image_cols);
    std::string labels_note;
    if (classes == 0) {
        // A labels file beside the images is theirs: one left by an earlier conditional generate
        // to the same name would be read by score as the classes these were drawn for.
        std::error_code ignored;
        std::filesystem::remove(labels_file_for(o.out), ignored);
    }
    if (classes > 0) {
        const std::string labels_path = labels_file_for(o.out);
        write_idx(labels_path, {static_cast<std::uint32_t>(count)}, std::vector<std::uint8_t>(labels.data(), labels.data() + count));
        labels_note = ", their classes to " + labels_path;
    }
    std::printf("Wrote %lld images from %s (step %lld) to %s and %s.png%s\n", static_cast<long long>(count),
                o.checkpoint.c_str(), static_cast<long long>(gan.steps_done()), o.out.c_str(), o.out.c_str(),
                labels_note.c_str());
}

// The score of an IDX file of images, or (--calibrate) of reference sets drawn from the data set
// itself: 10000 random training images, the training images of class 1 only, uniform noise, and
// black images.
TINYGAN_APP_INLINE int score_command(const ScoreOptions& o) {
    using internal::text;
    const auto scorer = internal::scorer_for(o.data, o.classifier);
    if (!o.calibrate) {
        // The classes the images were drawn for: --labels, or the file generate wrote next to them.
        const std::string labels = !o.labels.empty() ? o.labels
                                   : std::filesystem::exists(labels_file_for(o.samples)) ? labels_file_for(o.samples)
                                                                                          : "";
        const ImageSet images = labels.empty() ? ImageSet::load(o.samples) : ImageSet::load(o.samples, labels);
        if (images.image_rows() != 28 || images.image_cols() != 28)
            throw DataError(text(o.samples, " holds ", images.image_rows(), "x", images.image_cols(), " images; the scorer takes 28x28"));
        const Matrix<float> pixels = images_as_floats(images.pixels(), 0, images.count());
        if (!labels.empty()) std::printf("The classes the images were drawn for: %s\n", labels.c_str());
        internal::print_score(o.samples, labels.empty() ? scorer->score(pixels) : scorer->score(pixels, &images.labels()));
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
    internal::print_score(text(n, " random training images"), scorer->score(random));
    internal::print_score("training images of class 1 only", scorer->score(ones));
    internal::print_score("uniform noise", scorer->score(noise));
    internal::print_score("black images", scorer->score(Matrix<float>::Zero(score_pixels, n)));
    return 0;
}

namespace internal {

inline int run_command(Program& program, const std::vector<std::string>& args) {
    const Command command = parse_command_line(program, args);
    switch (command.kind) {
        case Command::Kind::help:
            std::fputs(usage_text(program).c_str(), stdout);
            return 0;
        case Command::Kind::score:
            return score_command(command.score);
        case Command::Kind::generate: {
            const TensorFile file = load_safetensors(command.generate.checkpoint);
            const std::unique_ptr<Gan> gan = program.gan_for_checkpoint(file, command.generate.checkpoint);
            gan->load(file, command.generate.checkpoint);
            generate(*gan, command.generate, program.image_rows, program.image_cols);
            return 0;
        }
        case Command::Kind::train:
            break;
    }
    TrainOptions& o = program.train;
    ImageSet images = load_training_images(o.data, program.image_rows, program.image_cols, program.fetch_hint);
    require_writable_folder(o.out);
    start_threads(o.threads, program.name);
    const std::unique_ptr<Gan> gan = program.make_gan(images, o);
    if (gan->classes() > 0) {  // a conditional GAN trains on the labels too
        const std::string labels = find_data_file(o.data, "train-labels-idx1-ubyte");
        if (labels.empty())
            throw DataError(text("this GAN is conditional: it needs the training labels, but ", o.data,
                                 " has neither train-labels-idx1-ubyte nor train-labels-idx1-ubyte.gz"));
        images.set_labels(read_labels(labels, images.count()));
    }
    return train(*gan, images, o, program.image_rows, program.image_cols);
}

}  // namespace internal

TINYGAN_APP_INLINE int run_program(Program& program, int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // every log line reaches a file or a pipe as it is printed
    const char* name = program.name.c_str();
    try {
        return internal::run_command(program, std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& error) {
        std::fprintf(stderr, "%s: %s\nRun %s --help for the flags.\n", name, error.what(), name);
        return 2;
    } catch (const ArgumentError& error) {
        std::fprintf(stderr, "%s: %s\n", name, internal::without_library_prefix(error.what()));
        return 2;
    } catch (const NumericError& error) {
        std::fprintf(stderr, "%s: %s\n", name, internal::without_library_prefix(error.what()));
        return 3;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "%s: %s\n", name, internal::without_library_prefix(error.what()));
        return 1;
    }
}

}  // namespace tinygan::app
