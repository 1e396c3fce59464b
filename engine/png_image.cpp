// PNG encoder: zlib (fixed-Huffman DEFLATE, greedy LZ77 with a one-probe hash) + PNG chunks; image grid.
#include "png_image.h"

#include <algorithm>
#include <cmath>

#include "error.h"
#include "gzip_inflate.h"

namespace genlab {

namespace {

// Writes bits LSB-first, as DEFLATE requires for everything except Huffman codes.
class BitWriter {
 public:
  explicit BitWriter(std::vector<uint8_t>& out) : out_(out) {}
  void bits(uint32_t value, int count) {
    acc_ |= static_cast<uint64_t>(value) << nbits_;
    nbits_ += count;
    while (nbits_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
      acc_ >>= 8;
      nbits_ -= 8;
    }
  }
  // Huffman codes are defined MSB-first: reverse before writing.
  void code(uint32_t code, int len) {
    uint32_t r = 0;
    for (int i = 0; i < len; ++i) r |= ((code >> i) & 1u) << (len - 1 - i);
    bits(r, len);
  }
  void flush() {
    if (nbits_ > 0) out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
    acc_ = 0;
    nbits_ = 0;
  }

 private:
  std::vector<uint8_t>& out_;
  uint64_t acc_ = 0;
  int nbits_ = 0;
};

// Fixed literal/length code of RFC 1951 section 3.2.6.
void write_litlen(BitWriter& bw, int sym) {
  if (sym <= 143) bw.code(0x30 + sym, 8);
  else if (sym <= 255) bw.code(0x190 + (sym - 144), 9);
  else if (sym <= 279) bw.code(sym - 256, 7);
  else bw.code(0xC0 + (sym - 280), 8);
}

constexpr int kLenBase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                              131, 163, 195, 227, 258};
constexpr int kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr int kDistBase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                               1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr int kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

void write_match(BitWriter& bw, int length, int distance) {
  int li = 28;
  while (kLenBase[li] > length) --li;
  write_litlen(bw, 257 + li);
  if (kLenExtra[li]) bw.bits(static_cast<uint32_t>(length - kLenBase[li]), kLenExtra[li]);
  int di = 29;
  while (kDistBase[di] > distance) --di;
  bw.code(static_cast<uint32_t>(di), 5);
  if (kDistExtra[di]) bw.bits(static_cast<uint32_t>(distance - kDistBase[di]), kDistExtra[di]);
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
}

void put_chunk(std::vector<uint8_t>& png, const char type[4], const std::vector<uint8_t>& data) {
  put_be32(png, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  png.insert(png.end(), body.begin(), body.end());
  put_be32(png, crc32(body));
}

}  // namespace

uint32_t adler32(std::span<const uint8_t> data) {
  uint32_t a = 1, b = 0;
  size_t i = 0;
  while (i < data.size()) {
    const size_t end = std::min(data.size(), i + 5552);  // largest run without overflow before the modulo
    for (; i < end; ++i) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return (b << 16) | a;
}

std::vector<uint8_t> zlib_compress(std::span<const uint8_t> data) {
  std::vector<uint8_t> out = {0x78, 0x01};  // deflate, 32 KiB window, no dictionary, level "fastest"; (0x7801 % 31 == 0)
  BitWriter bw(out);
  bw.bits(1, 1);  // BFINAL
  bw.bits(1, 2);  // BTYPE = 01: fixed Huffman codes
  constexpr int kHashBits = 15, kWindow = 32768, kMaxLen = 258;
  std::vector<int> head(size_t{1} << kHashBits, -1);
  auto hash3 = [&](size_t i) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    return (v * 2654435761u) >> (32 - kHashBits);
  };
  const size_t n = data.size();
  size_t i = 0;
  while (i < n) {
    int best_len = 0, best_dist = 0;
    if (i + 3 <= n) {
      const uint32_t h = hash3(i);
      // Candidates: the last position with this hash, and a run of the previous byte (distance 1).
      for (int cand : {head[h], static_cast<int>(i) - 1}) {
        if (cand < 0 || static_cast<int>(i) - cand > kWindow || cand >= static_cast<int>(i)) continue;
        int len = 0;
        const int max_len = static_cast<int>(std::min<size_t>(kMaxLen, n - i));
        while (len < max_len && data[cand + len] == data[i + len]) ++len;
        if (len >= 3 && len > best_len) {
          best_len = len;
          best_dist = static_cast<int>(i) - cand;
        }
      }
      head[h] = static_cast<int>(i);
    }
    if (best_len >= 3) {
      write_match(bw, best_len, best_dist);
      for (size_t k = i + 1; k < i + best_len && k + 3 <= n; ++k) head[hash3(k)] = static_cast<int>(k);
      i += best_len;
    } else {
      write_litlen(bw, data[i]);
      ++i;
    }
  }
  write_litlen(bw, 256);  // end of block
  bw.flush();
  put_be32(out, adler32(data));
  return out;
}

std::vector<uint8_t> encode_png(const RasterImage& img) {
  require(img.width > 0 && img.height > 0 && img.width <= 65536 && img.height <= 65536, "PNG: image size out of range");
  require(img.channels == 1 || img.channels == 3, "PNG: only grey (1) or RGB (3) images");
  const size_t row = static_cast<size_t>(img.width) * img.channels;
  require(img.pixels.size() == row * img.height, "PNG: pixel buffer does not match the image size");
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * img.height);
  for (int y = 0; y < img.height; ++y) {
    raw.push_back(0);  // filter type None
    raw.insert(raw.end(), img.pixels.begin() + y * row, img.pixels.begin() + (y + 1) * row);
  }
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, static_cast<uint32_t>(img.width));
  put_be32(ihdr, static_cast<uint32_t>(img.height));
  ihdr.insert(ihdr.end(), {8, static_cast<uint8_t>(img.channels == 1 ? 0 : 2), 0, 0, 0});
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", zlib_compress(raw));
  put_chunk(png, "IEND", {});
  return png;
}

RasterImage image_grid(const float* images, int n, int c, int h, int w, int cols, int pad, uint8_t background) {
  require(n >= 1 && n <= 65536, "image grid: n out of range");
  require(c == 1 || c == 3, "image grid: images must have 1 or 3 channels");
  require(h >= 1 && w >= 1 && h <= 4096 && w <= 4096 && pad >= 0 && pad <= 64, "image grid: bad image size or padding");
  if (cols <= 0) cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
  cols = std::min(cols, n);
  const int rows = (n + cols - 1) / cols;
  RasterImage g;
  g.channels = c;
  g.width = cols * w + (cols + 1) * pad;
  g.height = rows * h + (rows + 1) * pad;
  require(static_cast<int64_t>(g.width) * g.height <= (int64_t{1} << 26), "image grid: the grid is too large");
  g.pixels.assign(static_cast<size_t>(g.width) * g.height * c, background);
  for (int i = 0; i < n; ++i) {
    const int x0 = pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const float v = images[((static_cast<size_t>(i) * c + ch) * h + y) * w + x];
          const float cl = std::isfinite(v) ? std::clamp(v, 0.f, 1.f) : 0.f;
          g.pixels[(static_cast<size_t>(y0 + y) * g.width + x0 + x) * c + ch] = static_cast<uint8_t>(std::lround(cl * 255.f));
        }
  }
  return g;
}

}  // namespace genlab
