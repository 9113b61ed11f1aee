#!/usr/bin/env python3
"""mnist_gan's two recipes in PyTorch, for side-by-side timing with tinygan (bench/README.md).

--recipe document: the reference MNIST GAN. --recipe keras-gan: Keras-GAN's MLP GAN (LeakyReLU 0.2,
BatchNorm momentum 0.8 in the generator, tanh output on images in [-1, 1], Adam 2e-4 / beta_1 0.5,
fakes drawn in inference mode, an exponential moving average of G's weights updated every step).
Both with the same init (glorot-uniform kernels, zero biases), loss (BCE from logits, as tf.keras
uses for a sigmoid output), optimizer (Adam in Keras' form: epsilon 1e-7 added to the raw sqrt(v),
bias correction folded into the rate), batch and step as tinygan.

  python3 bench/pytorch_gan.py --data data/mnist --steps 1000 --threads 1 [--recipe keras-gan] [--csv losses.csv]
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


def document_step(args, images, z_dim, batch):
    """The reference GAN's step, on parameters as PyTorch's Linear keeps them: weight (out x in)."""
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

    return step


def keras_linear(in_features, out_features):
    layer = torch.nn.Linear(in_features, out_features)
    with torch.no_grad():
        layer.weight.copy_(glorot(out_features, in_features))
        layer.bias.zero_()
    return layer


def keras_gan_step(args, images, z_dim, batch):
    """Keras-GAN's MLP GAN (gan/gan.py) with the same loop as tinygan's keras-gan recipe."""
    nn = torch.nn

    def block(i, o):  # Dense -> LeakyReLU(0.2) -> BatchNormalization(momentum=0.8, epsilon=1e-3)
        return [keras_linear(i, o), nn.LeakyReLU(0.2), nn.BatchNorm1d(o, momentum=0.2, eps=1e-3)]

    generator = nn.Sequential(*block(z_dim, 256), *block(256, 512), *block(512, 1024), keras_linear(1024, 784), nn.Tanh())
    discriminator = nn.Sequential(keras_linear(784, 512), nn.LeakyReLU(0.2), keras_linear(512, 256), nn.LeakyReLU(0.2),
                                  keras_linear(256, 1))  # logits; the sigmoid is folded into the loss
    g_params, d_params = list(generator.parameters()), list(discriminator.parameters())
    g_opt, d_opt = KerasAdam(g_params, lr=2e-4, b1=0.5), KerasAdam(d_params, lr=2e-4, b1=0.5)
    average = [p.detach().clone() for p in g_params]
    updates = [0]
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def train_d(x, labels):
        for p in d_params:
            p.grad = None
        loss = F.binary_cross_entropy_with_logits(discriminator(x), labels)
        loss.backward()
        d_opt.step()
        return loss.item()

    def step():
        idx = torch.randint(0, images.shape[0], (batch,))
        real = images[idx].float() / 127.5 - 1.0
        generator.eval()  # Keras' predict(): BatchNorm with its moving statistics
        with torch.no_grad():
            fake = generator(torch.randn(batch, z_dim))
        generator.train()
        d_loss = 0.5 * (train_d(real, ones) + train_d(fake, zeros))
        for p in d_params:
            p.requires_grad_(False)
        for p in g_params:
            p.grad = None
        g_loss = F.binary_cross_entropy_with_logits(discriminator(generator(torch.randn(batch, z_dim))), ones)
        g_loss.backward()
        g_opt.step()
        for p in d_params:
            p.requires_grad_(True)
        with torch.no_grad():  # the weights' moving average, as tinygan's ExponentialMovingAverage
            t = updates[0]
            decay = min(0.999, (1 + t) / (10 + t))
            torch._foreach_mul_(average, decay)
            torch._foreach_add_(average, [p.detach() for p in g_params], alpha=1 - decay)
            updates[0] += 1
        return d_loss, g_loss.item()

    return step


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
    ap.add_argument("--recipe", default="document", choices=["document", "keras-gan"])
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = load_idx_images(os.path.join(args.data, "train-images-idx3-ubyte"))
    z_dim, batch = args.z_dim, args.batch

    if args.recipe == "document":
        step = document_step(args, images, z_dim, batch)
    else:
        step = keras_gan_step(args, images, z_dim, batch)

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
