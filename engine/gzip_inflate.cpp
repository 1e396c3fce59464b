#include "gzip_inflate.h"

#include <array>
#include <string>

#include "error.h"

namespace genlab {

namespace {

struct BitReader {
  std::span<const uint8_t> in;
  size_t pos = 0;
  uint32_t bitbuf = 0;
  int bitcnt = 0;

  uint32_t bits(int need) {
    while (bitcnt < need) {
      require(pos < in.size(), "gzip: compressed data is truncated");
      bitbuf |= static_cast<uint32_t>(in[pos++]) << bitcnt;
      bitcnt += 8;
    }
    const uint32_t v = bitbuf & ((need == 32) ? 0xFFFFFFFFu : ((1u << need) - 1));
    bitbuf >>= need;
    bitcnt -= need;
    return v;
  }
  void align_byte() { bitbuf = 0; bitcnt = 0; }
};

// Canonical Huffman decoding table (counts per length + symbols sorted by code), as in zlib's puff.c.
struct Huffman {
  std::array<uint16_t, 16> count{};
  std::array<uint16_t, 320> symbol{};

  void build(const uint8_t* lengths, int n) {
    count.fill(0);
    for (int s = 0; s < n; ++s) count[lengths[s]]++;
    count[0] = 0;
    int left = 1;
    for (int len = 1; len < 16; ++len) {
      left <<= 1;
      left -= count[len];
      require(left >= 0, "gzip: over-subscribed Huffman code");
    }
    std::array<uint16_t, 16> offs{};
    for (int len = 1; len < 15; ++len) offs[len + 1] = offs[len] + count[len];
    for (int s = 0; s < n; ++s)
      if (lengths[s]) symbol[offs[lengths[s]]++] = static_cast<uint16_t>(s);
  }

  int decode(BitReader& br) const {
    int code = 0, first = 0, index = 0;
    for (int len = 1; len < 16; ++len) {
      code |= static_cast<int>(br.bits(1));
      const int c = count[len];
      if (code - c < first) return symbol[index + (code - first)];
      index += c;
      first += c;
      first <<= 1;
      code <<= 1;
    }
    throw Error("gzip: invalid Huffman code");
  }
};

constexpr uint16_t kLenBase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                   35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

void inflate_codes(BitReader& br, std::vector<uint8_t>& out, const Huffman& lit, const Huffman& dist, size_t max_output) {
  for (;;) {
    int sym = lit.decode(br);
    if (sym < 256) {
      require(out.size() < max_output, "gzip: decompressed data exceeds the size limit");
      out.push_back(static_cast<uint8_t>(sym));
    } else if (sym == 256) {
      return;
    } else {
      sym -= 257;
      require(sym < 29, "gzip: invalid length symbol");
      const size_t len = kLenBase[sym] + br.bits(kLenExtra[sym]);
      const int ds = dist.decode(br);
      require(ds < 30, "gzip: invalid distance symbol");
      const size_t d = kDistBase[ds] + br.bits(kDistExtra[ds]);
      require(d <= out.size(), "gzip: distance points before the start of the data");
      require(out.size() + len <= max_output, "gzip: decompressed data exceeds the size limit");
      const size_t start = out.size() - d;
      for (size_t i = 0; i < len; ++i) out.push_back(out[start + i]);
    }
  }
}

void inflate(BitReader& br, std::vector<uint8_t>& out, size_t max_output) {
  int last;
  do {
    last = static_cast<int>(br.bits(1));
    const uint32_t type = br.bits(2);
    if (type == 0) {
      br.align_byte();
      require(br.pos + 4 <= br.in.size(), "gzip: truncated stored block");
      const uint32_t len = br.in[br.pos] | (br.in[br.pos + 1] << 8);
      const uint32_t nlen = br.in[br.pos + 2] | (br.in[br.pos + 3] << 8);
      require(len == (~nlen & 0xFFFFu), "gzip: stored block length check failed");
      br.pos += 4;
      require(br.pos + len <= br.in.size(), "gzip: truncated stored block");
      require(out.size() + len <= max_output, "gzip: decompressed data exceeds the size limit");
      out.insert(out.end(), br.in.begin() + br.pos, br.in.begin() + br.pos + len);
      br.pos += len;
    } else if (type == 1) {
      static const auto fixed = [] {
        std::array<uint8_t, 318> l{};
        for (int i = 0; i < 144; ++i) l[i] = 8;
        for (int i = 144; i < 256; ++i) l[i] = 9;
        for (int i = 256; i < 280; ++i) l[i] = 7;
        for (int i = 280; i < 288; ++i) l[i] = 8;
        for (int i = 288; i < 318; ++i) l[i] = 5;
        std::pair<Huffman, Huffman> h;
        h.first.build(l.data(), 288);
        h.second.build(l.data() + 288, 30);
        return h;
      }();
      inflate_codes(br, out, fixed.first, fixed.second, max_output);
    } else if (type == 2) {
      const int nlen = static_cast<int>(br.bits(5)) + 257;
      const int ndist = static_cast<int>(br.bits(5)) + 1;
      const int ncode = static_cast<int>(br.bits(4)) + 4;
      require(nlen <= 286 && ndist <= 30, "gzip: bad dynamic block header");
      static constexpr uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
      std::array<uint8_t, 320> lengths{};
      for (int i = 0; i < ncode; ++i) lengths[order[i]] = static_cast<uint8_t>(br.bits(3));
      Huffman lencode;
      lencode.build(lengths.data(), 19);
      lengths.fill(0);
      int index = 0;
      while (index < nlen + ndist) {
        int sym = lencode.decode(br);
        if (sym < 16) {
          lengths[index++] = static_cast<uint8_t>(sym);
        } else {
          uint8_t len = 0;
          int rep;
          if (sym == 16) {
            require(index > 0, "gzip: repeat with no previous length");
            len = lengths[index - 1];
            rep = 3 + static_cast<int>(br.bits(2));
          } else if (sym == 17) {
            rep = 3 + static_cast<int>(br.bits(3));
          } else {
            rep = 11 + static_cast<int>(br.bits(7));
          }
          require(index + rep <= nlen + ndist, "gzip: too many code lengths");
          while (rep--) lengths[index++] = len;
        }
      }
      require(lengths[256] != 0, "gzip: no end-of-block code");
      Huffman lit, dist;
      lit.build(lengths.data(), nlen);
      dist.build(lengths.data() + nlen, ndist);
      inflate_codes(br, out, lit, dist, max_output);
    } else {
      throw Error("gzip: invalid block type");
    }
  } while (!last);
}

}  // namespace

bool is_gzip(std::span<const uint8_t> b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

uint32_t crc32(std::span<const uint8_t> bytes) {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t v : bytes) c = table[(c ^ v) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<uint8_t> gunzip(std::span<const uint8_t> in, size_t max_output) {
  require(in.size() >= 18, "gzip: file too short");
  require(is_gzip(in), "gzip: bad magic bytes");
  require(in[2] == 8, "gzip: unsupported compression method");
  const uint8_t flags = in[3];
  size_t pos = 10;
  if (flags & 4) {
    require(pos + 2 <= in.size(), "gzip: truncated header");
    pos += 2 + (in[pos] | (in[pos + 1] << 8));
  }
  if (flags & 8) { while (pos < in.size() && in[pos]) ++pos; ++pos; }
  if (flags & 16) { while (pos < in.size() && in[pos]) ++pos; ++pos; }
  if (flags & 2) pos += 2;
  require(pos < in.size(), "gzip: truncated header");
  BitReader br{in.subspan(pos)};
  std::vector<uint8_t> out;
  inflate(br, out, max_output);
  const size_t end = pos + br.pos;
  require(end + 8 <= in.size(), "gzip: missing CRC/length trailer (truncated file)");
  const uint8_t* t = in.data() + end;
  const uint32_t crc = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<uint32_t>(t[3]) << 24);
  const uint32_t isize = t[4] | (t[5] << 8) | (t[6] << 16) | (static_cast<uint32_t>(t[7]) << 24);
  require(crc == crc32(out), "gzip: CRC mismatch (corrupt file)");
  require(isize == static_cast<uint32_t>(out.size()), "gzip: length mismatch (corrupt file)");
  return out;
}

}  // namespace genlab
