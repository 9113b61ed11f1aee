#!/usr/bin/env bash
# Killed mid-run: train on synthetic data with frequent checkpoints, SIGKILL the run at random
# moments (many of them while a checkpoint is being written), check that the checkpoint left behind
# is always readable, resume, and repeat until the run finishes; then the final checkpoint and loss
# log must equal those of an uninterrupted run, bit for bit.
# Usage: kill_resume_test.sh path/to/mnist_gan
set -u
gan=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/synthetic_idx.sh"
write_idx_images "$work/train-images-idx3-ubyte" 64
steps=600
flags=(--data "$work" --steps "$steps" --batch-size 8 --log-every 0 --sample-every 0)

start_ns=$(date +%s%N)
"$gan" "${flags[@]}" --checkpoint-every 1 --out "$work/reference" >/dev/null || { echo "FAILED: reference run"; exit 1; }
# Kill at random moments within one uninterrupted run's duration (which is much longer under the
# sanitizers or on a loaded machine), at most max_kills times; then let the run finish.
reference_ms=$(((($(date +%s%N) - start_ns) / 1000000) + 1))
max_kills=12

kills=0 unreadable=0 runs=0
while :; do
  runs=$((runs + 1))
  [ "$runs" -gt 100 ] && { echo "FAILED: the killed run never finished"; exit 1; }
  "$gan" "${flags[@]}" --checkpoint-every 1 --resume --out "$work/killed" >"$work/log" 2>&1 &
  pid=$!
  if [ "$kills" -ge "$max_kills" ]; then
    wait "$pid"
    status=$?
    [ "$status" -eq 0 ] || { echo "FAILED: a resumed run exited with $status"; cat "$work/log"; exit 1; }
    break
  fi
  delay_ms=$((reference_ms / 30 + RANDOM % (reference_ms / 6 + 1)))
  sleep "$((delay_ms / 1000)).$(printf %03d $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    if [ -f "$work/killed/checkpoint.safetensors" ] &&
      ! "$gan" generate --checkpoint "$work/killed/checkpoint.safetensors" --count 1 --out "$work/probe" >/dev/null 2>&1; then
      unreadable=$((unreadable + 1))
      echo "FAILED: checkpoint unreadable after kill $kills"
    fi
  else
    wait "$pid"
    status=$?
    [ "$status" -eq 0 ] || { echo "FAILED: a resumed run exited with $status"; cat "$work/log"; exit 1; }
    break
  fi
done

failed=0
cmp -s "$work/reference/checkpoint.safetensors" "$work/killed/checkpoint.safetensors" ||
  { echo "FAILED: final checkpoint differs from the uninterrupted run's"; failed=1; }
cmp -s "$work/reference/losses.csv" "$work/killed/losses.csv" ||
  { echo "FAILED: losses.csv differs from the uninterrupted run's"; failed=1; }
echo "killed $kills times over $runs runs; unreadable checkpoints: $unreadable"
[ "$kills" -ge 3 ] || { echo "FAILED: too few kills landed ($kills) to test anything"; failed=1; }
[ "$unreadable" -eq 0 ] && [ "$failed" -eq 0 ] && echo "1 passed, 0 failed" && exit 0
echo "0 passed, 1 failed"
exit 1
