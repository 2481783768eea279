// A small JSON reader and the string escaping a writer needs: enough for the header of a safetensors file.
//
// The header is untrusted input (a file from anywhere), so the reader is strict and bounded: it accepts RFC 8259
// JSON only (no comments, no trailing commas, no leading zeros), nests at most 64 levels (no stack overflow on
// "[[[[..."), and reports the first problem with its byte position. Numbers keep their literal text: the
// header's offsets are 64-bit integers, which a double would round, and `to_size` converts them exactly.
#pragma once
#include "../core/internal.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace tenfold::detail::json {

struct member;

struct value {
  enum class kind { null, boolean, number, string, array, object };
  kind type = kind::null;
  bool flag = false;
  std::string text;  // a string's contents, or a number's literal
  std::vector<value> items;
  std::vector<member> members;  // in file order; duplicates are refused by the reader

  // The member called `key`, or null.
  const value* find(std::string_view key) const;
};

struct member {
  std::string key;
  value val;
};

inline const value* value::find(std::string_view key) const {
  for (const auto& m : members)
    if (m.key == key) return &m.val;
  return nullptr;
}

// A number literal as a size: only plain non-negative integers that fit in 64 bits.
inline bool to_size(const value& v, std::uint64_t& out) {
  if (v.type != value::kind::number || v.text.empty()) return false;
  std::uint64_t n = 0;
  for (const char c : v.text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return false;
    n = n * 10 + digit;
  }
  out = n;
  return true;
}

class reader {
 public:
  explicit reader(std::string_view text) : s_(text) {}

  // The whole text as one value; anything but whitespace after it is an error.
  result<value> parse_document() {
    value v;
    skip_space();
    if (!parse_value(v, 0)) return failure_;
    skip_space();
    if (pos_ != s_.size()) return fail("unexpected text after the end of the JSON value");
    return v;
  }

 private:
  static constexpr int max_depth = 64;

  error fail(const char* what) {
    failure_ = error::make(errc::bad_format, "malformed JSON at byte %zu: %s", pos_, what);
    return failure_;
  }
  bool failed(const char* what) {
    fail(what);
    return false;
  }
  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool parse_value(value& v, int depth) {
    if (depth > max_depth) return failed("nested more than 64 levels deep");
    if (pos_ >= s_.size()) return failed("the text ends where a value should start");
    const char c = s_[pos_];
    if (c == '{') return parse_object(v, depth);
    if (c == '[') return parse_array(v, depth);
    if (c == '"') {
      v.type = value::kind::string;
      return parse_string(v.text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(v);
    if (literal("true") || literal("false")) {
      v.type = value::kind::boolean;
      v.flag = c == 't';
      return true;
    }
    if (literal("null")) {
      v.type = value::kind::null;
      return true;
    }
    return failed("expected a value");
  }

  bool parse_object(value& v, int depth) {
    v.type = value::kind::object;
    ++pos_;  // {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != '"') return failed("expected a string key");
      std::string key;
      if (!parse_string(key)) return false;
      if (v.find(key)) return failed("a key appears twice in one object");
      skip_space();
      if (pos_ >= s_.size() || s_[pos_] != ':') return failed("expected ':' after a key");
      ++pos_;
      skip_space();
      value item;
      if (!parse_value(item, depth + 1)) return false;
      v.members.push_back(json::member{std::move(key), std::move(item)});
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or '}' in an object");
    }
  }

  bool parse_array(value& v, int depth) {
    v.type = value::kind::array;
    ++pos_;  // [
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_space();
      value item;
      if (!parse_value(item, depth + 1)) return false;
      v.items.push_back(std::move(item));
      skip_space();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return failed("expected ',' or ']' in an array");
    }
  }

  bool parse_number(value& v) {
    v.type = value::kind::number;
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (s_[pos_] == '-') ++pos_;
    const std::size_t first = pos_;
    const std::size_t whole = digits();
    if (whole == 0) return failed("a number without digits");
    if (whole > 1 && s_[first] == '0') return failed("a number with a leading zero");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return failed("no digits after a decimal point");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return failed("no digits in an exponent");
    }
    v.text.assign(s_.data() + start, pos_ - start);
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(std::uint32_t& out) {
    if (s_.size() - pos_ < 4) return failed("a \\u escape needs four hex digits");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      const std::uint32_t d = c >= '0' && c <= '9'   ? std::uint32_t(c - '0')
                              : c >= 'a' && c <= 'f' ? std::uint32_t(c - 'a' + 10)
                              : c >= 'A' && c <= 'F' ? std::uint32_t(c - 'A' + 10)
                                                     : 16;
      if (d == 16) return failed("a \\u escape needs four hex digits");
      out = out * 16 + d;
    }
    return true;
  }

  bool parse_string(std::string& out) {
    ++pos_;  // "
    for (;;) {
      if (pos_ >= s_.size()) return failed("a string is not closed");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return failed("a control character inside a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      if (++pos_ >= s_.size()) return failed("a string ends inside an escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {  // a high surrogate must be followed by a low one
            std::uint32_t low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xDC00 || low >= 0xE000)
              return failed("an unpaired UTF-16 surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return failed("an unpaired UTF-16 surrogate in a \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: return failed("an unknown escape in a string");
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  error failure_{};
};

inline result<value> parse(std::string_view text) { return reader(text).parse_document(); }

// Appends `text` as a JSON string literal, quotes included.
inline void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

}  // namespace tenfold::detail::json
