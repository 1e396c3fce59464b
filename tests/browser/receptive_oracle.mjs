// Independent oracle for the receptive field of the plain PixelCNN (one colour channel), from the
// architecture in the issue: a 7x7 mask-A convolution, L residual blocks h + ReLU(3x3 mask-B conv(h)),
// then 1x1 convolutions. Returns the H*W mask of input pixels the prediction of `pixel` depends on.
export function plainPixelCnnReceptiveField(H, W, layers, pixel) {
  let need = new Uint8Array(H * W);
  need[pixel] = 1;
  const spread = (src, taps) => {
    const out = new Uint8Array(H * W);
    for (let p = 0; p < H * W; ++p) {
      if (!src[p]) continue;
      const y = Math.floor(p / W), x = p % W;
      for (const [dy, dx] of taps) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < H && xx >= 0 && xx < W) out[yy * W + xx] = 1;
      }
    }
    return out;
  };
  const tapsB = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 0]];  // 3x3 mask B (centre included)
  for (let l = 0; l < layers; ++l) need = spread(need, tapsB);  // the residual path is the centre tap
  const tapsA = [];
  for (let dy = -3; dy <= 0; ++dy) for (let dx = -3; dx <= 3; ++dx) if (dy < 0 || dx < 0) tapsA.push([dy, dx]);
  return spread(need, tapsA);
}

export function count(mask) { let n = 0; for (const v of mask) n += v ? 1 : 0; return n; }
