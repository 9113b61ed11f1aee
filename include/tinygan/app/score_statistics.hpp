// The sample score's statistics (sample_score.hpp), apart from the classifier that feeds them: a
// Gaussian fitted to features and the Fréchet distance of two, and from class probabilities the
// class histogram, the classes holding >= 5% of the samples, and the inception-style score.
// Header-only by default; see compilation.hpp.
#pragma once

#include "../config.hpp"
#include "compilation.hpp"

#include <array>
#include <string>

namespace tinygan::app {

inline constexpr Index score_classes = 10;
// Below this many samples the Fréchet distance of 128 features is noticeably biased upward (its
// covariance estimate is poor): a score says so, and scores compare only at equal sample counts.
inline constexpr Index reliable_score_samples = 2000;

// A Gaussian fitted to feature vectors (one per column): their mean, and their covariance with
// n - 1 in its denominator, as NumPy's np.cov.
struct FeatureStatistics {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;

    static FeatureStatistics of(const Matrix<double>& features);
};

// The square root of a symmetric positive semi-definite matrix (negative rounding noise clipped).
Eigen::MatrixXd symmetric_sqrt(const Eigen::MatrixXd& m);

// d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), the Fréchet distance of two Gaussians.
double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b);

struct SampleScore {
    Index samples = 0;
    double frechet_distance = 0;
    std::array<double, score_classes> class_fractions{};
    int classes_over_5_percent = 0;
    double inception_score = 0;
    // For images drawn for requested classes (a conditional GAN's): how often the classifier agrees
    // with the requested class, overall and per requested class; negative when not measured (for a
    // class: when no image was drawn for it, as after generate --class 3).
    double conditional_accuracy = -1;
    std::array<double, score_classes> class_accuracy{};

    bool conditional() const { return conditional_accuracy >= 0; }
    // "FD 12.3, 10 classes >= 5%, IS 8.91" ("1 class >= 5%"), then ", conditional accuracy 97.30%"
    std::string summary() const;
    // "0: 99.1%, 1: 98.7%, ..." (the conditional accuracy of each class that was requested)
    std::string class_accuracies() const;
    // What to keep in mind reading the score, or "": a Fréchet distance of few samples.
    std::string caveat() const;
    // "0: 9.8%, 1: 11.2%, ..."
    std::string histogram() const;
};

// The class part of a score, from class probabilities (score_classes x samples, one column per
// sample): the share of the samples whose most probable class is c, how many classes hold at
// least 5% of them, and the inception-style score exp(mean over x of KL(p(y|x) || p(y))), p(y)
// being the mean of the columns. frechet_distance is left at 0. With `requested` (one class per
// sample, as a conditional GAN was asked to draw), the conditional accuracy too: the share of the
// samples whose most probable class is the requested one, overall and per requested class.
SampleScore score_class_probabilities(const Matrix<double>& probabilities, const Labels* requested = nullptr);

}  // namespace tinygan::app

#ifndef TINYGAN_SEPARATE_COMPILATION
#include "impl/score_statistics.ipp"
#endif
