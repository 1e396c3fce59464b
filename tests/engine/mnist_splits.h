// The mnist10k splits for engine tests, loaded once per test binary and shared.
#pragma once
#include <memory>
#include <string>

#include "dataset.h"

namespace genlab {

inline std::shared_ptr<const Dataset> mnist(const std::string& split) {
  static std::shared_ptr<const Dataset> train, test;
  auto& slot = split == "train" ? train : test;
  if (!slot) slot = std::make_shared<const Dataset>(load_dataset("mnist10k", split, default_data_dir()));
  return slot;
}

}  // namespace genlab
