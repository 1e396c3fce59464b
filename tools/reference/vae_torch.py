#!/usr/bin/python3
"""PyTorch reference for genlab's VAE benchmark (run with Debian's /usr/bin/python3 + python3-torch).

Trains the same model with the same protocol as `genlab train --model vae` and scores the same test bits:
  VAE-MLP 784-400-20, ReLU, Bernoulli decoder (logits), diagonal Gaussian posterior, N(0, I) prior;
  nn.Linear default init (U(+-1/sqrt(fan_in)) for W and b); Adam(lr 1e-3, betas 0.9/0.999, eps 1e-8);
  batch 64; shuffled epochs (batches run on across epoch boundaries); dynamic binarisation (a fresh
  Bernoulli(pixel/255) draw per use); loss = batch mean of (BCE-with-logits summed over pixels + analytic KL).
Evaluation on the fixed test binarisation exported by
  genlab data export --dataset mnist10k --split test --binarized --out DIR/test-images-idx3-ubyte
gives -ELBO (one eps per image, analytic KL) and -L_K (importance-weighted bound, logsumexp) in nats
per image, bits/dim, and the training throughput (images/s, 1 thread).
Prints one JSON line (also written to --out-json).
"""
import argparse
import gzip
import json
import math
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    n = 1
    for d in dims:
        n *= d
    body = data[4 + 4 * ndim:]
    if len(body) != n:
        sys.exit(f"{path}: header declares {n} bytes, file has {len(body)}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


class VAE(nn.Module):
    def __init__(self, d=784, hidden=400, latent=20):
        super().__init__()
        self.enc_fc1 = nn.Linear(d, hidden)
        self.enc_fc_mu = nn.Linear(hidden, latent)
        self.enc_fc_logvar = nn.Linear(hidden, latent)
        self.dec_fc1 = nn.Linear(latent, hidden)
        self.dec_fc2 = nn.Linear(hidden, d)

    def encode(self, x):
        h = F.relu(self.enc_fc1(x))
        return self.enc_fc_mu(h), self.enc_fc_logvar(h)

    def decode(self, z):  # Bernoulli logits
        return self.dec_fc2(F.relu(self.dec_fc1(z)))

    def neg_elbo_terms(self, x):
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        logits = self.decode(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)
        return recon, kl

    @torch.no_grad()
    def neg_iwae(self, x, k):
        mu, logvar = self.encode(x)  # [B, Z]
        std = torch.exp(0.5 * logvar)
        eps = torch.randn(k, *mu.shape, dtype=mu.dtype)  # [K, B, Z]
        z = mu + std * eps
        logits = self.decode(z.reshape(-1, mu.shape[1])).reshape(k, x.shape[0], -1)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand(k, -1, -1), reduction="none").sum(2)
        log_pz = (-0.5 * (z.pow(2) + math.log(2 * math.pi))).sum(2)
        log_qz = (-0.5 * (eps.pow(2) + math.log(2 * math.pi) + logvar)).sum(2)
        logw = (log_px + log_pz - log_qz).double()
        return -(torch.logsumexp(logw, 0) - math.log(k))  # [B]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-images", default="assets/data/mnist10k/train-images-idx3-ubyte")
    ap.add_argument("--test-images", required=True, help="binarised test split exported by genlab (0/255)")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--hidden", type=int, default=400)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--iwae", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=500)
    ap.add_argument("--out-json", default="")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    train = read_idx(a.train_images).reshape(-1, 784).float() / 255.0
    test = (read_idx(a.test_images).reshape(-1, 784) > 0).float()
    model = VAE(784, a.hidden, a.latent)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8)

    n = train.shape[0]
    order, cursor = torch.randperm(n), 0
    t0, c0 = time.perf_counter(), time.process_time()
    for step in range(1, a.steps + 1):
        idx, got = [], 0
        while got < a.batch:  # batches run on across epochs, like genlab's trainer
            if cursor >= n:
                order, cursor = torch.randperm(n), 0
            take = min(a.batch - got, n - cursor)
            idx.append(order[cursor:cursor + take])
            cursor += take
            got += take
        x = torch.bernoulli(train[torch.cat(idx)])  # dynamic binarisation
        assert x.shape[0] == a.batch
        recon, kl = model.neg_elbo_terms(x)
        loss = (recon + kl).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if a.log_every and step % a.log_every == 0:
            el = time.perf_counter() - t0
            print(f"step {step}/{a.steps}  loss {loss.item():.2f}  recon {recon.mean().item():.2f}  "
                  f"kl {kl.mean().item():.2f}  | {step * a.batch / el:.0f} img/s", file=sys.stderr)
    train_s = time.perf_counter() - t0
    train_cpu_s = time.process_time() - c0

    model.eval()
    t1 = time.perf_counter()
    with torch.no_grad():
        torch.manual_seed(12345)
        recon_sum = kl_sum = iwae_sum = 0.0
        for i in range(0, test.shape[0], 100):
            x = test[i:i + 100]
            r, k = model.neg_elbo_terms(x)
            recon_sum += r.double().sum().item()
            kl_sum += k.double().sum().item()
            if a.iwae > 0:
                iwae_sum += model.neg_iwae(x, a.iwae).sum().item()
    m = test.shape[0]
    neg_elbo = (recon_sum + kl_sum) / m
    out = {
        "framework": "pytorch " + torch.__version__,
        "threads": a.threads,
        "steps": a.steps,
        "batch": a.batch,
        "n_test": m,
        "neg_elbo_nats": neg_elbo,
        "recon": recon_sum / m,
        "kl": kl_sum / m,
        "bits_per_dim": neg_elbo / (784 * math.log(2)),
        "train_seconds": train_s,
        "img_per_sec": a.steps * a.batch / train_s,
        "train_cpu_seconds": train_cpu_s,
        "img_per_cpu_sec": a.steps * a.batch / train_cpu_s,
        "eval_seconds": time.perf_counter() - t1,
    }
    if a.iwae > 0:
        out["iwae_k"] = a.iwae
        out["neg_iwae_nats"] = iwae_sum / m
    line = json.dumps(out)
    print(line)
    if a.out_json:
        with open(a.out_json, "w") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
