#!/usr/bin/env bash
# mnist_gan end to end on a tiny synthetic data set: every bad input gets its message and exit code
# (never a crash), a short run leaves its files, resume continues it, generate draws digits,
# gzip-compressed data is read, and SIGINT / SIGTERM stop a run cleanly at any moment.
# Usage: mnist_gan_cli_test.sh path/to/mnist_gan
set -u
gan=$1
work=$(mktemp -d)
export XDG_CACHE_HOME="$work/cache"  # the scorer's cache, never the user's
trap 'rm -rf "$work"' EXIT



source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/synthetic_idx.sh"
mkdir -p "$work/data" "$work/truncated" "$work/labels"
write_idx_images "$work/data/train-images-idx3-ubyte" 64
head -c 20000 "$work/data/train-images-idx3-ubyte" >"$work/truncated/train-images-idx3-ubyte"
printf '\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02\x03\x04' >"$work/labels/train-images-idx3-ubyte"
touch "$work/a_file"
quick=(--data "$work/data" --log-every 0 --sample-every 10 --checkpoint-every 10 --batch-size 8)

expect 0 "usage: mnist_gan" -- "$gan" --help
check "--help: generate's default --out is shown" -- grep -q "generate.*\|(default generated-images-idx3-ubyte)" <("$gan" --help)
check "--help: listed once, among the commands" -- test "$("$gan" --help | grep -c -- '--help')" -eq 1
expect 2 "unknown flag --bogus" -- "$gan" --bogus
expect 2 "unknown command \"bogus\"" -- "$gan" bogus
check "errors carry the program's prefix once, not the library's too" -- \
  test -z "$("$gan" --data "$work/truncated" --out "$work/out0" 2>&1 | grep 'mnist_gan: tinygan:')"
expect 2 "--steps must be between 1 and" -- "$gan" --steps -5
expect 2 "--threads expects an integer" -- "$gan" --threads many
expect 1 "no training images in $work/none: neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is there; for MNIST run: bash scripts/fetch_mnist.sh" -- \
  "$gan" --data "$work/none" --out "$work/out0"
expect 1 "truncated: the dimensions need 50176 bytes of data, the file has 19984" -- \
  "$gan" --data "$work/truncated" --out "$work/out0"
expect 1 "images need 3 dimensions" -- "$gan" --data "$work/labels" --out "$work/out0"
expect 2 "--batch-size 100 is larger than the 64 images" -- "$gan" --data "$work/data" --batch-size 100 --out "$work/out0"
expect 1 "cannot create output folder $work/a_file/out" -- "$gan" --data "$work/data" --out "$work/a_file/out"

expect 0 "Done: 30 steps" -- "$gan" "${quick[@]}" --steps 30 --out "$work/run"
for f in samples_step_000010.png samples_step_000020.png samples_final.png losses.png losses.csv checkpoint.safetensors; do
  check "run left $f" -- test -s "$work/run/$f"
done
check "the last step's grid is samples_final.png, not also samples_step_000030.png" -- test ! -e "$work/run/samples_step_000030.png"
check "losses.csv has a header and 30 rows" -- test "$(wc -l <"$work/run/losses.csv")" -eq 31
check "no temporary files left" -- test -z "$(find "$work/run" -name '*.tmp')"
# The document numbers its log lines from 0, as its loop does: 30 steps end with "Epoch: 29".
expect 0 "Epoch: 29 - D Loss: " -- "$gan" "${quick[@]}" --steps 30 --log-every 15 --out "$work/logged"
check "--log-every 15 logs Epoch: 14 and Epoch: 29, and no other step" -- test "$("$gan" "${quick[@]}" --steps 30 --log-every 15 --out "$work/logged15" | sed -n 's/^Epoch: \([0-9]*\) .*/\1/p' | tr '\n' ' ')" = "14 29 "
check "losses.csv counts steps from 1" -- test "$(sed -n 2p "$work/logged/losses.csv" | cut -d, -f1)" = 1
expect 2 "already exists; pass --resume" -- "$gan" "${quick[@]}" --steps 40 --out "$work/run"
expect 0 "Resuming from $work/run/checkpoint.safetensors at step 30" -- "$gan" "${quick[@]}" --steps 40 --resume --out "$work/run"
check "losses.csv continues to 40 rows" -- test "$(wc -l <"$work/run/losses.csv")" -eq 41
expect 0 "No checkpoint in $work/fresh: starting from step 0" -- "$gan" "${quick[@]}" --steps 5 --resume --out "$work/fresh"

# Divergence (forced by an absurd learning rate) stops with exit code 3 and keeps the last good checkpoint.
cp "$work/run/checkpoint.safetensors" "$work/good.safetensors"
expect 3 "training diverged at step 41" -- "$gan" "${quick[@]}" --steps 60 --resume --learning-rate 1e30 --out "$work/run"
check "the last good checkpoint is untouched" -- cmp -s "$work/run/checkpoint.safetensors" "$work/good.safetensors"
expect 2 "--learning-rate expects a positive finite number" -- "$gan" --learning-rate -1

expect 0 "Wrote 9 images" -- "$gan" generate --checkpoint "$work/run/checkpoint.safetensors" --count 9 --out "$work/new/folder/digits-idx3-ubyte"
check "generate wrote an IDX file of 9 images, creating its folder" -- test "$(stat -c %s "$work/new/folder/digits-idx3-ubyte")" -eq $((16 + 9 * 784))
check "generate wrote a PNG grid" -- test -s "$work/new/folder/digits-idx3-ubyte.png"
head -c 100 "$work/run/checkpoint.safetensors" >"$work/broken.safetensors"
expect 1 "is not a valid safetensors file" -- "$gan" generate --checkpoint "$work/broken.safetensors" --out "$work/x"
expect 1 "cannot open $work/missing.safetensors" -- "$gan" generate --checkpoint "$work/missing.safetensors" --out "$work/x"

# The recipe comes from the checkpoint on --resume; a contradicting --recipe is refused.
expect 0 "Done: 4 steps" -- "$gan" "${quick[@]}" --recipe keras-gan --steps 4 --out "$work/keras"
expect 2 "is a run of the keras-gan recipe; --recipe document cannot resume it" -- \
  "$gan" "${quick[@]}" --recipe document --steps 6 --resume --out "$work/keras"
expect 0 "Resuming from $work/keras/checkpoint.safetensors at step 4" -- "$gan" "${quick[@]}" --steps 6 --resume --out "$work/keras"
expect 2 "--batch-size 1 is too small for the keras-gan recipe" -- "$gan" --data "$work/data" --recipe keras-gan --batch-size 1 --out "$work/out1"
# The scorer needs a labelled data set: the synthetic folder has images only.
expect 1 "the scorer needs the four files of an MNIST-format data set" -- \
  "$gan" score "$work/digits-idx3-ubyte" --data "$work/data" --classifier "$work/classifier.safetensors"

# A conditional GAN (--recipe cgan) trains on the labels beside its images; generate draws the
# classes asked for and writes their labels next to the images; score reads them back.
for d in labelled short_labels bad_class scoring; do mkdir -p "$work/$d"; cp "$work/data/train-images-idx3-ubyte" "$work/$d/"; done
write_idx_labels "$work/labelled/train-labels-idx1-ubyte" 64
write_idx_labels "$work/short_labels/train-labels-idx1-ubyte" 60
write_idx_labels "$work/bad_class/train-labels-idx1-ubyte" 64 12
write_idx_labels "$work/scoring/train-labels-idx1-ubyte" 64
cp "$work/data/train-images-idx3-ubyte" "$work/scoring/t10k-images-idx3-ubyte"
write_idx_labels "$work/scoring/t10k-labels-idx1-ubyte" 64
cond=(--recipe cgan --log-every 0 --sample-every 4 --checkpoint-every 4 --batch-size 8)
expect 1 "this GAN is conditional: it needs the training labels, but $work/data has neither train-labels-idx1-ubyte" -- \
  "$gan" "${cond[@]}" --data "$work/data" --steps 4 --out "$work/c0"
expect 1 "train-labels-idx1-ubyte has 60 labels for 64 images: the labels file does not match its images file" -- \
  "$gan" "${cond[@]}" --data "$work/short_labels" --steps 4 --out "$work/c1"
expect 1 "the data set's labels name 12 classes; this GAN draws 10" -- "$gan" "${cond[@]}" --data "$work/bad_class" --steps 4 --out "$work/c2"
expect 0 "Done: 8 steps" -- "$gan" "${cond[@]}" --data "$work/labelled" --steps 8 --out "$work/cgan"
check "the conditional run left its grid" -- test -s "$work/cgan/samples_final.png"
"$gan" "${cond[@]}" --data "$work/labelled" --steps 4 --out "$work/cgan_resumed" >/dev/null 2>&1
expect 0 "Resuming from $work/cgan_resumed/checkpoint.safetensors at step 4" -- \
  "$gan" "${cond[@]}" --data "$work/labelled" --steps 8 --resume --out "$work/cgan_resumed"
check "cgan: 4 + resume 4 == 8 steps, bit for bit" -- cmp -s "$work/cgan/checkpoint.safetensors" "$work/cgan_resumed/checkpoint.safetensors"
check "cgan: and so is losses.csv" -- cmp -s "$work/cgan/losses.csv" "$work/cgan_resumed/losses.csv"
expect 2 "is a run of the cgan recipe; --recipe document cannot resume it" -- \
  "$gan" "${quick[@]}" --data "$work/labelled" --recipe document --steps 12 --resume --out "$work/cgan"
expect 0 "Wrote 4 images" -- "$gan" generate --checkpoint "$work/cgan/checkpoint.safetensors" --class 3 --count 4 --out "$work/threes-idx3-ubyte"
check "--class 3: the labels file next to the images holds 4 threes" -- \
  test "$(od -An -tx1 "$work/threes-labels-idx1-ubyte" | tr -d ' \n')" = "000008010000000403030303"
expect 0 "Wrote 20 images" -- "$gan" generate --checkpoint "$work/cgan/checkpoint.safetensors" --class all --count 2 --out "$work/all-idx3-ubyte"
check "--class all --count 2: 2 of each class" -- \
  test "$(od -An -tu1 -j8 "$work/all-labels-idx1-ubyte" | tr -s ' \n' ' ' | xargs -n1 | sort -n | uniq -c | awk '$1 == 2' | wc -l)" -eq 10
check "--class all --count 2: 20 images" -- test "$(stat -c %s "$work/all-idx3-ubyte")" -eq $((16 + 20 * 784))
expect 2 "--class must be a class 0 to 9 or all, got \"10\"" -- \
  "$gan" generate --checkpoint "$work/cgan/checkpoint.safetensors" --class 10 --out "$work/x-idx3-ubyte"
expect 2 "--class needs a conditional GAN, but $work/run/checkpoint.safetensors was trained without labels" -- \
  "$gan" generate --checkpoint "$work/run/checkpoint.safetensors" --class 3 --out "$work/x-idx3-ubyte"
expect 0 "conditional accuracy per requested class: 0: " -- \
  "$gan" score "$work/all-idx3-ubyte" --data "$work/scoring" --classifier "$work/scoring.safetensors"
"$gan" "${cond[@]}" --data "$work/scoring" --steps 4 --score --score-samples 20 --classifier "$work/scoring.safetensors" \
  --out "$work/cgan_scored" >/dev/null 2>&1
check "a conditional run's scores.csv has the conditional accuracy column" -- \
  test "$(head -1 "$work/cgan_scored/scores.csv")" = "step,frechet_distance,classes_over_5_percent,inception_score,conditional_accuracy"
check "and its rows a measured accuracy (0 to 1, not the -1 of none)" -- \
  awk -F, 'NR > 1 { if ($5 < 0 || $5 > 1) bad = 1; rows++ } END { exit !(rows >= 1 && !bad) }' "$work/cgan_scored/scores.csv"
expect 1 "threes-labels-idx1-ubyte has 4 labels for 20 images: the labels file does not match its images file" -- \
  "$gan" score "$work/all-idx3-ubyte" --labels "$work/threes-labels-idx1-ubyte" --data "$work/scoring" --classifier "$work/scoring.safetensors"

# gzip-compressed data, as the MNIST site and Debian's dataset-fashion-mnist ship it, is read directly.
mkdir -p "$work/gz" "$work/badgz"
gzip -c "$work/data/train-images-idx3-ubyte" >"$work/gz/train-images-idx3-ubyte.gz"
from_gz=(--data "$work/gz" --log-every 0 --sample-every 10 --checkpoint-every 10 --batch-size 8)
expect 0 "Done: 20 steps" -- "$gan" "${from_gz[@]}" --steps 20 --out "$work/from_gz"
"$gan" "${quick[@]}" --steps 20 --out "$work/from_plain" >/dev/null 2>&1
check "training on the .gz gives the same run as on the plain file" -- cmp -s "$work/from_gz/checkpoint.safetensors" "$work/from_plain/checkpoint.safetensors"
head -c 3000 "$work/gz/train-images-idx3-ubyte.gz" >"$work/badgz/train-images-idx3-ubyte.gz"
expect 1 "train-images-idx3-ubyte.gz is truncated: the gzip data ends before its last block" -- "$gan" --data "$work/badgz" --out "$work/out0"

# More threads than CPUs: a warning, and the CPUs there are.
expect 0 "--threads 256 asked, but this process may use" -- "$gan" "${quick[@]}" --steps 2 --threads 256 --out "$work/threads"

# Log lines reach a file as they are printed, not when the run ends; a run of a billion steps starts
# (its loss history is bounded: tests/app_test.cpp) and SIGTERM stops it cleanly.
"$gan" "${quick[@]}" --steps 1000000000 --log-every 1 --checkpoint-every 0 --sample-every 0 --out "$work/live" >"$work/live.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "^Epoch: 5 " "$work/live.log" && break; sleep 0.1; done
check "log lines are in the file while the run goes on" -- grep -q "^Epoch: 5 " "$work/live.log"
kill -TERM "$pid"
wait "$pid"
check "SIGTERM exits with status 143" -- test $? -eq 143
check "SIGTERM: the run stopped itself, with its message (not killed by the signal)" -- \
  grep -q "^interrupted at step [0-9]*; checkpoint written to $work/live/checkpoint.safetensors" "$work/live.log"

# SIGINT or SIGTERM at a random moment: the run finishes its step, writes a checkpoint and
# losses.csv, says where, and exits 130 (SIGINT) or 143 (SIGTERM); resumed, it ends bit-identical
# to a run that was never interrupted.
long=("${quick[@]}" --sample-every 500)  # 200 grids a run would be most of this test's time
"$gan" "${long[@]}" --steps 2000 --checkpoint-every 500 --out "$work/straight" >/dev/null 2>&1
interrupted=0
for signal in INT TERM INT TERM; do
  out="$work/interrupted_$signal"
  rm -rf "$out"
  "$gan" "${long[@]}" --steps 2000 --checkpoint-every 500 --log-every 1 --out "$out" >"$out.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do grep -q "^Epoch: " "$out.log" 2>/dev/null && break; sleep 0.01; done
  sleep "0.0$((RANDOM % 10))"
  kill -"$signal" "$pid"
  wait "$pid"
  status=$?
  expected=$([ "$signal" = INT ] && echo 130 || echo 143)
  if ! grep -q "^interrupted at step" "$out.log"; then
    # The run may have finished before the signal arrived; then it must simply have succeeded.
    check "SIG$signal after the end: a finished run" -- test "$status" -eq 0
    continue
  fi
  interrupted=$((interrupted + 1))
  step=$(sed -n 's/^interrupted at step \([0-9]*\); checkpoint written to .*; run the same command with --resume to continue$/\1/p' "$out.log")
  check "SIG$signal: exit status $expected" -- test "$status" -eq "$expected"
  check "SIG$signal: the message names the step and the checkpoint" -- test -n "$step"
  check "SIG$signal: the checkpoint is readable and at that step" -- \
    grep -q "(step $step)" <("$gan" generate --checkpoint "$out/checkpoint.safetensors" --count 1 --out "$work/probe" 2>&1)
  check "SIG$signal: losses.csv has every step up to $step, no partial row" -- \
    test "$(grep -cE '^[0-9]+,[0-9.-]+,[0-9.-]+,[0-9.-]+$' "$out/losses.csv")" -eq "$step"
  check "SIG$signal: losses.csv has nothing else" -- test "$(wc -l <"$out/losses.csv")" -eq $((step + 1))
  "$gan" "${long[@]}" --steps 2000 --checkpoint-every 500 --resume --out "$out" >/dev/null 2>&1
  check "SIG$signal: the resumed run ends bit-identical to an uninterrupted one" -- \
    cmp -s "$out/checkpoint.safetensors" "$work/straight/checkpoint.safetensors"
  check "SIG$signal: and so does its losses.csv" -- cmp -s "$out/losses.csv" "$work/straight/losses.csv"
done

check "the signals interrupted at least 3 of the 4 runs" -- test "$interrupted" -ge 3
# (A second signal ending the run at once is tested by the handler's own test, tests/app_test.cpp:
# from outside, a second signal cannot be timed to land between the first one's handling and the
# end of the run.)

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
