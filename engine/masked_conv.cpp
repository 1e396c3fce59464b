// Masked convolutions: im2col over live taps only + gemm() for whole batches, a fixed-order kernel
// for the samplers, and dependency propagation for receptive fields. See masked_conv.h.
#include "masked_conv.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "error.h"
#include "gemm.h"

namespace genlab {

namespace {

void check_groups(const ChannelGroups& g, int channels, const char* what) {
  require(g.groups >= 1 && g.groups <= 3, std::string("masked conv: ") + what + " groups must be 1..3");
  require(g.period >= g.groups && channels % g.period == 0,
          std::string("masked conv: ") + what + " channel count must be a multiple of the group period, "
          "and the period at least the number of groups");
}

MaskedConvSpec base_spec(int in_c, int out_c, int kh, int kw, int ay, int ax, ChannelGroups in, ChannelGroups out) {
  MaskedConvSpec s;
  s.in_c = in_c; s.out_c = out_c; s.kh = kh; s.kw = kw; s.anchor_y = ay; s.anchor_x = ax;
  s.taps.assign(static_cast<size_t>(kh) * kw, TapKind::Dead);
  s.in_groups = in; s.out_groups = out;
  return s;
}

// acc[o][j] = sum_{r < k} w[o][r] * cols[r][j] for j in [0, npad), npad a multiple of 8, summed in r
// order from 0. Every (o, j) goes through the same 4-wide vector update, so its value does not depend
// on npad, on j's place in the block or on which other columns are computed. GNU vector extensions
// (g++ and clang): SSE natively, wasm v128 under em++; the 4 x 8 accumulators stay in registers.
constexpr int kColBlock = 8;
typedef float v4f __attribute__((vector_size(16)));

inline v4f load4(const float* p) {
  v4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store4(float* p, v4f v) { std::memcpy(p, &v, sizeof v); }
inline v4f splat4(float w) { return v4f{w, w, w, w}; }

void sequential_rows_kernel(float* acc, int ld_acc, const float* w, int ldw, int k, int o_count, const float* cols,
                            int npad) {
  for (int j0 = 0; j0 < npad; j0 += kColBlock) {
    int o = 0;
    for (; o + 4 <= o_count; o += 4) {
      v4f a0 = {}, b0 = {}, a1 = {}, b1 = {}, a2 = {}, b2 = {}, a3 = {}, b3 = {};
      const float* w0 = w + static_cast<size_t>(o) * ldw;
      const float* w1 = w0 + ldw;
      const float* w2 = w1 + ldw;
      const float* w3 = w2 + ldw;
      const float* x = cols + j0;
      for (int r = 0; r < k; ++r, x += npad) {
        const v4f xa = load4(x), xb = load4(x + 4);
        const v4f c0 = splat4(w0[r]), c1 = splat4(w1[r]), c2 = splat4(w2[r]), c3 = splat4(w3[r]);
        a0 += c0 * xa; b0 += c0 * xb;
        a1 += c1 * xa; b1 += c1 * xb;
        a2 += c2 * xa; b2 += c2 * xb;
        a3 += c3 * xa; b3 += c3 * xb;
      }
      float* d = acc + static_cast<size_t>(o) * ld_acc + j0;
      store4(d, a0); store4(d + 4, b0); d += ld_acc;
      store4(d, a1); store4(d + 4, b1); d += ld_acc;
      store4(d, a2); store4(d + 4, b2); d += ld_acc;
      store4(d, a3); store4(d + 4, b3);
    }
    for (; o < o_count; ++o) {
      v4f a0 = {}, b0 = {};
      const float* w0 = w + static_cast<size_t>(o) * ldw;
      const float* x = cols + j0;
      for (int r = 0; r < k; ++r, x += npad) {
        const v4f c0 = splat4(w0[r]);
        a0 += c0 * load4(x); b0 += c0 * load4(x + 4);
      }
      float* d = acc + static_cast<size_t>(o) * ld_acc + j0;
      store4(d, a0); store4(d + 4, b0);
    }
  }
}

inline float apply_act(Activation act, float v) { return act == Activation::ReLU ? (v > 0.f ? v : 0.f) : v; }

// Short copies and fills as inline 4-wide loops: in wasm (no bulk memory) every memcpy/memset is a
// call, and one per image row (28 floats) cost more than the copying itself.
inline void copy_floats(float* d, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store4(d + i, load4(s + i));
  for (; i < n; ++i) d[i] = s[i];
}
inline void zero_floats(float* d, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store4(d + i, v4f{});
  for (; i < n; ++i) d[i] = 0.f;
}
inline void add_floats(float* d, const float* s, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) store4(d + i, load4(d + i) + load4(s + i));
  for (; i < n; ++i) d[i] += s[i];
}

// sum of p[0..n): 8 float lanes over blocks of 1024 values, blocks added in double (a single double
// accumulator is one dependent add per value, the slowest loop of a backward pass in wasm).
double sum_floats(const float* p, size_t n) {
  double s = 0.0;
  for (size_t i0 = 0; i0 < n; i0 += 1024) {
    const size_t i1 = std::min(n, i0 + 1024);
    v4f a = {}, b = {};
    size_t i = i0;
    for (; i + 8 <= i1; i += 8) {
      a += load4(p + i);
      b += load4(p + i + 4);
    }
    a += b;
    float t = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < i1; ++i) t += p[i];
    s += t;
  }
  return s;
}

// Where a plane shifted by (dy, dx) is defined: output rows [y0, y1), columns [x0, x1) read the input
// at flat offset dy * W + dx. Flat positions [p0, p1) cover every valid output and read only inside
// the plane; within that range the columns outside [x0, x1) wrapped around a row end.
struct PlaneShift {
  int y0, y1, x0, x1;
  size_t p0, p1;
  std::ptrdiff_t off;
  bool empty() const { return y0 >= y1 || x0 >= x1; }
  PlaneShift(int H, int W, int dy, int dx)
      : y0(std::max(0, -dy)), y1(std::min(H, H - dy)), x0(std::max(0, -dx)), x1(std::min(W, W - dx)),
        p0(empty() ? 0 : static_cast<size_t>(y0) * W + x0), p1(empty() ? 0 : static_cast<size_t>(y1 - 1) * W + x1),
        off(static_cast<std::ptrdiff_t>(dy) * W + dx) {}
  // s[p + off] := 0 for the wrapped positions p in [p0, p1): the source values no valid output reads
  void zero_wrapped_source(float* s, int W) const {
    if (x0 == 0 && x1 == W) return;
    for (int y = y0; y < y1; ++y) {
      const std::ptrdiff_t row = static_cast<std::ptrdiff_t>(y) * W + off;
      for (int x = 0; x < x0; ++x)
        if (static_cast<size_t>(y) * W + x >= p0) s[row + x] = 0.f;
      for (int x = x1; x < W; ++x)
        if (static_cast<size_t>(y) * W + x < p1) s[row + x] = 0.f;
    }
  }
  // d[y][x] := 0 for the wrapped columns of rows [y0, y1)
  void zero_wrapped(float* d, int W) const {
    if (x0 == 0 && x1 == W) return;
    for (int y = y0; y < y1; ++y) {
      float* row = d + static_cast<size_t>(y) * W;
      for (int x = 0; x < x0; ++x) row[x] = 0.f;
      for (int x = x1; x < W; ++x) row[x] = 0.f;
    }
  }
};

void grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

}  // namespace

MaskedConvSpec pixelcnn_mask_spec(int in_c, int out_c, int k, MaskType mask, ChannelGroups in, ChannelGroups out) {
  require(k >= 1 && k % 2 == 1, "PixelCNN mask: kernel size must be odd");
  MaskedConvSpec s = base_spec(in_c, out_c, k, k, k / 2, k / 2, in, out);
  for (int ky = 0; ky < k; ++ky)
    for (int kx = 0; kx < k; ++kx)
      if (ky < k / 2 || (ky == k / 2 && kx < k / 2)) s.taps[ky * k + kx] = TapKind::Full;
  s.taps[(k / 2) * k + k / 2] = TapKind::Centre;
  s.centre_mask = mask;
  return s;
}

MaskedConvSpec vertical_stack_spec(int in_c, int out_c, int k, ChannelGroups in, ChannelGroups out) {
  require(k >= 1 && k % 2 == 1, "vertical stack: kernel size must be odd");
  MaskedConvSpec s = base_spec(in_c, out_c, k / 2 + 1, k, k / 2, k / 2, in, out);
  std::fill(s.taps.begin(), s.taps.end(), TapKind::Full);
  return s;
}

MaskedConvSpec down_shift_spec(int in_c, int out_c, ChannelGroups in, ChannelGroups out) {
  MaskedConvSpec s = base_spec(in_c, out_c, 1, 1, 1, 0, in, out);  // reads row y - 1
  s.taps[0] = TapKind::Full;
  return s;
}

MaskedConvSpec horizontal_stack_spec(int in_c, int out_c, int k, MaskType mask, ChannelGroups in, ChannelGroups out) {
  require(k >= 1 && k % 2 == 1, "horizontal stack: kernel size must be odd");
  MaskedConvSpec s = base_spec(in_c, out_c, 1, k / 2 + 1, 0, k / 2, in, out);
  for (int kx = 0; kx < k / 2; ++kx) s.taps[kx] = TapKind::Full;
  s.taps[k / 2] = TapKind::Centre;
  s.centre_mask = mask;
  return s;
}

MaskedConvSpec pointwise_spec(int in_c, int out_c, ChannelGroups in, ChannelGroups out) {
  MaskedConvSpec s = base_spec(in_c, out_c, 1, 1, 0, 0, in, out);
  s.taps[0] = TapKind::Centre;
  s.centre_mask = MaskType::B;
  return s;
}

MaskedConv2d::MaskedConv2d(MaskedConvSpec spec) : spec_(std::move(spec)) {
  const MaskedConvSpec& s = spec_;
  require(s.in_c >= 1 && s.out_c >= 1, "masked conv: channel counts must be positive");
  require(s.kh >= 1 && s.kw >= 1, "masked conv: kernel size must be positive");
  require(static_cast<int>(s.taps.size()) == s.kh * s.kw, "masked conv: tap table does not match the kernel size");
  check_groups(s.in_groups, s.in_c, "input");
  check_groups(s.out_groups, s.out_c, "output");
  // Full rows first (any order), then centre rows sorted by input group so that every output group
  // uses a prefix of the rows.
  int centre_tap = -1;
  for (int ci = 0; ci < s.in_c; ++ci)
    for (int ky = 0; ky < s.kh; ++ky)
      for (int kx = 0; kx < s.kw; ++kx) {
        const int t = ky * s.kw + kx;
        if (s.taps[t] == TapKind::Full) rows_.push_back({ci, ky - s.anchor_y, kx - s.anchor_x, ci * s.kh * s.kw + t});
        if (s.taps[t] == TapKind::Centre) {
          require(centre_tap < 0 || centre_tap == t, "masked conv: at most one centre tap");
          centre_tap = t;
        }
      }
  const int n_full = static_cast<int>(rows_.size());
  std::vector<int> centre_upto(s.in_groups.groups + 1, 0);  // rows with input group < g
  if (centre_tap >= 0) {
    const int ky = centre_tap / s.kw, kx = centre_tap % s.kw;
    // Only input groups some output group can see (mask A on one group: none, the 7x7 kernel keeps 24 taps).
    const int used = std::min(s.in_groups.groups,
                              s.centre_mask == MaskType::A ? s.out_groups.groups - 1 : s.out_groups.groups);
    for (int g = 0; g < s.in_groups.groups; ++g) {
      if (g < used)
        for (int ci = 0; ci < s.in_c; ++ci)
          if (s.in_groups.of(ci) == g) rows_.push_back({ci, ky - s.anchor_y, kx - s.anchor_x, ci * s.kh * s.kw + centre_tap});
      centre_upto[g + 1] = static_cast<int>(rows_.size()) - n_full;
    }
  }
  row_count_.resize(s.out_c);
  for (int o = 0; o < s.out_c; ++o) {
    int k = n_full;
    if (centre_tap >= 0) {
      const int go = s.out_groups.of(o);
      // input groups gi live at the centre: gi < go (A) or gi <= go (B); clamp to the input's groups
      const int upto = std::min(s.centre_mask == MaskType::A ? go : go + 1, s.in_groups.groups);
      k += centre_upto[std::max(upto, 0)];
    }
    row_count_[o] = k;
    if (!runs_.empty() && runs_.back().k == k && runs_.back().o1 == o) runs_.back().o1 = o + 1;
    else runs_.push_back({o, o + 1, k});
  }
  identity_cols_ = true;
  for (size_t r = 0; r < rows_.size(); ++r)
    if (rows_[r].ci != static_cast<int>(r) || rows_[r].dy != 0 || rows_[r].dx != 0) identity_cols_ = false;
  // Shifted path: one run over all rows, rows = every (input channel, tap) pair, enough channels for
  // the in_c-deep products to be worth a gemm.
  if (!identity_cols_ && runs_.size() == 1 && runs_[0].k == static_cast<int>(rows_.size()) && s.in_c >= 4) {
    std::vector<Shift> taps;
    for (const Row& R : rows_)
      if (R.ci == 0) taps.push_back({R.dy, R.dx, R.widx});
    if (taps.size() * s.in_c == rows_.size()) {
      bool all = true;
      for (const Row& R : rows_) {
        bool found = false;
        for (const Shift& t : taps) found = found || (t.dy == R.dy && t.dx == R.dx && R.widx == R.ci * s.kh * s.kw + t.tap);
        all = all && found;
      }
      if (all) {
        std::stable_sort(taps.begin(), taps.end(), [](const Shift& a, const Shift& b) {
          return (a.dy == 0 && a.dx == 0) > (b.dy == 0 && b.dx == 0);
        });
        shifts_ = taps;
        stacked_.assign(shifts_.size() * s.out_c * s.in_c, 0.f);
      }
    }
  }
  for (size_t i = 0; i < runs_.size(); ++i) runs_by_rows_.push_back(static_cast<int>(i));
  std::stable_sort(runs_by_rows_.begin(), runs_by_rows_.end(), [&](int a, int b) { return runs_[a].k > runs_[b].k; });
  packed_.assign(static_cast<size_t>(s.out_c) * rows_.size(), 0.f);
}

size_t MaskedConv2d::weight_size() const {
  return static_cast<size_t>(spec_.out_c) * spec_.in_c * spec_.kh * spec_.kw;
}

bool MaskedConv2d::centre_live(int gi, int go) const { return spec_.centre_mask == MaskType::A ? gi < go : gi <= go; }

bool MaskedConv2d::is_live(int o, int ci, int ky, int kx) const {
  const TapKind t = spec_.taps[ky * spec_.kw + kx];
  if (t == TapKind::Full) return true;
  if (t == TapKind::Dead) return false;
  return centre_live(spec_.in_groups.of(ci), spec_.out_groups.of(o));
}

void MaskedConv2d::zero_dead(float* W) const {
  const MaskedConvSpec& s = spec_;
  for (int o = 0; o < s.out_c; ++o)
    for (int ci = 0; ci < s.in_c; ++ci)
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx)
          if (!is_live(o, ci, ky, kx)) W[((static_cast<size_t>(o) * s.in_c + ci) * s.kh + ky) * s.kw + kx] = 0.f;
}

void MaskedConv2d::pack(const float* W) {
  const size_t nr = rows_.size();
  const size_t wo = static_cast<size_t>(spec_.in_c) * spec_.kh * spec_.kw;
  for (size_t t = 0; t < shifts_.size(); ++t)
    for (int o = 0; o < spec_.out_c; ++o)
      for (int ci = 0; ci < spec_.in_c; ++ci)
        stacked_[(t * spec_.out_c + o) * spec_.in_c + ci] = W[o * wo + ci * spec_.kh * spec_.kw + shifts_[t].tap];
  for (int o = 0; o < spec_.out_c; ++o) {
    float* p = packed_.data() + o * nr;
    for (int r = 0; r < row_count_[o]; ++r) p[r] = W[o * wo + rows_[r].widx];
    for (size_t r = row_count_[o]; r < nr; ++r) p[r] = 0.f;
  }
}

// cols [rows][nb*H*W] for images [b0, b0 + nb) of planes in [in_c][B][H][W]: row r holds input channel
// ci shifted by (dy, dx), zero outside the image. One flat copy per image, then the wrapped columns.
void MaskedConv2d::im2col(float* cols, const float* in, int b0, int nb, int B, int H, int W) const {
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW, NC = nb * HW;
  for (size_t r = 0; r < rows_.size(); ++r) {
    const Row& R = rows_[r];
    const PlaneShift sh(H, W, R.dy, R.dx);
    for (int b = 0; b < nb; ++b) {
      float* d = cols + r * NC + b * HW;
      const float* src = in + R.ci * N + (b0 + b) * HW;
      if (sh.empty()) {
        zero_floats(d, HW);
        continue;
      }
      zero_floats(d, sh.p0);
      copy_floats(d + sh.p0, src + sh.p0 + sh.off, sh.p1 - sh.p0);
      zero_floats(d + sh.p1, HW - sh.p1);
      sh.zero_wrapped(d, W);
    }
  }
}

// Images per gemm: keep one chunk's im2col matrix around 512 KB so it stays in cache between
// im2col, gemm and col2im (a whole batch would stream tens of MB through memory per layer).
int MaskedConv2d::chunk_images(int B, int H, int W) const {
  const size_t per_image = std::max<size_t>({1, rows_.size(), shifts_.size() * spec_.out_c}) * H * W;
  return static_cast<int>(std::clamp<size_t>((size_t{1} << 17) / per_image, 1, static_cast<size_t>(B)));
}

void MaskedConv2d::forward(float* out, const float* in, const float* b, const float* extra, Activation act, int B,
                           int H, int W, MaskedConvWorkspace& ws) const {
  require(act == Activation::Identity || act == Activation::ReLU, "masked conv: only Identity/ReLU are fused");
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW, nr = rows_.size();
  if (!shifts_.empty()) {
    forward_shifted(out, in, b, extra, act, B, H, W, ws);
    return;
  }
  const int chunk = chunk_images(B, H, W);
  if (!identity_cols_) grow(ws.cols, nr * chunk * HW);
  for (int b0 = 0; b0 < B; b0 += chunk) {
    const int nb = std::min(chunk, B - b0);
    const size_t NC = nb * HW;
    // 1x1: the gemm reads the input planes in place (row stride N) instead of a copy.
    const float* cols = identity_cols_ ? in + b0 * HW : ws.cols.data();
    const int ldcols = static_cast<int>(identity_cols_ ? N : NC);
    if (!identity_cols_) im2col(ws.cols.data(), in, b0, nb, B, H, W);
    for (const Run& run : runs_) {
      float* c = out + run.o0 * N + b0 * HW;
      if (run.k == 0) {
        for (int o = run.o0; o < run.o1; ++o) std::fill_n(c + (o - run.o0) * N, NC, 0.f);
        continue;
      }
      GemmArgs g;  // out[run, chunk] = Wp[run, 0:k] cols[0:k, chunk]
      g.m = run.o1 - run.o0; g.n = static_cast<int>(NC); g.k = run.k;
      g.a = packed_.data() + run.o0 * nr; g.lda = static_cast<int>(nr);
      g.b = cols; g.ldb = ldcols;
      g.c = c; g.ldc = static_cast<int>(N);
      gemm(g);
    }
    epilogue(out, b, extra, act, 0, spec_.out_c, b0, nb, B, HW);  // while the chunk is in cache
  }
}

// Fused epilogue on images [b0, b0 + nb) of out [out_c][B][HW]: bias, per-image bias, activation.
void MaskedConv2d::epilogue(float* out, const float* b, const float* extra, Activation act, int o0, int o1, int b0,
                            int nb, int B, size_t HW) const {
  const size_t N = B * HW;
  for (int o = o0; o < o1; ++o)
    for (int bi = b0; bi < b0 + nb; ++bi) {
      const float add = (b ? b[o] : 0.f) + (extra ? extra[o * B + bi] : 0.f);
      float* p = out + o * N + bi * HW;
      if (act == Activation::ReLU)
        for (size_t i = 0; i < HW; ++i) { const float v = p[i] + add; p[i] = v > 0.f ? v : 0.f; }
      else
        for (size_t i = 0; i < HW; ++i) p[i] += add;
    }
}

// out [out_c][B][HW] = sum_t shift_t(Y_t), Y = stacked [T * out_c, in_c] x in_chunk, chunk by chunk.
// Y_t is only read at positions that a valid output reads; the ones a wrapped output position would
// read are zeroed first so that one flat add per plane is exact.
void MaskedConv2d::forward_shifted(float* out, const float* in, const float* b, const float* extra, Activation act,
                                   int B, int H, int W, MaskedConvWorkspace& ws) const {
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW;
  const int oc = spec_.out_c, T = static_cast<int>(shifts_.size());
  const int chunk = chunk_images(B, H, W);
  grow(ws.cols, static_cast<size_t>(T) * oc * chunk * HW);
  for (int b0 = 0; b0 < B; b0 += chunk) {
    const int nb = std::min(chunk, B - b0);
    const size_t NC = nb * HW;
    GemmArgs g;  // Y[T * oc, chunk] = stacked[T * oc, in_c] in[in_c, chunk]
    g.m = T * oc; g.n = static_cast<int>(NC); g.k = spec_.in_c;
    g.a = stacked_.data(); g.lda = spec_.in_c;
    g.b = in + b0 * HW; g.ldb = static_cast<int>(N);
    g.c = ws.cols.data(); g.ldc = static_cast<int>(NC);
    gemm(g);
    for (int o = 0; o < oc; ++o)
      for (int bi = 0; bi < nb; ++bi) {
        float* d = out + o * N + (b0 + bi) * HW;
        for (int t = 0; t < T; ++t) {
          const PlaneShift sh(H, W, shifts_[t].dy, shifts_[t].dx);
          float* y = ws.cols.data() + (static_cast<size_t>(t) * oc + o) * NC + bi * HW;
          if (t == 0 && sh.off == 0) {  // the unshifted tap (sorted first) sets the whole plane
            copy_floats(d, y, HW);
            continue;
          }
          if (t == 0) zero_floats(d, HW);
          if (sh.empty()) continue;
          sh.zero_wrapped_source(y, W);
          add_floats(d + sh.p0, y + sh.p0 + sh.off, sh.p1 - sh.p0);
        }
        epilogue(out, b, extra, act, o, o + 1, b0 + bi, 1, B, HW);  // while the plane is in L1
      }
  }
}

// dY_t = unshift_t(dout) (zero where no valid output reads), then dstacked (+)= dY in^T and
// din += stacked^T dY, straight into din.
void MaskedConv2d::backward_shifted(float* din, bool want_dW, const float* dout, const float* in, int B, int H, int W,
                                    MaskedConvWorkspace& ws) const {
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW;
  const int oc = spec_.out_c, T = static_cast<int>(shifts_.size());
  const int chunk = chunk_images(B, H, W);
  grow(ws.dcols, static_cast<size_t>(T) * oc * chunk * HW);
  grow(ws.dpacked, stacked_.size());
  for (int b0 = 0; b0 < B; b0 += chunk) {
    const int nb = std::min(chunk, B - b0);
    const size_t NC = nb * HW;
    for (int t = 0; t < T; ++t) {
      const PlaneShift sh(H, W, shifts_[t].dy, shifts_[t].dx);
      for (int o = 0; o < oc; ++o)
        for (int bi = 0; bi < nb; ++bi) {
          float* y = ws.dcols.data() + (static_cast<size_t>(t) * oc + o) * NC + bi * HW;
          if (sh.empty()) {
            zero_floats(y, HW);
            continue;
          }
          const float* src = dout + o * N + (b0 + bi) * HW;
          const size_t q0 = sh.p0 + sh.off, q1 = sh.p1 + sh.off;
          zero_floats(y, q0);
          copy_floats(y + q0, src + sh.p0, q1 - q0);
          zero_floats(y + q1, HW - q1);
          sh.zero_wrapped_source(y, W);
        }
    }
    if (want_dW) {
      GemmArgs g;  // dstacked[T * oc, in_c] (+)= dY[T * oc, chunk] in[in_c, chunk]^T
      g.trans_b = true;
      g.m = T * oc; g.n = spec_.in_c; g.k = static_cast<int>(NC);
      g.a = ws.dcols.data(); g.lda = static_cast<int>(NC);
      g.b = in + b0 * HW; g.ldb = static_cast<int>(N);
      g.beta = b0 == 0 ? 0.f : 1.f;
      g.c = ws.dpacked.data(); g.ldc = spec_.in_c;
      gemm(g);
    }
    if (din) {
      GemmArgs g;  // din[in_c, chunk] += stacked[T * oc, in_c]^T dY[T * oc, chunk]
      g.trans_a = true;
      g.m = spec_.in_c; g.n = static_cast<int>(NC); g.k = T * oc;
      g.a = stacked_.data(); g.lda = spec_.in_c;
      g.b = ws.dcols.data(); g.ldb = static_cast<int>(NC);
      g.beta = 1.f;
      g.c = din + b0 * HW; g.ldc = static_cast<int>(N);
      gemm(g);
    }
  }
}

void MaskedConv2d::backward(float* din, float* dW, float* db, const float* dout, const float* in, int B, int H, int W,
                            MaskedConvWorkspace& ws) const {
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW, nr = rows_.size();
  if (db)
    for (int o = 0; o < spec_.out_c; ++o) db[o] += static_cast<float>(sum_floats(dout + o * N, N));
  if (nr == 0 || (!dW && !din)) return;
  if (!shifts_.empty()) {
    backward_shifted(din, dW != nullptr, dout, in, B, H, W, ws);
    if (dW) {
      const size_t wo = static_cast<size_t>(spec_.in_c) * spec_.kh * spec_.kw;
      for (size_t t = 0; t < shifts_.size(); ++t)
        for (int o = 0; o < spec_.out_c; ++o)
          for (int ci = 0; ci < spec_.in_c; ++ci)
            dW[o * wo + ci * spec_.kh * spec_.kw + shifts_[t].tap] +=
                ws.dpacked[(t * spec_.out_c + o) * spec_.in_c + ci];
    }
    return;
  }
  const int chunk = chunk_images(B, H, W);
  if (!identity_cols_) {
    grow(ws.cols, nr * chunk * HW);
    grow(ws.dcols, nr * chunk * HW);
  }
  grow(ws.dpacked, static_cast<size_t>(spec_.out_c) * nr);
  for (int b0 = 0; b0 < B; b0 += chunk) {
    const int nb = std::min(chunk, B - b0);
    const size_t NC = nb * HW;
    // 1x1: read the input in place and add the input gradient straight into din (row stride N).
    const float* cols = identity_cols_ ? in + b0 * HW : ws.cols.data();
    const int ldcols = static_cast<int>(identity_cols_ ? N : NC);
    if (dW) {
      if (!identity_cols_) im2col(ws.cols.data(), in, b0, nb, B, H, W);
      for (const Run& run : runs_) {
        if (run.k == 0) continue;
        GemmArgs g;  // dWp[run, 0:k] (+)= dout[run, chunk] cols[0:k, chunk]^T
        g.trans_b = true;
        g.m = run.o1 - run.o0; g.n = run.k; g.k = static_cast<int>(NC);
        g.a = dout + run.o0 * N + b0 * HW; g.lda = static_cast<int>(N);
        g.b = cols; g.ldb = ldcols;
        g.beta = b0 == 0 ? 0.f : 1.f;
        g.c = ws.dpacked.data() + run.o0 * nr; g.ldc = static_cast<int>(nr);
        gemm(g);
      }
    }
    if (din) {
      // dcols[0:k] += Wp[run, 0:k]^T dout[run]; the run with every row (k = rows) goes first and sets dcols.
      bool first = true;
      for (int ri : runs_by_rows_) {
        const Run* run = &runs_[ri];
        if (run->k == 0) continue;
        GemmArgs g;
        g.trans_a = true;
        g.m = run->k; g.n = static_cast<int>(NC); g.k = run->o1 - run->o0;
        g.a = packed_.data() + run->o0 * nr; g.lda = static_cast<int>(nr);
        g.b = dout + run->o0 * N + b0 * HW; g.ldb = static_cast<int>(N);
        if (identity_cols_) {
          g.beta = 1.f;
          g.c = din + b0 * HW; g.ldc = static_cast<int>(N);
        } else {
          g.beta = first ? 0.f : 1.f;
          g.c = ws.dcols.data(); g.ldc = static_cast<int>(NC);
        }
        gemm(g);
        first = false;
      }
      if (identity_cols_) continue;
      // col2im: add each row back at its shifted input position (one flat add per image, after
      // zeroing the wrapped columns, which have no input position; adding 0 leaves din unchanged).
      for (size_t r = 0; r < nr; ++r) {
        const Row& R = rows_[r];
        const PlaneShift sh(H, W, R.dy, R.dx);
        if (sh.empty()) continue;
        for (int bi = 0; bi < nb; ++bi) {
          float* src = ws.dcols.data() + r * NC + bi * HW;
          float* dst = din + R.ci * N + (b0 + bi) * HW;
          sh.zero_wrapped(src, W);
          add_floats(dst + sh.p0 + sh.off, src + sh.p0, sh.p1 - sh.p0);
        }
      }
    }
  }
  if (dW) {
    const size_t wo = static_cast<size_t>(spec_.in_c) * spec_.kh * spec_.kw;
    for (int o = 0; o < spec_.out_c; ++o)
      for (int r = 0; r < row_count_[o]; ++r) dW[o * wo + rows_[r].widx] += ws.dpacked[o * nr + r];
  }
}

void MaskedConv2d::forward_at(float* out, const float* in, const float* b, const float* extra, Activation act, int B,
                              int H, int W, const int* pos, int npos, MaskedConvWorkspace& ws) const {
  require(act == Activation::Identity || act == Activation::ReLU, "masked conv: only Identity/ReLU are fused");
  const size_t HW = static_cast<size_t>(H) * W, N = B * HW, nr = rows_.size();
  const int ncol = B * npos;
  const int npad = (ncol + kColBlock - 1) / kColBlock * kColBlock;
  grow(ws.cols, nr * npad);
  grow(ws.acc, static_cast<size_t>(spec_.out_c) * npad);
  // Gather the live taps of the requested positions: column j = i * B + b, B contiguous floats each.
  for (size_t r = 0; r < nr; ++r) {
    const Row& R = rows_[r];
    float* dst = ws.cols.data() + r * npad;
    const float* src = in + R.ci * N;
    for (int i = 0; i < npos; ++i) {
      const int y = pos[i] / W + R.dy, x = pos[i] % W + R.dx;
      float* d = dst + i * B;
      if (y >= 0 && y < H && x >= 0 && x < W) {
        const float* sp = src + (static_cast<size_t>(y) * W + x) * B;
        for (int bi = 0; bi < B; ++bi) d[bi] = sp[bi];
      } else {
        for (int bi = 0; bi < B; ++bi) d[bi] = 0.f;
      }
    }
    std::fill(dst + ncol, dst + npad, 0.f);
  }
  for (const Run& run : runs_)
    sequential_rows_kernel(ws.acc.data() + static_cast<size_t>(run.o0) * npad, npad,
                           packed_.data() + run.o0 * nr, static_cast<int>(nr), run.k, run.o1 - run.o0,
                           ws.cols.data(), npad);
  for (int o = 0; o < spec_.out_c; ++o) {
    const float bo = b ? b[o] : 0.f;
    const float* a = ws.acc.data() + static_cast<size_t>(o) * npad;
    for (int i = 0; i < npos; ++i) {
      float* p = out + o * N + static_cast<size_t>(pos[i]) * B;
      for (int bi = 0; bi < B; ++bi) p[bi] = apply_act(act, a[i * B + bi] + (bo + (extra ? extra[o * B + bi] : 0.f)));
    }
  }
}

void MaskedConv2d::reach_inputs(const uint8_t* out_need, uint8_t* in_need, int H, int W) const {
  const MaskedConvSpec& s = spec_;
  const int HW = H * W;
  for (int go = 0; go < s.out_groups.groups; ++go)
    for (int p = 0; p < HW; ++p) {
      if (!out_need[go * HW + p]) continue;
      const int y = p / W, x = p % W;
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx) {
          const TapKind t = s.taps[ky * s.kw + kx];
          if (t == TapKind::Dead) continue;
          const int sy = y + ky - s.anchor_y, sx = x + kx - s.anchor_x;
          if (sy < 0 || sy >= H || sx < 0 || sx >= W) continue;
          for (int gi = 0; gi < s.in_groups.groups; ++gi)
            if (t == TapKind::Full || centre_live(gi, go)) in_need[gi * HW + sy * W + sx] = 1;
        }
    }
}

}  // namespace genlab
