// PNG output: signature, chunk layout and CRCs, IHDR fields, and the zlib stream decoded by the
// engine's own inflate (wrapped as a gzip member) back to the exact filtered rows; Adler-32; grids.
#include <gtest/gtest.h>

#include <cstring>

#include "error.h"
#include "gzip_inflate.h"
#include "png_image.h"
#include "rng.h"

using namespace genlab;

namespace {

uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

// Decodes a zlib stream with the engine's own inflate by rewrapping its DEFLATE data as a gzip member
// (gunzip then also checks the CRC-32 and length of the result against `expected`), and checks Adler-32.
std::vector<uint8_t> inflate_zlib(const std::vector<uint8_t>& z, std::span<const uint8_t> expected) {
  EXPECT_GE(z.size(), 6u);
  EXPECT_EQ(z[0], 0x78);
  EXPECT_EQ((z[0] * 256 + z[1]) % 31, 0);  // FCHECK
  std::vector<uint8_t> gz = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
  gz.insert(gz.end(), z.begin() + 2, z.end() - 4);
  const uint32_t crc = crc32(expected), len = static_cast<uint32_t>(expected.size());
  for (int s = 0; s < 32; s += 8) gz.push_back(static_cast<uint8_t>(crc >> s));
  for (int s = 0; s < 32; s += 8) gz.push_back(static_cast<uint8_t>(len >> s));
  std::vector<uint8_t> out = gunzip(gz);
  EXPECT_EQ(be32(z.data() + z.size() - 4), adler32(out));
  return out;
}

}  // namespace

TEST(Png, Adler32KnownValues) {
  const std::string w = "Wikipedia";
  EXPECT_EQ(adler32(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(w.data()), w.size())), 0x11E60398u);
  EXPECT_EQ(adler32({}), 1u);
  std::vector<uint8_t> big(100000, 255);  // exercises the deferred modulo
  uint32_t a = 1, b = 0;
  for (uint8_t v : big) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  EXPECT_EQ(adler32(big), (b << 16) | a);
}

TEST(Png, ZlibRoundTripsThroughOurInflate) {
  Rng rng(5);
  std::vector<std::vector<uint8_t>> inputs;
  inputs.push_back({});
  inputs.push_back({42});
  inputs.push_back(std::vector<uint8_t>(100000, 0));  // long runs: length 258 matches at distance 1
  std::vector<uint8_t> noise(70000);
  for (auto& v : noise) v = static_cast<uint8_t>(rng.next_u32());
  inputs.push_back(noise);  // incompressible: literals, 9-bit codes
  std::vector<uint8_t> repeats;
  for (int i = 0; i < 50000; ++i) repeats.push_back(static_cast<uint8_t>((i % 997) * 7 + (i / 20000)));  // far matches
  inputs.push_back(repeats);
  for (const auto& in : inputs) {
    const auto z = zlib_compress(in);
    EXPECT_EQ(inflate_zlib(z, in), in) << "size " << in.size();
  }
  EXPECT_LT(zlib_compress(inputs[2]).size(), 1000u);
}

TEST(Png, FileStructureCrcsAndPixels) {
  RasterImage img;
  img.width = 5;
  img.height = 3;
  img.channels = 3;
  for (int i = 0; i < 45; ++i) img.pixels.push_back(static_cast<uint8_t>(i * 5));
  const auto png = encode_png(img);
  const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(0, std::memcmp(png.data(), sig, 8));
  size_t pos = 8;
  std::vector<std::string> types;
  std::vector<uint8_t> idat;
  while (pos < png.size()) {
    ASSERT_LE(pos + 12, png.size());
    const uint32_t len = be32(png.data() + pos);
    ASSERT_LE(pos + 12 + len, png.size());
    const std::string type(png.begin() + pos + 4, png.begin() + pos + 8);
    types.push_back(type);
    const std::span<const uint8_t> body(png.data() + pos + 4, len + 4);
    EXPECT_EQ(crc32(body), be32(png.data() + pos + 8 + len)) << type;
    if (type == "IHDR") {
      ASSERT_EQ(len, 13u);
      EXPECT_EQ(be32(png.data() + pos + 8), 5u);
      EXPECT_EQ(be32(png.data() + pos + 12), 3u);
      EXPECT_EQ(png[pos + 16], 8);  // bit depth
      EXPECT_EQ(png[pos + 17], 2);  // RGB
      EXPECT_EQ(png[pos + 18] + png[pos + 19] + png[pos + 20], 0);
    }
    if (type == "IDAT") idat.insert(idat.end(), png.begin() + pos + 8, png.begin() + pos + 8 + len);
    pos += 12 + len;
  }
  EXPECT_EQ(pos, png.size());
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  std::vector<uint8_t> rows;
  for (int y = 0; y < 3; ++y) {
    rows.push_back(0);
    rows.insert(rows.end(), img.pixels.begin() + y * 15, img.pixels.begin() + (y + 1) * 15);
  }
  EXPECT_EQ(inflate_zlib(idat, rows), rows);
}

TEST(Png, ImageGridLayoutAndValidation) {
  // 3 grey 2x2 images -> 2 columns, 2 rows, pad 1: width 2*2+3 = 7, height 7.
  std::vector<float> imgs(12);
  for (int i = 0; i < 12; ++i) imgs[i] = i / 11.f;
  imgs[0] = -3.f;  // clamped
  imgs[1] = 7.f;
  const RasterImage g = image_grid(imgs.data(), 3, 1, 2, 2, 0, 1, 9);
  EXPECT_EQ(g.width, 7);
  EXPECT_EQ(g.height, 7);
  EXPECT_EQ(g.pixels[0], 9);                  // padding
  EXPECT_EQ(g.pixels[1 * 7 + 1], 0);          // image 0, (0,0) clamped low
  EXPECT_EQ(g.pixels[1 * 7 + 2], 255);        // image 0, (0,1) clamped high
  EXPECT_EQ(g.pixels[1 * 7 + 4], 93);         // image 1, (0,0) = round(4/11*255)
  EXPECT_EQ(g.pixels[4 * 7 + 1], 185);        // image 2, (0,0) = round(8/11*255)
  EXPECT_EQ(g.pixels[4 * 7 + 4], 9);          // empty cell
  EXPECT_THROW(image_grid(imgs.data(), 3, 2, 2, 2), Error);
  EXPECT_THROW(image_grid(imgs.data(), 0, 1, 2, 2), Error);
  RasterImage bad;
  bad.width = 2;
  bad.height = 2;
  bad.pixels.resize(3);
  EXPECT_THROW(encode_png(bad), Error);
}
