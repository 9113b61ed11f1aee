#!/usr/bin/env bash
# The hardening checks CI runs after the test suite (bash .ci/run):
#  1. every test, and a short GAN run on synthetic data, built with AddressSanitizer and
#     UndefinedBehaviorSanitizer (any report fails the run);
#  2. the libFuzzer targets for the IDX and checkpoint readers, FUZZ_SECONDS each (default 60),
#     from the seed corpus in tests/fuzz/corpus; any crash, leak, timeout or report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${FUZZ_SECONDS:-60}
jobs=$(nproc 2>/dev/null || echo 2)
bash scripts/install_deps.sh g++ cmake make libeigen3-dev doctest-dev libstb-dev zlib1g-dev clang libclang-rt-14-dev

echo "== sanitizers: building build-asan (ASan + UBSan)"
# -O1 -g1: a third of -O2 -g's compile time (Eigen-heavy units take minutes under ASan), same reports.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DTINYGAN_SANITIZE=ON -DTINYGAN_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Not the tests that only run the compiler (compile_fail_*) or build a separate consumer project
# (package_find_package): nothing in them runs under the sanitizers.
ctest --test-dir build-asan --output-on-failure -j "$jobs" -E '^(compile_fail_|package_find_package$)' 

echo "== sanitizers: a 300-step GAN run on synthetic data"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source tests/synthetic_idx.sh
write_idx_images "$work/train-images-idx3-ubyte" 200
build-asan/examples/mnist_gan --data "$work" --out "$work/run" --steps 300 --log-every 100 --sample-every 100 \
  --checkpoint-every 100 --threads 2
build-asan/examples/mnist_gan generate --checkpoint "$work/run/checkpoint.safetensors" --count 16 --out "$work/digits"

echo "== fuzzing: building build-fuzz (clang, libFuzzer)"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINYGAN_FUZZ=ON \
  -DTINYGAN_BUILD_TESTS=OFF -DTINYGAN_BUILD_EXAMPLES=OFF -DTINYGAN_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target idx_fuzz safetensors_fuzz
for target in idx safetensors; do
  corpus="$work/corpus_$target"
  cp -r "tests/fuzz/corpus/$target" "$corpus"  # the fuzzer grows its copy; the repository's seeds stay small
  echo "== fuzzing ${target} for ${fuzz_seconds}s"
  build-fuzz/tests/fuzz/${target}_fuzz "$corpus" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$work/" 2>"$work/fuzz_$target.log" ||
    { tail -40 "$work/fuzz_$target.log"; echo "fuzzing $target found a failure"; exit 1; }
  grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$work/fuzz_$target.log" | tail -2
done
echo "== hardening: all green"
