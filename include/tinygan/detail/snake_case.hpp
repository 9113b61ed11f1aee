// Keras' spelling of a layer type in layer names: "ReLU" -> "re_lu", "Dense" -> "dense".
#pragma once

#include <cctype>
#include <string>

namespace tinygan::detail {

inline std::string snake_case(const std::string& type) {
    std::string out;
    for (std::size_t i = 0; i < type.size(); ++i) {
        const char c = type[i];
        if (std::isupper(static_cast<unsigned char>(c)) && i > 0 && std::islower(static_cast<unsigned char>(type[i - 1])))
            out += '_';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

}  // namespace tinygan::detail
