// A sample-quality score for generated 28x28 images (MNIST digits, Fashion-MNIST), made with
// tinygan itself: a classifier trained on the data set's training images, and for a set of samples
//  1. the Fréchet distance between Gaussians fitted to the classifier's penultimate features of the
//     samples and of the test set (FID's formula, with this classifier in place of Inception),
//  2. the histogram of predicted classes, and how many classes hold at least 5% of the samples,
//  3. an inception-style score, exp(E_x KL(p(y|x) || p(y))): 1 for one class, up to 10.
// The classifier is trained once (about 20 s on one core) and cached in a checkpoint with the test
// set's feature statistics.
#pragma once

#include "../checkpoint.hpp"
#include "../gan.hpp"
#include "../mnist_idx.hpp"
#include "flags.hpp"

#include <Eigen/Eigenvalues>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace tinygan::app {

inline constexpr Index score_classes = 10;
inline constexpr Index score_pixels = 28 * 28;

// Class labels of an MNIST-format labels file (1-dimensional, values 0-9).
inline std::vector<std::uint8_t> load_labels(const std::string& path, std::size_t expected_count) {
    const IdxArray array = read_idx(path);
    if (array.dims.size() != 1)
        throw DataError(detail::concat(path, " holds a ", array.dims.size(), "-dimensional array; labels need 1"));
    if (array.data.size() != expected_count)
        throw DataError(detail::concat(path, " has ", array.data.size(), " labels for ", expected_count, " images"));
    for (std::size_t i = 0; i < array.data.size(); ++i)
        if (array.data[i] >= score_classes)
            throw DataError(detail::concat(path, ": label ", int(array.data[i]), " of image ", i, " is not a class 0-9"));
    return array.data;
}

// Images as floats in [0, 1], one per column, from an ImageSet's bytes (columns [first, first+count)).
inline Matrix<float> images_as_floats(const ImageSet::Bytes& pixels, Index first, Index count) {
    return pixels.middleCols(first, count).cast<float>() / 255.0f;
}

// The classifier: 784 -> 512 (ReLU, dropout 0.2) -> 128 (ReLU) -> 10 logits. Its 128 penultimate
// features are what the Fréchet distance compares.
class DigitClassifier {
public:
    explicit DigitClassifier(std::uint64_t seed = 1)
        : rng_(seed),
          features_(make_sequential("classifier_features", Dense<float>(score_pixels, 512, rng_), ReLU<float>{},
                                    Dropout<float>(0.2f, rng_), Dense<float>(512, 128, rng_), ReLU<float>{})),
          head_(make_sequential("classifier_head", Dense<float>(128, score_classes, rng_))) {}
    DigitClassifier(const DigitClassifier&) = delete;
    DigitClassifier& operator=(const DigitClassifier&) = delete;

    // Adam (Keras' defaults) on shuffled batches of 128 for `epochs` passes over the data.
    void train(const ImageSet& images, const std::vector<std::uint8_t>& labels, int epochs) {
        auto model = chain(features_, head_);
        Adam<float> adam(model);
        SoftmaxCrossEntropy<float> loss;
        const Index n = images.count(), batch = 128;
        std::vector<Index> order(static_cast<std::size_t>(n));
        std::iota(order.begin(), order.end(), Index(0));
        Matrix<float> x(score_pixels, batch), y(score_classes, batch);
        for (int epoch = 0; epoch < epochs; ++epoch) {
            for (Index i = n - 1; i > 0; --i)  // Fisher-Yates, from the classifier's own generator
                std::swap(order[static_cast<std::size_t>(i)],
                          order[rng_.uniform_index(static_cast<std::uint64_t>(i + 1))]);
            for (Index start = 0; start + batch <= n; start += batch) {
                y.setZero();
                for (Index j = 0; j < batch; ++j) {
                    const Index k = order[static_cast<std::size_t>(start + j)];
                    x.col(j) = images.pixels().col(k).cast<float>() / 255.0f;
                    y(labels[static_cast<std::size_t>(k)], j) = 1;
                }
                train_on_batch(model, loss, adam, x, y);
            }
        }
    }

    // Penultimate features (128 x n) and class probabilities (10 x n) of images in [0, 1], in
    // inference mode, in chunks of 1000.
    void evaluate(const Matrix<float>& images, Matrix<double>& features, Matrix<double>& probabilities) {
        features.resize(128, images.cols());
        probabilities.resize(score_classes, images.cols());
        for (Index start = 0; start < images.cols(); start += 1000) {
            const Index count = std::min<Index>(1000, images.cols() - start);
            const Matrix<float> chunk = images.middleCols(start, count);
            const Matrix<float>& f = features_.predict(chunk);
            features.middleCols(start, count) = f.cast<double>();
            const Matrix<float>& z = head_.predict(f);
            for (Index j = 0; j < count; ++j) {
                const Eigen::ArrayXd e = (z.col(j).cast<double>().array() - double(z.col(j).maxCoeff())).exp();
                probabilities.col(start + j) = (e / e.sum()).matrix();
            }
        }
    }

    double accuracy(const Matrix<float>& images, const std::vector<std::uint8_t>& labels) {
        Matrix<double> features, probabilities;
        evaluate(images, features, probabilities);
        Index hits = 0;
        for (Index j = 0; j < probabilities.cols(); ++j) {
            Index predicted = 0;
            probabilities.col(j).maxCoeff(&predicted);
            hits += predicted == labels[static_cast<std::size_t>(j)];
        }
        return static_cast<double>(hits) / static_cast<double>(probabilities.cols());
    }

    void save(TensorFile& file) {
        save_model(file, "features", features_);
        save_model(file, "head", head_);
    }
    void load(const TensorFile& file, const std::string& source) {
        load_model(file, "features", features_, source);
        load_model(file, "head", head_, source);
    }

private:
    Rng rng_;  // declared first: the layers are initialised from it, and Dropout keeps a reference
    Sequential<float, Dense<float>, ReLU<float>, Dropout<float>, Dense<float>, ReLU<float>> features_;
    Sequential<float, Dense<float>> head_;
};

// A Gaussian fitted to feature vectors (one per column).
struct FeatureStatistics {
    Eigen::VectorXd mean;
    Eigen::MatrixXd covariance;

    static FeatureStatistics of(const Matrix<double>& features) {
        FeatureStatistics s;
        s.mean = features.rowwise().mean();
        const Matrix<double> centred = features.colwise() - s.mean;
        s.covariance = centred * centred.transpose() / std::max<double>(1.0, static_cast<double>(features.cols() - 1));
        return s;
    }
};

// The square root of a symmetric positive semi-definite matrix (negative rounding noise clipped).
inline Eigen::MatrixXd symmetric_sqrt(const Eigen::MatrixXd& m) {
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(0.5 * (m + m.transpose()));
    return solver.eigenvectors() * solver.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal() *
           solver.eigenvectors().transpose();
}

// d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), the Fréchet distance of two Gaussians.
inline double frechet_distance(const FeatureStatistics& a, const FeatureStatistics& b) {
    const Eigen::MatrixXd root_a = symmetric_sqrt(a.covariance);
    const Eigen::MatrixXd middle = root_a * b.covariance * root_a;
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(0.5 * (middle + middle.transpose()), Eigen::EigenvaluesOnly);
    const double cross = solver.eigenvalues().cwiseMax(0.0).cwiseSqrt().sum();
    return (a.mean - b.mean).squaredNorm() + a.covariance.trace() + b.covariance.trace() - 2 * cross;
}

struct SampleScore {
    Index samples = 0;
    double frechet_distance = 0;
    std::array<double, score_classes> class_fractions{};
    int classes_over_5_percent = 0;
    double inception_score = 0;

    // "FD 12.3, 10 classes >= 5%, IS 8.91"
    std::string summary() const {
        char text[96];
        std::snprintf(text, sizeof text, "FD %.2f, %d classes >= 5%%, IS %.2f", frechet_distance, classes_over_5_percent,
                      inception_score);
        return text;
    }
    std::string histogram() const {
        std::string text;
        char part[24];
        for (Index c = 0; c < score_classes; ++c) {
            std::snprintf(part, sizeof part, "%s%d: %.1f%%", c ? ", " : "", int(c), 100 * class_fractions[static_cast<std::size_t>(c)]);
            text += part;
        }
        return text;
    }
};

// Scores samples (images in [0, 1], one per column) against the reference statistics of real images.
class SampleScorer {
public:
    // Trains the classifier for `epochs` on (images, labels), measures its accuracy on the test
    // set, and fits the reference statistics to the test images' features.
    SampleScorer(const ImageSet& images, const std::vector<std::uint8_t>& labels, const ImageSet& test,
                 const std::vector<std::uint8_t>& test_labels, int epochs) {
        classifier_.train(images, labels, epochs);
        const Matrix<float> test_images = images_as_floats(test.pixels(), 0, test.count());
        test_accuracy_ = classifier_.accuracy(test_images, test_labels);
        Matrix<double> features, probabilities;
        classifier_.evaluate(test_images, features, probabilities);
        reference_ = FeatureStatistics::of(features);
    }

    // A scorer saved by save().
    explicit SampleScorer(const std::string& path) {
        const TensorFile file = load_safetensors(path);
        if (metadata_text(file, "format", path) != format_name)
            throw DataError(path + " is not a tinygan sample-score classifier");
        classifier_.load(file, path);
        reference_.mean = vector_of(file, "reference.mean", 128, path);
        reference_.covariance = matrix_of(file, "reference.covariance", 128, path);
        test_accuracy_ = static_cast<double>(metadata_u64(file, "test_accuracy_ppm", path)) / 1e6;
    }

    void save(const std::string& path) {
        TensorFile file;
        classifier_.save(file);
        file.tensors.emplace_back("reference.mean", detail::to_tensor(Matrix<double>(reference_.mean), StoredShape{128}));
        file.tensors.emplace_back("reference.covariance",
                                  detail::to_tensor(Matrix<double>(reference_.covariance), StoredShape{128, 128}));
        file.metadata["format"] = format_name;
        file.metadata["test_accuracy_ppm"] = std::to_string(std::llround(test_accuracy_ * 1e6));
        save_safetensors(path, file);
    }

    SampleScore score(const Matrix<float>& samples) {
        if (samples.rows() != score_pixels)
            throw ShapeError(detail::concat("the scorer takes 28x28 images (784 rows), got ", samples.rows(), " rows"));
        if (samples.cols() < 2) throw ArgumentError("scoring needs at least 2 samples");
        Matrix<double> features, probabilities;
        classifier_.evaluate(samples, features, probabilities);
        SampleScore s;
        s.samples = samples.cols();
        s.frechet_distance = frechet_distance(FeatureStatistics::of(features), reference_);
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
        for (std::size_t c = 0; c < counts.size(); ++c) {
            s.class_fractions[c] = static_cast<double>(counts[c]) / static_cast<double>(s.samples);
            s.classes_over_5_percent += s.class_fractions[c] >= 0.05;
        }
        return s;
    }

    double test_accuracy() const { return test_accuracy_; }
    static constexpr const char* format_name = "tinygan-sample-score-classifier-1";

private:
    static Eigen::VectorXd vector_of(const TensorFile& file, const std::string& name, Index n, const std::string& source) {
        Eigen::VectorXd v(n);
        detail::copy_values(detail::find_tensor(file, name, StoredShape{n}, source), v.data());
        return v;
    }
    static Eigen::MatrixXd matrix_of(const TensorFile& file, const std::string& name, Index n, const std::string& source) {
        Eigen::MatrixXd m(n, n);
        detail::copy_values(detail::find_tensor(file, name, StoredShape{n, n}, source), m.data());
        return m;
    }

    DigitClassifier classifier_;
    FeatureStatistics reference_;
    double test_accuracy_ = 0;
};

// FOLDER/NAME or FOLDER/NAME.gz, whichever is there; DataError naming both when neither is.
inline std::string require_data_file(const std::string& folder, const std::string& name) {
    const std::string plain = folder + "/" + name;
    if (std::filesystem::exists(plain)) return plain;
    if (std::filesystem::exists(plain + ".gz")) return plain + ".gz";
    throw DataError("no " + plain + " (nor .gz) in " + folder + ": the scorer needs the four files of an MNIST-format "
                    "data set (train and t10k images and labels)");
}

// The scorer for an MNIST-format data folder: loaded from `cache`, or trained (10 epochs) and
// saved there. `say` gets a line before and after the training.
template <class Say>
std::unique_ptr<SampleScorer> load_or_train_scorer(const std::string& data, const std::string& cache, Say&& say) {
    if (std::filesystem::exists(cache)) return std::make_unique<SampleScorer>(cache);
    const std::string train_path = require_data_file(data, "train-images-idx3-ubyte");
    say("training the scoring classifier on " + train_path + " (once; it is cached in " + cache + ")");
    const ImageSet images = ImageSet::load(train_path);
    const auto labels = load_labels(require_data_file(data, "train-labels-idx1-ubyte"), static_cast<std::size_t>(images.count()));
    const ImageSet test = ImageSet::load(require_data_file(data, "t10k-images-idx3-ubyte"));
    const auto test_labels = load_labels(require_data_file(data, "t10k-labels-idx1-ubyte"), static_cast<std::size_t>(test.count()));
    auto scorer = std::make_unique<SampleScorer>(images, labels, test, test_labels, 10);
    std::error_code ignored;
    if (std::filesystem::path(cache).has_parent_path())
        std::filesystem::create_directories(std::filesystem::path(cache).parent_path(), ignored);
    scorer->save(cache);
    char line[160];
    std::snprintf(line, sizeof line, "scoring classifier: %.2f%% accuracy on the %lld test images", 100 * scorer->test_accuracy(),
                  static_cast<long long>(test.count()));
    say(line);
    return scorer;
}

}  // namespace tinygan::app
