// The small subset of JSON that a safetensors header uses: objects, arrays, strings and
// non-negative integers. A strict, bounded parser: any other input is rejected with the offset.
#pragma once

#include "../error.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tinygan::detail {

struct JsonValue {
    enum class Kind { object, array, string, integer };
    Kind kind = Kind::integer;
    std::string text;                                     // string
    std::uint64_t integer = 0;                            // integer
    std::vector<JsonValue> items;                         // array
    std::vector<std::pair<std::string, JsonValue>> members;  // object, in file order

    const JsonValue* find(const std::string& key) const {
        for (const auto& [name, value] : members)
            if (name == key) return &value;
        return nullptr;
    }
};

class JsonParser {
public:
    JsonParser(const std::string& text, std::string source) : text_(text), source_(std::move(source)) {}

    JsonValue parse_document() {
        JsonValue value = parse_value(0);
        skip_space();
        if (pos_ != text_.size()) fail("unexpected text after the JSON value");
        return value;
    }

private:
    static constexpr int max_depth = 16;

    [[noreturn]] void fail(const std::string& what) const {
        throw DataError(concat(source_, ": malformed header JSON at byte ", pos_, ": ", what));
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' || text_[pos_] == '\t'))
            ++pos_;
    }

    void expect(char c) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != c) fail(concat("expected '", c, "'"));
        ++pos_;
    }

    JsonValue parse_value(int depth) {
        if (depth > max_depth) fail("nested too deeply");
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        JsonValue value;
        const char c = text_[pos_];
        if (c == '{') {
            value.kind = JsonValue::Kind::object;
            ++pos_;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '}') {
                ++pos_;
                return value;
            }
            for (;;) {
                skip_space();
                std::string key = parse_string();
                for (const auto& member : value.members)
                    if (member.first == key) fail("duplicate key \"" + key + "\"");
                expect(':');
                value.members.emplace_back(std::move(key), parse_value(depth + 1));
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                expect('}');
                return value;
            }
        }
        if (c == '[') {
            value.kind = JsonValue::Kind::array;
            ++pos_;
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == ']') {
                ++pos_;
                return value;
            }
            for (;;) {
                value.items.push_back(parse_value(depth + 1));
                skip_space();
                if (pos_ < text_.size() && text_[pos_] == ',') {
                    ++pos_;
                    continue;
                }
                expect(']');
                return value;
            }
        }
        if (c == '"') {
            value.kind = JsonValue::Kind::string;
            value.text = parse_string();
            return value;
        }
        if (c >= '0' && c <= '9') {
            value.kind = JsonValue::Kind::integer;
            const std::size_t start = pos_;
            while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
                if (pos_ - start >= 18) fail("integer too large");
                value.integer = value.integer * 10 + static_cast<std::uint64_t>(text_[pos_] - '0');
                ++pos_;
            }
            if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
                fail("only non-negative integers are expected here");
            return value;
        }
        fail(concat("unexpected character '", c, "'"));
    }

    std::string parse_string() {
        if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a string");
        ++pos_;
        std::string out;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in a string");
            if (c == '\\') {
                if (pos_ >= text_.size()) fail("unfinished escape");
                const char e = text_[pos_++];
                switch (e) {
                    case '"': case '\\': case '/': out += e; break;
                    case 'n': out += '\n'; break;
                    case 't': out += '\t'; break;
                    case 'r': out += '\r'; break;
                    case 'b': out += '\b'; break;
                    case 'f': out += '\f'; break;
                    default: fail("unsupported escape (\\u is not used by tinygan's headers)");
                }
            } else {
                out += c;
            }
        }
        if (pos_ >= text_.size()) fail("unterminated string");
        ++pos_;
        return out;
    }

    const std::string& text_;
    std::string source_;
    std::size_t pos_ = 0;
};

inline void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;  // names and metadata never hold control characters
        out += c;
    }
    out += '"';
}

}  // namespace tinygan::detail
