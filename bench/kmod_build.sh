#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Times the build of files/kmod: a clean build split into its three steps
# (Rust library crates, driver crate, kbuild), the rebuild after touching
# one .rs file, and a clean build whose library crates come from the
# RUST_STD_DIR cache. Builds in a scratch copy; the tree is not touched.
#
# Usage: bench/kmod_build.sh [MAKE_VARIABLE=VALUE...]
#   e.g. bench/kmod_build.sh KDIR=/usr/src/linux-headers-6.1.0-56-amd64 RUSTC=/usr/bin/rustc

set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/kmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

cp -a "$here/files/kmod" "$work/kmod"
make -s -C "$work/kmod" clean "$@" >/dev/null 2>&1 || true
std_cache=$work/std-cache

# step NAME TARGET...: runs make, prints the seconds it took.
step() {
	local name=$1 start end
	shift
	start=$(date +%s.%N)
	if ! make -C "$work/kmod" "$@" RUST_STD_DIR="$std_cache" >"$work/make.log" 2>&1; then
		echo "error: make $* failed:" >&2
		tail -n 20 "$work/make.log" >&2
		exit 1
	fi
	end=$(date +%s.%N)
	printf '%-48s %6.1f s\n' "$name" "$(echo "$end - $start" | bc)"
}

echo "# $(make -s -C "$work/kmod" print-toolchain-id "$@"), $(nproc) CPUs"
echo "# clean build:"
step "  std library (core, compiler_builtins, alloc)" std "$@"
step "  driver crate (staticlib)" rust "$@"
step "  kbuild (C shim, ld -r, objtool, modpost)" modules "$@"
echo "# incremental:"
touch "$work/kmod/src/roulette.rs"
step "  rebuild after touching src/roulette.rs" modules "$@"
echo "# clean tree, std library from RUST_STD_DIR:"
make -s -C "$work/kmod" clean "$@" >/dev/null 2>&1
step "  full build with a warm std cache" modules "$@"
