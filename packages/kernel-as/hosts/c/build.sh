#!/bin/sh
# Translates the scalar build to C with wabt's wasm2c, compiles the host with gcc
# and runs it. Needs Debian's `wabt` and `gcc` packages and a prior `pnpm build`.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
wasm="$here/../../build/kernel-scalar.wasm"
runtime_dir=${WASM2C_RUNTIME_DIR:-/usr/share/wabt/wasm2c}
[ -f "$wasm" ] || { echo "missing $wasm: run pnpm build first" >&2; exit 1; }
command -v wasm2c >/dev/null || { echo "wasm2c not found: apt-get install wabt" >&2; exit 1; }
[ -f "$runtime_dir/wasm-rt-impl.c" ] || { echo "wasm2c runtime not found in $runtime_dir" >&2; exit 1; }
mkdir -p "$out"
wasm2c "$wasm" -n kernel -o "$out/kernel.c"
# The host is held to -Wall -Werror; generated and runtime code compile quietly.
gcc -O2 -std=gnu11 -Wall -Wextra -Werror -I"$out" -I"$runtime_dir" -c "$here/main.c" -o "$out/main.o"
gcc -O2 -std=gnu11 -w -I"$out" -I"$runtime_dir" -c "$out/kernel.c" -o "$out/kernel.o"
gcc -O2 -std=gnu11 -w -I"$runtime_dir" -c "$runtime_dir/wasm-rt-impl.c" -o "$out/wasm-rt-impl.o"
gcc "$out/main.o" "$out/kernel.o" "$out/wasm-rt-impl.o" -lm -o "$out/kernel-host"
"$out/kernel-host"
