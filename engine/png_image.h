// PNG output for image grids (CLI `genlab sample`, exported samples): a dependency-free encoder with
// its own zlib stream (fixed-Huffman DEFLATE with a small LZ77 matcher, Adler-32 trailer) and the
// CRC-32 of gzip_inflate.h, plus the helper that tiles a batch of [n, C, H, W] images into one grid.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace genlab {

// An 8-bit raster, row-major, channels interleaved (1 = grey, 3 = RGB).
struct RasterImage {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;  // [height][width][channels]
};

// Tiles n images [n, c, h, w] with values in [0, 1] (clamped) into a grid of `cols` columns (0: about
// sqrt(n)), with `pad` pixels of `background` (0..255) around and between them. c must be 1 or 3.
RasterImage image_grid(const float* images, int n, int c, int h, int w, int cols = 0, int pad = 2,
                       uint8_t background = 128);

// PNG file bytes (colour type 0 or 2, bit depth 8, no interlace, filter type 0 per row).
std::vector<uint8_t> encode_png(const RasterImage& img);

// zlib stream (RFC 1950): header 0x78 0x01, one fixed-Huffman DEFLATE block, Adler-32 trailer.
std::vector<uint8_t> zlib_compress(std::span<const uint8_t> data);
uint32_t adler32(std::span<const uint8_t> data);

}  // namespace genlab
