#!/usr/bin/env bash
# The dcgan program end to end on a tiny synthetic data set (it shares its driver with mnist_gan,
# whose script tests the rest): a short run leaves its files, resuming gives the uninterrupted
# run's checkpoint bit for bit, divergence keeps the last good checkpoint, generate draws images,
# SIGINT stops it cleanly, bad flags are refused, the learning-rate flags reach each model.
# Usage: dcgan_cli_test.sh path/to/dcgan
set -u
dcgan=$1
work=$(mktemp -d)
export XDG_CACHE_HOME="$work/cache"  # the scorer's cache, never the user's
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/synthetic_idx.sh"
mkdir -p "$work/data"
write_idx_images "$work/data/train-images-idx3-ubyte" 48
quick=(--data "$work/data" --batch-size 8 --log-every 0 --sample-every 4 --checkpoint-every 2)

expect 0 "--epochs N" -- "$dcgan" --help
check "--help lists --help, among the commands" -- grep -q "dcgan --help" <("$dcgan" --help)
expect 2 "--batch-size must be between 2 and" -- "$dcgan" --batch-size 1
expect 2 "unknown flag --recipe" -- "$dcgan" --recipe keras-gan
expect 0 "Done: 8 steps" -- "$dcgan" "${quick[@]}" --steps 8 --out "$work/straight"
for f in samples_step_000004.png samples_final.png losses.png losses.csv checkpoint.safetensors; do
  check "the run left $f" -- test -s "$work/straight/$f"
done
expect 0 "Training 12 steps" -- "$dcgan" "${quick[@]}" --epochs 2 --out "$work/epochs"  # 6 batches of 8 an epoch
# The log line names the epoch and the batch in it (the document's "Epoch: N" would be the step).
expect 0 "Epoch 2/2, batch 6/6 - D Loss: " -- "$dcgan" "${quick[@]}" --epochs 2 --log-every 6 --out "$work/epochs_logged"
check "the first epoch's last batch is logged as such" -- grep -q "^Epoch 1/2, batch 6/6 " <("$dcgan" "${quick[@]}" --epochs 2 --log-every 6 --out "$work/epochs_logged2")
expect 0 "Done: 4 steps" -- "$dcgan" "${quick[@]}" --steps 4 --out "$work/resumed"
expect 0 "Resuming from $work/resumed/checkpoint.safetensors at step 4" -- "$dcgan" "${quick[@]}" --steps 8 --resume --out "$work/resumed"
check "4 + resume 4 == 8 steps, bit for bit" -- cmp -s "$work/resumed/checkpoint.safetensors" "$work/straight/checkpoint.safetensors"
cp "$work/straight/checkpoint.safetensors" "$work/good.safetensors"
expect 3 "training diverged" -- "$dcgan" "${quick[@]}" --steps 12 --resume --learning-rate 1e30 --out "$work/straight"
check "divergence keeps the last good checkpoint" -- cmp -s "$work/straight/checkpoint.safetensors" "$work/good.safetensors"
# The learning-rate flags reach the models: G's and D's each, --learning-rate both, the specific ones first.
# (Rates that are neither default, so a flag that does not reach its model shows.)
lr_run() { local out=$1; shift; expect 0 "Done: 2 steps" -- "$dcgan" "${quick[@]}" --steps 2 "$@" --out "$work/$out"; }
same() { cmp -s "$work/$1/checkpoint.safetensors" "$work/$2/checkpoint.safetensors"; }
differ() { cmp -s "$work/$1/checkpoint.safetensors" "$work/$2/checkpoint.safetensors"; [ $? -eq 1 ]; }  # both there, not equal
lr_run lr_both --learning-rate 1e-3
lr_run lr_each --g-learning-rate 1e-3 --d-learning-rate 1e-3
lr_run lr_over --learning-rate 3e-4 --g-learning-rate 1e-3 --d-learning-rate 1e-3
lr_run lr_g_only --learning-rate 3e-4 --g-learning-rate 1e-3
lr_run lr_g_d --g-learning-rate 1e-3 --d-learning-rate 3e-4
lr_run lr_d_g --g-learning-rate 3e-4 --d-learning-rate 1e-3
lr_run lr_default
lr_run lr_explicit_default --g-learning-rate 5e-4 --d-learning-rate 2e-4
check "--learning-rate sets both models" -- same lr_both lr_each
check "--g/--d-learning-rate win over --learning-rate" -- same lr_over lr_each
check "--learning-rate sets the model not named (D here)" -- same lr_g_only lr_g_d
check "G's and D's rates are separate" -- differ lr_g_d lr_d_g
check "the default is G 5e-4, D 2e-4" -- same lr_default lr_explicit_default
expect 2 "--g-learning-rate expects a positive finite number" -- "$dcgan" --g-learning-rate 0
expect 0 "Wrote 5 images" -- "$dcgan" generate --checkpoint "$work/straight/checkpoint.safetensors" --count 5 --out "$work/gen/x-idx3-ubyte"
check "generate wrote 5 images" -- test "$(stat -c %s "$work/gen/x-idx3-ubyte")" -eq $((16 + 5 * 784))
expect 1 "is not a valid safetensors file" -- "$dcgan" generate --checkpoint "$work/gen/x-idx3-ubyte" --out "$work/y"

# The conditional DCGAN (--conditional) trains on the labels, resumes bit for bit, and a checkpoint
# resumes only as what it is.
mkdir -p "$work/labelled"
cp "$work/data/train-images-idx3-ubyte" "$work/labelled/"
write_idx_labels "$work/labelled/train-labels-idx1-ubyte" 48
cq=(--conditional --data "$work/labelled" --batch-size 8 --log-every 0 --sample-every 0 --checkpoint-every 2)
expect 1 "this GAN is conditional: it needs the training labels, but $work/data has neither" -- \
  "$dcgan" --conditional --data "$work/data" --batch-size 8 --steps 2 --out "$work/c0"
expect 0 "Done: 4 steps" -- "$dcgan" "${cq[@]}" --steps 4 --out "$work/cond"
"$dcgan" "${cq[@]}" --steps 2 --out "$work/cond_resumed" >/dev/null 2>&1
expect 0 "Resuming from $work/cond_resumed/checkpoint.safetensors at step 2" -- \
  "$dcgan" "${cq[@]}" --steps 4 --resume --out "$work/cond_resumed"
check "--conditional: 2 + resume 2 == 4 steps, bit for bit" -- \
  cmp -s "$work/cond/checkpoint.safetensors" "$work/cond_resumed/checkpoint.safetensors"
expect 2 "$work/cond/checkpoint.safetensors is a conditional DCGAN's checkpoint: add --conditional to resume it" -- \
  "$dcgan" "${quick[@]}" --data "$work/labelled" --steps 6 --resume --out "$work/cond"
expect 2 "$work/straight/checkpoint.safetensors is an unconditional DCGAN's checkpoint: --conditional cannot resume it" -- \
  "$dcgan" "${cq[@]}" --steps 12 --resume --out "$work/straight"
expect 0 "Wrote 3 images" -- "$dcgan" generate --checkpoint "$work/cond/checkpoint.safetensors" --class 7 --count 3 --out "$work/sevens-idx3-ubyte"
check "--class 7: the labels file holds 3 sevens" -- \
  test "$(od -An -tx1 "$work/sevens-labels-idx1-ubyte" | tr -d ' \n')" = "0000080100000003070707"

"$dcgan" "${quick[@]}" --steps 100000 --log-every 1 --out "$work/stopped" >"$work/stopped.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q "^Epoch 1/[0-9]*, batch 3/6 " "$work/stopped.log" 2>/dev/null && break; sleep 0.02; done
kill -INT "$pid"
wait "$pid"
check "SIGINT: exit status 130" -- test $? -eq 130
check "SIGINT: the message names the checkpoint" -- grep -q "^interrupted at step [0-9]*; checkpoint written to $work/stopped/checkpoint.safetensors" "$work/stopped.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
