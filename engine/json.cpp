// JSON value, strict recursive-descent parser and compact serializer (see json.h).
#include "json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "error.h"

namespace genlab {

// ---- value access ---------------------------------------------------------------------------------

const char* Json::type_name(Type t) {
  switch (t) {
    case Type::Null: return "null";
    case Type::Bool: return "a boolean";
    case Type::Number: return "a number";
    case Type::String: return "a string";
    case Type::Array: return "an array";
    case Type::Object: return "an object";
  }
  return "?";
}

namespace {
[[noreturn]] void wrong_type(Json::Type want, Json::Type got) {
  throw Error(std::string("JSON: expected ") + Json::type_name(want) + ", got " + Json::type_name(got));
}
}  // namespace

bool Json::as_bool() const {
  if (type_ != Type::Bool) wrong_type(Type::Bool, type_);
  return bool_;
}
double Json::as_number() const {
  if (type_ != Type::Number) wrong_type(Type::Number, type_);
  return num_;
}
int64_t Json::as_int() const {
  const double v = as_number();
  if (!(std::fabs(v) <= 9007199254740992.0) || v != std::floor(v))
    throw Error("JSON: expected an integer, got " + json_number(v));
  return static_cast<int64_t>(v);
}
const std::string& Json::as_string() const {
  if (type_ != Type::String) wrong_type(Type::String, type_);
  return str_;
}
const Json::Array& Json::as_array() const {
  if (type_ != Type::Array) wrong_type(Type::Array, type_);
  return arr_;
}
Json::Array& Json::as_array() {
  if (type_ != Type::Array) wrong_type(Type::Array, type_);
  return arr_;
}
const Json::Object& Json::as_object() const {
  if (type_ != Type::Object) wrong_type(Type::Object, type_);
  return obj_;
}
Json::Object& Json::as_object() {
  if (type_ != Type::Object) wrong_type(Type::Object, type_);
  return obj_;
}

const Json* Json::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}
Json* Json::find(std::string_view key) {
  for (auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}
const Json& Json::at(std::string_view key) const {
  const Json* v = find(key);
  if (!v) throw Error("JSON: missing key '" + std::string(key) + "'");
  return *v;
}
Json& Json::operator[](std::string_view key) {
  if (type_ == Type::Null) type_ = Type::Object;
  if (Json* v = find(key)) return *v;
  obj_.emplace_back(std::string(key), Json());
  return obj_.back().second;
}
const Json& Json::at(size_t i) const {
  const Array& a = as_array();
  if (i >= a.size())
    throw Error("JSON: index " + std::to_string(i) + " out of range (array of " + std::to_string(a.size()) + ")");
  return a[i];
}
void Json::push_back(Json v) {
  if (type_ == Type::Null) type_ = Type::Array;
  as_array().push_back(std::move(v));
}
size_t Json::size() const {
  if (type_ == Type::Array) return arr_.size();
  if (type_ == Type::Object) return obj_.size();
  return 0;
}

bool Json::operator==(const Json& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::Null: return true;
    case Type::Bool: return bool_ == o.bool_;
    case Type::Number: return num_ == o.num_;
    case Type::String: return str_ == o.str_;
    case Type::Array: return arr_ == o.arr_;
    case Type::Object: return obj_ == o.obj_;
  }
  return false;
}

// ---- serialisation ----------------------------------------------------------------------------------

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == 0.0) return std::signbit(v) ? "-0" : "0";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e16) {  // integers print without an exponent
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  // The fewest significant digits that parse back to the same double.
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

void json_escape_to(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void Json::dump_to(std::string& out) const {
  switch (type_) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += bool_ ? "true" : "false"; break;
    case Type::Number: out += json_number(num_); break;
    case Type::String: json_escape_to(out, str_); break;
    case Type::Array:
      out += '[';
      for (size_t i = 0; i < arr_.size(); ++i) {
        if (i) out += ',';
        arr_[i].dump_to(out);
      }
      out += ']';
      break;
    case Type::Object:
      out += '{';
      for (size_t i = 0; i < obj_.size(); ++i) {
        if (i) out += ',';
        json_escape_to(out, obj_[i].first);
        out += ':';
        obj_[i].second.dump_to(out);
      }
      out += '}';
      break;
  }
}

std::string Json::dump() const {
  std::string s;
  dump_to(s);
  return s;
}

// ---- parser -----------------------------------------------------------------------------------------
namespace {

class Parser {
 public:
  Parser(std::string_view text, const Json::ParseLimits& limits) : s_(text), limits_(limits) {}

  Json parse_document() {
    if (s_.size() > limits_.max_bytes)
      throw Error("JSON: input of " + std::to_string(s_.size()) + " bytes exceeds the limit of " +
                  std::to_string(limits_.max_bytes));
    skip_ws();
    if (pos_ == s_.size()) fail("empty input");
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected content after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    throw Error("JSON parse error at line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
  }

  std::string describe_here() const {
    if (pos_ >= s_.size()) return "end of input";
    const unsigned char c = static_cast<unsigned char>(s_[pos_]);
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
  }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) fail("invalid literal (expected " + std::string(lit) + ")");
    pos_ += lit.size();
  }

  Json parse_value(int depth) {
    if (pos_ >= s_.size()) fail("unexpected end of input, expected a value");
    switch (s_[pos_]) {
      case '{': return parse_object(depth + 1);
      case '[': return parse_array(depth + 1);
      case '"': return Json(parse_string());
      case 't': expect_literal("true"); return Json(true);
      case 'f': expect_literal("false"); return Json(false);
      case 'n': expect_literal("null"); return Json();
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return Json(parse_number());
        fail("unexpected " + describe_here() + ", expected a value");
    }
  }

  void check_depth(int depth) {
    if (depth > limits_.max_depth) fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
  }

  Json parse_object(int depth) {
    check_depth(depth);
    ++pos_;  // '{'
    Json::Object obj;
    std::unordered_set<std::string> seen;
    skip_ws();
    if (consume('}')) return Json(std::move(obj));
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string key, got " + describe_here());
      const size_t key_pos = pos_;
      std::string key = parse_string();
      // Linear scan for small objects; a hash set once they grow (no quadratic blow-up on big headers).
      bool duplicate = false;
      if (obj.size() < 16) {
        for (const auto& kv : obj) duplicate = duplicate || kv.first == key;
      } else {
        if (seen.empty())
          for (const auto& kv : obj) seen.insert(kv.first);
        duplicate = !seen.insert(key).second;
      }
      if (duplicate) {
        pos_ = key_pos;
        fail("duplicate key \"" + key + "\"");
      }
      skip_ws();
      if (!consume(':')) fail("expected ':' after object key, got " + describe_here());
      skip_ws();
      Json v = parse_value(depth);
      obj.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (consume(',')) continue;
      if (consume('}')) return Json(std::move(obj));
      fail("expected ',' or '}' in object, got " + describe_here());
    }
  }

  Json parse_array(int depth) {
    check_depth(depth);
    ++pos_;  // '['
    Json::Array arr;
    skip_ws();
    if (consume(']')) return Json(std::move(arr));
    for (;;) {
      skip_ws();
      arr.push_back(parse_value(depth));
      skip_ws();
      if (consume(',')) continue;
      if (consume(']')) return Json(std::move(arr));
      fail("expected ',' or ']' in array, got " + describe_here());
    }
  }

  double parse_number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t d0 = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d0;
    };
    consume('-');
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') fail("leading zeros are not allowed in numbers");
    } else if (digits() == 0) {
      fail("invalid number: expected a digit, got " + describe_here());
    }
    if (consume('.') && digits() == 0) fail("invalid number: expected a digit after '.'");
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!consume('+')) consume('-');
      if (digits() == 0) fail("invalid number: expected a digit in the exponent");
    }
    const std::string text(s_.substr(start, pos_ - start));
    const double v = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(v)) {
      pos_ = start;
      fail("number " + text + " is out of range");
    }
    return v;
  }

  unsigned hex4() {
    if (s_.size() - pos_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else { --pos_; fail("invalid hex digit in \\u escape"); }
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
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

  // Length of the valid UTF-8 sequence starting at pos_ (lead byte >= 0x80), or 0 if invalid.
  size_t utf8_sequence_length() const {
    const auto b = [&](size_t i) { return static_cast<unsigned char>(s_[pos_ + i]); };
    const unsigned char c = b(0);
    size_t n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; cp = c & 0x07; }
    else return 0;
    if (s_.size() - pos_ < n) return 0;
    for (size_t i = 1; i < n; ++i) {
      if ((b(i) & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (b(i) & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;  // overlong, out of range or a surrogate
    return n;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character " + describe_here() + " in string (must be escaped)");
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) fail("unterminated escape in string");
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
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (s_.substr(pos_, 2) != "\\u") fail("high surrogate without a following low surrogate");
              pos_ += 2;
              const unsigned lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate in \\u escape");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("unpaired low surrogate in \\u escape");
            }
            append_utf8(out, cp);
            break;
          }
          default:
            --pos_;
            fail("invalid escape \\" + describe_here());
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const size_t n = utf8_sequence_length();
      if (n == 0) fail("invalid UTF-8 in string");
      out.append(s_.substr(pos_, n));
      pos_ += n;
    }
  }

  std::string_view s_;
  Json::ParseLimits limits_;
  size_t pos_ = 0;
};

}  // namespace

Json Json::parse(std::string_view text, const ParseLimits& limits) { return Parser(text, limits).parse_document(); }

}  // namespace genlab
