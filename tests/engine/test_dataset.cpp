// IDX parsing (plain and gzip), data-set protocol (mnist10k split), binarisation, and rejection of
// malformed files with a message instead of a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "dataset.h"
#include "error.h"
#include "error_of.h"
#include "gzip_inflate.h"
#include "rng.h"

using namespace genlab;

namespace {
std::string data_dir() { return default_data_dir(); }
}  // namespace

TEST(Idx, RoundTrip) {
  std::vector<uint8_t> px(2 * 3 * 4);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 7);
  const auto bytes = encode_idx({2, 3, 4}, px);
  IdxArray a = parse_idx(bytes);
  EXPECT_EQ(a.dims, (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(a.data, px);
}

TEST(Idx, RejectsMalformed) {
  const auto good = encode_idx({2, 2, 2}, std::vector<uint8_t>(8, 1));
  auto bad = good;
  bad[0] = 1;
  EXPECT_NE(error_of([&] { parse_idx(bad); }).find("magic"), std::string::npos);
}

TEST(Idx, RejectsTruncatedWrongTypeAndHugeHeaders) {
  const auto good = encode_idx({2, 2, 2}, std::vector<uint8_t>(8, 1));
  auto truncated = std::vector<uint8_t>(good.begin(), good.end() - 3);
  EXPECT_NE(error_of([&] { parse_idx(truncated); }).find("truncated"), std::string::npos);
  auto trailing = good;
  trailing.push_back(0);
  EXPECT_NE(error_of([&] { parse_idx(trailing); }).find("trailing"), std::string::npos);
  auto wrong_type = good;
  wrong_type[2] = 0x0D;  // float
  EXPECT_NE(error_of([&] { parse_idx(wrong_type); }).find("unsigned byte"), std::string::npos);
  auto huge = encode_idx({4096, 4096, 4096}, {});
  EXPECT_NE(error_of([&] { parse_idx(huge); }).find("2^30"), std::string::npos);
  EXPECT_NE(error_of([&] { parse_idx(std::vector<uint8_t>{0, 0}); }).find("too short"), std::string::npos);
  auto zero_dims = good;
  zero_dims[3] = 0;
  EXPECT_NE(error_of([&] { parse_idx(zero_dims); }).find("dimensions"), std::string::npos);
}

TEST(Gzip, ReadsDebianFashionMnistAndRejectsCorruption) {
  const std::string path = data_dir() + "/fashion-mnist/test-labels-idx1-ubyte.gz";
  const auto raw = read_file_bytes(path);
  ASSERT_TRUE(is_gzip(raw));
  IdxArray labels = parse_idx(raw, path);
  ASSERT_EQ(labels.dims, std::vector<int>{10000});
  int hist[10] = {};
  for (uint8_t l : labels.data) {
    ASSERT_LT(l, 10);
    hist[l]++;
  }
  for (int h : hist) EXPECT_EQ(h, 1000);  // Fashion-MNIST test: 1000 per class
  auto corrupt = raw;
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_FALSE(error_of([&] { parse_idx(corrupt, "x.gz"); }).empty());
  auto cut = std::vector<uint8_t>(raw.begin(), raw.begin() + raw.size() / 2);
  EXPECT_FALSE(error_of([&] { parse_idx(cut, "x.gz"); }).empty());
}

TEST(Dataset, Mnist10kSplitFollowsProtocol) {
  Dataset train = load_dataset("mnist10k", "train", data_dir());
  Dataset test = load_dataset("mnist10k", "test", data_dir());
  EXPECT_EQ(train.n, 9000);
  EXPECT_EQ(test.n, 1000);
  EXPECT_EQ(test.height, 28);
  EXPECT_EQ(test.width, 28);
  EXPECT_EQ(test.num_classes, 10);
  // Classes come in file order (0.json .. 9.json), so labels never decrease within a split,
  // and every class appears in both splits (each file holds ~1000 digits).
  for (const Dataset* d : {&train, &test}) {
    std::vector<int> count(10, 0);
    for (int i = 0; i < d->n; ++i) {
      if (i > 0) {
        ASSERT_LE(d->label(i - 1), d->label(i));
      }
      count[d->label(i)]++;
    }
    for (int c : count) EXPECT_GT(c, d == &test ? 70 : 700);
  }
}

TEST(Dataset, FashionMnistStandardSplit) {
  Dataset test = load_dataset("fashion-mnist", "test", data_dir());
  EXPECT_EQ(test.n, 10000);
  EXPECT_EQ(test.dim(), 784u);
}

TEST(Dataset, UnknownNamesAndSplitsAreRejected) {
  EXPECT_NE(error_of([&] { load_dataset("cifar", "train", data_dir()); }).find("unknown data set"), std::string::npos);
  EXPECT_NE(error_of([&] { load_dataset("mnist10k", "valid", data_dir()); }).find("split"), std::string::npos);
}

TEST(Binarize, FixedIsDeterministicAndMatchesIntensity) {
  Dataset test = load_dataset("mnist10k", "test", data_dir());
  const auto a = binarize_fixed(test), b = binarize_fixed(test);
  EXPECT_EQ(a, b);
  double mean_bits = 0, mean_int = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    mean_bits += a[i];
    mean_int += test.pixels[i] / 255.0;
    if (test.pixels[i] == 0) {
      ASSERT_EQ(a[i], 0);
    }
    if (test.pixels[i] == 255) {
      ASSERT_EQ(a[i], 1);
    }
  }
  EXPECT_NEAR(mean_bits / a.size(), mean_int / a.size(), 2e-3);
  EXPECT_NE(a, binarize_fixed(test, kTestBinarizeSeed + 1));
}

// Training binarisation: P(1) = intensity/255 for every level (0 and 255 certain, no draw taken).
TEST(Binarize, DynamicFrequenciesMatchIntensity) {
  std::vector<uint8_t> levels(256);
  for (int v = 0; v < 256; ++v) levels[v] = static_cast<uint8_t>(v);
  std::vector<double> ones(256, 0.0);
  std::vector<float> out(256);
  Rng rng(3);
  constexpr int kDraws = 20000;
  for (int r = 0; r < kDraws; ++r) {
    binarize_dynamic(levels.data(), levels.size(), out.data(), rng);
    for (int v = 0; v < 256; ++v) {
      ASSERT_TRUE(out[v] == 0.f || out[v] == 1.f);
      ones[v] += out[v];
    }
  }
  EXPECT_EQ(ones[0], 0.0);
  EXPECT_EQ(ones[255], kDraws);
  for (int v = 1; v < 255; ++v) {
    const double p = v / 255.0, sd = std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(ones[v] / kDraws, p, 5 * sd) << "level " << v;
  }
  // Certain pixels take no draw: an all-0/255 image leaves the stream where it was.
  const uint8_t certain[4] = {0, 255, 0, 255};
  Rng a(9), b(9);
  binarize_dynamic(certain, 4, out.data(), a);
  EXPECT_EQ(a.next_u64(), b.next_u64());
}
