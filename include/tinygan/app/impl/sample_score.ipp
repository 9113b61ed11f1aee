// The definitions of sample_score.hpp (see compilation.hpp for when they are compiled).
#pragma once

#include "../../checkpoint.hpp"
#include "../../gan.hpp"
#include "../sample_score.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

namespace tinygan::app {

TINYGAN_APP_INLINE std::vector<std::uint8_t> load_labels(const std::string& path, std::size_t expected_count) {
    const IdxArray array = read_idx(path);
    if (array.dims.size() != 1)
        throw DataError(tinygan::detail::concat(path, " holds a ", array.dims.size(), "-dimensional array; labels need 1"));
    if (array.data.size() != expected_count)
        throw DataError(tinygan::detail::concat(path, " has ", array.data.size(), " labels for ", expected_count, " images"));
    for (std::size_t i = 0; i < array.data.size(); ++i)
        if (array.data[i] >= score_classes)
            throw DataError(tinygan::detail::concat(path, ": label ", int(array.data[i]), " of image ", i, " is not a class 0-9"));
    return array.data;
}

TINYGAN_APP_INLINE Matrix<float> images_as_floats(const ImageSet::Bytes& pixels, Index first, Index count) {
    return pixels.middleCols(first, count).cast<float>() / 255.0f;
}

TINYGAN_APP_INLINE std::string require_data_file(const std::string& folder, const std::string& name) {
    const std::string plain = folder + "/" + name;
    if (std::filesystem::exists(plain)) return plain;
    if (std::filesystem::exists(plain + ".gz")) return plain + ".gz";
    throw DataError("no " + plain + " (nor .gz) in " + folder + ": the scorer needs the four files of an MNIST-format "
                    "data set (train and t10k images and labels)");
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

namespace internal {

inline Eigen::VectorXd score_vector(const TensorFile& file, const std::string& name, Index n, const std::string& source) {
    Eigen::VectorXd v(n);
    tinygan::detail::copy_values(tinygan::detail::find_tensor(file, name, StoredShape{n}, source), v.data());
    return v;
}

inline Eigen::MatrixXd score_matrix(const TensorFile& file, const std::string& name, Index n, const std::string& source) {
    Eigen::MatrixXd m(n, n);
    tinygan::detail::copy_values(tinygan::detail::find_tensor(file, name, StoredShape{n, n}, source), m.data());
    return m;
}

}  // namespace internal

TINYGAN_APP_INLINE SampleScorer::SampleScorer(const ImageSet& images, const std::vector<std::uint8_t>& labels,
                                              const ImageSet& test, const std::vector<std::uint8_t>& test_labels,
                                              int epochs)
    : classifier_(std::make_unique<DigitClassifier>()) {
    classifier_->train(images, labels, epochs);
    const Matrix<float> test_images = images_as_floats(test.pixels(), 0, test.count());
    test_accuracy_ = classifier_->accuracy(test_images, test_labels);
    Matrix<double> features, probabilities;
    classifier_->evaluate(test_images, features, probabilities);
    reference_ = FeatureStatistics::of(features);
}

TINYGAN_APP_INLINE SampleScorer::SampleScorer(const std::string& path) : classifier_(std::make_unique<DigitClassifier>()) {
    const TensorFile file = load_safetensors(path);
    if (metadata_text(file, "format", path) != format_name)
        throw DataError(path + " is not a tinygan sample-score classifier");
    classifier_->load(file, path);
    reference_.mean = internal::score_vector(file, "reference.mean", 128, path);
    reference_.covariance = internal::score_matrix(file, "reference.covariance", 128, path);
    test_accuracy_ = static_cast<double>(metadata_u64(file, "test_accuracy_ppm", path)) / 1e6;
}

TINYGAN_APP_INLINE SampleScorer::~SampleScorer() = default;

TINYGAN_APP_INLINE void SampleScorer::save(const std::string& path) {
    TensorFile file;
    classifier_->save(file);
    file.tensors.emplace_back("reference.mean",
                              tinygan::detail::to_tensor(Matrix<double>(reference_.mean), StoredShape{128}));
    file.tensors.emplace_back("reference.covariance",
                              tinygan::detail::to_tensor(Matrix<double>(reference_.covariance), StoredShape{128, 128}));
    file.metadata["format"] = format_name;
    file.metadata["test_accuracy_ppm"] = std::to_string(std::llround(test_accuracy_ * 1e6));
    save_safetensors(path, file);
}

TINYGAN_APP_INLINE SampleScore SampleScorer::score(const Matrix<float>& samples, const Labels* requested) {
    if (samples.rows() != score_pixels)
        throw ShapeError(tinygan::detail::concat("the scorer takes 28x28 images (784 rows), got ", samples.rows(), " rows"));
    if (samples.cols() < 2) throw ArgumentError("scoring needs at least 2 samples");
    Matrix<double> features, probabilities;
    classifier_->evaluate(samples, features, probabilities);
    SampleScore s = score_class_probabilities(probabilities, requested);
    s.frechet_distance = frechet_distance(FeatureStatistics::of(features), reference_);
    return s;
}

TINYGAN_APP_INLINE std::unique_ptr<SampleScorer> load_or_train_scorer(const std::string& data, const std::string& cache,
                                                                      const std::function<void(const std::string&)>& say) {
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
