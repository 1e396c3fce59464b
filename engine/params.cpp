#include "params.h"

#include <algorithm>

#include "error.h"

namespace genlab {

int ParamSet::add(const std::string& name, std::vector<int> shape) {
  require(!allocated_, "ParamSet::add after allocate: " + name);
  require(find(name) < 0, "duplicate parameter name: " + name);
  size_t n = 1;
  for (int d : shape) {
    require(d > 0, "parameter " + name + " has a non-positive dimension");
    n *= static_cast<size_t>(d);
  }
  // Keep every tensor 16-float aligned inside the buffer so SIMD kernels see aligned rows.
  total_ = (total_ + 15) & ~size_t{15};
  infos_.push_back({name, std::move(shape), total_, n});
  total_ += n;
  return static_cast<int>(infos_.size()) - 1;
}

void ParamSet::allocate() {
  values_.assign(total_, 0.f);
  grads_.assign(total_, 0.f);
  allocated_ = true;
}

int ParamSet::find(const std::string& name) const {
  auto it = std::find_if(infos_.begin(), infos_.end(), [&](const ParamInfo& p) { return p.name == name; });
  return it == infos_.end() ? -1 : static_cast<int>(it - infos_.begin());
}

void ParamSet::zero_grad() { std::fill(grads_.begin(), grads_.end(), 0.f); }

}  // namespace genlab
