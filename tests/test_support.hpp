// Helpers shared by the tests: random matrices and a check that an expression throws a given
// tinygan error whose message contains a given fragment.
#pragma once

#include <tinygan/gan.hpp>

#include <doctest/doctest.h>

#include <string>

namespace tinygan::test {

template <class Scalar>
Matrix<Scalar> random_matrix(Index rows, Index cols, Rng& rng) {
    Matrix<Scalar> m(rows, cols);
    rng.fill_normal(m);
    return m;
}

// Normal entries pushed at least `gap` away from 0, so ReLU's kink never sits within a finite-difference step.
template <class Scalar>
Matrix<Scalar> random_away_from_zero(Index rows, Index cols, Rng& rng, Scalar gap = Scalar(0.1)) {
    Matrix<Scalar> m = random_matrix<Scalar>(rows, cols, rng);
    m = m.unaryExpr([gap](Scalar v) { return v >= 0 ? v + gap : v - gap; });
    return m;
}

}  // namespace tinygan::test

// CHECK that `expression` throws ErrorType with `fragment` in its message.
#define TINYGAN_CHECK_THROWS_WITH_FRAGMENT(expression, ErrorType, fragment)                       \
    do {                                                                                        \
        bool tinygan_thrown_ = false;                                                           \
        try {                                                                                   \
            (void)(expression);                                                                 \
        } catch (const ErrorType& tinygan_error_) {                                             \
            tinygan_thrown_ = true;                                                             \
            const std::string tinygan_message_ = tinygan_error_.what();                         \
            INFO("message: " << tinygan_message_);                                              \
            CHECK(tinygan_message_.find(fragment) != std::string::npos);                        \
        }                                                                                       \
        CHECK_MESSAGE(tinygan_thrown_, #expression " did not throw " #ErrorType);                \
    } while (0)
