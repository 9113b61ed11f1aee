// The definitions of score_statistics.hpp (see compilation.hpp for when they are compiled).
#pragma once

#include "../../error.hpp"
#include "../score_statistics.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tinygan::app {

TINYGAN_APP_INLINE FeatureStatistics FeatureStatistics::of(const Matrix<double>& features) {
    FeatureStatistics s;
    s.mean = features.rowwise().mean();
    const Matrix<double> centred = features.colwise() - s.mean;
    s.covariance = centred * centred.transpose() / std::max<double>(1.0, static_cast<double>(features.cols() - 1));
    return s;
}

TINYGAN_APP_INLINE Eigen::MatrixXd symmetric_sqrt(const Eigen::MatrixXd& m) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(0.5 * (m + m.transpose()));
    return solver.eigenvectors() * solver.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() *
           solver.eigenvectors().transpose();
}

TINYGAN_APP_INLINE double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b) {
    const Eigen::MatrixXd root_a = symmetric_sqrt(a.covariance);
    const Eigen::MatrixXd middle = root_a * b.covariance * root_a;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(0.5 * (middle + middle.transpose()), Eigen::EigenvaluesOnly);
    const double cross = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
    return (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2 * cross;
}

TINYGAN_APP_INLINE std::string SampleScore::summary() const {
    char text[128];
    // A set scored against itself (the test images) comes out a rounding below 0: not "FD -0.00".
    std::snprintf(text, sizeof text, "FD %.2f, %d class%s >= 5%%, IS %.2f", std::max(0.0, frechet_distance), classes_over_5_percent,
                  classes_over_5_percent == 1 ? "" : "es", inception_score);
    std::string line = text;
    if (conditional()) {
        std::snprintf(text, sizeof text, ", conditional accuracy %.2f%%", 100 * conditional_accuracy);
        line += text;
    }
    return line;
}

TINYGAN_APP_INLINE std::string SampleScore::class_accuracies() const {
    std::string text;
    char part[24];
    for (Index c = 0; c < score_classes; ++c) {
        const double accuracy = class_accuracy[static_cast<std::size_t>(c)];
        if (accuracy < 0) continue;  // not requested
        std::snprintf(part, sizeof part, "%s%d: %.1f%%", text.empty() ? "" : ", ", int(c), 100 * accuracy);
        text += part;
    }
    return text;
}

TINYGAN_APP_INLINE std::string SampleScore::caveat() const {
    if (samples >= reliable_score_samples) return "";
    return "the Frechet distance of only " + std::to_string(samples) + " samples is biased upward; use at least " +
           std::to_string(reliable_score_samples) + ", and compare scores of equal sample counts";
}

TINYGAN_APP_INLINE std::string SampleScore::histogram() const {
    std::string text;
    char part[24];
    for (Index c = 0; c < score_classes; ++c) {
        std::snprintf(part, sizeof part, "%s%d: %.1f%%", c ? ", " : "", int(c), 100 * class_fractions[static_cast<std::size_t>(c)]);
        text += part;
    }
    return text;
}

TINYGAN_APP_INLINE SampleScore score_class_probabilities(const Matrix<double>& probabilities, const Labels* requested) {
    if (probabilities.rows() != score_classes)
        throw ShapeError(tinygan::detail::concat("class probabilities need ", score_classes, " rows, got ", probabilities.rows()));
    if (probabilities.cols() < 1) throw ArgumentError("class probabilities of no samples");
    SampleScore s;
    s.samples = probabilities.cols();
    const Eigen::VectorXd marginal = probabilities.rowwise().mean();
    std::array<Index, score_classes> counts{};
    double kl = 0;
    for (Index j = 0; j < probabilities.cols(); ++j) {
        Index predicted = 0;
        probabilities.col(j).maxCoeff(&predicted);
        ++counts[static_cast<std::size_t>(predicted)];
        for (Index c = 0; c < score_classes; ++c) {
            const double p = probabilities(c, j);
            if (p > 0) kl += p * (std::log(p) - std::log(marginal(c)));
        }
    }
    s.inception_score = std::exp(kl / static_cast<double>(probabilities.cols()));
    if (requested) {
        if (requested->cols() != probabilities.cols())
            throw ShapeError(tinygan::detail::concat("the conditional accuracy needs one requested class per sample: ",
                                                     probabilities.cols(), " samples, ", requested->cols(), " classes"));
        std::array<Index, score_classes> asked{}, agreed{};
        Index agreed_overall = 0;
        for (Index j = 0; j < probabilities.cols(); ++j) {
            const int wanted = (*requested)(j);
            if (wanted < 0 || wanted >= score_classes)
                throw ArgumentError(tinygan::detail::concat("requested class ", wanted, " of sample ", j,
                                                            " is not a class 0 to ", score_classes - 1));
            Index predicted = 0;
            probabilities.col(j).maxCoeff(&predicted);
            ++asked[static_cast<std::size_t>(wanted)];
            if (predicted == wanted) {
                ++agreed[static_cast<std::size_t>(wanted)];
                ++agreed_overall;
            }
        }
        s.conditional_accuracy = static_cast<double>(agreed_overall) / static_cast<double>(probabilities.cols());
        for (std::size_t c = 0; c < asked.size(); ++c)
            s.class_accuracy[c] = asked[c] ? static_cast<double>(agreed[c]) / static_cast<double>(asked[c]) : -1.0;
    }
    for (std::size_t c = 0; c < counts.size(); ++c) {
        s.class_fractions[c] = static_cast<double>(counts[c]) / static_cast<double>(s.samples);
        s.classes_over_5_percent += s.class_fractions[c] >= 0.05;
    }
    return s;
}

}  // namespace tinygan::app
