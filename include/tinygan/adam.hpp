// Adam<Scalar> with Keras' defaults and Keras' update ("epsilon hat": epsilon is added to the raw
// sqrt(v), the bias correction is folded into the rate; AdamOptions::pytorch_epsilon for PyTorch's):
//   t += 1;  lr_t = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//   m = beta_1 m + (1 - beta_1) g;  v = beta_2 v + (1 - beta_2) g^2;  p -= lr_t m / (sqrt(v) + epsilon)
// The optimizer owns one m and one v per *trainable* parameter tensor of the model it was built
// for, in visiting order, and one step counter advanced once per step().
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "detail/worker_pool.hpp"
#include "ema.hpp"
#include "layer_concept.hpp"
#include "parameter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace tinygan {

struct AdamOptions {
    double learning_rate = 1e-3;
    double beta_1 = 0.9;
    double beta_2 = 0.999;
    double epsilon = 1e-7;
    // Where epsilon goes. Keras (the default): added to the raw sqrt(v) ("epsilon hat").
    // PyTorch: added to the bias-corrected sqrt(v / (1 - beta_2^t)), which is Keras' form with
    // epsilon * sqrt(1 - beta_2^t) in its place; PyTorch's default epsilon is 1e-8.
    bool pytorch_epsilon = false;
};

template <class ScalarType>
class Adam {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;

    template <class Model>
    explicit Adam(Model& model, AdamOptions options = {}) : options_(options) {
        static_assert(std::is_same_v<typename Model::Scalar, Scalar>,
                      "tinygan: an Adam<Scalar> must match its model's Scalar (Adam<float> for a float model)");
        if constexpr (std::is_same_v<typename Model::Scalar, Scalar>) {
            validate(options_);
            model.for_each_parameter([&](const Parameter<Scalar>& p) {
                if (!p.trainable) return;
                m_.push_back(M::Zero(p.value.rows(), p.value.cols()));
                v_.push_back(M::Zero(p.value.rows(), p.value.cols()));
                stored_shapes_.push_back(p.stored_shape);
            });
            tensor_names_ = trainable_names(model);
            if (m_.empty()) throw ArgumentError("Adam was given a model with no trainable parameters");
        }
    }

    // Applies one update to the model's trainable parameters from their gradients. Frozen tensors
    // are skipped, so an optimizer built for the generator can step the chained generator+frozen
    // discriminator; if the trainable tensors do not match those it was built for, it throws
    // before touching anything.
    template <class Model>
    void step(Model& model) {
        step_with(model, nullptr);
    }

    // The same step, and one update of `average` (the moving average of the tensors this Adam
    // steps, e.g. the generator's, whose trainable tensors are all of them) in the same pass: each
    // chunk of a weight is averaged while it is still in cache. Bit for bit what step(model) and then
    // average.update(generator) compute, in one sweep over the weights instead of two.
    template <class Model>
    void step(Model& model, ExponentialMovingAverage<Scalar>& average) {
        const std::vector<M>& averages = average.averages();
        bool same = averages.size() == m_.size();
        for (std::size_t k = 0; same && k < m_.size(); ++k)
            same = averages[k].rows() == m_[k].rows() && averages[k].cols() == m_[k].cols();
        if (!same)
            throw ArgumentError(detail::concat(
                "Adam::step(model, average) needs an average of exactly the ", m_.size(),
                " tensors this Adam steps, in order; this one holds ", averages.size(),
                " others: build it from the model this Adam trains, or call step(model) and average.update(model)"));
        step_with(model, &average);
    }

    const AdamOptions& options() const { return options_; }
    // Keras' `optimizer.learning_rate = r`: takes effect at the next step.
    void set_learning_rate(double learning_rate) {
        AdamOptions changed = options_;
        changed.learning_rate = learning_rate;
        validate(changed);
        options_ = changed;
    }
    std::int64_t iterations() const { return iterations_; }

    // State, for checkpoints: first and second moments per trainable tensor, and the step count.
    std::vector<M>& first_moments() { return m_; }
    std::vector<M>& second_moments() { return v_; }
    const std::vector<M>& first_moments() const { return m_; }
    const std::vector<M>& second_moments() const { return v_; }
    // The checkpoint layout of the k-th trainable tensor, which its moments share.
    const std::vector<StoredShape>& stored_shapes() const { return stored_shapes_; }
    void set_iterations(std::int64_t t) {
        if (t < 0) throw ArgumentError(detail::concat("Adam iterations must be >= 0, got ", t));
        iterations_ = t;
    }

private:
    using Blend = typename ExponentialMovingAverage<Scalar>::Blend;

    template <class Model>
    void step_with(Model& model, ExponentialMovingAverage<Scalar>* average) {
        static_assert(std::is_same_v<typename Model::Scalar, Scalar>,
                      "tinygan: an Adam<Scalar> must match its model's Scalar (Adam<float> for a float model)");
        if constexpr (std::is_same_v<typename Model::Scalar, Scalar>) {
            require_matching(model);
            ++iterations_;
            const double t = static_cast<double>(iterations_);
            const auto rate = static_cast<Scalar>(options_.learning_rate * std::sqrt(1 - std::pow(options_.beta_2, t)) /
                                                  (1 - std::pow(options_.beta_1, t)));
            const auto b1 = static_cast<Scalar>(options_.beta_1), b2 = static_cast<Scalar>(options_.beta_2);
            const auto eps = static_cast<Scalar>(options_.pytorch_epsilon
                                                     ? options_.epsilon * std::sqrt(1 - std::pow(options_.beta_2, t))
                                                     : options_.epsilon);
            const Blend blend = average ? average->next_blend() : Blend{};
            std::size_t k = 0;
            model.for_each_parameter([&](const Parameter<Scalar>& p) {
                if (!p.trainable) return;
                Scalar *value = p.value.data(), *m = m_[k].data(), *v = v_[k].data();
                Scalar* averaged = average ? average->averages()[k].data() : nullptr;
                const Scalar* g = p.gradient.data();
                detail::parallel_for(p.value.size(), 512, (average ? 13.0 : 10.0) * p.value.size(),
                                     [&](Index begin, Index end) {
                                         update(value + begin, g + begin, m + begin, v + begin, end - begin, rate, b1,
                                                b2, eps, averaged ? averaged + begin : nullptr, blend);
                                     });
                ++k;
            });
        }
    }

    // One pass over the tensor in L1-sized chunks: the three updates of a chunk (four with an
    // average) run back to back while it is in cache, instead of a sweep over the whole tensor
    // each (bench/README.md).
    static void update(Scalar* parameter, const Scalar* gradient, Scalar* first, Scalar* second, Index size,
                       Scalar rate, Scalar b1, Scalar b2, Scalar eps, Scalar* average, const Blend& blend) {
        using Array = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
        constexpr Index chunk = 512;
        for (Index i = 0; i < size; i += chunk) {
            const Index n = std::min(chunk, size - i);
            Eigen::Map<Array> p(parameter + i, n), m(first + i, n), v(second + i, n);
            const Eigen::Map<const Array> g(gradient + i, n);
            m = b1 * m + (Scalar(1) - b1) * g;
            v = b2 * v + (Scalar(1) - b2) * g.square();
            p -= rate * m / (v.sqrt() + eps);
            if (average) blend.apply(average + i, parameter + i, n);
        }
    }

    static void validate(const AdamOptions& o) {
        if (!(o.learning_rate > 0) || !std::isfinite(o.learning_rate))
            throw ArgumentError(detail::concat("Adam learning_rate must be a positive number, got ", o.learning_rate));
        if (!(o.beta_1 >= 0 && o.beta_1 < 1))
            throw ArgumentError(detail::concat("Adam beta_1 must be in [0, 1), got ", o.beta_1));
        if (!(o.beta_2 >= 0 && o.beta_2 < 1))
            throw ArgumentError(detail::concat("Adam beta_2 must be in [0, 1), got ", o.beta_2));
        if (!(o.epsilon > 0) || !std::isfinite(o.epsilon))
            throw ArgumentError(detail::concat("Adam epsilon must be a positive number, got ", o.epsilon));
    }

    // The trainable tensors' names, "dense_1.kernel" in a Sequential, "kernel" in a lone layer:
    // for messages only.
    template <class Model>
    static std::vector<std::string> trainable_names(Model& model) {
        std::vector<std::string> names;
        auto add = [&](const std::string& name, const Parameter<Scalar>& p) {
            if (p.trainable) names.push_back(name);
        };
        if constexpr (detail::has_named_parameters<Model>::value)
            model.for_each_named_parameter(add);
        else
            model.for_each_parameter([&](const Parameter<Scalar>& p) { add(p.name, p); });
        return names;
    }

    // Checked at every step without allocating; the message is built only when it fails.
    template <class Model>
    void require_matching(Model& model) const {
        std::size_t k = 0;
        std::size_t first_difference = m_.size();  // none
        model.for_each_parameter([&](const Parameter<Scalar>& p) {
            if (!p.trainable) return;
            const bool same = k < m_.size() && m_[k].rows() == p.value.rows() && m_[k].cols() == p.value.cols();
            if (!same && first_difference == m_.size()) first_difference = k;
            ++k;
        });
        if (k == m_.size() && first_difference == m_.size()) return;
        std::string difference;
        if (first_difference < m_.size()) {
            std::size_t j = 0;
            std::string found;
            Index rows = 0, cols = 0;
            const std::vector<std::string> names = trainable_names(model);
            model.for_each_parameter([&](const Parameter<Scalar>& p) {
                if (!p.trainable) return;
                if (j == first_difference) rows = p.value.rows(), cols = p.value.cols();
                ++j;
            });
            difference = detail::concat("; trainable tensor ", first_difference, " differs: this Adam's is ",
                                        tensor_names_[first_difference], " (", m_[first_difference].rows(), " x ",
                                        m_[first_difference].cols(), "), the model's is ", names[first_difference], " (",
                                        rows, " x ", cols, ")");
        } else {
            difference = detail::concat(" (the first ", std::min(k, m_.size()), " match)");
        }
        throw ArgumentError(detail::concat(
            "this Adam was built for ", m_.size(), " trainable parameter tensors but the model passed to step() has ", k,
            difference, "; freeze the parts it should not train (tinygan::Frozen) or build it for this model"));
    }

    AdamOptions options_;
    std::vector<M> m_, v_;
    std::vector<StoredShape> stored_shapes_;
    std::vector<std::string> tensor_names_;  // for messages
    std::int64_t iterations_ = 0;
};

}  // namespace tinygan
