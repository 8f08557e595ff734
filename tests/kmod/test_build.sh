#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Build-side tests for files/kmod that need no VM:
#   - a missing rustc, missing Rust library sources or missing kernel headers
#     fail the build within seconds, naming the package to install;
#   - the relocation check rejects what the module loader rejects;
#   - the Rust logic passes its host unit tests (tests/kmod/rust_logic_test.rs);
#   - patches/series is well-formed and every patch (and every combination)
#     applies with `patch -p1` to the unpatched tree;
#   - with --kdir: a full build prints no warning (rustc, objtool, modpost)
#     and `make clean` leaves the tree as checked out.
#
# Usage: tests/kmod/test_build.sh [--kdir KDIR] [--rustc RUSTC] [--apply PATCH]...
#   --apply: patches/PATCH is applied to the copies that the builds use
#   (e.g. --apply rustc-1.85.patch with Debian 13's rustc 1.85)
# Output is TAP; the exit status is 0 only when every test passed.

set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
kmod=$here/files/kmod
kdir=
rustc=${RUSTC:-rustc}
apply=()
while [ $# -gt 0 ]; do
	case $1 in
	--kdir) kdir=$2; shift 2 ;;
	--rustc) rustc=$2; shift 2 ;;
	--apply) apply+=("$2"); shift 2 ;;
	*) sed -n "3,17p" "$0" >&2; exit 2 ;;
	esac
done

work=$(mktemp -d /tmp/kmod-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/tap.sh"

# A copy of the unpatched sources, without build output (build-outputs.txt).
fresh_tree() {
	rm -rf "$work/tree" && mkdir -p "$work/tree"
	(cd "$kmod" && tar --exclude-from=<(sed -e '/^#/d' -e '/^$/d' build-outputs.txt) -cf - .) |
		tar -C "$work/tree" -xf -
}

# A fresh copy with the --apply patches applied.
prepared_tree() {
	fresh_tree
	for p in "${apply[@]}"; do
		(cd "$work/tree" && patch -p1 -s <"patches/$p") || not_ok "$p applies"
	done
}

# fails_fast DESCRIPTION PATTERN MAKE_ARGS...: make must fail within 10 s
# and print PATTERN.
fails_fast() {
	local desc=$1 pattern=$2 start secs out
	shift 2
	prepared_tree
	start=$(date +%s)
	out=$(make -C "$work/tree" "$@" 2>&1) && { not_ok "$desc" "make succeeded"; return; }
	secs=$(($(date +%s) - start))
	if [ "$secs" -gt 10 ]; then
		not_ok "$desc" "took ${secs}s"
	elif ! grep -q -- "$pattern" <<<"$out"; then
		not_ok "$desc" "$out"
	else
		ok "$desc (${secs}s)"
	fi
}

# A rustc that works but whose sysroot and release have no library sources:
# what a machine without rust-src / rust-web-src looks like.
mkdir -p "$work/bin" "$work/empty-sysroot"
cat >"$work/bin/rustc" <<EOF
#!/bin/sh
case "\$*" in
*--print\ sysroot*) echo "$work/empty-sysroot" ;;
-vV) printf 'rustc 9.99.0\nbinary: rustc\ncommit-hash: 0\nrelease: 9.99.0\n' ;;
*) exit 1 ;;
esac
EOF
chmod +x "$work/bin/rustc"

any_kdir=${kdir:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | head -n 1)}

fails_fast "no rustc: fails fast, names rustc-web" "apt-get install rustc-web" \
	RUSTC="$work/bin/no-such-rustc" KDIR="${any_kdir:-/nonexistent}" modules
fails_fast "no Rust library sources: fails fast, names rust-web-src" "apt-get install rust-web-src" \
	RUSTC="$work/bin/rustc" KDIR="${any_kdir:-/nonexistent}" modules
fails_fast "make std without sources fails the same way" "apt-get install rust-web-src" \
	RUSTC="$work/bin/rustc" KDIR="${any_kdir:-/nonexistent}" std
if "$rustc" -vV >/dev/null 2>&1; then
	fails_fast "no kernel headers: fails fast, names linux-headers" "apt-get install linux-headers-" \
		RUSTC="$rustc" KDIR=/nonexistent modules
else
	ok "# SKIP no kernel headers test: no working rustc ($rustc)"
fi

# STD_PACK: a complete std library (its stamp) is packed, without building anything, and
# its id written beside the pack: what the collection fetches for other build hosts.
# (make check, run first, is content with sources and a configured x86_64 tree that are files.)
prepared_tree
std_dir=$work/std fake_src=$work/fake-src fake_kdir=$work/fake-kdir
mkdir -p "$fake_src/core/src" "$fake_src/alloc/src" "$fake_src/cb/src" "$fake_kdir/include/config"
touch "$fake_src/core/src/lib.rs" "$fake_src/alloc/src/lib.rs" "$fake_src/cb/src/lib.rs" "$fake_kdir/Makefile"
echo CONFIG_X86_64=y >"$fake_kdir/include/config/auto.conf"
std_make=(make -C "$work/tree" RUSTC="$work/bin/rustc" KDIR="$fake_kdir" RUST_LIB_SRC="$fake_src" CB_SRC="$fake_src/cb"
	RUST_STD_DIR="$std_dir")
std_id=$("${std_make[@]}" -s print-std-id)
mkdir -p "$std_dir/$std_id"
for f in libcore.rlib libcompiler_builtins.rlib liballoc.rlib stamp; do echo "$f" >"$std_dir/$std_id/$f"; done
out=$("${std_make[@]}" STD_PACK="$work/std.tar.gz" "$work/std.tar.gz" 2>&1)
packed=$(tar -tzf "$work/std.tar.gz" 2>/dev/null | sort | tr '\n' ' ')
if [ "$packed" = "liballoc.rlib libcompiler_builtins.rlib libcore.rlib stamp " ] &&
	[ "$(cat "$work/std.tar.gz.id" 2>/dev/null)" = "$std_id" ] && [ ! -e "$work/std.tar.gz.tmp" ]; then
	ok "STD_PACK packs the rlibs and the stamp and writes the std id"
else
	not_ok "STD_PACK packs the rlibs and the stamp and writes the std id" "$out; packed: $packed"
fi

# --- Relocations ----------------------------------------------------------------

if command -v gcc >/dev/null; then
	printf 'extern int shared_counter;\nint get(void) { return shared_counter; }\n' >"$work/pic.c"
	gcc -O2 -fPIC -mcmodel=small -Wa,-mrelax-relocations=no -c "$work/pic.c" -o "$work/pic.o"
	out=$(sh "$kmod/scripts/check-relocs.sh" "$work/pic.o" 2>&1)
	if [ $? -ne 0 ] && grep -q GOTPCREL <<<"$out"; then
		ok "check-relocs.sh rejects R_X86_64_GOTPCREL"
	else
		not_ok "check-relocs.sh rejects R_X86_64_GOTPCREL" "$out"
	fi
	gcc -O2 -fno-pic -mcmodel=kernel -c "$work/pic.c" -o "$work/nopic.o"
	if out=$(sh "$kmod/scripts/check-relocs.sh" "$work/nopic.o" 2>&1); then
		ok "check-relocs.sh accepts kernel-model code"
	else
		not_ok "check-relocs.sh accepts kernel-model code" "$out"
	fi
else
	ok "# SKIP relocation tests: no gcc"
fi

# --- Rust logic on the host --------------------------------------------------------

if "$rustc" -vV >/dev/null 2>&1 &&
	out=$("$rustc" --edition 2024 --test "$here/tests/kmod/rust_logic_test.rs" \
		-o "$work/rust_logic_test" 2>&1); then
	if out=$("$work/rust_logic_test" --test-threads=1 2>&1); then
		ok "Rust logic unit tests (allocator alignment, sampling, messages, boom)"
	else
		not_ok "Rust logic unit tests (allocator alignment, sampling, messages, boom)" "$out"
	fi
else
	not_ok "Rust logic unit tests compile with $rustc" "$out"
fi

# --- Patch series -----------------------------------------------------------------

series=$kmod/patches/series
have_patch=$(command -v patch || true)
cond_re='^(rustc(<|>=)[0-9]+\.[0-9]+|optin:[a-z0-9_-]+)$'
bad=""
patches=()
while read -r file cond extra; do
	case $file in '' | '#'*) continue ;; esac
	[ -f "$kmod/patches/$file" ] || bad="$bad\nmissing patch: $file"
	[ -z "$cond" ] || [[ $cond =~ $cond_re ]] || bad="$bad\nbad condition: $file $cond"
	[ -z "$extra" ] || bad="$bad\nmore than one condition: $file $cond $extra"
	patches+=("$file")
done <"$series"
if [ -z "$bad" ] && [ ${#patches[@]} -gt 0 ]; then
	ok "patches/series is well-formed (${#patches[@]} patches)"
else
	not_ok "patches/series is well-formed" "$(printf '%b' "$bad")"
fi

if [ -z "$have_patch" ]; then
	ok "# SKIP patch tests: no patch(1) (apt-get install patch)"
	patches=()
fi
for p in "${patches[@]}"; do
	fresh_tree
	if out=$(cd "$work/tree" && patch -p1 --dry-run <"patches/$p" 2>&1); then
		ok "$p applies alone (patch -p1 --dry-run)"
	else
		not_ok "$p applies alone (patch -p1 --dry-run)" "$out"
	fi
done
if [ ${#patches[@]} -gt 0 ]; then
	fresh_tree
	out=""
	for p in "${patches[@]}"; do
		out+=$(cd "$work/tree" && patch -p1 <"patches/$p" 2>&1) || { out+=" FAILED"; break; }
	done
	if ! grep -q FAILED <<<"$out" && ! grep -qi 'offset\|fuzz' <<<"$out"; then
		ok "all patches apply together, in series order, without fuzz"
	else
		not_ok "all patches apply together, in series order, without fuzz" "$out"
	fi
fi
# The unpatched tree must not carry an applied patch.
for p in "${patches[@]}"; do
	if (cd "$kmod" && patch -p1 -R --dry-run -s <"patches/$p" >/dev/null 2>&1); then
		not_ok "$p is not applied in the repository"
	else
		ok "$p is not applied in the repository"
	fi
done

# --- Full build -----------------------------------------------------------------

if [ -n "$kdir" ]; then
	prepared_tree
	if out=$(make -C "$work/tree" KDIR="$kdir" RUSTC="$rustc" 2>&1); then
		ok "builds roulette.ko against $kdir${apply[*]:+ with ${apply[*]}}"
		warnings=$(grep -iE 'warning|error' <<<"$out" | grep -v 'Skipping BTF')
		if [ -z "$warnings" ]; then
			ok "the build prints no warning (rustc, objtool, modpost)"
		else
			not_ok "the build prints no warning (rustc, objtool, modpost)" "$warnings"
		fi
		if out2=$(sh "$kmod/scripts/check-relocs.sh" "$work/tree/roulette.ko" 2>&1); then
			ok "roulette.ko has only relocations the module loader accepts"
		else
			not_ok "roulette.ko has only relocations the module loader accepts" "$out2"
		fi
	else
		not_ok "builds roulette.ko against $kdir" "$(tail -n 30 <<<"$out")"
	fi
	if [ ${#apply[@]} -eq 0 ] && git -C "$here" rev-parse --git-dir >/dev/null 2>&1 &&
		[ -z "$(git -C "$here" status --porcelain -- files/kmod)" ]; then
		# In place, to see exactly what git sees.
		make -s -C "$kmod" KDIR="$kdir" RUSTC="$rustc" >/dev/null 2>&1
		make -s -C "$kmod" KDIR="$kdir" clean >/dev/null 2>&1
		left=$(git -C "$here" status --porcelain --ignored -- files/kmod)
		if [ -z "$left" ]; then
			ok "make clean leaves files/kmod as checked out"
		else
			not_ok "make clean leaves files/kmod as checked out" "$left"
		fi
	else
		ok "# SKIP make clean test: needs a git checkout with files/kmod unchanged, no --apply"
	fi
fi

echo "1..$n"
echo "# $failed of $n failed"
[ "$failed" -eq 0 ]
