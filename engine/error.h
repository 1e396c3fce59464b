// genlab::Error: the one exception type the engine throws for bad input from outside
// (files, hyperparameters, API calls). Callers at the edges (CLI, Embind API) catch it and
// show its message; the engine never aborts on user input.
#pragma once
#include <stdexcept>
#include <string>

namespace genlab {

struct Error : std::runtime_error {
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws genlab::Error(message) when cond is false. For validating outside input, not invariants.
inline void require(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace genlab
