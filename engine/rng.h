// Seeded random numbers for everything stochastic in genlab (init, batches, noise, sampling).
// xoshiro128+-style generator on 32-bit words with splitmix64 seeding: the same seed and build
// give the same bits natively and in wasm (no std::distribution, whose output is library-defined).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace genlab {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }

  void reseed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& w : s_) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      w = z ^ (z >> 31);
    }
    has_spare_ = false;
  }

  // xoshiro256** step.
  uint64_t next_u64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }

  // Uniform in [0, 1) with 24 random bits (exactly representable floats).
  float uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }
  // Uniform in (0, 1): safe for log().
  double uniform_open() { return (static_cast<double>(next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n).
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((static_cast<uint64_t>(next_u32()) * n) >> 32); }

  // Standard normal (Box-Muller in double, then rounded; keeps the spare value).
  float normal() {
    if (has_spare_) { has_spare_ = false; return spare_; }
    const double u1 = uniform_open(), u2 = uniform_open();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586 * u2;
    spare_ = static_cast<float>(r * std::sin(a));
    has_spare_ = true;
    return static_cast<float>(r * std::cos(a));
  }

  bool bernoulli(float p) { return uniform() < p; }

  // Advances the stream exactly as n calls of uniform() (or next_u32, below) would: one 64-bit step each.
  void skip_uniforms(size_t n) {
    for (size_t i = 0; i < n; ++i) next_u64();
  }

  // Advances the stream exactly as n calls of normal() would (two 64-bit steps per pair; only the last
  // pair of an odd count is computed, for its spare).
  void skip_normals(size_t n) {
    if (n > 0 && has_spare_) {
      has_spare_ = false;
      --n;
    }
    for (size_t i = 0; i < n / 2; ++i) {
      next_u64();
      next_u64();
    }
    if (n % 2) normal();
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  float spare_ = 0.f;
  bool has_spare_ = false;
};

}  // namespace genlab
