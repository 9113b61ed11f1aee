// Reference values from an independent implementation (PyTorch and NumPy in float64), written by
// tests/reference/make_references.py into tests/reference/*.txt: reading them, loading their
// tensors into a layer, and comparing a result with them. The file format is described at the top
// of the script. TINYGAN_REFERENCE_DIR (tests/CMakeLists.txt) names the folder.
#pragma once

#include <tinygan/config.hpp>
#include <tinygan/parameter.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TINYGAN_REFERENCE_DIR
#error "TINYGAN_REFERENCE_DIR must name tests/reference (tests/CMakeLists.txt defines it)"
#endif

namespace tinygan::test {

// One case of a reference file: named numbers and named matrices.
struct ReferenceCase {
    std::string name;
    std::map<std::string, double> numbers;
    std::map<std::string, Matrix<double>> tensors;

    bool has(const std::string& key) const { return numbers.count(key) || tensors.count(key); }
    double number(const std::string& key) const {
        const auto found = numbers.find(key);
        if (found == numbers.end()) throw std::runtime_error("reference case " + name + " has no number " + key);
        return found->second;
    }
    Index integer(const std::string& key) const { return static_cast<Index>(std::llround(number(key))); }
    const Matrix<double>& tensor(const std::string& key) const {
        const auto found = tensors.find(key);
        if (found == tensors.end()) throw std::runtime_error("reference case " + name + " has no tensor " + key);
        return found->second;
    }
};

// Every case of tests/reference/<file>; throws std::runtime_error (doctest reports it) when the
// file is missing or malformed.
inline std::vector<ReferenceCase> load_reference(const std::string& file) {
    const std::string path = std::string(TINYGAN_REFERENCE_DIR) + "/" + file;
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot open " + path + ": regenerate it with /usr/bin/python3 tests/reference/make_references.py");
    auto malformed = [&](const std::string& what) { return std::runtime_error(path + " is malformed: " + what); };
    std::vector<ReferenceCase> cases;
    std::string word;
    while (in >> word) {
        if (word[0] == '#') {
            std::getline(in, word);
            continue;
        }
        if (word != "case") throw malformed("expected `case`, found `" + word + "`");
        ReferenceCase c;
        if (!(in >> c.name)) throw malformed("a case without a name");
        while (in >> word && word != "end") {
            std::string key;
            if (word == "number") {
                double value = 0;
                if (!(in >> key >> value)) throw malformed("bad number in case " + c.name);
                c.numbers[key] = value;
            } else if (word == "tensor") {
                Index rows = 0, cols = 0;
                if (!(in >> key >> rows >> cols) || rows <= 0 || cols <= 0)
                    throw malformed("bad tensor header in case " + c.name);
                Matrix<double> m(rows, cols);
                for (Index i = 0; i < m.size(); ++i)  // column-major, as tinygan holds it
                    if (!(in >> m.data()[i])) throw malformed("tensor " + key + " of case " + c.name + " is short");
                c.tensors[key] = std::move(m);
            } else {
                throw malformed("unknown entry `" + word + "` in case " + c.name);
            }
        }
        if (word != "end") throw malformed("case " + c.name + " has no `end`");
        cases.push_back(std::move(c));
    }
    if (cases.empty()) throw malformed("no cases");
    return cases;
}

// max |actual - expected| / max |expected|: the error relative to the tensor's scale. Infinite
// when the shapes differ or either holds a NaN or an Inf, so `error <= tolerance` fails then.
template <class A, class B>
double relative_error(const Eigen::MatrixBase<A>& actual, const Eigen::MatrixBase<B>& expected) {
    if (actual.rows() != expected.rows() || actual.cols() != expected.cols() || !actual.allFinite() ||
        !expected.allFinite())
        return std::numeric_limits<double>::infinity();
    if (expected.size() == 0) return 0;
    const double scale = std::max(expected.template cast<double>().cwiseAbs().maxCoeff(), 1e-300);
    return (actual.template cast<double>() - expected.template cast<double>()).cwiseAbs().maxCoeff() / scale;
}

// CHECKs that `actual` equals `expected` to `tolerance` relative to expected's largest entry; the
// message names the tensor, the shapes and the worst entry.
template <class A, class B>
void check_close(const std::string& what, const Eigen::MatrixBase<A>& actual, const Eigen::MatrixBase<B>& expected,
                 double tolerance) {
    const double error = relative_error(actual, expected);
    std::ostringstream detail;
    detail << what << ": relative error " << error << " (tolerance " << tolerance << ")";
    if (actual.rows() != expected.rows() || actual.cols() != expected.cols()) {
        detail << "; shapes differ: " << actual.rows() << " x " << actual.cols() << ", reference " << expected.rows()
               << " x " << expected.cols();
    } else if (actual.size() > 0) {
        Index worst = 0;
        const Matrix<double> difference = (actual.template cast<double>() - expected.template cast<double>()).cwiseAbs();
        const double* d = difference.data();
        for (Index i = 1; i < difference.size() && !std::isnan(d[worst]); ++i)
            if (std::isnan(d[i]) || d[i] > d[worst]) worst = i;  // a NaN is the worst
        detail << "; worst at (" << worst % actual.rows() << ", " << worst / actual.rows()
               << "): " << Matrix<double>(actual.template cast<double>()).data()[worst] << ", reference "
               << Matrix<double>(expected.template cast<double>()).data()[worst];
    }
    CHECK_MESSAGE(error <= tolerance, detail.str());
}

// Replaces the tensor called `name` of a layer (REQUIREs that it exists and has the same shape).
template <class Layer>
void set_tensor(Layer& layer, const std::string& name, const Matrix<double>& value) {
    bool seen = false;
    layer.for_each_parameter([&](const Parameter<typename Layer::Scalar>& p) {
        if (name != p.name) return;
        seen = true;
        REQUIRE_MESSAGE((p.value.rows() == value.rows() && p.value.cols() == value.cols()),
                        name << " is " << p.value.rows() << " x " << p.value.cols() << ", the reference "
                             << value.rows() << " x " << value.cols());
        p.value = value.cast<typename Layer::Scalar>();
    });
    REQUIRE_MESSAGE(seen, "no tensor " << name);
}

// Sets the gradient of the tensor called `name`, as a backward would.
template <class Layer>
void set_gradient(Layer& layer, const std::string& name, const Matrix<double>& gradient) {
    bool seen = false;
    layer.for_each_parameter([&](const Parameter<typename Layer::Scalar>& p) {
        if (name != p.name) return;
        seen = true;
        REQUIRE((p.gradient.rows() == gradient.rows() && p.gradient.cols() == gradient.cols()));
        p.gradient = gradient.cast<typename Layer::Scalar>();
    });
    REQUIRE_MESSAGE(seen, "no tensor " << name);
}

}  // namespace tinygan::test
