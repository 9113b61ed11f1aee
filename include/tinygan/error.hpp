// The exception types tinygan throws. Every message starts with "tinygan: " and says what was
// expected and what was found; nothing inside the library aborts or exits.
#pragma once

#include "config.hpp"

#include <sstream>
#include <stdexcept>
#include <string>

namespace tinygan {

// Base of everything tinygan throws, so `catch (const tinygan::Error&)` catches it all.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error("tinygan: " + message) {}
};

// Two things that must fit together do not: layer sizes, a batch's rows, a label's columns.
class ShapeError : public Error {
public:
    using Error::Error;
};

// A value outside what the function accepts: a zero-sized layer, a negative learning rate.
class ArgumentError : public Error {
public:
    using Error::Error;
};

// A file that is missing, unreadable, truncated or not in the expected format.
class DataError : public Error {
public:
    using Error::Error;
};

// Training produced NaN or Inf.
class NumericError : public Error {
public:
    using Error::Error;
};

// "(28, 28, 1)", the way Keras prints a shape (without its batch axis).
inline std::string to_string(const Shape& shape) {
    std::ostringstream out;
    out << '(';
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << (shape.size() == 1 ? ",)" : ")");
    return out.str();
}

namespace detail {

// A number for a message: "NaN", "inf" and "-inf" spelled the same on every platform.
template <class Scalar>
std::string number_text(Scalar value) {
    if (value != value) return "NaN";
    std::ostringstream out;
    out << value;
    return out.str();
}

// Concatenates its arguments with operator<<; keeps the throw sites to one readable line.
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::ostringstream out;
    (out << ... << parts);
    return out.str();
}

}  // namespace detail
}  // namespace tinygan
