// Image data sets: IDX files (plain or gzip) -> uint8 images + labels, the named data sets of the
// evaluation protocol (DESIGN.md), and binarisation (dynamic for training, fixed-seed for test).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "rng.h"

namespace genlab {

// A parsed IDX file: unsigned-byte data only (the format of MNIST-like data sets).
struct IdxArray {
  std::vector<int> dims;
  std::vector<uint8_t> data;
};

// Parses IDX bytes (gzip is detected and inflated). Throws genlab::Error naming what is wrong.
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& what = "IDX file");
IdxArray read_idx_file(const std::string& path);
std::vector<uint8_t> encode_idx(const std::vector<int>& dims, std::span<const uint8_t> data);
std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes = size_t{1} << 31);
void write_file_bytes(const std::string& path, std::span<const uint8_t> bytes);

struct Dataset {
  std::string name;
  int n = 0, height = 0, width = 0, channels = 1;  // pixels are [n][channels][height][width]
  std::vector<uint8_t> pixels;
  std::vector<int> labels;  // empty if the data set has none
  int num_classes = 0;      // 0 if unlabelled

  size_t dim() const { return static_cast<size_t>(height) * width * channels; }
  const uint8_t* image(int i) const { return pixels.data() + static_cast<size_t>(i) * dim(); }
  int label(int i) const { return labels.empty() ? -1 : labels[i]; }
};

// Builds a data set from IDX images ([n,h,w] or [n,h,w,c]) and optional labels ([n]).
Dataset dataset_from_idx(const IdxArray& images, const IdxArray* labels, const std::string& name);

// Names: "mnist10k", "fashion-mnist", or a path to an images IDX file (labels are picked up from the
// sibling "...labels-idx1-ubyte[.gz]" when it exists). split: "train" or "test" (ignored for a path).
Dataset load_dataset(const std::string& name_or_path, const std::string& split, const std::string& data_dir);
// $GENLAB_DATA_DIR if set, else "assets/data".
std::string default_data_dir();
std::vector<std::string> builtin_dataset_names();

// Seed of the once-only binarisation of test splits (documented in README; exported with `genlab data export`).
constexpr uint64_t kTestBinarizeSeed = 20240901;

// Fresh Bernoulli(intensity/255) draw per pixel into out (0.f / 1.f). Pixels at 0 and 255 are certain
// and take no draw from rng (most MNIST pixels: the batch is drawn ~6x faster).
void binarize_dynamic(const uint8_t* img, size_t n, float* out, Rng& rng);
// The number of rng.uniform() calls binarize_dynamic(img, n, ...) makes (its pixels strictly inside (0, 255)).
size_t binarize_dynamic_draws(const uint8_t* img, size_t n);
// The fixed binarisation of a whole data set: pixel values 0/1, one Rng(seed) stream over all pixels in order.
std::vector<uint8_t> binarize_fixed(const Dataset& d, uint64_t seed = kTestBinarizeSeed);

}  // namespace genlab
