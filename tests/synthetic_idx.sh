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
