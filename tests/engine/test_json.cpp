// JSON tests: parse/serialise round trips, round-trippable doubles, escapes and UTF-8, strictness
// (every malformed input throws genlab::Error naming the problem), limits, typed access errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "error.h"
#include "json.h"
#include "rng.h"

namespace genlab {
namespace {

std::string parse_error(std::string_view text, const Json::ParseLimits& limits = {}) {
  try {
    Json::parse(text, limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Json, ParsesAndSerialisesEveryType) {
  const Json v = Json::parse(R"( {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d\n\"q\""}, "e": {}, "f": []} )");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("a").size(), 6u);
  EXPECT_EQ(v.at("a").at(0).as_int(), 1);
  EXPECT_EQ(v.at("a").at(1).as_number(), -2.5);
  EXPECT_EQ(v.at("a").at(2).as_number(), 300.0);
  EXPECT_TRUE(v.at("a").at(3).as_bool());
  EXPECT_TRUE(v.at("a").at(5).is_null());
  EXPECT_EQ(v.at("b").at("c").as_string(), "d\n\"q\"");
  EXPECT_EQ(v.dump(), R"({"a":[1,-2.5,300,true,false,null],"b":{"c":"d\n\"q\""},"e":{},"f":[]})");
  EXPECT_EQ(Json::parse(v.dump()), v);
  EXPECT_EQ(v.find("zz"), nullptr);
}

TEST(Json, BuildsValuesInInsertionOrder) {
  Json j;
  j["step"] = 100;
  j["loss"] = 0.1;
  j["name"] = "vae";
  j["list"].push_back(1);
  j["list"].push_back("x");
  j["nan"] = std::nan("");
  EXPECT_EQ(j.dump(), R"({"step":100,"loss":0.1,"name":"vae","list":[1,"x"],"nan":null})");
  j["step"] = 101;  // overwrite keeps the position
  EXPECT_EQ(j.dump().substr(0, 11), R"({"step":101)");
}

TEST(Json, DoublesRoundTripExactlyWithShortForm) {
  EXPECT_EQ(json_number(0.1), "0.1");
  EXPECT_EQ(json_number(1e-8), "1e-08");
  EXPECT_EQ(json_number(123456789.0), "123456789");
  EXPECT_EQ(json_number(-0.0), "-0");
  EXPECT_EQ(json_number(INFINITY), "null");
  Rng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const double v = (rng.uniform_open() - 0.5) * std::pow(10.0, static_cast<int>(rng.below(40)) - 20);
    const std::string s = json_number(v);
    EXPECT_EQ(Json::parse(s).as_number(), v) << s;
    const float f = static_cast<float>(v);
    EXPECT_EQ(static_cast<float>(Json::parse(json_number(f)).as_number()), f);
  }
}

TEST(Json, StringEscapesAndUtf8) {
  const Json s = Json::parse(R"("tab\tnl\nuA\u0041 e\u00e9 euro\u20ac smile\ud83d\ude00 slash\/")");
  EXPECT_EQ(s.as_string(), "tab\tnl\nuAA e\xc3\xa9 euro\xe2\x82\xac smile\xf0\x9f\x98\x80 slash/");
  const std::string ctrl = std::string("a\x01") + "b";
  EXPECT_EQ(Json(ctrl).dump(), "\"a\\u0001b\"");
  EXPECT_EQ(Json::parse(Json(ctrl).dump()).as_string(), ctrl);
  EXPECT_EQ(Json::parse("\"caf\xc3\xa9\"").as_string(), "caf\xc3\xa9");  // raw UTF-8 passes through
}

TEST(Json, RejectsMalformedInputWithAPreciseMessage) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "empty input"},
      {"   ", "empty input"},
      {"{", "expected a string key"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":1,}", "expected a string key"},
      {"[1,]", "expected a value"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"01", "leading zeros"},
      {"1.", "digit after '.'"},
      {"1e", "exponent"},
      {"-", "expected a digit"},
      {"1e999", "out of range"},
      {"NaN", "expected a value"},
      {"tru", "invalid literal"},
      {"\"abc", "unterminated string"},
      {"\"a\nb\"", "control character"},
      {"\"\\x\"", "invalid escape"},
      {"\"\\u12\"", "\\u escape"},
      {"\"\\u12x4\"", "hex digit"},
      {"\"\\ud83d\"", "surrogate"},
      {"\"\\ude00\"", "unpaired low surrogate"},
      {"\"\xff\"", "invalid UTF-8"},
      {"\"\xc0\xaf\"", "invalid UTF-8"},   // overlong '/'
      {"\"\xed\xa0\x80\"", "invalid UTF-8"},  // encoded surrogate
      {"{} x", "unexpected content after"},
      {"// comment\n{}", "expected a value"},
  };
  for (const Case& c : cases) {
    const std::string err = parse_error(c.text);
    EXPECT_NE(err.find(c.message), std::string::npos) << "input: " << c.text << "\nerror: " << err;
    EXPECT_NE(err.find("line"), std::string::npos) << err;
  }
  EXPECT_NE(parse_error("{\n  \"a\": x}").find("line 2, column 8"), std::string::npos) << parse_error("{\n  \"a\": x}");
}

TEST(Json, EnforcesDepthAndSizeLimits) {
  Json::ParseLimits lim;
  lim.max_depth = 10;
  EXPECT_NO_THROW(Json::parse(std::string(10, '[') + std::string(10, ']'), lim));
  EXPECT_NE(parse_error(std::string(11, '[') + std::string(11, ']'), lim).find("nesting deeper than 10"),
            std::string::npos);
  // The default limit stops a deeply nested document before it can exhaust the stack.
  EXPECT_NE(parse_error(std::string(100000, '[')).find("nesting"), std::string::npos);
  lim.max_bytes = 8;
  EXPECT_NE(parse_error("[1,2,3,4,5]", lim).find("exceeds the limit"), std::string::npos);
}

TEST(Json, LargeObjectsDetectDuplicatesQuickly) {
  std::string text = "{";
  for (int i = 0; i < 20000; ++i) text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  text += "\"k19999\":0}";
  EXPECT_NE(parse_error(text).find("duplicate key \"k19999\""), std::string::npos);
}

TEST(Json, TypedAccessErrorsNameBothTypes) {
  const Json v = Json::parse(R"({"n": 1.5, "s": "x"})");
  try {
    (void)v.at("s").as_number();
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "JSON: expected a number, got a string");
  }
  EXPECT_THROW((void)v.at("n").as_int(), Error);
  EXPECT_THROW((void)v.at("missing"), Error);
  EXPECT_THROW((void)v.at("n").at(0), Error);
  EXPECT_THROW((void)Json::parse("[1]").at(1), Error);
}

}  // namespace
}  // namespace genlab
