// The dcgan example's model and step: the models are the example's, one step is the example's step
// recomputed from the library's parts, a few steps are finite and deterministic, the numbers do not
// depend on the thread count, and a checkpoint resumes bit for bit, across an epoch boundary.
#include "test_support.hpp"

#include "dcgan.hpp"

#include <optional>

using namespace tinygan;

namespace {

struct SyntheticData : test::SyntheticImages {
    SyntheticData() : SyntheticImages(40) {}
};

dcgan::Config small_config() { return dcgan::Config{100, 8, 3}; }  // 5 steps an epoch of 40 images

}  // namespace

TEST_CASE("The DCGAN's models are the PyTorch example's, layer by layer") {
    Rng rng(1);
    auto generator = dcgan::make_generator(100, rng);
    auto discriminator = dcgan::make_discriminator(rng);
    CHECK(generator.output_shape() == Shape{28, 28, 1});
    CHECK(generator.shape_before(2) == Shape{4, 4, 256});
    CHECK(generator.shape_before(5) == Shape{7, 7, 128});
    CHECK(generator.shape_before(8) == Shape{14, 14, 64});
    CHECK(discriminator.shape_before(3) == Shape{14, 14, 64});
    CHECK(discriminator.shape_before(6) == Shape{7, 7, 128});
    CHECK(discriminator.shape_before(9) == Shape{3, 3, 256});
    CHECK(discriminator.output_shape() == Shape{1, 1, 1});
    // PyTorch's parameter counts: no conv biases; BatchNorm's weight and bias (its running
    // statistics are buffers, non-trainable here).
    CHECK(generator.trainable_parameter_count() == 100 * 256 * 16 + 512 + 256 * 128 * 9 + 256 + 128 * 64 * 16 + 128 + 64 * 16);
    CHECK(discriminator.trainable_parameter_count() == 64 * 16 + 64 * 128 * 16 + 256 + 128 * 256 * 16 + 512 + 256 * 9);
    // PyTorch's initialisation: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in*k*k for Conv2d.
    const float bound = 1 / std::sqrt(64.0f * 16);
    CHECK(discriminator.parameter("conv2d_3.kernel").cwiseAbs().maxCoeff() <= bound);
    CHECK(discriminator.parameter("conv2d_3.kernel").cwiseAbs().maxCoeff() > 0.99f * bound);
}

TEST_CASE("DCGAN steps are finite, deterministic, and the same at 1 and 2 threads") {
    SyntheticData data;
    set_num_threads(1);
    dcgan::Dcgan a(small_config(), data.images.count()), b(small_config(), data.images.count());
    for (int step = 0; step < 3; ++step) {
        const auto ra = a.step(data.images), rb = b.step(data.images);
        CHECK(std::isfinite(ra.d_loss));
        CHECK(std::isfinite(ra.g_loss));
        CHECK(ra.d_loss == rb.d_loss);
        CHECK(ra.g_loss == rb.g_loss);
    }
    std::optional<dcgan::Dcgan> split;
    {
        test::TwoThreads two;
        CHECK(test::until_worker_took_part([&] {
            split.emplace(small_config(), data.images.count());
            for (int step = 0; step < 3; ++step) split->step(data.images);
        }));
    }
    CHECK(test::parameters_of(split->generator()) == test::parameters_of(a.generator()));
    CHECK(test::parameters_of(split->discriminator()) == test::parameters_of(a.discriminator()));
    const Matrix<float> images = a.sample(Matrix<float>::Random(100, 4));
    CHECK(images.rows() == 784);
    CHECK(images.allFinite());
    CHECK(images.maxCoeff() > images.minCoeff());
}

TEST_CASE("A DCGAN checkpoint resumes bit for bit, across an epoch boundary") {
    SyntheticData data;
    dcgan::Dcgan straight(small_config(), data.images.count());
    for (int step = 0; step < 8; ++step) straight.step(data.images);
    const std::string path = data.dir.file("dcgan.safetensors");
    {
        dcgan::Dcgan first(small_config(), data.images.count());
        for (int step = 0; step < 3; ++step) first.step(data.images);  // mid-epoch: batch 3 of 5
        first.save(path);
    }
    dcgan::Config other_seed = small_config();
    other_seed.seed = 77;  // everything must come from the checkpoint: weights, optimizers, generators, data order
    dcgan::Dcgan same(other_seed, data.images.count());
    same.load(path);
    CHECK(same.steps_done() == 3);
    for (int step = 0; step < 5; ++step) same.step(data.images);  // into the next epoch
    CHECK(test::parameters_of(same.generator()) == test::parameters_of(straight.generator()));
    CHECK(test::parameters_of(same.discriminator()) == test::parameters_of(straight.discriminator()));
}

// The step's composition, recomputed from the library's parts with the same random draws: D's
// gradient is the sum of its real-batch gradient (labels U(0.8, 1)) and its fake-batch gradient
// (label 0), each batch with its own statistics, then one Adam step; G's gradient comes from the
// updated, frozen D on the same fakes (label 1), back into G's forward from the start of the step.
TEST_CASE("A DCGAN step is the PyTorch example's step, recomputed from the library's parts") {
    SyntheticData data;
    const dcgan::Config config = small_config();
    const Index n = config.batch_size;
    dcgan::Dcgan gan(config, data.images.count());

    Rng rng(config.seed);  // the models' initialisation, then the labels and the noise: one stream
    auto generator = dcgan::make_generator(config.z_dim, rng);
    auto discriminator = dcgan::make_discriminator(rng);
    const auto initial_generator = test::parameters_of(generator);
    REQUIRE(initial_generator == test::parameters_of(gan.generator()));
    std::vector<Index> order(static_cast<std::size_t>(data.images.count()));  // the first epoch's order
    std::iota(order.begin(), order.end(), Index(0));
    Rng order_rng(config.seed ^ 0x0da7a0de5eedULL);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[order_rng.uniform_index(i + 1)]);
    Matrix<float> real(784, n), labels(1, n), noise(config.z_dim, n);
    const Matrix<float> zeros = Matrix<float>::Zero(1, n), ones = Matrix<float>::Ones(1, n);
    for (Index j = 0; j < n; ++j)
        real.col(j) = data.images.pixels().col(order[static_cast<std::size_t>(j)]).cast<float>() / 127.5f - Matrix<float>::Ones(784, 1);
    rng.fill_uniform(labels, 0.8f, 1.0f);
    rng.fill_normal(noise);

    const ScopedFlushDenormals flush_denormals;  // as the step runs
    Adam<float> g_adam(generator, dcgan::adam_options(config.g_learning_rate)), d_adam(discriminator, dcgan::adam_options(config.d_learning_rate));
    BinaryCrossEntropy<float> bce;
    generator.set_training(true);
    discriminator.set_training(true);
    const Matrix<float> fakes = generator.forward(noise);
    test_on_batch(discriminator, bce, real, labels);
    discriminator.backward_from_logits(real, bce.gradient(), false);
    std::vector<Matrix<float>> real_gradients;
    discriminator.for_each_parameter([&](const Parameter<float>& p) {
        if (p.trainable) real_gradients.push_back(p.gradient);
    });
    test_on_batch(discriminator, bce, fakes, zeros);
    discriminator.backward_from_logits(fakes, bce.gradient(), false);
    std::size_t k = 0;
    discriminator.for_each_parameter([&](const Parameter<float>& p) {
        if (p.trainable) p.gradient += real_gradients[k++];
    });
    d_adam.step(discriminator);
    {
        Frozen frozen(discriminator);
        test_on_batch(discriminator, bce, fakes, ones);
        generator.backward(noise, discriminator.backward_from_logits(fakes, bce.gradient(), true), false);
    }
    g_adam.step(generator);

    gan.step(data.images);
    CHECK(test::parameters_of(gan.discriminator()) == test::parameters_of(discriminator));
    CHECK(test::parameters_of(gan.generator()) == test::parameters_of(generator));
    CHECK(test::parameters_of(gan.generator()) != initial_generator);  // the step did move G
}
