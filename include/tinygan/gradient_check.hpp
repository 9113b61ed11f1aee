// Gradient checking against central differences, for layers, whole models and the loss.
// Returns a GradientReport (never prints), so tests and users can assert on it. Use double.
//
// For a layer or model, the objective is f(x, params) = sum(R .* model(x)) with a random probe R,
// so backward(x, R) must return the whole vector-Jacobian product (the method of dlib's test_layer).
// Every gradient buffer, and whatever the backward returns as dx, is filled with NaN before the
// checked backward: an entry it forgets to write shows up as non-finite. Any NaN or Inf, in an
// analytic gradient or in a central difference, fails the check.
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "loss.hpp"
#include "parameter.hpp"
#include "random.hpp"
#include "sequential.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace tinygan {

struct GradientReport {
    double max_relative_error = 0;  // max over entries of |a - n| / max(|a|, |n|, floor)
    std::string worst_entry;        // where it was, with both values: "dense_2.kernel (3, 17): analytic ..."
    Index entries_checked = 0;
    std::string non_finite;         // the first entry whose analytic or numeric value is NaN/Inf ("" if none)

    bool passed(double tolerance = 1e-6) const {
        return non_finite.empty() && entries_checked > 0 && max_relative_error <= tolerance;
    }
};

struct GradientCheckOptions {
    double step = 1e-5;              // central-difference h; ~cbrt(machine epsilon) for double
    double relative_floor = 1e-4;    // below this magnitude the error is measured absolutely
    bool check_input = true;         // also check dLoss/dx
};

namespace detail {

inline std::string entry_name(const std::string& tensor, Index i, Index j) {
    return concat(tensor, " (", i, ", ", j, ")");
}

inline void record(GradientReport& report, double analytic, double numeric, double floor, const std::string& where) {
    ++report.entries_checked;
    if (!std::isfinite(analytic) || !std::isfinite(numeric)) {
        if (report.non_finite.empty())
            report.non_finite = concat(where, ": analytic ", analytic, ", numeric ", numeric, " (not finite)");
        return;
    }
    const double error = std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), floor});
    if (report.worst_entry.empty() || !(error <= report.max_relative_error)) {
        report.max_relative_error = error;
        std::ostringstream out;
        out << std::setprecision(10) << where << ": analytic " << analytic << ", numeric " << numeric
            << ", relative error " << error;
        report.worst_entry = out.str();
    }
}

// value(model, x) runs the forward and returns the objective; backward(model, x) then returns
// dObjective/dx and assigns every trainable parameter's gradient. The model works on a copy of x,
// so nothing it returns can alias the caller's matrix.
template <class Model, class Value, class Backward>
GradientReport compare_with_central_differences(Model& model, const Matrix<double>& x_given, Value value,
                                                Backward backward, const GradientCheckOptions& options) {
    using M = Matrix<double>;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    GradientReport report;
    M x = x_given;

    // A first pass sizes every buffer; then poison them all and run the pass being checked.
    value(model, x);
    M* dx = const_cast<M*>(&backward(model, x));
    model.for_each_parameter([&](const Parameter<double>& p) {
        if (p.trainable) p.gradient.setConstant(nan);
    });
    if (options.check_input) dx->setConstant(nan);
    value(model, x);
    const M& checked_dx = backward(model, x);

    std::vector<M> analytic;
    std::vector<std::string> names;
    for_each_named_parameter(model, [&](const std::string& name, const Parameter<double>& p) {
        if (!p.trainable) return;
        analytic.push_back(p.gradient);
        names.push_back(name);
    });
    const M analytic_dx = options.check_input ? checked_dx : M();

    const double h = options.step;
    auto central_difference = [&](double& entry, const M& input) {
        const double saved = entry;
        entry = saved + h;
        const double plus = value(model, input);
        entry = saved - h;
        const double minus = value(model, input);
        entry = saved;
        return (plus - minus) / (2 * h);
    };

    std::size_t k = 0;
    model.for_each_parameter([&](const Parameter<double>& p) {
        if (!p.trainable) return;
        for (Index j = 0; j < p.value.cols(); ++j)
            for (Index i = 0; i < p.value.rows(); ++i)
                record(report, analytic[k](i, j), central_difference(p.value(i, j), x), options.relative_floor,
                       entry_name(names[k], i, j));
        ++k;
    });
    if (options.check_input) {
        M perturbed = x;
        for (Index j = 0; j < x.cols(); ++j)
            for (Index i = 0; i < x.rows(); ++i)
                record(report, analytic_dx(i, j), central_difference(perturbed(i, j), perturbed),
                       options.relative_floor, entry_name("input", i, j));
    }
    return report;
}

}  // namespace detail

#define TINYGAN_REQUIRE_DOUBLE_MODEL(Model)                                                         \
    static_assert(std::is_same_v<typename Model::Scalar, double>,                                      \
                  "tinygan: gradient checks need a double model (central differences in float are too coarse)")

namespace detail {

template <class Model>
GradientReport check_probed_gradients(Model& model, const Matrix<double>& x, const Labels* labels, Rng& rng,
                                      const GradientCheckOptions& options) {
    using M = Matrix<double>;
    M probe, dy;
    auto value = [&](Model& m, const M& input) {
        const M& y = forward_with(m, input, labels);
        if (probe.size() == 0) {
            probe.resize(y.rows(), y.cols());
            rng.fill_normal(probe);
        }
        return (probe.array() * y.array()).sum();
    };
    // A fresh copy of the probe each time: a layer may hand dy back as its dx (Reshape), which the
    // checker then poisons.
    auto backward = [&](Model& m, const M& input) -> const M& {
        dy = probe;
        return backward_with(m, input, labels, dy, true);
    };
    return compare_with_central_differences(model, x, value, backward, options);
}

template <class Model>
GradientReport check_bce_gradients(Model& model, const Matrix<double>& x, const Matrix<double>& targets,
                                   const Labels* labels, const GradientCheckOptions& options) {
    using M = Matrix<double>;
    BinaryCrossEntropy<double> loss;
    auto value = [&](Model& m, const M& input) {
        const M& output = forward_with(m, input, labels);
        if constexpr (ends_in_sigmoid_v<Model>)
            return loss.from_logits(m.logits(), targets);
        else
            return loss.from_probabilities(output, targets);
    };
    auto backward = [&](Model& m, const M& input) -> const M& {
        if constexpr (ends_in_sigmoid_v<Model>) {
            if constexpr (takes_labels<Model>::value)
                return m.backward_from_logits(input, *labels, loss.gradient(), true);
            else
                return m.backward_from_logits(input, loss.gradient(), true);
        } else {
            return backward_with(m, input, labels, loss.gradient(), true);
        }
    };
    return compare_with_central_differences(model, x, value, backward, options);
}

}  // namespace detail

// Checks a layer's (or model's) backward through f = sum(probe .* forward(x)), probe ~ N(0, 1).
// The model runs in its current mode (set_training) throughout.
template <class Model>
GradientReport check_gradients(Model& model, const Matrix<double>& x, Rng& rng, GradientCheckOptions options = {}) {
    TINYGAN_REQUIRE_DOUBLE_MODEL(Model);
    static_assert(!detail::takes_labels<Model>::value, "tinygan: this model is conditional: pass the labels too");
    if constexpr (!std::is_same_v<typename Model::Scalar, double>)
        return {};
    else
        return detail::check_probed_gradients(model, x, nullptr, rng, options);
}
// The same for a conditional layer or model, with each sample's class. The labels are not
// perturbed (they are not differentiable); every parameter, the conditioning layers' embeddings
// included, and x are.
template <class Model>
GradientReport check_gradients(Model& model, const Matrix<double>& x, const Labels& labels, Rng& rng,
                               GradientCheckOptions options = {}) {
    TINYGAN_REQUIRE_DOUBLE_MODEL(Model);
    static_assert(detail::takes_labels<Model>::value, "tinygan: this model takes no labels");
    if constexpr (!std::is_same_v<typename Model::Scalar, double>)
        return {};
    else
        return detail::check_probed_gradients(model, x, &labels, rng, options);
}

// Checks the gradient of a model trained with binary cross-entropy, along the path train_on_batch
// takes (through the logits when the model ends in Sigmoid). `targets` are BCE's labels in [0, 1].
template <class Model>
GradientReport check_loss_gradients(Model& model, const Matrix<double>& x, const Matrix<double>& targets,
                                    GradientCheckOptions options = {}) {
    TINYGAN_REQUIRE_DOUBLE_MODEL(Model);
    static_assert(!detail::takes_labels<Model>::value, "tinygan: this model is conditional: pass the labels too");
    if constexpr (!std::is_same_v<typename Model::Scalar, double>)
        return {};
    else
        return detail::check_bce_gradients(model, x, targets, nullptr, options);
}
// The same for a conditional model, with each sample's class.
template <class Model>
GradientReport check_loss_gradients(Model& model, const Matrix<double>& x, const Matrix<double>& targets,
                                    const Labels& labels, GradientCheckOptions options = {}) {
    TINYGAN_REQUIRE_DOUBLE_MODEL(Model);
    static_assert(detail::takes_labels<Model>::value, "tinygan: this model takes no labels");
    if constexpr (!std::is_same_v<typename Model::Scalar, double>)
        return {};
    else
        return detail::check_bce_gradients(model, x, targets, &labels, options);
}

#undef TINYGAN_REQUIRE_DOUBLE_MODEL

}  // namespace tinygan
