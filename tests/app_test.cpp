// The pieces every GAN program shares (tinygan/app): the interrupt handler, losses.csv and its
// bounded curves, round plot ticks, the flag parser.
#include "test_support.hpp"

#include <tinygan/app/gan_program.hpp>
#include <tinygan/app/interrupt.hpp>
#include <tinygan/app/loss_log.hpp>
#include <tinygan/app/score_statistics.hpp>
#include <tinygan/image_grid.hpp>
#include <tinygan/file_io.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <tuple>
#include <cstring>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace tinygan;

namespace {

// Runs child() in a forked process whose SIGINT and SIGTERM start at their default action (not
// doctest's crash reporter); returns its wait status and what it wrote to the pipe it was given.
template <class Child>
std::pair<int, std::string> in_child(Child&& child) {
    int channel[2];
    REQUIRE(pipe(channel) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(channel[0]);
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        child(channel[1]);
        _exit(0);
    }
    close(channel[1]);
    std::string said;
    char c;
    while (read(channel[0], &c, 1) == 1) said += c;
    close(channel[0]);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return {status, said};
}

void say(int fd, const char* text) { (void)!write(fd, text, std::strlen(text)); }

}  // namespace

TEST_CASE("The first SIGINT only raises a flag, the second ends the process by the signal") {
    const auto [status, said] = in_child([](int out) {
        app::InterruptHandler interrupts;
        std::raise(SIGINT);
        if (interrupts.requested() && interrupts.signal() == SIGINT) say(out, "survived the first;");
        std::raise(SIGINT);
        say(out, "survived the second");
    });
    CHECK(said == "survived the first;");  // the first only raised the flag, the second ended it
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGINT);
    CHECK(app::InterruptHandler::exit_status(SIGINT) == 130);
    CHECK(app::InterruptHandler::exit_status(SIGTERM) == 143);
}

TEST_CASE("SIGTERM is handled the same way, and the previous handler comes back afterwards") {
    static volatile std::sig_atomic_t previous_ran = 0;
    const auto [status, said] = in_child([](int out) {
        std::signal(SIGTERM, [](int) { previous_ran = 1; });  // the program's own handler
        {
            app::InterruptHandler interrupts;
            std::raise(SIGTERM);
            if (interrupts.signal() == SIGTERM && !previous_ran) say(out, "flagged;");
        }
        std::raise(SIGTERM);  // the program's handler again, not ours
        if (previous_ran) say(out, "restored");
    });
    CHECK(said == "flagged;restored");
    CHECK(WIFEXITED(status));
}

TEST_CASE("losses.csv: a resumed log keeps the rows up to the checkpoint and drops later and partial ones") {
    test::TempDir dir;
    const std::string path = dir.file("losses.csv");
    {
        app::LossLog log(path, {"d_loss", "g_loss"}, 0);
        for (int step = 1; step <= 5; ++step) {
            const float row[2] = {0.5f * step, 1.0f * step};
            log.append(step, row);
        }
    }
    {  // a crash in the middle of row 6
        std::ofstream out(path, std::ios::app);
        out << "6,0.12";
    }
    auto text_of = [&] {
        std::ifstream in(path);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    {  // resumed from a checkpoint at step 6: rows 1-5 stay, the partial row 6 goes
        app::LossLog resumed(path, {"d_loss", "g_loss"}, 6);
        CHECK(text_of() == "step,d_loss,g_loss\n1,0.500000,1.000000\n2,1.000000,2.000000\n3,1.500000,3.000000\n"
                           "4,2.000000,4.000000\n5,2.500000,5.000000\n");
    }
    app::LossLog resumed(path, {"d_loss", "g_loss"}, 3);  // from a checkpoint at step 3: 4 and 5 go too
    const float row[2] = {9, 9};
    resumed.append(4, row);
    resumed.close();
    CHECK(text_of() == "step,d_loss,g_loss\n1,0.500000,1.000000\n2,1.000000,2.000000\n3,1.500000,3.000000\n"
                       "4,9.000000,9.000000\n");
    CHECK(resumed.series(1).ys() == std::vector<double>{1, 2, 3, 9});
    CHECK(resumed.series(1).xs() == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("A long run's loss curves stay in bounded memory: 200000 steps, at most 16384 points") {
    test::TempDir dir;
    app::LossLog log(dir.file("losses.csv"), {"d_loss", "d_acc", "g_loss"}, 0);
    for (int step = 1; step <= 200000; ++step) {
        const float row[3] = {1, 0.5f, 3};
        log.append(step, row);
    }
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(log.series(i).xs().size() <= 16384);
        CHECK(log.series(i).xs().size() >= 8192);
        CHECK(log.series(i).xs().capacity() <= 2 * 16384);
    }
    CHECK(log.series(2).ys().front() == 3);
    log.close();
    std::ifstream in(dir.file("losses.csv"));
    CHECK(std::count(std::istreambuf_iterator<char>(in), {}, '\n') == 200001);  // the file keeps every step
}

TEST_CASE("A loss curve stays within its capacity however long the run, as the means of its steps") {
    app::BoundedSeries series(8);
    for (int step = 1; step <= 1000; ++step) series.add(step, step % 2 ? 1.0 : 3.0);
    CHECK(series.xs().size() < 8);
    CHECK(series.xs().size() >= 4);
    CHECK(series.steps_per_point() == 128);
    for (double y : series.ys()) CHECK(y == 2.0);              // each point averages whole pairs
    CHECK(series.xs().front() == doctest::Approx(64.5));       // the mean step of steps 1..128
    app::BoundedSeries exact(100);
    for (int step = 1; step <= 50; ++step) exact.add(step, step);
    CHECK(exact.ys().size() == 50);                            // shorter runs keep every step
}

TEST_CASE("Plot ticks are round numbers") {
    CHECK(detail::nice_tick_step(10000, 6) == 2000);
    CHECK(detail::nice_tick_step(0.17, 5) == doctest::Approx(0.05));
    CHECK(detail::nice_tick_step(30, 6) == 5);
    CHECK(detail::tick_label(4000, 2000) == "4000");
    CHECK(detail::tick_label(0.15, 0.05) == "0.15");
    CHECK(detail::tick_label(2.5, 0.5) == "2.5");
    CHECK(detail::tick_label(1e-17, 0.05) == "0.00");
}

TEST_CASE("Flags: values, ranges, switches and choices, with clear rejections") {
    std::int64_t steps = 10;
    std::uint64_t seed = 0;
    double rate = 1e-3;
    std::string out = "runs", recipe = "a";
    bool resume = false;
    app::Flags flags;
    flags.add("--steps", steps, 1, 100, "steps");
    flags.add("--seed", seed, "seed");
    flags.add("--rate", rate, "rate");
    flags.add("--out", out, "out");
    flags.add_choice("--recipe", recipe, {"a", "b"}, "recipe");
    flags.add_switch("--resume", resume, "resume");
    flags.parse({"--steps", "20", "--seed=7", "--rate", "0.5", "--out", "x", "--recipe", "b", "--resume"});
    CHECK(steps == 20);
    CHECK(seed == 7);
    CHECK(rate == 0.5);
    CHECK(out == "x");
    CHECK(recipe == "b");
    CHECK(resume);
    CHECK(flags.help().find("  --steps") != std::string::npos);
    auto rejects = [&](std::vector<std::string> args, const std::string& fragment) {
        test::check_rejects<app::UsageError>([&](const auto& a) { flags.parse(a); }, args, fragment);
    };
    rejects({"--steps", "200"}, "--steps must be between 1 and 100, got 200");
    rejects({"--steps", "1e3"}, "--steps expects an integer, got \"1e3\"");
    rejects({"--rate", "-1"}, "--rate expects a positive finite number");
    rejects({"--rate", "nan"}, "--rate expects a positive finite number");
    rejects({"--recipe", "c"}, "--recipe must be one of a, b, got \"c\"");
    rejects({"--resume=yes"}, "--resume takes no value");
    rejects({"--out", ""}, "--out needs a value");
    rejects({"--out"}, "--out needs a value");
    rejects({"--nope"}, "unknown flag --nope");
    rejects({"stray"}, "unexpected argument \"stray\"");
}

namespace {

// A stand-in GAN for the training loop: its losses stay finite, but from step `nan_from` on a
// parameter is NaN (as happens when ReLU hides a NaN from the loss). It counts its saves.
struct DivergingGan : app::Gan {
    std::int64_t steps = 0, nan_from = 0;
    int saves = 0;
    app::StepResult step(const ImageSet&) override {
        ++steps;
        return {0.5f, 0.5f, 1.0f};
    }
    Matrix<float> sample(const Matrix<float>& z) override { return Matrix<float>::Constant(784, z.cols(), 0.5f); }
    Index z_dim() const override { return 4; }
    Index batch_size() const override { return 8; }
    std::uint64_t seed() const override { return 1; }
    std::int64_t steps_done() const override { return steps; }
    bool parameters_finite() override { return steps < nan_from; }
    void save(const std::string& path) override {
        ++saves;
        const char byte = static_cast<char>(steps);
        write_file_atomically(path, &byte, 1);
    }
    void load(const TensorFile&, const std::string&) override {}
    void summary(std::ostream&) const override {}
};

}  // namespace

namespace {

// A stand-in conditional GAN: an image of class k is every pixel k / 10, so the images show the
// classes they were drawn for; it keeps the classes it was last asked for.
struct ClassGan : DivergingGan {
    Labels last_asked;
    Index classes() const override { return 10; }
    Matrix<float> sample_classes(const Matrix<float>& z, const Labels& labels) override {
        last_asked = labels;
        Matrix<float> images(784, z.cols());
        for (Index j = 0; j < z.cols(); ++j) images.col(j).setConstant(0.1f * static_cast<float>(labels(j)));
        return images;
    }
};

// The classes of the images generate wrote (pixel 0 of each, back from k / 10), and its labels file.
std::pair<std::vector<int>, std::vector<int>> drawn_and_written(const std::string& out) {
    const std::vector<std::uint8_t> images = test::read_bytes(out), labels = test::read_bytes(app::labels_file_for(out));
    std::vector<int> drawn, written(labels.begin() + 8, labels.end());
    for (std::size_t at = 16; at < images.size(); at += 784) drawn.push_back(static_cast<int>(std::lround(images[at] / 25.5)));
    return {drawn, written};
}

}  // namespace

TEST_CASE("generate --class draws the classes it writes beside the images, and --class all the same count of each") {
    test::TempDir dir;
    ClassGan gan;
    app::GenerateOptions o;
    o.out = dir.file("sevens-idx3-ubyte");
    o.classes = "7";
    o.count = 3;
    app::generate(gan, o, 28, 28);
    CHECK(gan.last_asked == Labels::Constant(3, 7));
    auto [drawn, written] = drawn_and_written(o.out);
    CHECK(drawn == std::vector<int>{7, 7, 7});
    CHECK(written == drawn);

    o.out = dir.file("all-idx3-ubyte");
    o.classes = "all";
    o.count = 2;
    app::generate(gan, o, 28, 28);
    std::tie(drawn, written) = drawn_and_written(o.out);
    REQUIRE(drawn.size() == 20);
    CHECK(written == drawn);  // image j is of the class written for it
    for (int c = 0; c < 10; ++c) CHECK(std::count(drawn.begin(), drawn.end(), c) == 2);

    o.out = dir.file("random-idx3-ubyte");  // no --class: classes at random, still written down
    o.classes.clear();
    o.count = 50;
    app::generate(gan, o, 28, 28);
    std::tie(drawn, written) = drawn_and_written(o.out);
    CHECK(written == drawn);
    CHECK(std::set<int>(drawn.begin(), drawn.end()).size() >= 5);

    for (const char* bad : {"10", "-1", "3x", "seven", ""}) {
        CAPTURE(bad);
        o.classes = bad;
        if (o.classes.empty()) continue;  // empty is "at random"
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::generate(gan, o, 28, 28), ArgumentError, "--class must be a class 0 to 9 or all");
    }
}

TEST_CASE("generate from an unconditional GAN removes a labels file left beside the images, and refuses --class") {
    test::TempDir dir;
    ClassGan conditional;
    DivergingGan unconditional;
    app::GenerateOptions o;
    o.out = dir.file("x-idx3-ubyte");
    o.classes = "3";
    app::generate(conditional, o, 28, 28);
    REQUIRE(std::filesystem::exists(app::labels_file_for(o.out)));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::generate(unconditional, o, 28, 28), ArgumentError,
                                       "--class needs a conditional GAN, but this GAN was trained without labels");
    o.classes.clear();
    app::generate(unconditional, o, 28, 28);
    CHECK_FALSE(std::filesystem::exists(app::labels_file_for(o.out)));  // score would read it as these images' classes
}

TEST_CASE("The training loop never saves a checkpoint whose parameters are NaN, and the last good one stays") {
    test::SyntheticImages data(16);
    app::TrainOptions o;
    o.out = data.dir.file("run");
    o.steps = 20;
    o.log_every = 0;
    o.sample_every = 0;
    o.checkpoint_every = 5;
    app::require_writable_folder(o.out);
    DivergingGan gan;
    gan.nan_from = 8;  // finite at the step-5 checkpoint, NaN by step 10's
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::train(gan, data.images, o, 28, 28), NumericError,
                                       "training diverged by step 10: a parameter is NaN or Inf; stopped without writing a checkpoint");
    CHECK(gan.saves == 1);
    CHECK(test::read_bytes(o.out + "/checkpoint.safetensors") == std::vector<std::uint8_t>{5});  // step 5's
}

namespace {

// A stand-in whose images are a known pattern, with values below 0 and above 1; it keeps the noise
// it was given.
struct PatternGan : DivergingGan {
    Matrix<float> noise_seen;
    Matrix<float> sample(const Matrix<float>& z) override {
        noise_seen = z;
        Matrix<float> images(784, z.cols());
        for (Index j = 0; j < images.cols(); ++j)
            for (Index i = 0; i < images.rows(); ++i) images(i, j) = static_cast<float>(i + 37 * j) / 600.0f - 0.1f;
        return images;
    }
};

}  // namespace

TEST_CASE("generate writes the samples of its seed's noise as IDX bytes, clamped to [0, 1], image by image") {
    test::TempDir dir;
    PatternGan gan;
    app::GenerateOptions o;
    o.count = 5;
    o.seed = 11;
    o.out = dir.file("new/folder/digits");
    app::generate(gan, o, 28, 28);
    Matrix<float> noise(gan.z_dim(), 5);
    Rng(11).fill_normal(noise);
    CHECK(gan.noise_seen == noise);
    const ImageSet written = ImageSet::load(o.out);
    REQUIRE(written.count() == 5);
    CHECK(written.image_rows() == 28);
    CHECK(written.image_cols() == 28);
    const Matrix<float> expected = gan.sample(noise);
    int low = 0, high = 0;
    for (Index j = 0; j < 5; ++j)
        for (Index i = 0; i < 784; ++i) {
            const float v = expected(i, j);
            low += v < 0;
            high += v > 1;
            CHECK(written.pixels()(i, j) == std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
        }
    CHECK(low > 0);  // the pattern does test the clamping
    CHECK(high > 0);
    CHECK(std::filesystem::exists(o.out + ".png"));
}

TEST_CASE("predict_in_chunks gives what one predict gives, over several chunks and a partial last one") {
    Rng rng(5);
    auto model = make_sequential("m", Dense<float>(10, 16, rng), BatchNorm<float>(16), Tanh<float>{});
    Matrix<float> z(10, 20);
    rng.fill_normal(z);
    const Matrix<float> chunked = app::predict_in_chunks(model, z, 7);
    REQUIRE(chunked.cols() == 20);
    CHECK(chunked.isApprox(model.predict(z), 1e-6f));
}

TEST_CASE("predict_in_chunks of a conditional model gives each chunk its own labels") {
    Rng rng(6);
    auto model = make_sequential("c", LabelConcat<float>(10, Embedding<float>::one_hot(4)), Dense<float>(14, 16, rng),
                                 BatchNorm<float>(16), Tanh<float>{});
    Matrix<float> z(10, 20);
    rng.fill_normal(z);
    const Labels labels = app::cycling_labels(20, 4);
    const Matrix<float> chunked = app::predict_in_chunks(model, z, labels, 7);
    REQUIRE(chunked.cols() == 20);
    CHECK(chunked.isApprox(model.predict(z, labels), 1e-6f));
}

TEST_CASE("The scorer's classifier is cached by the data's content, in the user's cache directory") {
    test::TempDir dir;
    auto write_data_set = [&](const std::string& folder, std::uint8_t first_label) {
        std::filesystem::create_directories(dir.file(folder));
        for (const char* images : {"train-images-idx3-ubyte", "t10k-images-idx3-ubyte"})
            write_idx(dir.file(folder + "/" + images), {2, 28, 28}, std::vector<std::uint8_t>(2 * 784, 7));
        for (const char* labels : {"train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"})
            write_idx(dir.file(folder + "/" + labels), {2}, {first_label, 1});
    };
    write_data_set("a/mnist", 0);
    write_data_set("b/mnist", 3);  // the same folder name, other labels
    write_data_set("c/copy", 0);   // another name, the same bytes as a/mnist
    const char* saved = std::getenv("XDG_CACHE_HOME");
    const std::string saved_value = saved ? saved : "";
    setenv("XDG_CACHE_HOME", dir.file("cache").c_str(), 1);
    const std::string a = app::default_classifier_path(dir.file("a/mnist"));
    const std::string b = app::default_classifier_path(dir.file("b/mnist"));
    const std::string c = app::default_classifier_path(dir.file("c/copy"));
    if (saved)
        setenv("XDG_CACHE_HOME", saved_value.c_str(), 1);
    else
        unsetenv("XDG_CACHE_HOME");
    CHECK(a.rfind(dir.file("cache/tinygan/classifier_"), 0) == 0);
    CHECK(a != b);
    CHECK(a == c);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::default_classifier_path(dir.file("none")), DataError,
                                       "the scorer needs the four files of an MNIST-format data set");
}

TEST_CASE("A score's line says '1 class', and warns when its Frechet distance comes from few samples") {
    app::SampleScore s;
    s.samples = 64;
    s.classes_over_5_percent = 1;
    CHECK(s.summary().find("1 class >= 5%") != std::string::npos);
    CHECK(s.caveat().find("the Frechet distance of only 64 samples is biased upward") != std::string::npos);
    s.samples = app::reliable_score_samples;
    s.classes_over_5_percent = 10;
    CHECK(s.summary().find("10 classes >= 5%") != std::string::npos);
    CHECK(s.caveat().empty());
}
