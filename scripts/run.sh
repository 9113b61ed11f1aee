#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine (root, apt, nothing else assumed):
#   bash scripts/run.sh gan    install what is missing, fetch MNIST, build, train the GAN, write images
#   bash scripts/run.sh test   install what is missing, build, run every test
# Extra arguments after "gan" go to the mnist_gan program (e.g. --steps 2000).
set -euo pipefail
cd "$(dirname "$0")/.."

job=${1:-}
shift || true
case "$job" in
  gan | test) ;;
  *) echo "usage: bash scripts/run.sh gan|test [mnist_gan flags...]" >&2; exit 2 ;;
esac

# Debian packages this job needs; only the missing ones are installed.
packages=(g++ cmake make libeigen3-dev doctest-dev libstb-dev zlib1g-dev)
[ "$job" = gan ] && packages+=(npm ca-certificates)
bash scripts/install_deps.sh "${packages[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ "$job" = test ]; then
  echo "== building everything (build/, Release)"
  cmake --build build -j "$jobs"
  echo "== testing"
  ctest --test-dir build --output-on-failure -j "$jobs"
else
  echo "== building mnist_gan (build/, Release)"  # only what this job runs, not the tests
  cmake --build build -j "$jobs" --target mnist_gan
  [ -f data/mnist/train-images-idx3-ubyte ] || bash scripts/fetch_mnist.sh data/mnist
  echo "== training the MNIST GAN (samples, losses and checkpoints go to runs/mnist_gan/)"
  build/examples/mnist_gan --data data/mnist --out runs/mnist_gan --resume "$@"
fi
