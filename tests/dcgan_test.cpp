// The dcgan example's model and step: the models are the example's, two whole steps are PyTorch's
// (float64, tests/reference/dcgan_step.txt), a few steps are finite and deterministic, the numbers do
// not depend on the thread count, and a checkpoint resumes bit for bit, across an epoch boundary.
#include "test_support.hpp"

#include "dcgan.hpp"
#include "reference_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

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

namespace {

// The reference's initial value of entry i (in PyTorch's flat order) of tensor k: formula_values in
// tests/reference/make_references.py, the same double operations, rounded to float.
float formula_value(std::int64_t i, std::int64_t k, double scale, double offset) {
    constexpr std::int64_t prime = 1000003;
    const std::int64_t t = (7919 * i * i + 104729 * i + 1299709 * k) % prime;
    const double phase = 2.0 * 3.141592653589793 * static_cast<double>(t) / static_cast<double>(prime);
    return static_cast<float>(offset + scale * std::sin(phase));
}

// Writes the formula's values into a tensor: a BatchNorm vector entry by entry; a kernel whose
// PyTorch weight is [A0, A1, kh, kw] (Conv2d [out, in, ...], ConvTranspose2d [in, out, ...]) is
// tinygan's (A0 x kh*kw*A1) matrix, entry (a0, (y*kw + x)*A1 + a1), stored as [kh, kw, A1, A0]
// (README, "Convolution layouts").
void fill_from_formula(const Parameter<float>& p, std::int64_t k, double scale, double offset) {
    const StoredShape& shape = p.stored_shape;
    std::int64_t i = 0;
    if (shape.rank == 1) {
        for (; i < p.value.size(); ++i) p.value.data()[i] = formula_value(i, k, scale, offset);
        return;
    }
    REQUIRE(shape.rank == 4);
    const Index kh = shape.dims[0], kw = shape.dims[1], a1_count = shape.dims[2], a0_count = shape.dims[3];
    REQUIRE((p.value.rows() == a0_count && p.value.cols() == kh * kw * a1_count));
    for (Index a0 = 0; a0 < a0_count; ++a0)
        for (Index a1 = 0; a1 < a1_count; ++a1)
            for (Index y = 0; y < kh; ++y)
                for (Index x = 0; x < kw; ++x) p.value(a0, (y * kw + x) * a1_count + a1) = formula_value(i++, k, scale, offset);
}

// How far a whole tensor (tinygan's layout) is from the reference's summary `key` of it: the
// largest of the errors of its sum and of its sum of |entries| (relative to the reference's sum of
// |entries|), of its sum of squares (relative to the reference's), and of its entries at the stored
// positions (relative to the reference's root mean square over the whole tensor).
// For an update (weights after a step minus before it), `weights` are the weights after it: float
// holds each to half a unit in its last place, at most |w| 2^-24, which is no error of the step's
// (6e-8 for a BatchNorm gamma near 1, 3e-4 of a 2e-4 update), so only the error beyond that
// rounding counts, entry by entry and, bounded the same way, in the three sums.
double summary_error(const Matrix<float>& actual, const test::ReferenceCase& ref, const std::string& key,
                     const Matrix<double>& positions, const Matrix<float>* weights = nullptr, std::string* detail = nullptr) {
    if (!actual.allFinite()) return std::numeric_limits<double>::infinity();
    const Matrix<double> a = actual.cast<double>();
    Matrix<double> rounding = Matrix<double>::Zero(a.rows(), a.cols());  // what float's rounding of the weights may leave
    if (weights) rounding = weights->cast<double>().cwiseAbs() * std::ldexp(1.0, -24);
    const double sum_abs = ref.number(key + ".sum_abs"), sum_squares = ref.number(key + ".sum_squares");
    const double rms = std::sqrt(sum_squares / static_cast<double>(a.size()));
    const Matrix<double>& entries = ref.tensor(key);
    REQUIRE(entries.size() == positions.size());
    auto beyond = [](double difference, double allowed) { return std::max(0.0, std::abs(difference) - allowed); };
    double entry_error = 0;
    Index worst = 0;
    for (Index j = 0; j < positions.size(); ++j) {
        const Index at = static_cast<Index>(positions(j));
        const double e = beyond(a.data()[at] - entries(j), rounding.data()[at]) / rms;
        if (e > entry_error) entry_error = e, worst = j;
    }
    const double sum_error = beyond(a.sum() - ref.number(key + ".sum"), rounding.sum()) / sum_abs;
    const double abs_error = beyond(a.cwiseAbs().sum() - sum_abs, rounding.sum()) / sum_abs;
    const double squares_allowed = (2 * a.cwiseAbs().cwiseProduct(rounding) + rounding.cwiseAbs2()).sum();
    const double squares_error = beyond(a.squaredNorm() - sum_squares, squares_allowed) / sum_squares;
    if (detail) {
        std::ostringstream text;
        text << key << ": relative errors: sum " << sum_error << ", sum |.| " << abs_error << ", sum of squares "
             << squares_error << ", entries " << entry_error << " (the worst at " << static_cast<Index>(positions(worst))
             << ": " << a.data()[static_cast<Index>(positions(worst))] << ", reference " << entries(worst) << ")";
        *detail = text.str();
    }
    return std::max({sum_error, abs_error, squares_error, entry_error});
}

}  // namespace

// Two whole steps of dcgan::Dcgan (float) against PyTorch in float64 (tests/reference/dcgan_step.txt,
// written by make_references.py): the same models, every tensor started from the same formula, the
// same batches. After step_on, D's gradient buffers hold the sum of its real- and fake-batch
// gradients at its weights before the update, and G's the gradient through the updated, frozen D;
// the test compares both, each weight's update, both losses and every BatchNorm's running
// statistics, after each step. The first Adam step moves every weight by about +-lr whatever its
// gradient, so the gradients (and the second step, whose update depends on both steps' gradients)
// carry the check.
//
// Tolerances, float32 against float64. The test takes Adam's epsilon 1e-2, not the example's 1e-8,
// which would make the first steps move each weight by +-lr by the sign of its gradient: float
// rounding decides that sign for a gradient near 0, and an AVX2 build's step 2 ended 5% from the
// reference (an AVX-512 build's 3e-5). Measured with 1e-2, worst of both: gradients 3.4e-6, updates
// 5.9e-6, running statistics 5.7e-7. The tolerances, 1e-5 for losses, 4e-5, 6e-5 and 1e-5, leave a
// margin of about 10. The negative controls, from the same PyTorch run with one mistake each, are
// thousands of tolerances away.
TEST_CASE("Two DCGAN steps are PyTorch's, in float64, from the same weights and batches") {
    const std::vector<test::ReferenceCase> cases = test::load_reference("dcgan_step.txt");
    REQUIRE(cases.size() == 1);
    const test::ReferenceCase& ref = cases[0];
    const Index batch = ref.integer("batch");
    dcgan::Config config{ref.integer("z_dim"), batch, 1};
    REQUIRE(config.g_learning_rate == ref.number("g_learning_rate"));  // the reference ran with the defaults
    REQUIRE(config.d_learning_rate == ref.number("d_learning_rate"));
    config.adam_epsilon = ref.number("adam_epsilon");  // 1e-2: see Config::adam_epsilon
    dcgan::Dcgan gan(config, batch);

    // f("g.<name>" or "d.<name>", parameter) for every tensor of both models.
    auto each_tensor = [&](auto&& f) {
        gan.generator().for_each_named_parameter([&](const std::string& name, const Parameter<float>& p) { f("g." + name, p); });
        gan.discriminator().for_each_named_parameter([&](const std::string& name, const Parameter<float>& p) { f("d." + name, p); });
    };
    std::size_t trainable = 0;
    each_tensor([&](const std::string& key, const Parameter<float>& p) {
        if (p.is_state) return;  // running statistics keep their start, 0 and 1, as PyTorch's
        REQUIRE_MESSAGE(ref.has(key + ".k"), "the reference has no tensor " << key);
        fill_from_formula(p, ref.integer(key + ".k"), ref.number(key + ".scale"), ref.number(key + ".offset"));
        // The same numbers as PyTorch's (up to the last bit of a float, should a sin differ there).
        const Matrix<double> v = p.value.cast<double>();
        CHECK(std::abs(v.sum() - ref.number(key + ".initial_sum")) <= 1e-9 * v.cwiseAbs().sum());
        CHECK(std::abs(v.squaredNorm() - ref.number(key + ".initial_sum_squares")) <= 1e-9 * v.squaredNorm());
        ++trainable;
    });
    std::size_t in_reference = 0;
    for (const auto& number : ref.numbers)
        in_reference += number.first.size() > 2 && number.first.compare(number.first.size() - 2, 2, ".k") == 0;
    REQUIRE(trainable == in_reference);  // every tensor of the reference is one of tinygan's, and back

    const double loss_tolerance = 1e-5, gradient_tolerance = 4e-5, update_tolerance = 6e-5, statistics_tolerance = 1e-5;
    double worst_loss = 0, worst_gradient = 0, worst_update = 0, worst_statistics = 0;
    // Each negative control's smallest distance from tinygan's numbers, in tolerances.
    double real_only = std::numeric_limits<double>::infinity(), old_d = real_only, moved = real_only;
    std::map<std::string, Matrix<float>> before;
    const Index steps = ref.integer("steps");
    for (Index step = 1; step <= steps; ++step) {
        const std::string s = std::to_string(step);
        CAPTURE(step);
        each_tensor([&](const std::string& key, const Parameter<float>& p) {
            if (!p.is_state) before[key] = p.value;
        });
        const Matrix<float> real = ref.tensor("real_" + s).cast<float>(), labels = ref.tensor("labels_" + s).cast<float>(),
                            noise = ref.tensor("noise_" + s).cast<float>();
        const dcgan::StepResult result = gan.step_on(real, labels, noise);
        const double d_loss = ref.number("d_loss_" + s), g_loss = ref.number("g_loss_" + s);
        CHECK_MESSAGE(std::abs(result.d_loss - d_loss) <= loss_tolerance * d_loss, "D loss " << result.d_loss << ", reference " << d_loss);
        CHECK_MESSAGE(std::abs(result.g_loss - g_loss) <= loss_tolerance * g_loss, "G loss " << result.g_loss << ", reference " << g_loss);
        worst_loss = std::max({worst_loss, std::abs(result.d_loss - d_loss) / d_loss, std::abs(result.g_loss - g_loss) / g_loss});

        each_tensor([&](const std::string& key, const Parameter<float>& p) {
            if (p.is_state) {  // "g.batch_norm_2.moving_mean_1": G's after its forward, D's after its step
                const std::string stored = key + "_" + s;
                test::check_close(stored, p.value, ref.tensor(stored), statistics_tolerance);
                worst_statistics = std::max(worst_statistics, test::relative_error(p.value, ref.tensor(stored)));
                if (key[0] == 'd')  // had they moved in G's step, as the example's do
                    moved = std::min(moved, test::relative_error(p.value, ref.tensor(stored + "_moved_in_g_step")) / statistics_tolerance);
                return;
            }
            const Matrix<double>& positions = ref.tensor(key + ".positions");
            std::string detail;
            const double gradient_error = summary_error(p.gradient, ref, key + ".gradient_" + s, positions, nullptr, &detail);
            CHECK_MESSAGE(gradient_error <= gradient_tolerance, detail);
            const Matrix<float> update = p.value - before[key];
            const double update_error = summary_error(update, ref, key + ".update_" + s, positions, &p.value, &detail);
            CHECK_MESSAGE(update_error <= update_tolerance, detail);
            worst_gradient = std::max(worst_gradient, gradient_error);
            worst_update = std::max(worst_update, update_error);
            // D's gradient from the real batch alone; G's through D before its update.
            double& control = key[0] == 'd' ? real_only : old_d;
            const std::string control_key = key + ".gradient_" + s + (key[0] == 'd' ? "_real_only" : "_old_d");
            control = std::min(control, summary_error(p.gradient, ref, control_key, positions) / gradient_tolerance);
        });
    }
    INFO("worst relative errors: loss " << worst_loss << ", gradient " << worst_gradient << ", update " << worst_update
                                        << ", running statistics " << worst_statistics);
    INFO("the negative controls, in tolerances: D's gradient from the real batch alone " << real_only
         << ", G's gradient through D before its update " << old_d << ", D's statistics moved in G's step " << moved);
    // The test can fail: each control is far from tinygan's numbers.
    CHECK(real_only > 1000);
    CHECK(old_d > 1000);
    CHECK(moved > 1000);
}

TEST_CASE("The conditional DCGAN draws the class it is asked for, and checks a batch's labels before anything moves"
          * doctest::test_suite("training_runs")) {
    test::TwoClassImages data(64);
    dcgan::ConditionalDcgan gan(dcgan::Config{100, 16, 3}, data.images.count());
    const float before = test::TwoClassImages::brightness_gap(gan, 100);
    for (int i = 0; i < 150; ++i) gan.step(data.images);  // measured: a gap of 0.74
    const float after = test::TwoClassImages::brightness_gap(gan, 100);
    INFO("brightness of class 1 minus class 0: " << before << " before, " << after << " after");
    CHECK(std::abs(before) < 0.05f);
    CHECK(after > 0.5f);

    // A label that is not a class, real or fake, is refused before G's forward moves its statistics.
    std::vector<Matrix<float>> state;
    gan.generator().for_each_parameter([&](const Parameter<float>& p) { state.push_back(p.value); });
    const Matrix<float> real = Matrix<float>::Zero(784, 16), targets = Matrix<float>::Ones(1, 16);
    Matrix<float> noise(100, 16);
    Rng(1).fill_normal(noise);
    Labels good = Labels::Zero(16), bad = Labels::Zero(16);
    bad(3) = 10;
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(gan.step_on(real, targets, noise, bad, good), ArgumentError, "label 10 of sample 3 is not a class");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(gan.step_on(real, targets, noise, good, bad), ArgumentError, "label 10 of sample 3 is not a class");
    std::size_t k = 0;
    gan.generator().for_each_parameter([&](const Parameter<float>& p) { CHECK(p.value == state[k++]); });
}

TEST_CASE("The conditional DCGAN's step: D's real batch with its labels, the fakes with theirs, G through D") {
    const dcgan::Config config{100, 8, 4};
    dcgan::ConditionalDcgan gan(config, 64);
    // The step written out from the library's pieces, on copies of the models as they start.
    auto g = gan.generator();
    auto d = gan.discriminator();
    Adam<float> g_adam(g, dcgan::adam_options(config.g_learning_rate, config.adam_epsilon)),
        d_adam(d, dcgan::adam_options(config.d_learning_rate, config.adam_epsilon));
    BinaryCrossEntropy<float> bce;
    GradientSum<float> d_sum;
    Rng rng(9);
    Matrix<float> real(784, 8), targets(1, 8), noise(100, 8);
    rng.fill_uniform(real, -1.0f, 1.0f);
    rng.fill_uniform(targets, 0.8f, 1.0f);
    rng.fill_normal(noise);
    Labels real_labels(8), fake_labels(8);
    real_labels << 0, 1, 2, 3, 4, 5, 6, 7;
    fake_labels << 9, 9, 8, 1, 1, 0, 3, 5;
    const Matrix<float> zeros = Matrix<float>::Zero(1, 8), ones = Matrix<float>::Ones(1, 8);
    for (int step = 0; step < 2; ++step) {
        gan.step_on(real, targets, noise, real_labels, fake_labels);
        g.set_training(true);
        const Matrix<float> fakes = g.forward(noise, fake_labels);
        compute_gradients(d, bce, real, targets, real_labels);
        d_sum.keep(d);
        compute_gradients(d, bce, fakes, zeros, fake_labels);
        d_sum.add_to(d);
        d_adam.step(d);
        {
            Frozen frozen_d(d);
            test_on_batch(d, bce, fakes, ones, fake_labels);
            g.backward(noise, fake_labels, d.backward_from_logits(fakes, fake_labels, bce.gradient(), true), false);
        }
        g_adam.step(g);
    }
    CHECK(test::largest_difference(gan.discriminator(), d) == 0);
    CHECK(test::largest_difference(gan.generator(), g) == 0);
}
