#!/usr/bin/env bash
# mnist_gan end to end on a tiny synthetic data set: every bad input gets its message and exit code
# (never a crash), a short run leaves its files, resume continues it, generate draws digits.
# Usage: mnist_gan_cli_test.sh path/to/mnist_gan
set -u
gan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# expect CODE FRAGMENT -- command...: runs it, checks the exit code and that stdout+stderr hold FRAGMENT.
expect() {
  local code=$1 fragment=$2
  shift 3
  local output status
  output=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq "$code" ] && grep -qF -- "$fragment" <<<"$output"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $* -> exit $status (expected $code), output must contain: $fragment"
    echo "$output" | tail -5 | sed 's/^/    /'
  fi
}

# check DESCRIPTION -- test-command...
check() {
  local what=$1
  shift 2
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}

source "$(dirname "$0")/synthetic_idx.sh"
mkdir -p "$work/data" "$work/truncated" "$work/labels"
write_idx_images "$work/data/train-images-idx3-ubyte" 64
head -c 20000 "$work/data/train-images-idx3-ubyte" >"$work/truncated/train-images-idx3-ubyte"
printf '\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02\x03\x04' >"$work/labels/train-images-idx3-ubyte"
touch "$work/a_file"
quick=(--data "$work/data" --log-every 0 --sample-every 10 --checkpoint-every 10 --batch-size 8)

expect 0 "usage: mnist_gan" -- "$gan" --help
expect 2 "unknown flag --bogus" -- "$gan" --bogus
expect 2 "--steps must be between 1 and" -- "$gan" --steps -5
expect 2 "--threads expects an integer" -- "$gan" --threads many
expect 1 "no MNIST training images at $work/none/train-images-idx3-ubyte; fetch them with: bash scripts/fetch_mnist.sh" -- \
  "$gan" --data "$work/none" --out "$work/out0"
expect 1 "truncated: the dimensions need 50176 bytes of data, the file has 19984" -- \
  "$gan" --data "$work/truncated" --out "$work/out0"
expect 1 "images need 3 dimensions" -- "$gan" --data "$work/labels" --out "$work/out0"
expect 2 "--batch-size 100 is larger than the 64 images" -- "$gan" --data "$work/data" --batch-size 100 --out "$work/out0"
expect 1 "cannot create output folder $work/a_file/out" -- "$gan" --data "$work/data" --out "$work/a_file/out"

expect 0 "Done: 30 steps" -- "$gan" "${quick[@]}" --steps 30 --out "$work/run"
for f in samples_step_000010.png samples_step_000030.png samples_final.png losses.png losses.csv checkpoint.safetensors; do
  check "run left $f" -- test -s "$work/run/$f"
done
check "losses.csv has a header and 30 rows" -- test "$(wc -l <"$work/run/losses.csv")" -eq 31
check "no temporary files left" -- test -z "$(find "$work/run" -name '*.tmp')"
expect 0 "Epoch: 30 - D Loss: " -- "$gan" "${quick[@]}" --steps 30 --log-every 15 --out "$work/logged"
expect 2 "already exists; pass --resume" -- "$gan" "${quick[@]}" --steps 40 --out "$work/run"
expect 0 "Resuming from $work/run/checkpoint.safetensors at step 30" -- "$gan" "${quick[@]}" --steps 40 --resume --out "$work/run"
check "losses.csv continues to 40 rows" -- test "$(wc -l <"$work/run/losses.csv")" -eq 41
expect 0 "No checkpoint in $work/fresh: starting from step 0" -- "$gan" "${quick[@]}" --steps 5 --resume --out "$work/fresh"

# Divergence (forced by an absurd learning rate) stops with exit code 3 and keeps the last good checkpoint.
cp "$work/run/checkpoint.safetensors" "$work/good.safetensors"
expect 3 "training diverged at step 41" -- "$gan" "${quick[@]}" --steps 60 --resume --learning-rate 1e30 --out "$work/run"
check "the last good checkpoint is untouched" -- cmp -s "$work/run/checkpoint.safetensors" "$work/good.safetensors"
expect 2 "--learning-rate expects a positive finite number" -- "$gan" --learning-rate -1

expect 0 "Wrote 9 digits" -- "$gan" generate --checkpoint "$work/run/checkpoint.safetensors" --count 9 --out "$work/digits-idx3-ubyte"
check "generate wrote an IDX file of 9 images" -- test "$(stat -c %s "$work/digits-idx3-ubyte")" -eq $((16 + 9 * 784))
check "generate wrote a PNG grid" -- test -s "$work/digits-idx3-ubyte.png"
head -c 100 "$work/run/checkpoint.safetensors" >"$work/broken.safetensors"
expect 1 "is not a valid safetensors file" -- "$gan" generate --checkpoint "$work/broken.safetensors" --out "$work/x"
expect 1 "cannot open $work/missing.safetensors" -- "$gan" generate --checkpoint "$work/missing.safetensors" --out "$work/x"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
