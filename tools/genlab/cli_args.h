// Command-line arguments of the genlab tool: `--key value`, `--key=value` and bare flags, with strict
// number parsing and a check that every option given was understood (typos fail with a message).
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace genlab::cli {

class Args {
 public:
  // argv after the command words; `flags` are options that take no value.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& flags);

  bool has(const std::string& key) const { return values_.count(key) > 0; }
  bool flag(const std::string& key);  // marks it used
  std::string str(const std::string& key, const std::string& def);
  std::string required(const std::string& key);  // throws "missing --key"
  int64_t integer(const std::string& key, int64_t def, int64_t lo, int64_t hi);
  double number(const std::string& key, double def, double lo, double hi);
  // Every option not read yet (for passing architecture options into a model config).
  std::map<std::string, std::string> unused() const;
  // Throws naming the first option nobody read.
  void reject_unused(const std::string& command) const;
  void mark_used(const std::string& key) { used_.insert(key); }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
};

int64_t parse_integer(const std::string& what, const std::string& text, int64_t lo, int64_t hi);
double parse_number(const std::string& what, const std::string& text, double lo, double hi);

}  // namespace genlab::cli
