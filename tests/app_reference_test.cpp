// The app pieces whose numbers a gradient check cannot see, against NumPy and SciPy (values from
// tests/reference/make_references.py) and at their boundaries: the sample score's feature
// statistics, Fréchet distance, class histogram and inception score; exactly 5% of the samples in
// a class; and a losses.csv resume through more than one 64 KB flush of the rewrite.
#include "reference_support.hpp"
#include "test_support.hpp"

#include <tinygan/app/loss_log.hpp>
#include <tinygan/app/score_statistics.hpp>

#include <fstream>
#include <string>

using namespace tinygan;

TEST_CASE("Reference: FeatureStatistics::of equals NumPy's mean and np.cov (n - 1), frechet_distance equals SciPy's") {
    const auto cases = test::load_reference("sample_score.txt");
    REQUIRE(cases.size() == 2);
    const test::ReferenceCase& c = cases[0];
    REQUIRE(c.name == "feature_statistics");
    const app::FeatureStatistics a = app::FeatureStatistics::of(c.tensor("features_a"));
    const app::FeatureStatistics b = app::FeatureStatistics::of(c.tensor("features_b"));
    // Sums of 9 or 11 products: a few roundings.
    test::check_close("mean a", a.mean, c.tensor("mean_a"), 1e-12);
    test::check_close("covariance a", a.covariance, c.tensor("covariance_a"), 1e-12);
    test::check_close("mean b", b.mean, c.tensor("mean_b"), 1e-12);
    test::check_close("covariance b", b.covariance, c.tensor("covariance_b"), 1e-12);
    // Negative control: dividing by n instead (9 and 11 samples) is 11% and 9% off.
    CHECK(test::relative_error(c.tensor("covariance_a_biased"), c.tensor("covariance_a")) > 0.05);
    CHECK(test::relative_error(c.tensor("covariance_b_biased"), c.tensor("covariance_b")) > 0.05);
    // The distance from tinygan's statistics, and from NumPy's (the formula alone). SciPy's sqrtm
    // of the non-symmetric product and tinygan's two symmetric eigen-decompositions round
    // differently: they agree to ~2e-15 of the distance (~66); 1e-11 leaves room for other
    // LAPACK and Eigen versions and is far below any wrong count or formula.
    const double expected = c.number("frechet_distance");
    CHECK(app::frechet_distance(a, b) == doctest::Approx(expected).epsilon(1e-11));
    app::FeatureStatistics numpy_a, numpy_b;
    numpy_a.mean = c.tensor("mean_a");
    numpy_a.covariance = c.tensor("covariance_a");
    numpy_b.mean = c.tensor("mean_b");
    numpy_b.covariance = c.tensor("covariance_b");
    CHECK(app::frechet_distance(numpy_a, numpy_b) == doctest::Approx(expected).epsilon(1e-11));
    CHECK(app::frechet_distance(numpy_b, numpy_a) == doctest::Approx(expected).epsilon(1e-11));
}

TEST_CASE("Reference: the class histogram, classes >= 5% and the inception score equal NumPy's") {
    const auto cases = test::load_reference("sample_score.txt");
    REQUIRE(cases.size() == 2);
    const test::ReferenceCase& c = cases[1];
    REQUIRE(c.name == "class_statistics");
    const app::SampleScore s = app::score_class_probabilities(c.tensor("probabilities"));
    CHECK(s.samples == 40);
    Matrix<double> fractions(app::score_classes, 1);
    for (Index k = 0; k < app::score_classes; ++k) fractions(k, 0) = s.class_fractions[static_cast<std::size_t>(k)];
    test::check_close("class fractions", fractions, c.tensor("class_fractions"), 1e-15);
    // Two classes hold exactly 2 of the 40 samples (5%): they count.
    CHECK(s.classes_over_5_percent == c.integer("classes_over_5_percent"));
    CHECK(c.integer("classes_over_5_percent") == 8);
    CHECK(c.integer("classes_strictly_over_5_percent") == 5);  // the negative control: > would say 5
    // A sum of 400 terms p log(p / p(y)): a few roundings each.
    CHECK(s.inception_score == doctest::Approx(c.number("inception_score")).epsilon(1e-12));
    CHECK(s.frechet_distance == 0);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::score_class_probabilities(Matrix<double>::Constant(9, 4, 0.1)), ShapeError,
                                       "need 10 rows, got 9");
}

TEST_CASE("A class holding exactly 5% of the samples counts among the classes >= 5%, one sample fewer does not") {
    // Samples whose most probable class is given: 0.91 on it, 0.01 elsewhere.
    auto probabilities_of = [](const std::vector<int>& winners) {
        Matrix<double> p = Matrix<double>::Constant(app::score_classes, static_cast<Index>(winners.size()), 0.01);
        for (std::size_t j = 0; j < winners.size(); ++j) p(winners[j], static_cast<Index>(j)) = 0.91;
        return p;
    };
    std::vector<int> winners(20, 1);
    winners[7] = 0;  // 1 of 20: exactly 5%
    app::SampleScore s = app::score_class_probabilities(probabilities_of(winners));
    CHECK(s.class_fractions[0] == 0.05);
    CHECK(s.class_fractions[1] == 0.95);
    CHECK(s.classes_over_5_percent == 2);
    winners.assign(100, 9);
    for (int j = 0; j < 5; ++j) winners[static_cast<std::size_t>(10 * j)] = 3;      // 5 of 100: counts
    for (int j = 0; j < 4; ++j) winners[static_cast<std::size_t>(10 * j + 1)] = 4;  // 4 of 100: does not
    for (int j = 0; j < 6; ++j) winners[static_cast<std::size_t>(10 * j + 2)] = 5;  // 6 of 100: counts
    s = app::score_class_probabilities(probabilities_of(winners));
    CHECK(s.class_fractions[3] == 0.05);
    CHECK(s.class_fractions[4] == 0.04);
    CHECK(s.classes_over_5_percent == 3);  // classes 3, 5 and 9
    CHECK(s.summary().find("3 classes >= 5%") != std::string::npos);
}

TEST_CASE("The conditional accuracy counts, per requested class, the samples the classifier puts in it") {
    // Each sample's most probable class is given: 0.91 on it, 0.01 elsewhere.
    auto probabilities_of = [](const std::vector<int>& winners) {
        Matrix<double> p = Matrix<double>::Constant(app::score_classes, static_cast<Index>(winners.size()), 0.01);
        for (std::size_t j = 0; j < winners.size(); ++j) p(winners[j], static_cast<Index>(j)) = 0.91;
        return p;
    };
    // Requested 2, 2, 2, 2, 7, 7, 7, 7; seen 2, 2, 2, 5, 7, 1, 1, 1: class 2 at 3/4, class 7 at 1/4,
    // 4/8 overall; the histogram is of what was seen, whatever was asked.
    Labels requested(8);
    requested << 2, 2, 2, 2, 7, 7, 7, 7;
    const app::SampleScore s = app::score_class_probabilities(probabilities_of({2, 2, 2, 5, 7, 1, 1, 1}), &requested);
    CHECK(s.conditional());
    CHECK(s.conditional_accuracy == 0.5);
    CHECK(s.class_accuracy[2] == 0.75);
    CHECK(s.class_accuracy[7] == 0.25);
    CHECK(s.class_accuracy[1] < 0);  // seen but never asked for: no accuracy, not 0%
    CHECK(s.class_fractions[1] == 0.375);
    CHECK(s.class_accuracies() == "2: 75.0%, 7: 25.0%");
    CHECK(s.summary().find("conditional accuracy 50.00%") != std::string::npos);
    // Without requested classes there is no conditional accuracy.
    CHECK_FALSE(app::score_class_probabilities(probabilities_of({2, 2})).conditional());
    // A requested class that is not one, or one per sample missing, is refused.
    Labels eleven = Labels::Constant(2, 11), one = Labels::Constant(1, 2);
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::score_class_probabilities(probabilities_of({2, 2}), &eleven), ArgumentError,
                                       "requested class 11 of sample 0 is not a class 0 to 9");
    TINYGAN_CHECK_THROWS_WITH_FRAGMENT(app::score_class_probabilities(probabilities_of({2, 2}), &one), ShapeError,
                                       "2 samples, 1 classes");
}

TEST_CASE("losses.csv: resuming a log larger than 64 KB keeps exactly the rows up to the checkpoint, once each") {
    // The resume streams the old rows through a buffer written out whenever it passes 64 KB.
    test::TempDir dir;
    const std::string path = dir.file("losses.csv");
    const std::vector<std::string> columns{"d_loss", "d_acc", "g_loss"};
    const int steps = 12000;  // ~32 bytes a row: ~380 KB
    auto write_run = [&] {
        app::LossLog log(path, columns, 0);
        for (int step = 1; step <= steps; ++step) {
            const float row[3] = {0.001f * static_cast<float>(step), 0.5f, 1.0f / static_cast<float>(step)};
            log.append(step, row);
        }
    };
    auto text_of = [&] {
        std::ifstream in(path);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    };
    write_run();
    const std::string original = text_of();
    const std::string header = "step,d_loss,d_acc,g_loss\n";
    REQUIRE(original.compare(0, header.size(), header) == 0);
    auto rows_up_to = [&](int checkpoint) {  // the header and rows 1 .. checkpoint of the original
        const std::size_t cut = original.find("\n" + std::to_string(checkpoint + 1) + ",");
        REQUIRE(cut != std::string::npos);
        return original.substr(0, cut + 1);
    };
    // Sizes are compared first, and strings without printing them: a resume that wrote its buffer
    // again and again would make a file of megabytes.
    auto check_resume = [&](int checkpoint) {
        CAPTURE(checkpoint);
        const std::string expected = rows_up_to(checkpoint);
        {
            app::LossLog resumed(path, columns, checkpoint);
            const std::string kept = text_of();
            REQUIRE(kept.size() == expected.size());
            CHECK((kept == expected));
            // The curves hold each kept step once (a run this short keeps one point a step).
            CHECK(resumed.series(2).xs().size() == static_cast<std::size_t>(checkpoint));
            CHECK(resumed.series(2).xs().back() == checkpoint);
            const float row[3] = {7, 7, 7};
            resumed.append(checkpoint + 1, row);
        }
        const std::string appended = text_of();
        CHECK(appended.size() == expected.size() + std::to_string(checkpoint + 1).size() + 28);
        CHECK((appended == expected + std::to_string(checkpoint + 1) + ",7.000000,7.000000,7.000000\n"));
    };
    // Just past one write of the buffer (rows 1-2200: ~68 KB), then past four (rows 1-9000: ~287
    // KB), then the whole file.
    REQUIRE(rows_up_to(2200).size() - header.size() > 65536);
    REQUIRE(rows_up_to(2200).size() - header.size() < 2 * 65536);
    check_resume(2200);
    write_run();
    REQUIRE(rows_up_to(9000).size() - header.size() > 4 * 65536);
    check_resume(9000);
    write_run();
    { app::LossLog resumed(path, columns, steps); }
    const std::string whole = text_of();
    REQUIRE(whole.size() == original.size());
    CHECK((whole == original));
}
