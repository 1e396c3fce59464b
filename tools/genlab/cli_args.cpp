// Argument parsing for the genlab tool (see cli_args.h).
#include "cli_args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "error.h"

namespace genlab::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    require(a.size() > 2 && a.rfind("--", 0) == 0, "unexpected argument '" + a + "' (options look like --name value)");
    std::string key = a.substr(2), value;
    const auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (flags.count(key)) {
      value = "1";
    } else {
      require(i + 1 < argv.size(), "option --" + key + " needs a value");
      value = argv[++i];
    }
    require(!key.empty(), "empty option name in '" + a + "'");
    require(!values_.count(key), "option --" + key + " given twice");
    values_[key] = value;
  }
}

bool Args::flag(const std::string& key) {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return false;
  require(it->second == "1" || it->second == "true" || it->second == "0" || it->second == "false",
          "option --" + key + " is a flag (no value, or =true/=false)");
  return it->second == "1" || it->second == "true";
}

std::string Args::str(const std::string& key, const std::string& def) {
  used_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

std::string Args::required(const std::string& key) {
  used_.insert(key);
  auto it = values_.find(key);
  require(it != values_.end() && !it->second.empty(), "missing --" + key);
  return it->second;
}

int64_t parse_integer(const std::string& what, const std::string& text, int64_t lo, int64_t hi) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  require(!text.empty() && ec == std::errc() && p == text.data() + text.size(), what + ": '" + text + "' is not an integer");
  require(v >= lo && v <= hi, what + " = " + text + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

double parse_number(const std::string& what, const std::string& text, double lo, double hi) {
  char* end = nullptr;
  const double v = text.empty() ? 0.0 : std::strtod(text.c_str(), &end);
  require(!text.empty() && end == text.c_str() + text.size() && std::isfinite(v), what + ": '" + text + "' is not a number");
  require(v >= lo && v <= hi, what + " = " + text + " is out of range");
  return v;
}

int64_t Args::integer(const std::string& key, int64_t def, int64_t lo, int64_t hi) {
  used_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? def : parse_integer("--" + key, it->second, lo, hi);
}

double Args::number(const std::string& key, double def, double lo, double hi) {
  used_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? def : parse_number("--" + key, it->second, lo, hi);
}

std::map<std::string, std::string> Args::unused() const {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : values_)
    if (!used_.count(k)) out[k] = v;
  return out;
}

void Args::reject_unused(const std::string& command) const {
  for (const auto& [k, v] : values_)
    if (!used_.count(k)) throw Error("unknown option --" + k + " for 'genlab " + command + "' (see genlab --help)");
}

}  // namespace genlab::cli
