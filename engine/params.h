// ParamSet: all parameters of a model in one allocation, gradients in a second one of the same
// layout, each tensor reached through a named view (llm.c's malloc_and_point_parameters).
// Optimisers run one flat loop over values()/grads(); checkpoints write values() plus the table.
#pragma once
#include <cstddef>
#include <cstdint>
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
  // Gradients are zeroed lazily (zero_grad only marks them): every accessor below returns zeroed memory
  // for a tensor not written since zero_grad, except grad_for_overwrite, whose caller writes it all.
  float* grad(int id) { return grads_.data() + touch(id); }
  const float* grad(int id) const { return grads_.data() + touch(id); }
  // For kernels that can either overwrite or add (GEMM beta): beta = 0 when the tensor has not been written
  // since zero_grad (the caller must then write every element), else 1.
  float* grad_for_overwrite(int id, float& beta);

  std::span<float> values() { return values_; }
  std::span<const float> values() const { return values_; }
  std::span<float> grads() {
    touch_all();
    return grads_;
  }
  std::span<const float> grads() const {
    touch_all();
    return grads_;
  }

  const std::vector<ParamInfo>& infos() const { return infos_; }
  int find(const std::string& name) const;  // -1 if absent
  size_t total() const { return total_; }
  void zero_grad();

 private:
  size_t touch(int id) const;  // zero-fills tensor id if not yet written; returns its offset
  size_t padded_end(int id) const;  // end of tensor id including the alignment gap after it
  void touch_all() const;

  std::vector<ParamInfo> infos_;
  std::vector<float> values_;
  mutable std::vector<float> grads_;
  mutable std::vector<uint8_t> written_;  // per tensor: written since the last zero_grad
  size_t total_ = 0;
  bool allocated_ = false;
};

}  // namespace genlab
