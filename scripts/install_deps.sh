#!/usr/bin/env bash
# Installs, with apt, whichever of the named Debian packages are missing. A package whose tool is
# already on the PATH (a compiler, CMake, npm installed some other way) counts as present.
# Usage: bash scripts/install_deps.sh package...
set -euo pipefail
declare -A provides=([g++]=g++ [cmake]=cmake [make]=make [npm]=npm [clang]=clang [python3]=/usr/bin/python3)
missing=()
for p in "$@"; do
  tool=${provides[$p]:-}
  if [ -n "$tool" ] && command -v "$tool" >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "== installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
