#!/usr/bin/env bash
# Installs what the benchmarks need (Debian's python3-torch, libtorch-dev and OpenBLAS for the
# PyTorch and libtorch peers), builds tinygan and the libtorch peer, fetches MNIST if missing, and
# runs bench/run_bench.py. Takes about 20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh g++ cmake make libeigen3-dev doctest-dev libstb-dev zlib1g-dev npm ca-certificates python3 \
  python3-torch libtorch-dev libopenblas0-openmp
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target gan_bench mnist_gan
# The libtorch peer in a build folder of its own (it needs only the benchmarks).
cmake -S . -B build-torch -DCMAKE_BUILD_TYPE=Release -DTINYGAN_BUILD_TESTS=OFF -DTINYGAN_BUILD_EXAMPLES=OFF \
  -DTINYGAN_BENCH_LIBTORCH=ON >/dev/null
cmake --build build-torch -j "$(nproc)" --target libtorch_dcgan
[ -f data/mnist/train-images-idx3-ubyte ] || bash scripts/fetch_mnist.sh data/mnist
# Debian's python3-torch, not a pyenv or virtualenv python that may shadow it.
/usr/bin/python3 bench/run_bench.py "$@"
