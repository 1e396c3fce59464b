// safetensors encode/decode (format: 8-byte little-endian header length N, N bytes of JSON header,
// then the data buffer; each tensor's data_offsets are [begin, end) relative to the data buffer).
// Writing follows the reference implementation (huggingface/safetensors `prepare`/`serialize`):
// "__metadata__" first, tensors laid out contiguously in name order (all F32, so the reference's
// alignment-first sort reduces to names), header padded with spaces to a multiple of 8 bytes.
// Reading validates like the reference `validate`: every tensor tiles the buffer exactly, no gaps, no
// overlap, nothing left over. Every problem throws genlab::Error naming the tensor and the numbers.
#include "checkpoint.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "error.h"
#include "json.h"
#include "params.h"

namespace genlab {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so is every target here");

namespace {
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's MAX_HEADER_SIZE
constexpr const char* kMetadataKey = "__metadata__";

std::string shape_string(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

size_t shape_elements(const std::vector<int>& shape) {
  size_t n = 1;
  for (int d : shape) n *= static_cast<size_t>(d);
  return n;
}

// "[begin,end]" (built by appending: GCC 12 warns falsely on "[" + std::string under -O3).
std::string range_string(uint64_t begin, uint64_t end) {
  std::string s(1, '[');
  s += std::to_string(begin);
  s += ',';
  s += std::to_string(end);
  s += ']';
  return s;
}

struct TensorRef {
  const std::string* name;
  const std::vector<int>* shape;
  const float* data;
  size_t n;
};
}  // namespace

const NamedTensor* SafetensorsFile::find(const std::string& name) const {
  for (const NamedTensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// ---- encode ---------------------------------------------------------------------------------------

std::vector<uint8_t> encode_safetensors(const ParamSet& params, const std::map<std::string, std::string>& metadata,
                                        const std::vector<NamedTensor>& extra) {
  require(params.allocated() || params.infos().empty(), "safetensors encode: the ParamSet is not allocated");
  std::vector<TensorRef> refs;
  for (size_t id = 0; id < params.infos().size(); ++id) {
    const ParamInfo& p = params.infos()[id];
    refs.push_back({&p.name, &p.shape, params.value(static_cast<int>(id)), p.size});
  }
  for (const NamedTensor& t : extra) {
    require(t.data.size() == shape_elements(t.shape), "safetensors encode: tensor '" + t.name + "' has " +
                                                          std::to_string(t.data.size()) + " values but shape " +
                                                          shape_string(t.shape));
    for (int d : t.shape) require(d >= 0, "safetensors encode: tensor '" + t.name + "' has a negative dimension");
    refs.push_back({&t.name, &t.shape, t.data.data(), t.data.size()});
  }
  std::sort(refs.begin(), refs.end(), [](const TensorRef& a, const TensorRef& b) { return *a.name < *b.name; });
  for (size_t i = 0; i < refs.size(); ++i) {
    require(*refs[i].name != kMetadataKey, "safetensors encode: a tensor may not be named __metadata__");
    require(i == 0 || *refs[i].name != *refs[i - 1].name,
            "safetensors encode: duplicate tensor name '" + *refs[i].name + "'");
  }

  Json header = Json::object();
  if (!metadata.empty()) {
    Json md = Json::object();
    for (const auto& [k, v] : metadata) md[k] = v;
    header[kMetadataKey] = std::move(md);
  }
  uint64_t offset = 0;
  for (const TensorRef& r : refs) {
    Json shape = Json::array();
    for (int d : *r.shape) shape.push_back(d);
    const uint64_t bytes = static_cast<uint64_t>(r.n) * sizeof(float);
    Json info = Json::object();
    info["dtype"] = "F32";
    info["shape"] = std::move(shape);
    info["data_offsets"] = Json::array({Json(offset), Json(offset + bytes)});
    header[*r.name] = std::move(info);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out(8 + text.size() + offset);
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* data = out.data() + 8 + text.size();
  for (const TensorRef& r : refs) {
    if (r.n) std::memcpy(data, r.data, r.n * sizeof(float));
    data += r.n * sizeof(float);
  }
  return out;
}

// ---- decode ---------------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error("bad safetensors file: " + what); }

// A non-negative integer that fits in uint64 (doubles hold integers exactly up to 2^53).
uint64_t read_uint(const Json& v, const std::string& what) {
  if (!v.is_number()) bad(what + " is " + Json::type_name(v.type()) + ", expected a non-negative integer");
  const double d = v.as_number();
  if (!(d >= 0 && d <= 9007199254740992.0) || d != static_cast<double>(static_cast<uint64_t>(d)))
    bad(what + " = " + json_number(d) + " is not a non-negative integer");
  return static_cast<uint64_t>(d);
}

struct Entry {
  std::string name;
  std::vector<int> shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_tensor_entry(const std::string& name, const Json& info) {
  const std::string who = "tensor '" + name + "'";
  if (!info.is_object()) bad(who + ": header entry is " + Json::type_name(info.type()) + ", expected an object");
  for (const auto& [k, v] : info.as_object())
    if (k != "dtype" && k != "shape" && k != "data_offsets") bad(who + ": unknown header field '" + k + "'");
  const Json* dtype = info.find("dtype");
  const Json* shape = info.find("shape");
  const Json* offsets = info.find("data_offsets");
  if (!dtype) bad(who + ": missing 'dtype'");
  if (!shape) bad(who + ": missing 'shape'");
  if (!offsets) bad(who + ": missing 'data_offsets'");
  if (!dtype->is_string()) bad(who + ": dtype is " + Json::type_name(dtype->type()) + ", expected a string");
  if (dtype->as_string() != "F32")
    bad(who + " has dtype " + dtype->as_string() + "; genlab reads only F32 (float32) tensors");
  if (!shape->is_array()) bad(who + ": shape is " + Json::type_name(shape->type()) + ", expected an array");
  if (shape->size() > 8) bad(who + ": shape has " + std::to_string(shape->size()) + " dimensions (at most 8)");
  Entry e;
  e.name = name;
  uint64_t elements = 1;
  for (const Json& d : shape->as_array()) {
    const uint64_t dim = read_uint(d, who + ": a shape dimension");
    if (dim > 0x7fffffff) bad(who + ": shape dimension " + std::to_string(dim) + " is too large");
    e.shape.push_back(static_cast<int>(dim));
    // Saturate instead of overflowing: any product above 2^62 is rejected by the byte-range check.
    elements = (dim != 0 && elements > (uint64_t{1} << 62) / dim) ? (uint64_t{1} << 62) : elements * dim;
  }
  if (!offsets->is_array() || offsets->size() != 2) bad(who + ": data_offsets must be an array [begin, end]");
  e.begin = read_uint(offsets->at(0), who + ": data_offsets[0]");
  e.end = read_uint(offsets->at(1), who + ": data_offsets[1]");
  if (e.end < e.begin)
    bad(who + ": data_offsets " + range_string(e.begin, e.end) + " end before they begin");
  const uint64_t range = e.end - e.begin;
  if (elements >= (uint64_t{1} << 61) || elements * 4 != range)
    bad(who + ": shape " + shape_string(e.shape) + " needs " +
        (elements >= (uint64_t{1} << 61) ? std::string("too many") : std::to_string(elements * 4)) +
        " bytes but data_offsets " + range_string(e.begin, e.end) + " cover " +
        std::to_string(range));
  return e;
}

}  // namespace

SafetensorsFile decode_safetensors(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8)
    bad("the file has " + std::to_string(bytes.size()) + " bytes, fewer than the 8-byte header length");
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  if (n > kMaxHeaderBytes) bad("header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > bytes.size() - 8)
    bad("header length " + std::to_string(n) + " is larger than the " + std::to_string(bytes.size() - 8) +
        " bytes that follow it (truncated file?)");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, n);
  if (n == 0 || text[0] != '{') bad("the header does not start with '{' (not a safetensors JSON header)");
  Json header;
  try {
    Json::ParseLimits lim;
    lim.max_bytes = kMaxHeaderBytes;
    lim.max_depth = 8;
    header = Json::parse(text, lim);
  } catch (const Error& e) {
    bad(std::string("header: ") + e.what());
  }
  if (!header.is_object()) bad("the header is " + std::string(Json::type_name(header.type())) + ", not a JSON object");

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.as_object()) {
    if (name == kMetadataKey) {
      if (!info.is_object()) bad("__metadata__ is " + std::string(Json::type_name(info.type())) + ", expected an object");
      for (const auto& [k, v] : info.as_object()) {
        if (!v.is_string())
          bad("__metadata__ value for '" + k + "' is " + Json::type_name(v.type()) + "; the format allows only strings");
        file.metadata[k] = v.as_string();
      }
      continue;
    }
    entries.push_back(parse_tensor_entry(name, info));  // duplicates were rejected by the JSON parser
  }

  // The tensors must tile the data buffer exactly: sorted by offset, each begins where the last ended.
  const uint64_t data_size = bytes.size() - 8 - n;
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return entries[a].begin != entries[b].begin ? entries[a].begin < entries[b].begin : entries[a].end < entries[b].end;
  });
  uint64_t expected = 0;
  const Entry* prev = nullptr;
  for (size_t i : order) {
    const Entry& e = entries[i];
    const std::string range = range_string(e.begin, e.end);
    if (e.end > data_size)
      bad("tensor '" + e.name + "': data_offsets " + range + " are outside the " + std::to_string(data_size) +
          "-byte data buffer (truncated file?)");
    if (e.begin < expected)
      bad("tensors '" + prev->name + "' and '" + e.name + "' overlap (data_offsets " + range + " begin before byte " +
          std::to_string(expected) + ")");
    if (e.begin > expected)
      bad("gap of " + std::to_string(e.begin - expected) + " bytes before tensor '" + e.name + "' (data_offsets " +
          range + "): offsets must be contiguous");
    expected = e.end;
    prev = &e;
  }
  if (expected != data_size)
    bad(std::to_string(data_size - expected) + " bytes of data after the last tensor are not covered by any tensor");

  const uint8_t* data = bytes.data() + 8 + n;
  file.tensors.reserve(entries.size());
  for (size_t i : order) {
    Entry& e = entries[i];
    NamedTensor t;
    t.name = std::move(e.name);
    t.shape = std::move(e.shape);
    t.data.resize((e.end - e.begin) / 4);
    if (!t.data.empty()) std::memcpy(t.data.data(), data + e.begin, e.end - e.begin);
    file.tensors.push_back(std::move(t));
  }
  return file;
}

// ---- load into a ParamSet --------------------------------------------------------------------------

void load_params(const SafetensorsFile& file, ParamSet& params) {
  require(params.allocated() || params.infos().empty(), "load_params: the ParamSet is not allocated");
  std::unordered_map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : file.tensors) by_name.emplace(t.name, &t);
  std::vector<const NamedTensor*> src(params.infos().size());
  // Check everything first so params stay untouched when anything is wrong.
  for (size_t id = 0; id < params.infos().size(); ++id) {
    const ParamInfo& p = params.infos()[id];
    auto it = by_name.find(p.name);
    if (it == by_name.end())
      throw Error("checkpoint is missing tensor '" + p.name + "' (shape " + shape_string(p.shape) +
                  ") that this model needs");
    if (it->second->shape != p.shape)
      throw Error("checkpoint tensor '" + p.name + "' has shape " + shape_string(it->second->shape) +
                  ", the model expects " + shape_string(p.shape));
    if (it->second->data.size() != p.size)
      throw Error("checkpoint tensor '" + p.name + "' has " + std::to_string(it->second->data.size()) +
                  " values, the model expects " + std::to_string(p.size));
    src[id] = it->second;
  }
  for (size_t id = 0; id < params.infos().size(); ++id)
    std::copy(src[id]->data.begin(), src[id]->data.end(), params.value(static_cast<int>(id)));
}

}  // namespace genlab
