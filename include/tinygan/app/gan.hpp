// The GAN a training program is made of, as the program harness (gan_program.hpp) drives it: a
// class with a step, a sampler and a checkpoint. A program is its GAN, its flags and a Program
// description; flags, data, the loop, logs, grids, checkpoints, --resume, Ctrl-C, `generate` and
// the score are the harness's. Light to include: a GAN's own translation unit needs only this.
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../mnist_idx.hpp"
#include "../safetensors.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

namespace tinygan::app {

struct StepResult {
    float d_loss;      // mean of the real and fake batches' losses, as Keras' GAN examples report it
    float d_accuracy;  // mean of the two batches' binary accuracies
    float g_loss;
};

class Gan {
public:
    virtual ~Gan() = default;

    // One training step on a batch drawn from `data`.
    virtual StepResult step(const ImageSet& data) = 0;
    // Images in [0, 1], one per column, for the given noise (inference mode; the training buffers
    // and the run's random state are left as they were).
    virtual Matrix<float> sample(const Matrix<float>& noise) = 0;

    // A conditional GAN: how many classes it draws (0 for an unconditional one), and images of the
    // given class for each column of noise. Its training data must have labels.
    virtual Index classes() const { return 0; }
    virtual Matrix<float> sample_classes(const Matrix<float>& noise, const Labels& labels) {
        (void)noise;
        (void)labels;
        throw ArgumentError("this GAN is not conditional: it draws no chosen class");
    }

    virtual Index z_dim() const = 0;
    virtual Index batch_size() const = 0;
    virtual std::uint64_t seed() const = 0;
    virtual std::int64_t steps_done() const = 0;
    // False when a parameter of either model is NaN or Inf (training diverged).
    virtual bool parameters_finite() = 0;

    // Atomic; everything --resume needs.
    virtual void save(const std::string& path) = 0;
    // A run saved by save(); everything is checked before anything changes, so a refused
    // checkpoint leaves the run as it was. `source` names the file in errors.
    virtual void load(const TensorFile& file, const std::string& source) = 0;

    // The models' tables.
    virtual void summary(std::ostream& out) const = 0;

    // The log line for a step (1-based), `total_steps` being the run's length. The default is the
    // reference Keras program's line, which numbers its steps from 0 (its loop variable) and calls
    // them epochs.
    virtual std::string log_line(std::int64_t step, std::int64_t total_steps, const StepResult& r) const {
        (void)total_steps;
        char line[128];
        std::snprintf(line, sizeof line, "Epoch: %lld - D Loss: %.4f - G Loss: %.4f - D Acc: %.2f%%",
                      static_cast<long long>(step - 1), r.d_loss, r.g_loss, 100 * r.d_accuracy);
        return line;
    }
};

// Every class in turn, 0, 1, ..., classes - 1, 0, 1, ...: the same count of each class (give or
// take one), for samples scored for their conditional accuracy and for the batch on which a
// sampler recomputes its BatchNorm statistics.
inline Labels cycling_labels(Index count, Index classes) {
    Labels labels(count);
    for (Index j = 0; j < count; ++j) labels(j) = static_cast<int>(j % classes);
    return labels;
}

// model.predict(x), 64 columns at a time, the examples' training batch at most, so that the
// layers' buffers keep their training size: a convolution's patch matrix grows with the batch (the
// DCGAN's generator held 340 MB of buffers at 512 columns). In inference mode each column is
// computed on its own, so the chunks change nothing but the memory.
template <class Model>
Matrix<float> predict_in_chunks(Model& model, const Matrix<float>& x, Index chunk = 64) {
    Matrix<float> y;
    for (Index start = 0; start < x.cols(); start += chunk) {
        const Index n = std::min(chunk, x.cols() - start);
        const Matrix<float> part = x.middleCols(start, n);
        const Matrix<float>& out = model.predict(part);
        if (y.size() == 0) y.resize(out.rows(), x.cols());
        y.middleCols(start, n) = out;
    }
    return y;
}
// The same for a conditional model, with a class for each column of x.
template <class Model>
Matrix<float> predict_in_chunks(Model& model, const Matrix<float>& x, const Labels& labels, Index chunk = 64) {
    Matrix<float> y;
    for (Index start = 0; start < x.cols(); start += chunk) {
        const Index n = std::min(chunk, x.cols() - start);
        const Matrix<float> part = x.middleCols(start, n);
        const Labels part_labels = labels.middleCols(start, n);
        const Matrix<float>& out = model.predict(part, part_labels);
        if (y.size() == 0) y.resize(out.rows(), x.cols());
        y.middleCols(start, n) = out;
    }
    return y;
}

}  // namespace tinygan::app
