// Command-line flags for tinygan's programs: each flag is declared once, with its target, range and
// help line, and the parser checks every value before any work starts. Hand-written: the
// alternatives measured (bench/README.md) cost more compile time than the whole parser is long.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tinygan::app {

// A bad command line; programs print it with a hint to --help and exit with status 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Flags {
public:
    // An integer flag within [min, max].
    void add(const std::string& name, std::int64_t& target, std::int64_t min, std::int64_t max, std::string help) {
        add_flag(name, "N", std::move(help), [&target, name, min, max](const std::string& text) {
            target = parse_integer(name, text, min, max);
        });
    }
    // A non-negative 64-bit integer flag (a seed).
    void add(const std::string& name, std::uint64_t& target, std::string help) {
        add_flag(name, "S", std::move(help), [&target, name](const std::string& text) { target = parse_unsigned(name, text); });
    }
    // A positive, finite real flag.
    void add(const std::string& name, double& target, std::string help) {
        add_flag(name, "R", std::move(help), [&target, name](const std::string& text) { target = parse_positive_real(name, text); });
    }
    // A non-empty text flag: a path, or what `metavar` says.
    void add(const std::string& name, std::string& target, std::string help, std::string metavar = "PATH") {
        add_flag(name, std::move(metavar), std::move(help), [&target, name](const std::string& text) {
            if (text.empty()) throw UsageError(name + " needs a non-empty value");
            target = text;
        });
    }
    // One of a few words.
    void add_choice(const std::string& name, std::string& target, std::vector<std::string> choices, std::string help) {
        std::string metavar;
        for (const auto& choice : choices) metavar += (metavar.empty() ? "" : "|") + choice;
        add_flag(name, metavar, std::move(help), [&target, name, choices](const std::string& text) {
            std::string list;
            for (const auto& choice : choices) {
                if (choice == text) {
                    target = text;
                    return;
                }
                list += (list.empty() ? "" : ", ") + choice;
            }
            throw UsageError(name + " must be one of " + list + ", got \"" + text + "\"");
        });
    }
    // A flag without a value.
    void add_switch(const std::string& name, bool& target, std::string help) {
        flags_.push_back({name, "", std::move(help), nullptr, &target});
    }

    // Parses args[first...]; `context` (" for generate") goes into the unknown-flag message.
    void parse(const std::vector<std::string>& args, std::size_t first = 0, const std::string& context = "") const {
        for (std::size_t i = first; i < args.size(); ++i) {
            std::string name = args[i], value;
            if (name.rfind("--", 0) != 0) throw UsageError("unexpected argument \"" + name + "\"");
            const std::size_t equals = name.find('=');
            const bool inline_value = equals != std::string::npos;
            if (inline_value) {
                value = name.substr(equals + 1);
                name = name.substr(0, equals);
            }
            const Flag* flag = find(name);
            if (!flag) throw UsageError("unknown flag " + name + context);
            if (flag->on) {
                if (inline_value) throw UsageError(name + " takes no value");
                *flag->on = true;
                continue;
            }
            if (!inline_value) {
                if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
                value = args[++i];
            }
            if (value.empty()) throw UsageError(name + " needs a value");
            flag->set(value);
        }
    }

    // One line per flag: "  --steps N               total training steps (default 10000)".
    std::string help() const {
        std::string text;
        for (const auto& flag : flags_) {
            std::string left = "  " + flag.name + (flag.metavar.empty() ? "" : " " + flag.metavar);
            left.resize(std::max<std::size_t>(left.size() + 2, 26), ' ');
            text += left + flag.help + "\n";
        }
        return text;
    }

    static std::int64_t parse_integer(const std::string& name, const std::string& text, std::int64_t min, std::int64_t max) {
        std::size_t used = 0;
        long long value = 0;
        try {
            value = std::stoll(text, &used, 10);
        } catch (const std::exception&) {
            throw UsageError(name + " expects an integer, got \"" + text + "\"");
        }
        if (used != text.size()) throw UsageError(name + " expects an integer, got \"" + text + "\"");
        if (value < min || value > max)
            throw UsageError(name + " must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
        return value;
    }

    static std::uint64_t parse_unsigned(const std::string& name, const std::string& text) {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 20)
            throw UsageError(name + " expects a non-negative integer, got \"" + text + "\"");
        errno = 0;
        const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE) throw UsageError(name + " is out of range: " + text);
        return value;
    }

    static double parse_positive_real(const std::string& name, const std::string& text) {
        std::size_t used = 0;
        double value = 0;
        try {
            value = std::stod(text, &used);
        } catch (const std::exception&) {
            throw UsageError(name + " expects a number, got \"" + text + "\"");
        }
        if (used != text.size() || !(value > 0) || !std::isfinite(value))
            throw UsageError(name + " expects a positive finite number, got \"" + text + "\"");
        return value;
    }

private:
    struct Flag {
        std::string name, metavar, help;
        std::function<void(const std::string&)> set;
        bool* on;  // a switch's target; null for flags with a value
    };

    void add_flag(const std::string& name, std::string metavar, std::string help, std::function<void(const std::string&)> set) {
        flags_.push_back({name, std::move(metavar), std::move(help), std::move(set), nullptr});
    }

    const Flag* find(const std::string& name) const {
        for (const auto& flag : flags_)
            if (flag.name == name) return &flag;
        return nullptr;
    }

    std::vector<Flag> flags_;
};

}  // namespace tinygan::app
