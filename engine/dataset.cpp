#include "dataset.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "error.h"
#include "gzip_inflate.h"

namespace genlab {

std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  require(f != nullptr, "cannot open file: " + path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    require(out.size() + got <= max_bytes, "file too large: " + path);
    out.insert(out.end(), buf, buf + got);
  }
  return out;
}

void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), &std::fclose);
  require(f != nullptr, "cannot write file: " + path);
  require(std::fwrite(bytes.data(), 1, bytes.size(), f.get()) == bytes.size(), "short write: " + path);
}

IdxArray parse_idx(std::span<const uint8_t> raw, const std::string& what) {
  std::vector<uint8_t> inflated;
  std::span<const uint8_t> b = raw;
  if (is_gzip(raw)) {
    try {
      inflated = gunzip(raw, size_t{1} << 30);
    } catch (const Error& e) {
      throw Error(what + ": " + e.what());
    }
    b = inflated;
  }
  require(b.size() >= 4, what + ": too short for an IDX header (" + std::to_string(b.size()) + " bytes)");
  require(b[0] == 0 && b[1] == 0, what + ": bad magic (first two bytes must be 0; not an IDX file)");
  require(b[2] == 0x08, what + ": element type 0x" + std::to_string(b[2]) + " is not unsigned byte (0x08)");
  const int ndim = b[3];
  require(ndim >= 1 && ndim <= 4, what + ": " + std::to_string(ndim) + " dimensions (expected 1..4)");
  require(b.size() >= 4 + 4 * static_cast<size_t>(ndim), what + ": truncated header");
  IdxArray out;
  uint64_t count = 1;
  for (int i = 0; i < ndim; ++i) {
    const uint8_t* p = b.data() + 4 + 4 * i;
    const uint32_t d = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    require(d > 0 && d <= (1u << 24), what + ": dimension " + std::to_string(i) + " = " + std::to_string(d) + " is out of range");
    out.dims.push_back(static_cast<int>(d));
    count *= d;
    require(count <= (uint64_t{1} << 30), what + ": header declares more than 2^30 elements");
  }
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  require(b.size() - header == count, what + ": header declares " + std::to_string(count) + " bytes of data but the file has " +
                                          std::to_string(b.size() - header) + (b.size() - header < count ? " (truncated)" : " (trailing bytes)"));
  out.data.assign(b.begin() + header, b.end());
  return out;
}

IdxArray read_idx_file(const std::string& path) { return parse_idx(read_file_bytes(path), path); }

std::vector<uint8_t> encode_idx(const std::vector<int>& dims, std::span<const uint8_t> data) {
  std::vector<uint8_t> out = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (int d : dims)
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>((static_cast<uint32_t>(d) >> s) & 0xFF));
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Dataset dataset_from_idx(const IdxArray& images, const IdxArray* labels, const std::string& name) {
  require(images.dims.size() == 3 || images.dims.size() == 4,
          name + ": images must have 3 dims [n,h,w] or 4 dims [n,h,w,c], got " + std::to_string(images.dims.size()));
  Dataset d;
  d.name = name;
  d.n = images.dims[0];
  d.height = images.dims[1];
  d.width = images.dims[2];
  d.channels = images.dims.size() == 4 ? images.dims[3] : 1;
  require(d.height <= 256 && d.width <= 256, name + ": images larger than 256x256 are not supported");
  require(d.channels == 1 || d.channels == 3, name + ": only 1 or 3 channels are supported");
  if (d.channels == 1) {
    d.pixels = images.data;
  } else {  // IDX stores [n][h][w][c]; the engine uses [n][c][h][w]
    d.pixels.resize(images.data.size());
    const size_t hw = static_cast<size_t>(d.height) * d.width;
    for (int i = 0; i < d.n; ++i)
      for (size_t p = 0; p < hw; ++p)
        for (int c = 0; c < 3; ++c) d.pixels[(i * 3 + c) * hw + p] = images.data[(i * hw + p) * 3 + c];
  }
  if (labels) {
    require(labels->dims.size() == 1, name + ": labels must have 1 dimension");
    require(labels->dims[0] == d.n, name + ": " + std::to_string(labels->dims[0]) + " labels for " + std::to_string(d.n) + " images");
    d.labels.assign(labels->data.begin(), labels->data.end());
    int mx = 0;
    for (int l : d.labels) mx = std::max(mx, l);
    require(mx < 100, name + ": label values above 99");
    d.num_classes = mx + 1;
  }
  return d;
}

std::string default_data_dir() {
  const char* env = std::getenv("GENLAB_DATA_DIR");
  return env && *env ? env : "assets/data";
}

std::vector<std::string> builtin_dataset_names() { return {"mnist10k", "fashion-mnist"}; }

namespace {
bool file_exists(const std::string& p) {
  std::ifstream f(p);
  return f.good();
}
}  // namespace

Dataset load_dataset(const std::string& name, const std::string& split, const std::string& data_dir) {
  std::string images, labels;
  if (name == "mnist10k" || name == "fashion-mnist") {
    require(split == "train" || split == "test", "split must be 'train' or 'test', got '" + split + "'");
    if (name == "mnist10k") {
      images = data_dir + "/mnist10k/" + split + "-images-idx3-ubyte";
      labels = data_dir + "/mnist10k/" + split + "-labels-idx1-ubyte";
    } else {
      images = data_dir + "/fashion-mnist/" + split + "-images-idx3-ubyte.gz";
      labels = data_dir + "/fashion-mnist/" + split + "-labels-idx1-ubyte.gz";
    }
    require(file_exists(images), "data set '" + name + "' not found at " + images + " (run tools/setup.sh, or set GENLAB_DATA_DIR)");
  } else {
    require(file_exists(name), "unknown data set '" + name + "': not mnist10k, fashion-mnist or an existing IDX file");
    images = name;
    const auto pos = name.rfind("images-idx3-ubyte");
    if (pos != std::string::npos) {
      std::string l = name;
      l.replace(pos, 17, "labels-idx1-ubyte");
      if (file_exists(l)) labels = l;
    }
  }
  IdxArray im = read_idx_file(images);
  if (!labels.empty() && file_exists(labels)) {
    IdxArray lb = read_idx_file(labels);
    return dataset_from_idx(im, &lb, name);
  }
  return dataset_from_idx(im, nullptr, name);
}

void binarize_dynamic(const uint8_t* img, size_t n, float* out, Rng& rng) {
  for (size_t i = 0; i < n; ++i) {
    const uint8_t v = img[i];
    out[i] = v == 0 ? 0.f : v == 255 ? 1.f : rng.uniform() * 255.f < static_cast<float>(v) ? 1.f : 0.f;
  }
}

size_t binarize_dynamic_draws(const uint8_t* img, size_t n) {
  size_t draws = 0;
  for (size_t i = 0; i < n; ++i) draws += static_cast<uint8_t>(img[i] - 1) < 254;  // 1..254
  return draws;
}

std::vector<uint8_t> binarize_fixed(const Dataset& d, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> out(d.pixels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = rng.uniform() * 255.f < static_cast<float>(d.pixels[i]) ? 1 : 0;
  return out;
}

}  // namespace genlab
