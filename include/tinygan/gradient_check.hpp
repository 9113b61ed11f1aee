// Gradient checking against central differences, for layers, whole models and the loss.
// Returns a GradientReport (never prints), so tests and users can assert on it. Use double.
//
// For a layer or model, the objective is f(x, params) = sum(R .* model(x)) with a random probe R,
// so backward(x, R) must return the whole vector-Jacobian product (the method of dlib's test_layer).
// Gradient buffers are filled with NaN before the checked backward: an entry it forgets to write
// shows up as non-finite.
#pragma once

#include "config.hpp"
#include "error.hpp"
#include "loss.hpp"
#include "random.hpp"
#include "sequential.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <limits>
#include <string>
#include <vector>

namespace tinygan {

struct GradientReport {
    double max_relative_error = 0;  // max over entries of |a - n| / max(|a|, |n|, floor)
    std::string worst_entry;        // where it was, with both values
    Index entries_checked = 0;
    std::string non_finite;         // first analytic gradient entry that is NaN/Inf ("" if none)

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

inline void record(GradientReport& report, double analytic, double numeric, double floor, const std::string& where) {
    ++report.entries_checked;
    const double error = std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), floor});
    if (report.worst_entry.empty() || error > report.max_relative_error) {
        report.max_relative_error = error;
        std::ostringstream out;
        out << std::setprecision(10) << where << ": analytic " << analytic << ", numeric " << numeric
            << ", relative error " << error;
        report.worst_entry = out.str();
    }
}

// value(model, x) runs the forward and returns the objective; backward(model, x) then returns
// dObjective/dx and assigns every trainable parameter's gradient.
// dy is the gradient fed into the backward: a layer may return it as dx (Reshape), so it is not poisoned.
template <class Model, class Value, class Backward>
GradientReport compare_with_central_differences(Model& model, const Matrix<double>& x, Value value, Backward backward,
                                                const Matrix<double>& dy, const GradientCheckOptions& options) {
    using M = Matrix<double>;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    GradientReport report;

    // A first pass sizes every buffer; then poison them and run the pass being checked.
    value(model, x);
    const M* dx = &backward(model, x);
    model.for_each_parameter([&](const char*, M&, M& gradient, bool trainable) {
        if (trainable) gradient.setConstant(nan);
    });
    if (options.check_input && dx != &dy && dx != &x) const_cast<M&>(*dx).setConstant(nan);
    value(model, x);
    dx = &backward(model, x);

    std::vector<M> analytic;
    std::vector<std::string> names;
    model.for_each_parameter([&](const char* name, M&, M& gradient, bool trainable) {
        if (!trainable) return;
        analytic.push_back(gradient);
        names.push_back("parameter #" + std::to_string(names.size()) + " (" + name + ")");
    });
    const M analytic_dx = options.check_input ? *dx : M();

    auto note_non_finite = [&](const M& g, const std::string& where) {
        if (report.non_finite.empty() && !g.allFinite()) report.non_finite = where + " has NaN/Inf entries";
    };
    for (std::size_t i = 0; i < analytic.size(); ++i) note_non_finite(analytic[i], names[i]);
    if (options.check_input) note_non_finite(analytic_dx, "input gradient");

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
    model.for_each_parameter([&](const char*, M& parameter, M&, bool trainable) {
        if (!trainable) return;
        for (Index j = 0; j < parameter.cols(); ++j)
            for (Index i = 0; i < parameter.rows(); ++i)
                record(report, analytic[k](i, j), central_difference(parameter(i, j), x), options.relative_floor,
                       names[k] + "(" + std::to_string(i) + "," + std::to_string(j) + ")");
        ++k;
    });
    if (options.check_input) {
        M perturbed = x;
        for (Index j = 0; j < x.cols(); ++j)
            for (Index i = 0; i < x.rows(); ++i)
                record(report, analytic_dx(i, j), central_difference(perturbed(i, j), perturbed),
                       options.relative_floor, "input(" + std::to_string(i) + "," + std::to_string(j) + ")");
    }
    return report;
}

}  // namespace detail

// Checks a layer's (or model's) backward through f = sum(probe .* forward(x)), probe ~ N(0, 1).
template <class Model>
GradientReport check_gradients(Model& model, const Matrix<double>& x, Rng& rng, GradientCheckOptions options = {}) {
    using M = Matrix<double>;
    M probe;
    auto value = [&](Model& m, const M& input) {
        const M& y = m.forward(input);
        if (probe.size() == 0) {
            probe.resize(y.rows(), y.cols());
            rng.fill_normal(probe);
        }
        return (probe.array() * y.array()).sum();
    };
    auto backward = [&](Model& m, const M& input) -> const M& { return m.backward(input, probe, true); };
    value(model, x);  // sizes the probe
    return detail::compare_with_central_differences(model, x, value, backward, probe, options);
}

// Checks the gradient of a model trained with binary cross-entropy, along the path train_on_batch
// takes (through the logits when the model ends in Sigmoid).
template <class Model>
GradientReport check_loss_gradients(Model& model, const Matrix<double>& x, const Matrix<double>& labels,
                                    GradientCheckOptions options = {}) {
    using M = Matrix<double>;
    BinaryCrossEntropy<double> loss;
    auto value = [&](Model& m, const M& input) {
        const M& output = m.forward(input);
        if constexpr (ends_in_sigmoid_v<Model>)
            return loss.from_logits(m.logits(), labels);
        else
            return loss.from_probabilities(output, labels);
    };
    auto backward = [&](Model& m, const M& input) -> const M& {
        if constexpr (ends_in_sigmoid_v<Model>)
            return m.backward_from_logits(input, loss.gradient(), true);
        else
            return m.backward(input, loss.gradient(), true);
    };
    return detail::compare_with_central_differences(model, x, value, backward, loss.gradient(), options);
}

}  // namespace tinygan
