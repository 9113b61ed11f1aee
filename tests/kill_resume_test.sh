#!/usr/bin/env bash
# Killed mid-run: train on synthetic data with a checkpoint every step, SIGKILL the run at random
# moments, check that the checkpoint left behind is always readable, resume, and repeat until the
# run finishes; then the final checkpoint and loss log must equal those of an uninterrupted run,
# bit for bit. The test asserts what it claims: the runs progressed from kill to kill, and at least
# one kill landed while a checkpoint was being written (its temporary file was left behind).
# Usage: kill_resume_test.sh path/to/mnist_gan
set -u
gan=$1
work=$(mktemp -d)
export XDG_CACHE_HOME="$work/cache"  # the scorer's cache, never the user's
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/synthetic_idx.sh"
write_idx_images "$work/train-images-idx3-ubyte" 64
steps=300
# --z-dim 2000 makes each checkpoint about 4 MB, so a good share of the kills land mid-write even
# where writes are fast (tmpfs).
flags=(--data "$work" --steps "$steps" --batch-size 8 --z-dim 2000 --log-every 0 --sample-every 0)

"$gan" "${flags[@]}" --checkpoint-every 1 --out "$work/reference" >/dev/null || { echo "FAILED: reference run"; exit 1; }
# Kill each run after a random number (1 to 40) of its steps, read off losses.csv, plus up to 2 ms
# or, every other time, the moment a checkpoint write begins: that lands mid-training whatever the
# speed of the machine (the sanitizers make it 10x slower).
# At least min_kills times, and until a kill has landed in the middle of a checkpoint write, at
# most max_kills times; then let the run finish.
min_kills=5 max_kills=40

kills=0 unreadable=0 runs=0 mid_write=0 progressed=0 last_step=0
while :; do
  runs=$((runs + 1))
  [ "$runs" -gt 100 ] && { echo "FAILED: the killed run never finished"; exit 1; }
  rm -f "$work/killed/checkpoint.safetensors.tmp"  # so a temporary file seen below is this run's
  "$gan" "${flags[@]}" --checkpoint-every 1 --resume --out "$work/killed" >"$work/log" 2>&1 &
  pid=$!
  if [ "$kills" -ge "$max_kills" ] || { [ "$kills" -ge "$min_kills" ] && [ "$mid_write" -ge 1 ]; }; then
    wait "$pid"
    status=$?
    [ "$status" -eq 0 ] || { echo "FAILED: a resumed run exited with $status"; cat "$work/log"; exit 1; }
    break
  fi
  target_rows=$((last_step + 1 + 1 + RANDOM % 40))  # the header, then the rows up to the target step
  while kill -0 "$pid" 2>/dev/null && [ "$(wc -l 2>/dev/null <"$work/killed/losses.csv" || echo 0)" -lt "$target_rows" ]; do
    sleep 0.002
  done
  if [ $((kills % 2)) -eq 1 ]; then
    # Every other kill aims at a checkpoint write: spin on shell builtins (no process start) until
    # the temporary file appears, then kill at once. Left to chance, a fast machine's kills can all
    # miss the write (CI once saw 0 of 16).
    while kill -0 "$pid" 2>/dev/null && [ ! -e "$work/killed/checkpoint.safetensors.tmp" ]; do :; done
  else
    sleep "0.00$((RANDOM % 3))"
  fi
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    [ -f "$work/killed/checkpoint.safetensors.tmp" ] && mid_write=$((mid_write + 1))
    if [ -f "$work/killed/checkpoint.safetensors" ]; then
      if out=$("$gan" generate --checkpoint "$work/killed/checkpoint.safetensors" --count 1 --out "$work/probe" 2>&1); then
        step=$(sed -n 's/.*(step \([0-9]*\)).*/\1/p' <<<"$out")
        [ -n "$step" ] || { echo "FAILED: generate named no step: $out"; exit 1; }
        [ -n "$step" ] && [ "$step" -gt "$last_step" ] && progressed=$((progressed + 1)) && last_step=$step
        [ -n "$step" ] && [ "$step" -lt "$last_step" ] && { echo "FAILED: the checkpoint went back from step $last_step to $step"; exit 1; }
      else
        unreadable=$((unreadable + 1))
        echo "FAILED: checkpoint unreadable after kill $kills: $out"
      fi
    elif [ "$last_step" -gt 0 ]; then
      echo "FAILED: the checkpoint of step $last_step is gone after kill $kills"
      exit 1
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
echo "killed $kills times over $runs runs ($mid_write during a checkpoint write); the checkpoint advanced" \
  "between $progressed kills, to step $last_step before the last run; unreadable checkpoints: $unreadable"
[ "$kills" -ge "$min_kills" ] || { echo "FAILED: too few kills landed ($kills) to test anything"; failed=1; }
[ "$mid_write" -ge 1 ] || { echo "FAILED: no kill landed during a checkpoint write"; failed=1; }
[ "$progressed" -ge 3 ] || { echo "FAILED: the run progressed between only $progressed kills"; failed=1; }
[ "$last_step" -lt "$steps" ] || { echo "FAILED: the run had finished before it was last killed"; failed=1; }
[ "$unreadable" -eq 0 ] && [ "$failed" -eq 0 ] && echo "1 passed, 0 failed" && exit 0
echo "0 passed, 1 failed"
exit 1
