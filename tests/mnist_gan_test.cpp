// The mnist_gan example's training: finite and deterministic on a tiny synthetic set, resume equal
// to an uninterrupted run bit for bit, the same numbers at any thread count, and its flags.
#include "test_support.hpp"

#include "cgan.hpp"
#include "mnist_gan.hpp"
#include "mnist_gan_program.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

using namespace tinygan;

namespace {

using test::parameters_of;

using SyntheticData = test::SyntheticImages;

mnist_gan::Config small_config() {
    mnist_gan::Config config;
    config.batch_size = 8;
    config.z_dim = 10;
    config.seed = 99;
    return config;
}

}  // namespace

TEST_CASE("A few GAN steps on synthetic digits give finite losses, and the same seed the same run") {
    SyntheticData data;
    mnist_gan::Gan a(small_config()), b(small_config());
    for (int step = 0; step < 5; ++step) {
        const mnist_gan::StepResult ra = a.step(data.images), rb = b.step(data.images);
        CHECK(std::isfinite(ra.d_loss));
        CHECK(std::isfinite(ra.g_loss));
        // The mean accuracy over a real and a fake batch of 8 is a multiple of 1/16 in [0, 1].
        CHECK(ra.d_accuracy >= 0);
        CHECK(ra.d_accuracy <= 1);
        CHECK(ra.d_accuracy * 16 == std::round(ra.d_accuracy * 16));
        CHECK(ra.d_loss == rb.d_loss);
        CHECK(ra.g_loss == rb.g_loss);
    }
    CHECK(parameters_of(a.generator()) == parameters_of(b.generator()));
    CHECK(parameters_of(a.discriminator()) == parameters_of(b.discriminator()));
    mnist_gan::Config other = small_config();
    other.seed = 100;
    mnist_gan::Gan c(other);
    c.step(data.images);
    CHECK(parameters_of(c.generator()) != parameters_of(a.generator()));
}

TEST_CASE("10 steps, checkpoint, resume 10 steps equals 20 steps, bit for bit") {
    SyntheticData data;
    mnist_gan::Gan straight(small_config());
    for (int step = 0; step < 20; ++step) straight.step(data.images);

    const std::string path = data.dir.file("checkpoint.safetensors");
    {
        mnist_gan::Gan first_half(small_config());
        for (int step = 0; step < 10; ++step) first_half.step(data.images);
        first_half.save(path);
    }
    mnist_gan::Config different_seed = small_config();
    different_seed.seed = 12345;  // everything must come from the checkpoint, not the seed
    mnist_gan::Gan resumed(different_seed);
    resumed.load(path);
    CHECK(resumed.steps_done() == 10);
    for (int step = 0; step < 10; ++step) resumed.step(data.images);
    CHECK(resumed.steps_done() == 20);
    CHECK(parameters_of(resumed.generator()) == parameters_of(straight.generator()));
    CHECK(parameters_of(resumed.discriminator()) == parameters_of(straight.discriminator()));
    CHECK(resumed.rng().state() == straight.rng().state());
}

TEST_CASE("A checkpoint of another configuration or format is refused") {
    SyntheticData data;
    mnist_gan::Gan gan(small_config());
    const std::string path = data.dir.file("checkpoint.safetensors");
    gan.save(path);
    mnist_gan::Config wider = small_config();
    wider.z_dim = 11;
    mnist_gan::Gan other(wider);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(other.load(path), DataError,
                                       "was written with --z-dim 10 --batch-size 8, but this run uses --z-dim 11");
    TensorFile foreign;
    foreign.metadata["format"] = "something-else";
    save_safetensors(path, foreign);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(gan.load(path), DataError, "is not an mnist_gan checkpoint");
}

TEST_CASE("A refused checkpoint leaves the run exactly as it was: NaN weights, a missing optimizer state") {
    SyntheticData data;
    mnist_gan::Gan gan(small_config());
    for (int step = 0; step < 3; ++step) gan.step(data.images);
    const std::string path = data.dir.file("checkpoint.safetensors");
    gan.save(path);
    mnist_gan::Gan other(small_config());
    other.step(data.images);
    const auto generator_before = parameters_of(other.generator());
    const auto discriminator_before = parameters_of(other.discriminator());
    const Rng::State rng_before = other.rng().state();
    const std::int64_t steps_before = other.steps_done();
    const std::string before_path = data.dir.file("before.safetensors"), after_path = data.dir.file("after.safetensors");
    other.save(before_path);
    auto unchanged = [&] {
        CHECK(parameters_of(other.generator()) == generator_before);
        CHECK(parameters_of(other.discriminator()) == discriminator_before);
        CHECK(other.rng().state() == rng_before);
        CHECK(other.steps_done() == steps_before);
        other.save(after_path);  // everything a checkpoint holds: the optimizers' moments and counters too
        CHECK(test::read_bytes(after_path) == test::read_bytes(before_path));
    };
    // NaN in the last tensor loaded: every earlier tensor has been read by then.
    TensorFile poisoned = load_safetensors(path);
    for (auto& [name, tensor] : poisoned.tensors)
        if (name == "discriminator.dense_3.bias") {
            const float nan = std::numeric_limits<float>::quiet_NaN();
            std::memcpy(tensor.data.data(), &nan, sizeof nan);
        }
    save_safetensors(path, poisoned);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(other.load(path), DataError, "holds NaN or Inf parameters");
    unchanged();
    // Optimizer moments a step cannot use: NaN, or a negative second moment (its root is taken).
    for (const auto& [tensor_name, value] : {std::pair<std::string, float>{"g_optimizer.m.0", std::numeric_limits<float>::quiet_NaN()},
                                              std::pair<std::string, float>{"d_optimizer.v.1", -1.0f}}) {
        CAPTURE(tensor_name);
        TensorFile bad_state = load_safetensors(before_path);
        bool found = false;
        for (auto& [name, tensor] : bad_state.tensors)
            if (name == tensor_name) {
                std::memcpy(tensor.data.data(), &value, sizeof value);
                found = true;
            }
        REQUIRE(found);
        save_safetensors(path, bad_state);
        TINYGAN_CHECK_THROWS_WITH_FRAGMENT(other.load(path), DataError, "holds an optimizer state or a moving average that is NaN");
        unchanged();
    }
    // A file whose models are whole but whose discriminator optimizer is missing.
    TensorFile partial = load_safetensors(path);
    partial.tensors.erase(std::remove_if(partial.tensors.begin(), partial.tensors.end(),
                                         [](const auto& entry) { return entry.first.rfind("d_optimizer.v", 0) == 0; }),
                          partial.tensors.end());
    save_safetensors(path, partial);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(other.load(path), DataError, "has no tensor \"d_optimizer.v.0\"");
    unchanged();
}

TEST_CASE("mnist_gan's flags: defaults, values, and clear rejections") {
    // The command line as the harness parses it for mnist_gan: its own options and the shared ones.
    struct Parsed {
        mnist_gan::Options options;
        app::TrainOptions train;
        app::Command command;
    };
    auto parse = [](const std::vector<std::string>& args) {
        Parsed parsed;
        app::Program program = mnist_gan::make_program(parsed.options);
        parsed.command = app::parse_command_line(program, args);
        parsed.train = program.train;
        return parsed;
    };
    const Parsed defaults = parse({});
    CHECK(defaults.train.steps == 10000);
    CHECK(defaults.train.out == "runs/mnist_gan");
    CHECK(defaults.options.batch_size == 32);
    CHECK(defaults.options.z_dim == 100);
    CHECK(defaults.options.recipe.empty());
    const Parsed set = parse({"train", "--steps", "20", "--batch-size=16", "--seed", "7", "--resume", "--threads", "2",
                              "--recipe", "keras-gan"});
    CHECK(set.command.kind == app::Command::Kind::train);
    CHECK(set.train.steps == 20);
    CHECK(set.options.batch_size == 16);
    CHECK(set.options.seed == 7);
    CHECK(set.options.recipe == "keras-gan");
    CHECK(set.train.resume);
    CHECK(set.train.threads == 2);
    const Parsed generate = parse({"generate", "--checkpoint", "c.safetensors", "--count", "9", "--out", "x"});
    CHECK(generate.command.kind == app::Command::Kind::generate);
    CHECK(generate.command.generate.count == 9);
    CHECK(generate.command.generate.out == "x");
    CHECK(parse({"--help"}).command.kind == app::Command::Kind::help);
    CHECK(parse({"score", "--calibrate"}).command.score.calibrate);

    auto rejects = [&](std::vector<std::string> args, const std::string& fragment) {
        test::check_rejects<app::UsageError>([&](const auto& a) { parse(a); }, args, fragment);
    };
    rejects({"--bogus"}, "unknown flag --bogus");
    rejects({"--steps", "-5"}, "--steps must be between 1 and");
    rejects({"--steps", "ten"}, "--steps expects an integer, got \"ten\"");
    rejects({"--steps"}, "--steps needs a value");
    rejects({"--batch-size", "0"}, "--batch-size must be between 1");
    rejects({"--seed", "-1"}, "--seed expects a non-negative integer");
    rejects({"--recipe", "dcgan"}, "--recipe must be one of document, keras-gan");
    rejects({"--resume=yes"}, "--resume takes no value");
    rejects({"generate"}, "generate needs --checkpoint FILE");
    rejects({"generate", "--checkpoint", "c", "--steps", "3"}, "unknown flag --steps for generate");
    rejects({"stray"}, "unknown command \"stray\"");
    rejects({"score"}, "score needs either an IDX file of images or --calibrate");
}

TEST_CASE("mnist_gan's help lists every command and flag once, --help among the commands") {
    mnist_gan::Options options;
    app::Program program = mnist_gan::make_program(options);
    const std::string help = app::usage_text(program);
    for (const char* expected : {"mnist_gan --help", "--recipe", "--checkpoint FILE", "--calibrate",
                                 "(default generated-images-idx3-ubyte)", "(default 100)"})
        CHECK_MESSAGE(help.find(expected) != std::string::npos, expected);
    auto count = [&](const std::string& text) {
        std::size_t n = 0;
        for (std::size_t at = help.find(text); at != std::string::npos; at = help.find(text, at + 1)) ++n;
        return n;
    };
    CHECK(count("--help") == 1);
    CHECK(count("--recipe") == 1);
}

namespace {

// `steps` steps of a fresh GAN on two threads, run again until the worker took part in them: a
// split that ran everything on one thread would prove nothing.
template <class Gan>
void run_on_two_threads(std::optional<Gan>& split, const mnist_gan::Config& config, const ImageSet& images, int steps) {
    test::TwoThreads two;
    CHECK(test::until_worker_took_part([&] {
        split.emplace(config);
        for (int step = 0; step < steps; ++step) split->step(images);
    }));
}

}  // namespace

TEST_CASE("A run's numbers do not depend on the thread count") {
    SyntheticData data;
    mnist_gan::Config config = small_config();
    config.batch_size = 32;
    config.z_dim = 100;  // the real shapes, so the products are large enough to be split
    tinygan::set_num_threads(1);
    mnist_gan::Gan single(config);
    for (int step = 0; step < 20; ++step) single.step(data.images);
    std::optional<mnist_gan::Gan> split;
    run_on_two_threads(split, config, data.images, 20);
    CHECK(parameters_of(split->generator()) == parameters_of(single.generator()));
    CHECK(parameters_of(split->discriminator()) == parameters_of(single.discriminator()));
}

TEST_CASE("The keras-gan recipe: the same numbers at any thread count, resume bit for bit, its recipe in the checkpoint") {
    SyntheticData data;
    mnist_gan::Config config = small_config();
    config.batch_size = 16;
    config.z_dim = 100;
    config.learning_rate = mnist_gan::KerasGanRecipe::default_learning_rate;
    tinygan::set_num_threads(1);
    mnist_gan::KerasGan single(config);
    for (int step = 0; step < 10; ++step) single.step(data.images);
    std::optional<mnist_gan::KerasGan> split;
    run_on_two_threads(split, config, data.images, 10);
    CHECK(parameters_of(split->generator()) == parameters_of(single.generator()));
    CHECK(parameters_of(split->discriminator()) == parameters_of(single.discriminator()));

    // 5 + checkpoint + 5 == 10, moving average and BatchNorm statistics included.
    const std::string path = data.dir.file("keras.safetensors");
    {
        mnist_gan::KerasGan first(config);
        for (int step = 0; step < 5; ++step) first.step(data.images);
        first.save(path);
    }
    const tinygan::TensorFile file = tinygan::load_safetensors(path);
    CHECK(mnist_gan::recipe_of(file, path) == "keras-gan");
    CHECK(file.find("generator.batch_norm_2.moving_variance") != nullptr);
    CHECK(file.find("generator_average.0") != nullptr);
    mnist_gan::KerasGan resumed(config);
    resumed.load(path);
    for (int step = 0; step < 5; ++step) resumed.step(data.images);
    CHECK(parameters_of(resumed.generator()) == parameters_of(single.generator()));
    const mnist_gan::Mat noise = mnist_gan::Mat::Random(100, 4);
    CHECK(resumed.sample(noise) == single.sample(noise));  // the averaged weights came back too
    const mnist_gan::Mat images = single.sample(noise);
    CHECK(images.allFinite());
    CHECK(images.minCoeff() >= 0);  // tanh output mapped to [0, 1], from the averaged weights
    CHECK(images.maxCoeff() <= 1);
    CHECK(images.maxCoeff() > images.minCoeff());
    // A checkpoint of one recipe is refused by the other, by name.
    mnist_gan::Gan document(config);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(document.load(path), DataError, "was written by the keras-gan recipe, but this run uses document");
}

TEST_CASE("keras-gan samples come from the moving average of G's weights, kept alongside by the test") {
    SyntheticData data;
    mnist_gan::Config config = small_config();
    config.batch_size = 16;
    config.learning_rate = mnist_gan::KerasGanRecipe::default_learning_rate;
    mnist_gan::KerasGan gan(config);
    ExponentialMovingAverage<float> average(gan.generator(), mnist_gan::KerasGanRecipe::average_decay);
    for (int step = 0; step < 6; ++step) {
        gan.step(data.images);
        average.update(gan.generator());
    }
    auto averaged = gan.generator(), live = gan.generator();
    average.apply_to(averaged);
    const mnist_gan::Mat noise = mnist_gan::Mat::Random(config.z_dim, 5);
    const mnist_gan::Mat expected = (averaged.predict(noise).array() * 0.5f + 0.5f).matrix();
    CHECK(gan.sample(noise) == expected);
    CHECK(gan.sample(noise) != (live.predict(noise).array() * 0.5f + 0.5f).matrix());
}

TEST_CASE("The cgan recipe draws the class it is asked for: dark or bright images, after a short run"
          * doctest::test_suite("training_runs")) {
    test::TwoClassImages data(64);
    // At 1e-3 (the recipe's 2e-4 needs thousands of steps: its embeddings start at +-0.05, and the
    // labels matter little until they grow), batch 16. Measured: a gap of 0.06 at step 100, 0.56 at
    // 400, 0.66 at 500.
    mnist_gan::ConditionalGan gan(mnist_gan::Config{100, 16, 1, 1e-3});
    const float before = test::TwoClassImages::brightness_gap(gan, 100);
    for (int i = 0; i < 500; ++i) gan.step(data.images);
    const float after = test::TwoClassImages::brightness_gap(gan, 100);
    INFO("brightness of class 1 minus class 0: " << before << " before, " << after << " after");
    CHECK(std::abs(before) < 0.05f);  // the labels' embeddings start small
    CHECK(after > 0.4f);
}

TEST_CASE("The cgan step is cgan.py's: D on half batches, the real labels on both, then G through the frozen D") {
    test::TwoClassImages data(64);
    const mnist_gan::Config config{100, 8, 11, 2e-4};
    mnist_gan::ConditionalGan gan(config);
    // The same run written out plainly from the library's pieces, as cgan.py reads: the same seed,
    // the models drawn in the same order (the recipe's copy of D for G's step draws its start too),
    // the fakes predicted at the half batch's width, G's step through a Frozen D.
    Rng rng(config.seed);
    auto d = mnist_gan::make_conditional_discriminator(rng);
    auto g = mnist_gan::make_conditional_generator(config.z_dim, rng);
    mnist_gan::make_conditional_discriminator(rng);
    Adam<float> d_adam(d, AdamOptions{config.learning_rate, 0.5}), g_adam(g, AdamOptions{config.learning_rate, 0.5});
    auto combined = chain(g, d);
    BinaryCrossEntropy<float> bce;
    const Index half = config.batch_size / 2;
    Matrix<float> real(784, half), half_noise(100, half), noise(100, config.batch_size);
    Labels real_labels(half), g_labels(config.batch_size);
    for (int step = 0; step < 3; ++step) {
        gan.step(data.images);
        data.images.sample_batch_signed(real, rng, &real_labels);
        rng.fill_normal(half_noise);
        const Matrix<float> fakes = g.predict(half_noise, real_labels);
        train_on_batch(d, bce, d_adam, real, Matrix<float>::Ones(1, half), real_labels);
        train_on_batch(d, bce, d_adam, fakes, Matrix<float>::Zero(1, half), real_labels);
        rng.fill_normal(noise);
        for (Index j = 0; j < g_labels.cols(); ++j) g_labels(j) = static_cast<int>(rng.uniform_index(10));
        Frozen frozen_d(d);
        train_on_batch(combined, bce, g_adam, noise, Matrix<float>::Ones(1, config.batch_size), g_labels);
    }
    CHECK(test::largest_difference(gan.discriminator(), d) == 0);
    CHECK(test::largest_difference(gan.generator(), g) == 0);
}
