#!/usr/bin/env bash
# Installs what the benchmarks need (Debian's python3-torch and OpenBLAS for the PyTorch side),
# builds tinygan, fetches MNIST if missing, and runs bench/run_bench.py. Takes ~10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(g++ cmake make libeigen3-dev doctest-dev libstb-dev npm python3 python3-torch libopenblas0-openmp)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target gan_bench mnist_gan
[ -f data/mnist/train-images-idx3-ubyte ] || bash scripts/fetch_mnist.sh data/mnist
# Debian's python3-torch, not a pyenv or virtualenv python that may shadow it.
/usr/bin/python3 bench/run_bench.py "$@"
