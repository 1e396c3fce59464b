// safetensors tests: exact (bit-identical) round trips, the byte layout of the reference
// implementation, every malformed-file case rejected with a message naming the problem, load_params
// checks (and params untouched on error), and a fuzz loop of random corruptions and truncations that
// may only ever throw genlab::Error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "checkpoint.h"
#include "error.h"
#include "params.h"
#include "rng.h"

namespace genlab {
namespace {

// A file from a header text and a data buffer (the header length field is written for you).
std::vector<uint8_t> make_file(const std::string& header, const std::vector<uint8_t>& data, int64_t n_override = -1) {
  const uint64_t n = n_override >= 0 ? static_cast<uint64_t>(n_override) : header.size();
  std::vector<uint8_t> out(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<long>(header.size()));
  return out;
}

std::string decode_error(const std::vector<uint8_t>& bytes) {
  try {
    decode_safetensors(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void fill_params(ParamSet& ps, uint64_t seed) {
  Rng rng(seed);  // tensors only: the alignment gaps between them stay 0
  for (size_t id = 0; id < ps.infos().size(); ++id)
    for (size_t i = 0; i < ps.infos()[id].size; ++i) ps.value(static_cast<int>(id))[i] = rng.normal();
}

ParamSet small_model() {
  ParamSet ps;
  ps.add("enc.fc1.weight", {5, 3});
  ps.add("enc.fc1.bias", {5});
  ps.add("dec.conv.weight", {2, 3, 3, 3});
  ps.add("dec.conv.bias", {2});
  ps.allocate();
  return ps;
}

TEST(Safetensors, RoundTripIsBitIdentical) {
  ParamSet ps = small_model();
  fill_params(ps, 1);
  // Special values must survive too: NaN payload, infinities, -0, denormals.
  float* w = ps.value(0);
  const uint32_t nan_bits = 0x7fc01234u;
  std::memcpy(&w[0], &nan_bits, 4);
  w[1] = INFINITY;
  w[2] = -INFINITY;
  w[3] = -0.f;
  w[4] = std::numeric_limits<float>::denorm_min();
  const std::map<std::string, std::string> md = {{"model", "vae"}, {"step", "2000"}, {"quote", "a \"b\"\n\u00e9"}};
  NamedTensor extra{"optim.m.enc.fc1.bias", {5}, {1.f, 2.f, 3.f, 4.f, 5.f}};
  const auto bytes = encode_safetensors(ps, md, {extra});
  const SafetensorsFile f = decode_safetensors(bytes);
  EXPECT_EQ(f.metadata, md);
  ASSERT_EQ(f.tensors.size(), 5u);
  for (size_t id = 0; id < ps.infos().size(); ++id) {
    const ParamInfo& p = ps.infos()[id];
    const NamedTensor* t = f.find(p.name);
    ASSERT_NE(t, nullptr) << p.name;
    EXPECT_EQ(t->shape, p.shape);
    ASSERT_EQ(t->data.size(), p.size);
    EXPECT_EQ(std::memcmp(t->data.data(), ps.value(static_cast<int>(id)), p.size * 4), 0) << p.name;
  }
  ASSERT_NE(f.find("optim.m.enc.fc1.bias"), nullptr);
  EXPECT_EQ(f.find("optim.m.enc.fc1.bias")->data, extra.data);
  EXPECT_EQ(f.find("nope"), nullptr);

  ParamSet loaded = small_model();
  load_params(f, loaded);
  ASSERT_EQ(loaded.total(), ps.total());
  for (size_t id = 0; id < ps.infos().size(); ++id)
    EXPECT_EQ(std::memcmp(loaded.value(static_cast<int>(id)), ps.value(static_cast<int>(id)), ps.infos()[id].size * 4), 0);
  // Encoding is deterministic: the same params and metadata give the same bytes.
  EXPECT_EQ(encode_safetensors(loaded, md, {extra}), bytes);
}

// The exact bytes the reference implementation writes: "__metadata__" first, tensors sorted by name and
// contiguous, the JSON padded with spaces to a multiple of 8, length as little-endian u64.
TEST(Safetensors, ByteLayoutMatchesTheFormatSpec) {
  ParamSet ps;
  const int b = ps.add("b", {2});
  const int a = ps.add("a", {1, 1});
  ps.allocate();
  ps.value(b)[0] = 1.f;
  ps.value(b)[1] = 2.f;
  ps.value(a)[0] = 0.5f;
  const auto bytes = encode_safetensors(ps, {{"step", "7"}});
  std::string header =
      R"({"__metadata__":{"step":"7"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::vector<uint8_t> data = {0x00, 0x00, 0x00, 0x3f,   // 0.5f
                                     0x00, 0x00, 0x80, 0x3f,   // 1.0f
                                     0x00, 0x00, 0x00, 0x40};  // 2.0f
  const auto expected = make_file(header, data);
  ASSERT_EQ(bytes.size(), expected.size());
  EXPECT_EQ(bytes, expected) << std::string(bytes.begin() + 8, bytes.end() - 12);
  EXPECT_EQ((bytes.size() - 8 - 12) % 8, 0u);
  // No metadata: the key is left out (as safetensors does for metadata=None).
  const auto plain = encode_safetensors(ps, {});
  EXPECT_EQ(std::string(plain.begin() + 8, plain.begin() + 8 + 5), R"({"a":)");
  // An empty model is a valid file too.
  ParamSet empty;
  empty.allocate();
  EXPECT_EQ(decode_safetensors(encode_safetensors(empty, {})).tensors.size(), 0u);
}

TEST(Safetensors, EncodeRejectsInconsistentExtraTensors) {
  ParamSet ps = small_model();
  EXPECT_THROW(encode_safetensors(ps, {}, {NamedTensor{"x", {2, 2}, {1.f}}}), Error);
  EXPECT_THROW(encode_safetensors(ps, {}, {NamedTensor{"enc.fc1.bias", {1}, {1.f}}}), Error);
  EXPECT_THROW(encode_safetensors(ps, {}, {NamedTensor{"__metadata__", {1}, {1.f}}}), Error);
}

std::string tensor_json(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b,
                        uint64_t e) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(b) + "," + std::to_string(e) + "]}";
}

TEST(Safetensors, RejectsEveryBadFileWithAMessageNamingTheProblem) {
  const std::vector<uint8_t> d16(16, 0), d8(8, 0);
  const std::string ok_a = tensor_json("a", "F32", "[2]", 0, 8);
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty", {}, "fewer than the 8-byte header length"},
      {"7 bytes", std::vector<uint8_t>(7, 0), "fewer than the 8-byte"},
      {"header longer than file", make_file("{}", {}, 1000), "header length 1000 is larger than the 2 bytes"},
      {"huge header", make_file("{}", {}, 200'000'000), "exceeds the 100 MB limit"},
      {"u64 max header", make_file("{}", {}, std::numeric_limits<int64_t>::max()), "exceeds the 100 MB limit"},
      {"zero header", make_file("", {}), "does not start with '{'"},
      {"array header", make_file("[1,2]", {}), "does not start with '{'"},
      {"malformed JSON", make_file("{\"a\":{\"dtype\":\"F32\",", d8), "header: JSON parse error"},
      {"trailing garbage", make_file("{} x", {}), "unexpected content"},
      {"duplicate names", make_file("{" + ok_a + "," + tensor_json("a", "F32", "[2]", 8, 16) + "}", d16),
       "duplicate key \"a\""},
      {"dtype F16", make_file("{" + tensor_json("a", "F16", "[4]", 0, 8) + "}", d8), "tensor 'a' has dtype F16"},
      {"dtype not a string", make_file("{\"a\":{\"dtype\":5,\"shape\":[2],\"data_offsets\":[0,8]}}", d8),
       "dtype is a number"},
      {"shape vs bytes", make_file("{" + tensor_json("a", "F32", "[3]", 0, 8) + "}", d8),
       "shape [3] needs 12 bytes but data_offsets [0,8] cover 8"},
      {"huge shape", make_file("{" + tensor_json("a", "F32", "[2147483647,2147483647,2147483647]", 0, 8) + "}", d8),
       "needs too many bytes"},
      {"negative dim", make_file("{" + tensor_json("a", "F32", "[-2]", 0, 8) + "}", d8), "not a non-negative integer"},
      {"fractional dim", make_file("{" + tensor_json("a", "F32", "[2.5]", 0, 8) + "}", d8), "not a non-negative integer"},
      {"dim too large", make_file("{" + tensor_json("a", "F32", "[4294967296]", 0, 8) + "}", d8), "too large"},
      {"shape not array", make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", d8),
       "shape is a number"},
      {"offsets out of bounds", make_file("{" + tensor_json("a", "F32", "[4]", 0, 16) + "}", d8),
       "are outside the 8-byte data buffer"},
      {"offsets reversed", make_file("{" + tensor_json("a", "F32", "[0]", 8, 0) + "}", d8), "end before they begin"},
      {"offsets wrong arity", make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", d8),
       "data_offsets must be an array [begin, end]"},
      {"overlap", make_file("{" + ok_a + "," + tensor_json("b", "F32", "[2]", 4, 12) + "}", d16),
       "tensors 'a' and 'b' overlap"},
      {"gap", make_file("{" + tensor_json("a", "F32", "[2]", 8, 16) + "}", d16), "gap of 8 bytes before tensor 'a'"},
      {"uncovered tail", make_file("{" + ok_a + "}", d16), "8 bytes of data after the last tensor are not covered"},
      {"metadata value not a string", make_file("{\"__metadata__\":{\"step\":7}," + ok_a + "}", d8),
       "__metadata__ value for 'step' is a number"},
      {"metadata not an object", make_file("{\"__metadata__\":[]," + ok_a + "}", d8), "__metadata__ is an array"},
      {"missing dtype", make_file("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", d8), "tensor 'a': missing 'dtype'"},
      {"missing shape", make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", d8), "missing 'shape'"},
      {"missing offsets", make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", d8), "missing 'data_offsets'"},
      {"unknown field", make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}", d8),
       "unknown header field 'x'"},
      {"entry not an object", make_file("{\"a\":[1]}", d8), "tensor 'a': header entry is an array"},
      {"deep nesting", make_file("{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}", {}), "nesting"},
  };
  for (const Case& c : cases) {
    const std::string err = decode_error(c.bytes);
    EXPECT_NE(err.find(c.message), std::string::npos) << c.what << ": got \"" << err << "\"";
    EXPECT_EQ(err.rfind("bad safetensors file: ", 0), 0u) << c.what << ": " << err;
  }
  // A truncated data buffer of a real file names the tensor that no longer fits.
  ParamSet ps = small_model();
  auto bytes = encode_safetensors(ps, {});
  bytes.erase(bytes.end() - 4, bytes.end());
  EXPECT_NE(decode_error(bytes).find("outside the"), std::string::npos) << decode_error(bytes);
}

TEST(Safetensors, LoadParamsChecksNamesAndShapesAndLeavesParamsUntouched) {
  ParamSet src = small_model();
  fill_params(src, 2);
  ParamSet dst = small_model();
  fill_params(dst, 3);
  const std::vector<float> before(dst.values().begin(), dst.values().end());

  // Missing tensor: drop "enc.fc1.bias" (the second parameter; the first would load fine).
  SafetensorsFile f = decode_safetensors(encode_safetensors(src, {}));
  SafetensorsFile missing = f;
  std::erase_if(missing.tensors, [](const NamedTensor& t) { return t.name == "enc.fc1.bias"; });
  try {
    load_params(missing, dst);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'enc.fc1.bias'"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::equal(before.begin(), before.end(), dst.values().begin()));

  // Wrong shape, same element count: still rejected, naming expected and actual shapes.
  ParamSet other;
  other.add("enc.fc1.weight", {3, 5});
  other.add("enc.fc1.bias", {5});
  other.add("dec.conv.weight", {2, 3, 3, 3});
  other.add("dec.conv.bias", {2});
  other.allocate();
  try {
    load_params(decode_safetensors(encode_safetensors(other, {})), dst);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'enc.fc1.weight' has shape [3,5], the model expects [5,3]"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(std::equal(before.begin(), before.end(), dst.values().begin()));

  // A ParamSet that was declared but never allocated is refused instead of read out of bounds.
  ParamSet unallocated;
  unallocated.add("enc.fc1.weight", {5, 3});
  EXPECT_THROW(encode_safetensors(unallocated, {}), Error);
  EXPECT_THROW(load_params(f, unallocated), Error);

  // Extra tensors (optimiser moments) are allowed and ignored.
  NamedTensor extra{"optim.step", {1}, {3.f}};
  load_params(decode_safetensors(encode_safetensors(src, {}, {extra})), dst);
  EXPECT_TRUE(std::equal(src.values().begin(), src.values().end(), dst.values().begin()));
}

// Random corruptions of a valid file: flipped bytes (mostly in the header), truncations, inserted
// bytes, random length fields. Decoding must either succeed or throw genlab::Error, nothing else.
TEST(Safetensors, FuzzedFilesOnlyEverThrowGenlabError) {
  ParamSet ps = small_model();
  fill_params(ps, 4);
  const auto good = encode_safetensors(ps, {{"model", "vae"}, {"step", "12"}});
  uint64_t header_len = 0;
  std::memcpy(&header_len, good.data(), 8);
  Rng rng(99);
  int rejected = 0, accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = good;
    const int kind = static_cast<int>(rng.below(5));
    const int edits = 1 + static_cast<int>(rng.below(4));
    for (int e = 0; e < edits; ++e) {
      if (kind == 0 && !b.empty()) {  // byte flips inside the header (where parsing happens)
        b[8 + rng.below(static_cast<uint32_t>(header_len))] = static_cast<uint8_t>(rng.below(256));
      } else if (kind == 1 && !b.empty()) {  // byte flips anywhere, including the length field
        b[rng.below(static_cast<uint32_t>(b.size()))] ^= static_cast<uint8_t>(1u << rng.below(8));
      } else if (kind == 2) {  // truncation
        b.resize(rng.below(static_cast<uint32_t>(b.size()) + 1));
      } else if (kind == 3) {  // inserted bytes in the header
        const size_t at = 8 + rng.below(static_cast<uint32_t>(header_len));
        b.insert(b.begin() + static_cast<long>(at), static_cast<uint8_t>(rng.below(256)));
      } else {  // a random plausible header length
        const uint64_t n = rng.below(static_cast<uint32_t>(b.size() + 16));
        std::memcpy(b.data(), &n, 8);
      }
    }
    try {
      const SafetensorsFile f = decode_safetensors(b);
      ++accepted;
      for (const NamedTensor& t : f.tensors) {
        size_t n = 1;
        for (int d : t.shape) n *= static_cast<size_t>(d);
        ASSERT_EQ(n, t.data.size());
      }
    } catch (const Error& e) {
      ++rejected;
      ASSERT_GT(std::strlen(e.what()), 10u);
    } catch (const std::exception& e) {
      FAIL() << "iteration " << iter << " threw a non-genlab exception: " << e.what();
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(accepted, 0);  // e.g. a flipped bit inside tensor data
  // Pure noise, too.
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<uint8_t> b(rng.below(200));
    for (auto& x : b) x = static_cast<uint8_t>(rng.below(256));
    if (b.size() >= 8 && rng.below(2)) {
      const uint64_t n = b.size() - 8;
      std::memcpy(b.data(), &n, 8);
      b[8 % b.size()] = '{';
    }
    EXPECT_THROW(decode_safetensors(b), Error);
  }
}

// Writes a small checkpoint to a file and reads it back through the file system. With
// GENLAB_SAFETENSORS_SAMPLE=path set, the file is kept there for tests/engine/check_safetensors_layout.py.
TEST(Safetensors, FileRoundTrip) {
  const char* keep = std::getenv("GENLAB_SAFETENSORS_SAMPLE");
  const std::string path = keep ? keep : ::testing::TempDir() + "genlab_safetensors_roundtrip.safetensors";
  ParamSet ps = small_model();
  fill_params(ps, 5);
  const auto bytes = encode_safetensors(ps, {{"model", "vae"}, {"step", "3"}});
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(out.good()) << path;
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, bytes);
  const SafetensorsFile f = decode_safetensors(back);
  EXPECT_EQ(f.metadata.at("step"), "3");
  if (!keep) std::remove(path.c_str());
}

}  // namespace
}  // namespace genlab
