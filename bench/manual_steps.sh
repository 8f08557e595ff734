#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The original workflow by hand, as one shell script over SSH: the baseline that
# bench/converge_bench.sh compares site.yml with. Same steps as the roles on a bare
# Debian host: headers + build tools, rustc-web + sources, copy the source, make,
# install + depmod, load, major from dmesg, mknod.
# Usage: bench/manual_steps.sh HOST PORT USER KEY [CHANCE]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
host=$1 port=$2 user=$3 key=$4 chance=${5:-0}
ssh_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$key" -p "$port")
tar -C "$ROOT/files/kmod" --exclude-from=<(sed -e '/^#/d' -e '/^$/d' "$ROOT/files/kmod/build-outputs.txt") -czf - . |
    ssh "${ssh_opts[@]}" "$user@$host" 'mkdir -p /tmp/kmod && tar -C /tmp/kmod -xzf -'
ssh "${ssh_opts[@]}" "$user@$host" sudo bash -s -- "$chance" <<'REMOTE'
set -euo pipefail
chance=$1
export DEBIAN_FRONTEND=noninteractive
# Each step's seconds on stderr, for bench/converge_bench.sh to set beside site.yml's roles.
step=$(date +%s.%N)
took() { local now; now=$(date +%s.%N); awk -v s="$1" -v a="$now" -v b="$step" 'BEGIN { printf "step %s: %.1f s\n", s, a - b }' >&2; step=$now; }
apt-get update -qq
took "apt-get update"
apt-get install -y -qq --no-install-recommends "linux-headers-$(uname -r)" gcc make patch kmod binutils libc6-dev \
    rustc-web rust-web-src >/dev/null
took "apt-get install (headers, build tools, Rust)"
make -C /tmp/kmod KDIR="/usr/src/linux-headers-$(uname -r)" RUSTC=/usr/bin/rustc -j"$(nproc)" >/dev/null
took "make"
install -D -m 0644 /tmp/kmod/roulette.ko "/lib/modules/$(uname -r)/extra/roulette.ko"
depmod -a
modprobe roulette chance="$chance"
major=$(dmesg | sed -n 's/.*Registered kernel-roulette with major device number \([0-9]*\).*/\1/p' | tail -n1)
rm -f /dev/kernel-roulette
mknod -m 0600 /dev/kernel-roulette c "$major" 0
took "install, depmod, modprobe, mknod"
echo "loaded with major $major"
REMOTE
