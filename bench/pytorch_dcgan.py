#!/usr/bin/env python3
"""The PyTorch C++ DCGAN example (pytorch/examples, cpp/dcgan) in Python, the PyTorch peer of
tinygan's examples/dcgan (bench/README.md): same models, Adam 2e-4 with betas (0.5, 0.5), labels,
loss and update order; MNIST from the same IDX file; batches of 64 in a new random order every epoch.
--g-lr sets the generator's rate (tinygan's dcgan uses 5e-4; a rate does not change a step's work).

  python3 bench/pytorch_dcgan.py --data data/mnist --threads 1 --steps 20
Prints "pytorch ms_per_step=<median> ...".
"""
import argparse
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_images(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x00\x00\x08\x03":
        sys.exit(f"{path}: not an unsigned-byte 3-D IDX file")
    n = struct.unpack(">I", data[4:8])[0]
    images = torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).reshape(n, 1, 28, 28)
    return images.float() / 127.5 - 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--g-lr", type=float, default=2e-4,
                    help="the generator's learning rate (the example's 2e-4; tinygan's dcgan uses 5e-4)")
    ap.add_argument("--samples-out", default="", help="after training, write 10000 samples here as an IDX file")
    args = ap.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(args.threads)
    noise_size, batch = 100, 64
    generator = nn.Sequential(
        nn.ConvTranspose2d(noise_size, 256, 4, bias=False), nn.BatchNorm2d(256), nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1, bias=False), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 64, 4, stride=2, padding=1, bias=False), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Conv2d(128, 256, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(256), nn.LeakyReLU(0.2),
        nn.Conv2d(256, 1, 3, stride=1, padding=0, bias=False), nn.Sigmoid())
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=args.g_lr, betas=(0.5, 0.5))
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.5))
    images = load_images(os.path.join(args.data, "train-images-idx3-ubyte"))
    batches = images.shape[0] // batch
    state = {"order": torch.randperm(images.shape[0]), "position": 0}

    def step():
        if state["position"] == batches:
            state["order"], state["position"] = torch.randperm(images.shape[0]), 0
        real_images = images[state["order"][state["position"] * batch:(state["position"] + 1) * batch]]
        state["position"] += 1
        discriminator.zero_grad()
        real_labels = torch.empty(batch).uniform_(0.8, 1.0)
        d_loss_real = F.binary_cross_entropy(discriminator(real_images).view(-1), real_labels)
        d_loss_real.backward()
        fake_images = generator(torch.randn(batch, noise_size, 1, 1))
        fake_labels = torch.zeros(batch)
        d_loss_fake = F.binary_cross_entropy(discriminator(fake_images.detach()).view(-1), fake_labels)
        d_loss_fake.backward()
        d_optimizer.step()
        generator.zero_grad()
        fake_labels.fill_(1)
        g_loss = F.binary_cross_entropy(discriminator(fake_images).view(-1), fake_labels)
        g_loss.backward()
        g_optimizer.step()
        return d_loss_real.item() + d_loss_fake.item(), g_loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        d_loss, g_loss = step()
        times.append(time.perf_counter() - t0)
    if args.samples_out:  # as the example samples: the generator as it trains, in training mode
        with torch.no_grad():
            samples = torch.cat([generator(torch.randn(500, noise_size, 1, 1)) for _ in range(20)])
        pixels = ((samples.view(-1, 784) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy().tobytes()
        with open(args.samples_out, "wb") as f:
            f.write(b"\x00\x00\x08\x03" + struct.pack(">III", 10000, 28, 28) + pixels)
    print(f"pytorch threads={args.threads} steps={args.steps} ms_per_step={1000 * statistics.median(times):.2f} "
          f"torch={torch.__version__} mkldnn={torch.backends.mkldnn.is_available()} "
          f"final_d_loss={d_loss:.4f} final_g_loss={g_loss:.4f}")


if __name__ == "__main__":
    main()
