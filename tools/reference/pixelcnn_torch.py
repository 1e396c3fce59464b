#!/usr/bin/python3
"""PixelCNN-S in PyTorch: the reference genlab's PixelCNN is measured against.

Same model and protocol as `genlab train --model pixelcnn --dataset mnist10k --steps N --batch 32 --lr 1e-3`:

  PixelCNN-S = 7x7 mask-A conv 1->32, ReLU; 5 x [h + ReLU(3x3 mask-B conv 32->32 (h))];
               ReLU(1x1 32->32); 1x1 32->1 (Bernoulli logits), 48,929 parameters,
               nn.Conv2d default init, Adam(lr 1e-3), batch 32, shuffled epochs,
               dynamic binarisation of the 9,000 mnist10k training digits (a fresh Bernoulli draw per use),
               test NLL in nats/image on the 1,000 test digits binarised ONCE with genlab's fixed seed.

The fixed test bits come from `genlab data export --dataset mnist10k --split test --binarized --out F`
(--test-bits F). Without that file the script reproduces them itself: genlab's Rng (xoshiro256** seeded by
splitmix64, uniform() = 24-bit float) with seed 20240901, bit = u * 255 < pixel, one stream over all pixels.

Run with /usr/bin/python3 (Debian's python3-torch), one thread:
  /usr/bin/python3 tools/reference/pixelcnn_torch.py --steps 1500 --out-json /tmp/pixelcnn_torch.json
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TEST_BINARIZE_SEED = 20240901
MASK64 = (1 << 64) - 1


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        import gzip
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: size does not match its dimensions {dims}")
    return arr.reshape(dims)


class GenlabRng:
    """genlab::Rng (engine/rng.h): splitmix64 seeding, xoshiro256** steps, uniform() with 24 bits."""

    def __init__(self, seed):
        x = seed & MASK64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next_u64(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return np.float32((self.next_u64() >> 32) >> 8) * np.float32(1.0 / 16777216.0)


def binarize_fixed(pixels):
    rng = GenlabRng(TEST_BINARIZE_SEED)
    flat = pixels.reshape(-1)
    u = np.empty(flat.size, dtype=np.float32)
    for i in range(flat.size):
        u[i] = rng.uniform()
    return ((u * np.float32(255.0)) < flat.astype(np.float32)).astype(np.float32).reshape(pixels.shape)


class MaskedConv2d(nn.Conv2d):
    """Conv2d whose kernel is multiplied by a PixelCNN mask (A: excludes the centre, B: includes it)."""

    def __init__(self, mask_type, cin, cout, k):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.ones_like(self.weight)
        mask[:, :, k // 2, k // 2 + (1 if mask_type == "B" else 0):] = 0
        mask[:, :, k // 2 + 1:] = 0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCNNS(nn.Module):
    def __init__(self, channels=32, blocks=5):
        super().__init__()
        self.conv_in = MaskedConv2d("A", 1, channels, 7)
        self.blocks = nn.ModuleList([MaskedConv2d("B", channels, channels, 3) for _ in range(blocks)])
        self.head1 = nn.Conv2d(channels, channels, 1)
        self.head2 = nn.Conv2d(channels, 1, 1)

    def forward(self, x):
        h = F.relu(self.conv_in(x))
        for b in self.blocks:
            h = h + F.relu(b(h))
        return self.head2(F.relu(self.head1(h)))


def nll_per_image(model, x):
    logits = model(x)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "assets", "data", "mnist10k"))
    ap.add_argument("--test-bits", default="", help="IDX from `genlab data export --binarized` (0/255 or 0/1)")
    ap.add_argument("--out-json", default="")
    a = ap.parse_args()
    if a.steps < 0 or a.batch < 1 or not (0 < a.lr <= 10):
        raise SystemExit("bad --steps/--batch/--lr")

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    train = torch.from_numpy(read_idx(os.path.join(a.data_dir, "train-images-idx3-ubyte")).astype(np.float32) / 255.0)
    test_px = read_idx(os.path.join(a.data_dir, "test-images-idx3-ubyte"))
    if a.test_bits:
        test_bits = (read_idx(a.test_bits) > 0).astype(np.float32)
        if test_bits.shape != test_px.shape:
            raise SystemExit(f"--test-bits has shape {test_bits.shape}, expected {test_px.shape}")
    else:
        test_bits = binarize_fixed(test_px)
    train = train.unsqueeze(1)
    test = torch.from_numpy(test_bits).unsqueeze(1)

    model = PixelCNNS()
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    order = torch.randperm(train.shape[0])
    cursor = 0
    t0, c0 = time.time(), time.process_time()
    for step in range(1, a.steps + 1):
        idx = []
        while len(idx) < a.batch:
            if cursor >= len(order):
                order = torch.randperm(train.shape[0])
                cursor = 0
            take = min(a.batch - len(idx), len(order) - cursor)
            idx.extend(order[cursor:cursor + take].tolist())
            cursor += take
        x = torch.bernoulli(train[idx])  # dynamic binarisation
        loss = nll_per_image(model, x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0 or step == a.steps:
            print(f"step {step} loss {loss.item():.3f} {step * a.batch / (time.time() - t0):.1f} img/s", flush=True)
    train_s, train_cpu_s = time.time() - t0, time.process_time() - c0
    model.eval()
    with torch.no_grad():
        nll = torch.cat([nll_per_image(model, test[i:i + 100]) for i in range(0, test.shape[0], 100)]).mean().item()
    imgs_per_s = a.steps * a.batch / train_s if train_s > 0 else 0.0
    imgs_per_cpu_s = a.steps * a.batch / train_cpu_s if train_cpu_s > 0 else 0.0
    bpd = nll / (784 * math.log(2))
    print(f"test NLL {nll:.3f} nats/image ({bpd:.4f} bits/dim), {imgs_per_s:.1f} img/s "
          f"({imgs_per_cpu_s:.1f} per CPU second), {n_params} parameters")
    if a.out_json:
        with open(a.out_json, "w") as f:
            json.dump({"model": "pixelcnn-s", "framework": f"pytorch {torch.__version__}", "threads": 1, "steps": a.steps,
                       "batch": a.batch, "lr": a.lr, "params": n_params, "test_nll_nats": nll, "bits_per_dim": bpd,
                       "train_seconds": train_s, "img_per_s": imgs_per_s,
                       "train_cpu_seconds": train_cpu_s, "img_per_cpu_s": imgs_per_cpu_s}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
