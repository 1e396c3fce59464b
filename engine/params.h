// ParamSet: all parameters of a model in one allocation, gradients in a second one of the same
// layout, each tensor reached through a named view (llm.c's malloc_and_point_parameters).
// Optimisers run one flat loop over values()/grads(); checkpoints write values() plus the table.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace genlab {

struct ParamInfo {
  std::string name;        // e.g. "enc.fc1.weight" (PyTorch-like dotted names)
  std::vector<int> shape;  // row-major, PyTorch conventions: Linear [out, in], Conv2d [out, in, kh, kw]
  size_t offset = 0;       // in floats, into values() / grads()
  size_t size = 0;         // number of floats
};

class ParamSet {
 public:
  // Declares a tensor; returns its id. Only before allocate().
  int add(const std::string& name, std::vector<int> shape);
  // Makes the two buffers (values zeroed). Views stay valid until the ParamSet is destroyed.
  void allocate();
  bool allocated() const { return allocated_; }

  float* value(int id) { return values_.data() + infos_[id].offset; }
  const float* value(int id) const { return values_.data() + infos_[id].offset; }
  float* grad(int id) { return grads_.data() + infos_[id].offset; }
  const float* grad(int id) const { return grads_.data() + infos_[id].offset; }

  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  std::span<float> grads() { return grads_; }
  std::span<const float> grads() const { return grads_; }

  const std::vector<ParamInfo>& infos() const { return infos_; }
  int find(const std::string& name) const;  // -1 if absent
  size_t total() const { return total_; }
  void zero_grad();

 private:
  std::vector<ParamInfo> infos_;
  std::vector<float> values_, grads_;
  size_t total_ = 0;
  bool allocated_ = false;
};

}  // namespace genlab
