// Rng: the same seed gives the same stream, and skip_normals(n) leaves the stream exactly where n calls
// of normal() would (with and without a spare value pending, odd and even n) — the trainer's batch split
// relies on it to give each half the noise one thread would.
#include <gtest/gtest.h>

#include <cstdint>

#include "rng.h"

using namespace genlab;

TEST(Rng, SameSeedSameStream) {
  Rng a(5), b(5), c(6);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= x != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, SkipNormalsEqualsDrawing) {
  for (int pending = 0; pending < 2; ++pending)
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{10}, size_t{11}, size_t{1001}}) {
      Rng drawn(42), skipped(42);
      for (int i = 0; i < pending; ++i) {  // one normal() leaves a spare value pending
        drawn.normal();
        skipped.normal();
      }
      for (size_t i = 0; i < n; ++i) drawn.normal();
      skipped.skip_normals(n);
      for (int i = 0; i < 5; ++i) ASSERT_EQ(drawn.normal(), skipped.normal()) << "n " << n << " pending " << pending;
      ASSERT_EQ(drawn.next_u64(), skipped.next_u64()) << "n " << n << " pending " << pending;
    }
}
