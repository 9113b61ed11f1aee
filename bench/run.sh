#!/usr/bin/env bash
# Installs what the benchmarks need (Debian's python3-torch and OpenBLAS for the PyTorch side),
# builds tinygan, fetches MNIST if missing, and runs bench/run_bench.py. Takes ~10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh g++ cmake make libeigen3-dev doctest-dev libstb-dev zlib1g-dev npm ca-certificates python3 \
  python3-torch libopenblas0-openmp
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target gan_bench mnist_gan
[ -f data/mnist/train-images-idx3-ubyte ] || bash scripts/fetch_mnist.sh data/mnist
# Debian's python3-torch, not a pyenv or virtualenv python that may shadow it.
/usr/bin/python3 bench/run_bench.py "$@"
