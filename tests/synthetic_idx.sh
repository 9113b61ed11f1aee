# Sourced by the shell tests: write_idx_images PATH COUNT writes a valid unsigned-byte IDX file
# of COUNT (< 256) random 28x28 images (magic 0x00000803, dimensions COUNT, 28, 28).
write_idx_images() {
  local path=$1 count=$2
  {
    printf '\x00\x00\x08\x03\x00\x00\x00'
    printf "\\x$(printf %02x "$count")"
    printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
    head -c $((count * 784)) /dev/urandom
  } >"$path"
}

# write_idx_labels PATH COUNT [CLASSES] writes an IDX labels file (magic 0x00000801) of COUNT (< 256)
# labels cycling through 0 .. CLASSES-1 (default 10).
write_idx_labels() {
  local path=$1 count=$2 classes=${3:-10} i
  {
    printf '\x00\x00\x08\x01\x00\x00\x00'
    printf "\\x$(printf %02x "$count")"
    for ((i = 0; i < count; i++)); do printf "\\x$(printf %02x $((i % classes)))"; done
  } >"$path"
}
