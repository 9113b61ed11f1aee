// The sample-quality score: the Fréchet distance against closed forms, and the whole scorer on a
// small labelled data set made here: held-out real images score far better than noise, and a
// one-class set covers one class.
#include "test_support.hpp"

#include <tinygan/app/sample_score.hpp>

using namespace tinygan;

namespace {

// `count` 28x28 images of 10 classes: class c is a bright vertical bar at column 3 + 2.4 c, of a
// random length, with faint noise everywhere.
ImageSet labelled_bars(std::uint32_t count, std::uint64_t seed, std::vector<std::uint8_t>& labels, const test::TempDir& dir,
                       const std::string& name) {
    Rng rng(seed);
    std::vector<std::uint8_t> pixels(std::size_t(count) * 784);
    labels.resize(count);
    for (std::uint32_t k = 0; k < count; ++k) {
        const int c = static_cast<int>(rng.uniform_index(10));
        labels[k] = static_cast<std::uint8_t>(c);
        const int column = 3 + static_cast<int>(2.4 * c);
        const int top = 2 + static_cast<int>(rng.uniform_index(6)), bottom = 20 + static_cast<int>(rng.uniform_index(6));
        for (int r = 0; r < 28; ++r)
            for (int x = 0; x < 28; ++x) {
                const bool ink = r >= top && r < bottom && x >= column && x < column + 2;
                pixels[std::size_t(k) * 784 + r * 28 + x] =
                    static_cast<std::uint8_t>(ink ? 200 + rng.uniform_index(56) : rng.uniform_index(30));
            }
    }
    write_idx(dir.file(name), {count, 28, 28}, pixels);
    return ImageSet::load(dir.file(name));
}

}  // namespace

TEST_CASE("The Fréchet distance matches its closed forms") {
    app::FeatureStatistics a, b;
    a.mean = Eigen::VectorXd::Constant(3, 1.0);
    b.mean = Eigen::VectorXd::Zero(3);
    a.covariance = Eigen::MatrixXd::Identity(3, 3) * 4.0;
    b.covariance = Eigen::MatrixXd::Identity(3, 3);
    // Commuting covariances: |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2 = 3 + 3 * (2 - 1)^2.
    CHECK(app::frechet_distance(a, b) == doctest::Approx(6.0));
    CHECK(app::frechet_distance(a, a) == doctest::Approx(0.0).epsilon(1e-9));
    Rng rng(5);
    const Matrix<double> r = test::random_matrix<double>(4, 4, rng);
    const Eigen::MatrixXd spd = r * r.transpose() + Eigen::MatrixXd::Identity(4, 4);
    const Eigen::MatrixXd root = app::symmetric_sqrt(spd);
    CHECK((root * root - spd).cwiseAbs().maxCoeff() < 1e-10);
    a.mean = b.mean = Eigen::VectorXd::Zero(4);
    a.covariance = spd;
    b.covariance = Eigen::MatrixXd::Identity(4, 4);
    // With b = I: Tr(A) + 4 - 2 Tr(A^1/2).
    CHECK(app::frechet_distance(a, b) == doctest::Approx(spd.trace() + 4 - 2 * root.trace()));
    // Two covariances that do not commute. Tr((A^1/2 B A^1/2)^1/2) = Tr((B^1/2 A B^1/2)^1/2) (both
    // are the sum of the square roots of the eigenvalues of A B); the library takes the first, the
    // test the second, with the square root checked above. (tests/app_reference_test.cpp compares
    // the distance with SciPy's.)
    const Matrix<double> r2 = test::random_matrix<double>(4, 4, rng);
    b.covariance = r2 * r2.transpose() + 0.5 * Eigen::MatrixXd::Identity(4, 4);
    b.mean = Eigen::VectorXd::LinSpaced(4, 0.0, 1.0);
    REQUIRE((spd * b.covariance - b.covariance * spd).norm() > 1e-3);
    const Eigen::MatrixXd root_b = app::symmetric_sqrt(b.covariance);
    const double cross = app::symmetric_sqrt(root_b * spd * root_b).trace();
    const double distance = app::frechet_distance(a, b);
    CHECK(distance == doctest::Approx(b.mean.squaredNorm() + spd.trace() + b.covariance.trace() - 2 * cross).epsilon(1e-9));
    // The library's distance is a distance: symmetric although the covariances do not commute (its
    // cross term comes from A^1/2 B A^1/2 one way and B^1/2 A B^1/2 the other), and positive.
    CHECK(app::frechet_distance(b, a) == doctest::Approx(distance).epsilon(1e-12));
    CHECK(distance > 0.1);
    // Negative control: the cross term as Tr(A^1/2 B^1/2), right only for commuting covariances, is off.
    const double commuting_cross = (root * root_b).trace();
    CHECK(std::abs(commuting_cross - cross) > 1e-6);
}

TEST_CASE("The scorer ranks held-out real images far above noise, and sees one class in a one-class set") {
    test::TempDir dir;
    std::vector<std::uint8_t> train_labels, test_labels, held_out_labels;
    const ImageSet train = labelled_bars(3000, 1, train_labels, dir, "train");
    const ImageSet test = labelled_bars(1000, 2, test_labels, dir, "test");
    const ImageSet held_out = labelled_bars(1000, 3, held_out_labels, dir, "held_out");
    app::SampleScorer scorer(train, train_labels, test, test_labels, 4);
    CHECK(scorer.test_accuracy() > 0.95);

    const app::SampleScore real = scorer.score(app::images_as_floats(held_out.pixels(), 0, held_out.count()));
    Rng rng(4);
    Matrix<float> noise(784, 1000);
    rng.fill_uniform(noise, 0.0f, 1.0f);
    const app::SampleScore random = scorer.score(noise);
    std::vector<Index> of_class_three;
    for (Index k = 0; k < held_out.count(); ++k)
        if (held_out_labels[static_cast<std::size_t>(k)] == 3) of_class_three.push_back(k);
    Matrix<float> threes(784, static_cast<Index>(of_class_three.size()));
    for (Index j = 0; j < threes.cols(); ++j)
        threes.col(j) = held_out.pixels().col(of_class_three[static_cast<std::size_t>(j)]).cast<float>() / 255.0f;
    const app::SampleScore one_class = scorer.score(threes);
    INFO("real: " << real.summary() << "; noise: " << random.summary() << "; threes: " << one_class.summary());
    CHECK(real.classes_over_5_percent == 10);
    CHECK(real.frechet_distance * 20 < random.frechet_distance);
    CHECK(real.inception_score > 8);
    CHECK(one_class.classes_over_5_percent == 1);
    CHECK(one_class.class_fractions[3] > 0.95);
    CHECK(one_class.inception_score < 1.5);
    CHECK(one_class.frechet_distance > 10 * real.frechet_distance);

    // More images than one chunk of the classifier (1000): the noise, then the threes over and over.
    Matrix<float> cycled(784, 500), mixed(784, 1500);
    for (Index j = 0; j < cycled.cols(); ++j) cycled.col(j) = threes.col(j % threes.cols());
    mixed << noise, cycled;
    const app::SampleScore cycled_score = scorer.score(cycled), mixed_score = scorer.score(mixed);
    for (std::size_t c = 0; c < 10; ++c)
        CHECK(std::lround(mixed_score.class_fractions[c] * 1500) ==
              std::lround(random.class_fractions[c] * 1000) + std::lround(cycled_score.class_fractions[c] * 500));

    // A saved scorer scores the same.
    scorer.save(dir.file("scorer.safetensors"));
    app::SampleScorer loaded(dir.file("scorer.safetensors"));
    CHECK(loaded.score(threes).frechet_distance == doctest::Approx(one_class.frechet_distance));
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(scorer.score(Matrix<float>::Zero(100, 5)), ShapeError, "takes 28x28 images");
}
