// Checkpoints in the safetensors format: 8-byte little-endian header length, a JSON header
// {"name": {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}, ..., "__metadata__": {str: str}},
// then raw little-endian tensor bytes. PyTorch users read them with the `safetensors` library.
// Model config and training step travel in __metadata__ (string values only, as the format requires).
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace genlab {

class ParamSet;

struct NamedTensor {
  std::string name;
  std::vector<int> shape;
  std::vector<float> data;
};

struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<NamedTensor> tensors;  // in file order
  const NamedTensor* find(const std::string& name) const;
};

// Serialises params (and any extra tensors, e.g. optimiser moments "optim.m.<name>") with metadata.
std::vector<uint8_t> encode_safetensors(const ParamSet& params, const std::map<std::string, std::string>& metadata,
                                        const std::vector<NamedTensor>& extra = {});
// Parses and validates a file: header length within the file, JSON well-formed, dtype F32, shapes
// match byte ranges, offsets contiguous and in bounds, no duplicate names. Throws genlab::Error.
SafetensorsFile decode_safetensors(std::span<const uint8_t> bytes);
// Copies tensors into params by name; every parameter must be present with the same shape.
// Throws genlab::Error naming the first missing/mismatched tensor; params is untouched on error.
void load_params(const SafetensorsFile& file, ParamSet& params);

}  // namespace genlab
