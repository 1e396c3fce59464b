// error_of(f): runs f and returns the message of the genlab::Error it throws ("" if none), so tests
// can check that bad input is rejected with a message naming the problem.
#pragma once
#include <string>

#include "error.h"

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const genlab::Error& e) {
    return e.what();
  }
  return "";
}
