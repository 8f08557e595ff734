#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The driver's build-side tests (tests/kmod/test_build.sh) on this machine: the
# fast failures without a toolchain, the relocation check, the Rust logic's host
# tests, the patch series, and a full warning-free build from a clean copy against
# Debian 12's current kernel headers with Debian's rustc-web (installed here with
# apt when missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/apt_ensure.sh
. "$ROOT/scripts/apt_ensure.sh"
apt_ensure rustc-web rust-web-src linux-headers-amd64 gcc make patch binutils
kdir=$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n1)
exec "$ROOT/tests/kmod/test_build.sh" --kdir "$kdir" --rustc /usr/bin/rustc
