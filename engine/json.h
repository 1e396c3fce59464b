// A small JSON value type with a strict parser and a compact serializer. Used for safetensors
// headers, the CLI's one-line JSON metrics and the playground's command/state API.
//
// Parsing is strict RFC 8259 (no comments, no trailing commas, no NaN, UTF-8 validated) with limits on
// nesting depth and input size; duplicate object keys are rejected. Every problem throws genlab::Error
// with the line and column. Objects keep insertion order (serialised output is stable and readable).
// Numbers are doubles, serialised with the fewest digits that round-trip (non-finite -> null).
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace genlab {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // insertion order, unique keys

  struct ParseLimits {
    size_t max_bytes = size_t{64} << 20;  // input size
    int max_depth = 128;                  // nesting of arrays/objects
  };

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool b) : type_(Type::Bool), bool_(b) {}
  Json(double v) : type_(Type::Number), num_(v) {}
  Json(float v) : type_(Type::Number), num_(v) {}
  Json(int v) : type_(Type::Number), num_(v) {}
  Json(long v) : type_(Type::Number), num_(static_cast<double>(v)) {}
  Json(long long v) : type_(Type::Number), num_(static_cast<double>(v)) {}
  Json(unsigned v) : type_(Type::Number), num_(v) {}
  Json(unsigned long v) : type_(Type::Number), num_(static_cast<double>(v)) {}
  Json(unsigned long long v) : type_(Type::Number), num_(static_cast<double>(v)) {}
  Json(const char* s) : type_(Type::String), str_(s) {}
  Json(std::string s) : type_(Type::String), str_(std::move(s)) {}
  Json(std::string_view s) : type_(Type::String), str_(s) {}
  Json(Array a) : type_(Type::Array), arr_(std::move(a)) {}
  Json(Object o) : type_(Type::Object), obj_(std::move(o)) {}

  static Json array(std::initializer_list<Json> items = {}) { return Json(Array(items)); }
  static Json object() { return Json(Object{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }
  static const char* type_name(Type t);

  // Typed access; a wrong type throws genlab::Error ("expected a string, got a number").
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // the number must be an integer within +-2^53
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Objects: find returns nullptr when absent; at throws naming the key; operator[] inserts null
  // when absent (turning a null value into an empty object first).
  const Json* find(std::string_view key) const;
  Json* find(std::string_view key);
  const Json& at(std::string_view key) const;
  Json& operator[](std::string_view key);
  // Arrays: element access with a bounds check, append (turning null into an empty array first).
  const Json& at(size_t i) const;
  void push_back(Json v);
  size_t size() const;  // elements of an array or object; 0 otherwise

  bool operator==(const Json& o) const;

  // Compact serialisation (no whitespace).
  std::string dump() const;
  void dump_to(std::string& out) const;

  static Json parse(std::string_view text, const ParseLimits& limits);
  static Json parse(std::string_view text) { return parse(text, ParseLimits{}); }

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  double num_ = 0.0;
  std::string str_;
  Array arr_;
  Object obj_;
};

// Appends s as a quoted JSON string with escapes.
void json_escape_to(std::string& out, std::string_view s);
// The shortest decimal form of v that parses back to the same double ("null" for NaN/inf).
std::string json_number(double v);

}  // namespace genlab
