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
  written_.assign(infos_.size(), 1);  // the buffer is zero: nothing to fill
  allocated_ = true;
}

size_t ParamSet::padded_end(int id) const {
  return static_cast<size_t>(id) + 1 < infos_.size() ? infos_[id + 1].offset : total_;
}

size_t ParamSet::touch(int id) const {
  const ParamInfo& info = infos_[id];
  if (!written_[id]) {
    std::fill(grads_.begin() + info.offset, grads_.begin() + padded_end(id), 0.f);  // with the alignment gap
    written_[id] = 1;
  }
  return info.offset;
}

float* ParamSet::grad_for_overwrite(int id, float& beta) {
  const ParamInfo& info = infos_[id];
  beta = written_[id] ? 1.f : 0.f;
  if (!written_[id]) std::fill(grads_.begin() + info.offset + info.size, grads_.begin() + padded_end(id), 0.f);
  written_[id] = 1;
  return grads_.data() + info.offset;
}

void ParamSet::touch_all() const {
  for (size_t id = 0; id < infos_.size(); ++id) touch(static_cast<int>(id));
}

int ParamSet::find(const std::string& name) const {
  auto it = std::find_if(infos_.begin(), infos_.end(), [&](const ParamInfo& p) { return p.name == name; });
  return it == infos_.end() ? -1 : static_cast<int>(it - infos_.begin());
}

void ParamSet::zero_grad() { std::fill(written_.begin(), written_.end(), 0); }

}  // namespace genlab
