#!/usr/bin/env bash
# The hardening checks CI runs after the test suite (bash .ci/run), sized for CI's time:
#  1. the mnist_gan program built with AddressSanitizer and UndefinedBehaviorSanitizer (clang: a
#     third less compile time than g++ and half the memory), run through its command-line test
#     (every bad file and flag, gzip, signals, resume) and a short GAN run; any report fails;
#  2. the libFuzzer targets for the IDX and checkpoint readers, FUZZ_SECONDS each (default 30),
#     from the seed corpus in tests/fuzz/corpus; any crash, leak, timeout or report fails the run.
# `bash scripts/hardening.sh --full` also builds every test with the sanitizers and runs them all,
# but for the ones that only run the compiler, build a separate project, or train a model for
# hundreds of steps (label training_runs: 5 minutes each under the sanitizers, and their code is
# what the step tests run): about 20 minutes on two cores, too long for every CI run.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
case "${1:-}" in
  --full) full=1 ;;
  "") ;;
  *) echo "usage: bash scripts/hardening.sh [--full]" >&2; exit 2 ;;
esac
fuzz_seconds=${FUZZ_SECONDS:-30}
jobs=$(nproc 2>/dev/null || echo 2)
bash scripts/install_deps.sh g++ cmake make libeigen3-dev doctest-dev libstb-dev zlib1g-dev clang libclang-rt-14-dev

echo "== sanitizers: building build-asan (ASan + UBSan, clang)"
# -O1 -g1: a third of -O2 -g's compile time (Eigen-heavy units take minutes under ASan), same reports.
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DTINYGAN_SANITIZE=ON -DTINYGAN_BUILD_BENCH=OFF >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if [ "$full" -eq 1 ]; then
  cmake --build build-asan -j "$jobs"
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE training_runs -E '^(compile_fail_|package_find_package$)'
else
  cmake --build build-asan -j "$jobs" --target mnist_gan
  echo "== sanitizers: mnist_gan's command-line test"
  bash tests/mnist_gan_cli_test.sh build-asan/examples/mnist_gan
fi

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
