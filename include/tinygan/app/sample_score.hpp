// A sample-quality score for generated 28x28 images (MNIST digits, Fashion-MNIST), made with
// tinygan itself: a classifier trained on the data set's training images, and for a set of samples
//  1. the Fréchet distance between Gaussians fitted to the classifier's penultimate features of the
//     samples and of the test set (FID's formula, with this classifier in place of Inception),
//  2. the histogram of predicted classes, and how many classes hold at least 5% of the samples,
//  3. an inception-style score, exp(E_x KL(p(y|x) || p(y))): 1 for one class, up to 10.
// The classifier is trained once (about 20 s on one core) and cached in a checkpoint with the test
// set's feature statistics. The statistics themselves (Fréchet distance, class histogram, inception
// score) are in score_statistics.hpp. Header-only by default; see compilation.hpp.
#pragma once

#include "../config.hpp"
#include "../mnist_idx.hpp"
#include "compilation.hpp"
#include "score_statistics.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tinygan::app {

inline constexpr Index score_pixels = 28 * 28;

// Class labels of an MNIST-format labels file (1-dimensional, values 0-9).
std::vector<std::uint8_t> load_labels(const std::string& path, std::size_t expected_count);

// Images as floats in [0, 1], one per column, from an ImageSet's bytes (columns [first, first+count)).
Matrix<float> images_as_floats(const ImageSet::Bytes& pixels, Index first, Index count);

// FOLDER/NAME or FOLDER/NAME.gz, whichever is there; DataError naming both when neither is.
std::string require_data_file(const std::string& folder, const std::string& name);

class DigitClassifier;  // 784 -> 512 -> 128 -> 10, defined with the implementation

// Scores samples (images in [0, 1], one per column) against the reference statistics of real images.
class SampleScorer {
public:
    // Trains the classifier for `epochs` on (images, labels), measures its accuracy on the test
    // set, and fits the reference statistics to the test images' features.
    SampleScorer(const ImageSet& images, const std::vector<std::uint8_t>& labels, const ImageSet& test,
                 const std::vector<std::uint8_t>& test_labels, int epochs);
    // A scorer saved by save().
    explicit SampleScorer(const std::string& path);
    ~SampleScorer();
    SampleScorer(const SampleScorer&) = delete;
    SampleScorer& operator=(const SampleScorer&) = delete;

    void save(const std::string& path);
    // With `requested` (one class per sample), the conditional accuracy too.
    SampleScore score(const Matrix<float>& samples, const Labels* requested = nullptr);
    double test_accuracy() const { return test_accuracy_; }
    static constexpr const char* format_name = "tinygan-sample-score-classifier-1";

private:
    std::unique_ptr<DigitClassifier> classifier_;
    FeatureStatistics reference_;
    double test_accuracy_ = 0;
};

// The scorer for an MNIST-format data folder: loaded from `cache`, or trained (10 epochs) and
// saved there. `say` gets a line before and after the training.
std::unique_ptr<SampleScorer> load_or_train_scorer(const std::string& data, const std::string& cache,
                                                   const std::function<void(const std::string&)>& say);

}  // namespace tinygan::app

#ifndef TINYGAN_SEPARATE_COMPILATION
#include "impl/sample_score.ipp"
#endif
