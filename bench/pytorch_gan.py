#!/usr/bin/env python3
"""The reference MNIST GAN in PyTorch, for side-by-side timing with tinygan (bench/README.md).

Same models, init (glorot-uniform kernels, zero biases), loss (BCE from logits, as tf.keras uses
for a sigmoid output), optimizer (Adam in Keras' form: epsilon 1e-7 added to the raw sqrt(v), bias
correction folded into the rate), batch and step as the reference and as tinygan.

  python3 bench/pytorch_gan.py --data data/mnist --steps 1000 --threads 1 [--csv losses.csv]
Prints one line per timed chunk: "pytorch ms_per_step=<median> ..." and the BLAS in use.
"""
import argparse
import math
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn.functional as F


def load_idx_images(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x00\x00\x08\x03":
        sys.exit(f"{path}: not an unsigned-byte 3-D IDX file")
    n, rows, cols = struct.unpack(">III", data[4:16])
    return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, rows * cols)


def glorot(out_features, in_features):
    limit = math.sqrt(6.0 / (in_features + out_features))
    return torch.empty(out_features, in_features).uniform_(-limit, limit).requires_grad_()


class KerasAdam:
    """Keras' Adam: lr_t = lr*sqrt(1-b2^t)/(1-b1^t); p -= lr_t*m/(sqrt(v)+eps). Fused foreach ops."""

    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        self.params = list(params)
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        grads = [p.grad for p in self.params]
        torch._foreach_mul_(self.m, self.b1)
        torch._foreach_add_(self.m, grads, alpha=1 - self.b1)
        torch._foreach_mul_(self.v, self.b2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1 - self.b2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, value=-lr_t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--z-dim", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", default="")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = load_idx_images(os.path.join(args.data, "train-images-idx3-ubyte"))
    z_dim, batch = args.z_dim, args.batch

    # Parameters as PyTorch's Linear keeps them: weight (out x in).
    g_w1, g_b1 = glorot(128, z_dim), torch.zeros(128, requires_grad=True)
    g_w2, g_b2 = glorot(784, 128), torch.zeros(784, requires_grad=True)
    d_w1, d_b1 = glorot(128, 784), torch.zeros(128, requires_grad=True)
    d_w2, d_b2 = glorot(1, 128), torch.zeros(1, requires_grad=True)
    g_params, d_params = [g_w1, g_b1, g_w2, g_b2], [d_w1, d_b1, d_w2, d_b2]
    g_opt, d_opt = KerasAdam(g_params), KerasAdam(d_params)

    def generator(z):
        return torch.sigmoid(F.linear(F.relu(F.linear(z, g_w1, g_b1)), g_w2, g_b2))

    def discriminator_logits(x):
        return F.linear(F.relu(F.linear(x, d_w1, d_b1)), d_w2, d_b2)

    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def train_d(x, labels):
        for p in d_params:
            p.grad = None
        loss = F.binary_cross_entropy_with_logits(discriminator_logits(x), labels)
        loss.backward()
        d_opt.step()
        return loss.item()

    def step():
        idx = torch.randint(0, images.shape[0], (batch,))
        real = images[idx].float() / 255.0
        with torch.no_grad():
            fake = generator(torch.randn(batch, z_dim))
        d_loss = 0.5 * (train_d(real, ones) + train_d(fake, zeros))
        # Generator step through the frozen discriminator: D's weights get no gradient.
        for p in d_params:
            p.requires_grad_(False)
        for p in g_params:
            p.grad = None
        g_loss = F.binary_cross_entropy_with_logits(discriminator_logits(generator(torch.randn(batch, z_dim))), ones)
        g_loss.backward()
        g_opt.step()
        for p in d_params:
            p.requires_grad_(True)
        return d_loss, g_loss.item()

    try:
        from torch.backends import mkldnn  # noqa: F401
        blas = torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "?"
    except Exception:
        blas = "?"
    libblas = "?"
    try:
        with open(f"/proc/{os.getpid()}/maps") as maps:
            libs = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and line.split()[-1].startswith("/")})
            libblas = ";".join(libs) or "none"
    except OSError:
        pass

    log = open(args.csv, "w") if args.csv else None
    if log:
        log.write("step,d_loss,g_loss\n")
    for i in range(args.warmup):
        step()
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        d_loss, g_loss = step()
        times.append(time.perf_counter() - t0)
        if log:
            log.write(f"{i + 1},{d_loss:.6f},{g_loss:.6f}\n")
    print(f"pytorch threads={args.threads} steps={args.steps} ms_per_step={1000 * statistics.median(times):.4f} "
          f"mean_ms={1000 * statistics.fmean(times):.4f} torch={torch.__version__} blas_info={blas} blas_libs={libblas} "
          f"final_d_loss={d_loss:.4f} final_g_loss={g_loss:.4f}")


if __name__ == "__main__":
    main()
