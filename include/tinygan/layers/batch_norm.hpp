// BatchNorm<Scalar>(channels, momentum, epsilon): Keras' BatchNormalization over the last axis, for
// feature vectors (features x batch) and for channels-last images ((H, W, C) samples, C = channels).
//
// Training mode normalizes with the batch statistics (mean and biased variance over the batch, and
// over every pixel for images) and, when the layer is trainable, moves the moving statistics
// towards them: moving = momentum * moving + (1 - momentum) * batch. Inference mode (predict)
// normalizes with the moving statistics. A frozen BatchNorm (trainable(false), e.g. the
// discriminator in the generator's step) still normalizes with its batch statistics in training
// mode but leaves the moving statistics alone. gamma and beta are trained; the moving mean and
// variance are state (Parameter::is_state): checkpoints save them, optimizers skip them.
//
// Keras' defaults are momentum 0.99 and epsilon 1e-3; PyTorch's BatchNorm uses momentum 0.9 in
// these terms, epsilon 1e-5, and the unbiased batch variance for its running variance
// (Options::unbiased_moving_variance).
#pragma once

#include "../config.hpp"
#include "../error.hpp"
#include "../layer_concept.hpp"
#include "../parameter.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace tinygan {

template <class ScalarType>
class BatchNorm {
public:
    using Scalar = ScalarType;
    using M = Matrix<Scalar>;
    using Col = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

    struct Options {
        double momentum = 0.99;
        double epsilon = 1e-3;
        bool unbiased_moving_variance = false;  // PyTorch's running_var
    };

    explicit BatchNorm(Index channels, Options options = {}) : options_(options) {
        if (channels <= 0) throw ArgumentError(detail::concat("BatchNorm needs a positive channel count, got ", channels));
        if (!(options.momentum >= 0 && options.momentum < 1))
            throw ArgumentError(detail::concat("BatchNorm momentum must be in [0, 1), got ", options.momentum));
        if (!(options.epsilon > 0) || !std::isfinite(options.epsilon))
            throw ArgumentError(detail::concat("BatchNorm epsilon must be a positive number, got ", options.epsilon));
        gamma_ = M::Ones(channels, 1);
        beta_ = M::Zero(channels, 1);
        dgamma_ = M::Zero(channels, 1);
        dbeta_ = M::Zero(channels, 1);
        moving_mean_ = M::Zero(channels, 1);
        moving_variance_ = M::Ones(channels, 1);
    }
    BatchNorm(Index channels, double momentum, double epsilon = 1e-3) : BatchNorm(channels, Options{momentum, epsilon}) {}

    void set_training(bool on) { training_ = on; }
    bool training() const { return training_; }

    // x: (S*C) x batch, C channels fastest (S = 1 for feature vectors, H*W pixels for images).
    // Seen as a (C x S*batch) matrix, the statistics are per row.
    //   training:  x_hat = (x - mean) / sqrt(var + eps) over the batch;  y = gamma x_hat + beta
    //   inference: the same with the moving mean and variance.
    const M& forward(const M& x) {
        const Index c = channels();
        if (x.rows() % c != 0)
            throw ShapeError(detail::concat(description(), " expects a multiple of ", c, " features (rows), got ", x.rows()));
        const Index n = x.size() / c;  // values per channel
        if (training_ && n < 2)
            throw ShapeError(detail::concat(description(), " in training mode needs more than one value per channel, got ",
                                            n, " (a batch of one sample?)"));
        y_.resize(x.rows(), x.cols());
        x_hat_.resize(x.rows(), x.cols());
        const auto X = as_channels(x);
        auto Y = as_channels(y_), X_hat = as_channels(x_hat_);
        if (training_) {
            mean_ = X.rowwise().mean();
            X_hat = X.colwise() - mean_;
            variance_ = X_hat.rowwise().squaredNorm() / static_cast<Scalar>(n);
            inv_std_ = (variance_.array() + static_cast<Scalar>(options_.epsilon)).rsqrt().matrix();
            if (trainable_) {
                const auto m = static_cast<Scalar>(options_.momentum);
                const Scalar correction = options_.unbiased_moving_variance ? static_cast<Scalar>(n) / static_cast<Scalar>(n - 1) : 1;
                moving_mean_ = m * moving_mean_ + (1 - m) * mean_;
                moving_variance_ = m * moving_variance_ + (1 - m) * correction * variance_;
            }
        } else {
            inv_std_ = (moving_variance_.array() + static_cast<Scalar>(options_.epsilon)).rsqrt().matrix();
            X_hat = X.colwise() - moving_mean_.col(0);
        }
        X_hat = inv_std_.asDiagonal() * X_hat;
        Y.array() = (X_hat.array().colwise() * gamma_.col(0).array()).colwise() + beta_.col(0).array();
        return y_;
    }

    // dgamma = sum(dy x_hat), dbeta = sum(dy), per channel. In training mode the statistics depend
    // on x, so dx = gamma / (n sigma) (n dy - sum(dy) - x_hat sum(dy x_hat)); in inference mode
    // dx = gamma dy / sigma.
    const M& backward(const M& x, const M& dy, bool need_dx = true) {
        TINYGAN_ASSERT(dy.rows() == x.rows() && dy.cols() == x.cols() && x_hat_.size() == x.size());
        const auto DY = as_channels(dy);
        const auto X_hat = as_channels(x_hat_);
        sum_dy_ = DY.rowwise().sum();
        sum_dy_x_hat_ = DY.cwiseProduct(X_hat).rowwise().sum();
        if (trainable_) {
            dgamma_ = sum_dy_x_hat_;
            dbeta_ = sum_dy_;
        }
        if (need_dx) {
            dx_.resize(x.rows(), x.cols());
            auto DX = as_channels(dx_);
            scale_ = gamma_.col(0).cwiseProduct(inv_std_);
            if (training_) {
                const Scalar n = static_cast<Scalar>(X_hat.cols());
                sum_dy_ /= n;  // now the means
                sum_dy_x_hat_ /= n;
                DX.array() = ((DY.array().colwise() - sum_dy_.array()) - X_hat.array().colwise() * sum_dy_x_hat_.array())
                                 .colwise() * scale_.array();
            } else {
                DX.array() = DY.array().colwise() * scale_.array();
            }
        }
        return dx_;
    }

    template <class F>
    void for_each_parameter(F&& f) {
        const StoredShape shape{gamma_.rows()};
        f(Parameter<Scalar>{"gamma", gamma_, dgamma_, trainable_, false, shape});
        f(Parameter<Scalar>{"beta", beta_, dbeta_, trainable_, false, shape});
        f(Parameter<Scalar>{"moving_mean", moving_mean_, no_gradient_, false, true, shape});
        f(Parameter<Scalar>{"moving_variance", moving_variance_, no_gradient_, false, true, shape});
    }

    // Accepts feature vectors of `channels` entries and images whose last axis has `channels`.
    Shape output_shape(const Shape& input) const { return input; }
    std::string input_mismatch(const Shape& input) const {
        if (!input.empty() && input.back() == channels()) return {};
        return detail::concat("expects samples whose last axis has ", channels(), " channels");
    }
    std::optional<Shape> declared_input_shape() const { return std::nullopt; }
    std::string type_name() const { return "BatchNorm"; }
    std::string description() const { return detail::concat("BatchNorm ", channels()); }
    Index parameter_count() const { return 4 * channels(); }
    bool trainable() const { return trainable_; }
    void trainable(bool on) { trainable_ = on; }

    Index channels() const { return gamma_.rows(); }
    const Options& options() const { return options_; }
    // The momentum of the moving statistics from now on (0: they become the next batch's statistics).
    void set_momentum(double momentum) {
        if (!(momentum >= 0 && momentum < 1))
            throw ArgumentError(detail::concat("BatchNorm momentum must be in [0, 1), got ", momentum));
        options_.momentum = momentum;
    }

    // For update_batch_norm_statistics: adds each channel's sum of x and of x^2 (in double) to
    // `sums` (channels x 2), and reads or sets the moving statistics outright.
    void add_channel_sums(const M& x, Eigen::MatrixX2d& sums) const {
        const auto X = as_channels(x);
        for (Index j = 0; j < X.cols(); ++j)
            for (Index c = 0; c < X.rows(); ++c) {
                const double value = static_cast<double>(X(c, j));
                sums(c, 0) += value;
                sums(c, 1) += value * value;
            }
    }
    void set_moving_statistics(const Eigen::VectorXd& mean, const Eigen::VectorXd& variance) {
        moving_mean_ = mean.cast<Scalar>();
        moving_variance_ = variance.cast<Scalar>();
    }
    std::pair<Eigen::VectorXd, Eigen::VectorXd> moving_statistics() const {
        return {moving_mean_.col(0).template cast<double>(), moving_variance_.col(0).template cast<double>()};
    }

private:
    // The (C x S*batch) view of a (S*C x batch) matrix: the same memory, channels as rows.
    Eigen::Map<const M> as_channels(const M& m) const { return {m.data(), channels(), m.size() / channels()}; }
    Eigen::Map<M> as_channels(M& m) const { return {m.data(), channels(), m.size() / channels()}; }

    Options options_;
    M gamma_, beta_, dgamma_, dbeta_, moving_mean_, moving_variance_, no_gradient_;
    Col mean_, variance_, inv_std_, sum_dy_, sum_dy_x_hat_, scale_;
    M y_, x_hat_, dx_;
    bool training_ = true, trainable_ = true;
};

// PyTorch's torch.optim.swa_utils.update_bn: makes every BatchNorm of `model` hold the statistics
// of the batch x as its moving statistics, for weights whose own moving statistics are not theirs
// (a moving average of the weights, ema.hpp): what one forward of x in training mode would leave
// with momentum 0. It runs `chunk` columns at a time, so that a large x (the DCGAN's 512 noise
// vectors) never needs the layers' buffers at its whole width: one pass over the chunks per
// BatchNorm, through the layers before it only, the BatchNorms before it normalising with the
// whole batch's mean and biased variance as training mode does (the sums are kept in double, so
// the statistics may differ from one training-mode forward's in their last float bits). Leaves
// the model in inference mode, ready to predict; a Dropout passes everything through meanwhile.
namespace detail {

// The passes of update_batch_norm_statistics, for the BatchNorms `norms` of `model` in order.
template <class Model, class Norm>
void collect_batch_norm_statistics(Model& model, const std::vector<Norm*>& norms, const Matrix<typename Model::Scalar>& x,
                                   const Labels* labels, Index chunk) {
    using Scalar = typename Model::Scalar;
    Matrix<Scalar> part;
    Labels part_labels;
    std::vector<double> values(norms.size(), 0.0);  // per channel
    std::vector<Eigen::VectorXd> means(norms.size()), variances(norms.size());
    for (std::size_t target = 0; target < norms.size(); ++target) {
        Eigen::MatrixX2d sums = Eigen::MatrixX2d::Zero(norms[target]->channels(), 2);
        for (Index start = 0; start < x.cols(); start += chunk) {
            const Index n = std::min(chunk, x.cols() - start);
            part = x.middleCols(start, n);
            if (labels) part_labels = labels->middleCols(start, n);
            const Matrix<Scalar>* input = &part;
            bool reached = false;  // the layers after the target are not run
            for_each_leaf_layer(model, [&](auto& layer) {
                if (reached) return;
                if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, Norm>) {
                    if (&layer == norms[target]) {
                        layer.add_channel_sums(*input, sums);
                        values[target] += static_cast<double>(input->size() / layer.channels());
                        reached = true;
                        return;
                    }
                }
                input = &forward_with(layer, *input, labels ? &part_labels : nullptr);
            });
        }
        if (values[target] < 2)
            throw ShapeError(concat("update_batch_norm_statistics needs more than one value per channel, ",
                                    norms[target]->description(), " got ", values[target], " (a batch of one sample?)"));
        means[target] = sums.col(0) / values[target];
        variances[target] = (sums.col(1) / values[target] - means[target].cwiseAbs2()).cwiseMax(0.0);
        norms[target]->set_moving_statistics(means[target], variances[target]);  // biased, for the passes after
    }
    // The moving variance a training-mode forward keeps: unbiased when the layer asks for it.
    for (std::size_t k = 0; k < norms.size(); ++k) {
        if (!norms[k]->options().unbiased_moving_variance) continue;
        const double n = values[k];
        norms[k]->set_moving_statistics(means[k], variances[k] * (n / (n - 1)));
    }
}

template <class Model>
void update_batch_norm_statistics(Model& model, const Matrix<typename Model::Scalar>& x, const Labels* labels,
                                  Index chunk) {
    using Norm = BatchNorm<typename Model::Scalar>;
    if (chunk < 1) throw ArgumentError(concat("update_batch_norm_statistics needs chunks of at least 1 column, got ", chunk));
    if (labels && labels->cols() != x.cols())
        throw ShapeError(concat("update_batch_norm_statistics: the batch has ", x.cols(), " samples (columns of x) but ",
                                labels->cols(), " labels"));
    std::vector<Norm*> norms;
    for_each_leaf_layer(model, [&](auto& layer) {  // nested models' BatchNorms too
        if constexpr (std::is_same_v<std::decay_t<decltype(layer)>, Norm>) norms.push_back(&layer);
    });
    model.set_training(false);
    // A batch that fails at a later BatchNorm (one value per channel, a bad label) leaves the
    // earlier ones as they were: their statistics are put back before the error goes on.
    std::vector<std::pair<Eigen::VectorXd, Eigen::VectorXd>> saved;
    for (const Norm* norm : norms) saved.push_back(norm->moving_statistics());
    try {
        collect_batch_norm_statistics(model, norms, x, labels, chunk);
    } catch (...) {
        for (std::size_t k = 0; k < norms.size(); ++k) norms[k]->set_moving_statistics(saved[k].first, saved[k].second);
        throw;
    }
}

}  // namespace detail

template <class Model>
void update_batch_norm_statistics(Model& model, const Matrix<typename Model::Scalar>& x, Index chunk = 64) {
    detail::update_batch_norm_statistics(model, x, nullptr, chunk);
}
// The same for a conditional model, with a class for each column of x.
template <class Model>
void update_batch_norm_statistics(Model& model, const Matrix<typename Model::Scalar>& x, const Labels& labels,
                                  Index chunk = 64) {
    detail::update_batch_norm_statistics(model, x, &labels, chunk);
}

}  // namespace tinygan
