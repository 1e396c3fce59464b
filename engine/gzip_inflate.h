// A small, bounds-checked DEFLATE (RFC 1951) decoder with gzip (RFC 1952) framing, so the engine
// reads .gz data sets natively and in wasm without zlib. Corrupt input throws genlab::Error.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace genlab {

bool is_gzip(std::span<const uint8_t> bytes);
// Decompresses a gzip member; checks the CRC32 and length trailer. max_output caps memory use.
std::vector<uint8_t> gunzip(std::span<const uint8_t> bytes, size_t max_output = size_t{1} << 30);
uint32_t crc32(std::span<const uint8_t> bytes);

}  // namespace genlab
