#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Behaviour tests for a built roulette.ko on a disposable Linux VM.
#
# Usage:
#   tests/kmod/run_vm_tests.sh KO [SSH_OPTION...] [USER@]HOST
#
#   KO           the module, built for the VM's running kernel
#   SSH_OPTION   passed to ssh as is (e.g. -p 10022 -i KEY)
#   HOST         the VM; a non-root USER needs passwordless sudo
#
# Example with the project's VM lab (molecule/shared/lab.py):
#   lab=molecule/shared/lab.py
#   $lab up kmod-test --suite bookworm
#   tests/kmod/run_vm_tests.sh files/kmod/roulette.ko \
#       -p PORT -i ~/.cache/rustkmod-roulette/ssh/id_ed25519 roulette@127.0.0.1
#   $lab down kmod-test
# (PORT is in the JSON line that `up` prints.)
#
# The tests raise a kernel BUG() on purpose: the VM ends up tainted (D) and
# should be thrown away afterwards. They refuse to run where
# kernel.panic_on_oops=1, since the BUG() would then take the VM down.
#
# Output is TAP; the exit status is 0 only when every test passed.

set -u

if [ $# -lt 2 ]; then
	sed -n '4,12p' "$0" >&2
	exit 2
fi
ko=$1
shift
ssh_args=("$@")
[ -f "$ko" ] || { echo "error: no module at $ko" >&2; exit 2; }

SSH_OPTS=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
	-o LogLevel=ERROR -o ConnectTimeout=20)

# Runs a shell script (given as one argument) as root on the VM.
vm() {
	printf '%s\n' "$1" | ssh "${SSH_OPTS[@]}" "${ssh_args[@]}" \
		'if [ "$(id -u)" -eq 0 ]; then exec sh -s; else exec sudo -n sh -s; fi'
}
remote_ko=/tmp/roulette-test-$$.ko

. "$(dirname "$0")/tap.sh"
check() { # check DESCRIPTION DETAIL COMMAND...: ok when COMMAND succeeds
	local desc=$1 detail=$2
	shift 2
	if "$@"; then ok "$desc"; else not_ok "$desc" "$detail"; fi
}

# The kernel log since the last `mark`.
mark() { vm "echo roulette-test-mark >/dev/kmsg"; }
log_since_mark() { vm "dmesg" | awk '/roulette-test-mark/ { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'; }

# Major number from "Registered kernel-roulette with major device number N".
major_from() { sed -n 's/.*Registered kernel-roulette with major device number \([0-9][0-9]*\).*/\1/p' <<<"$1" | tail -n 1; }

unload() { vm "rm -f /dev/kernel-roulette; if grep -q '^roulette ' /proc/modules; then rmmod roulette; fi"; }

# --- Setup ----------------------------------------------------------------------

release=$(vm "uname -r") || { echo "Bail out! cannot reach the VM over ssh"; exit 1; }
echo "# VM kernel: $release"
ssh "${SSH_OPTS[@]}" "${ssh_args[@]}" "cat > $remote_ko" <"$ko" ||
	{ echo "Bail out! cannot copy $ko"; exit 1; }
vermagic=$(vm "modinfo -F vermagic $remote_ko")
echo "# module vermagic: $vermagic"
if [ "${vermagic%% *}" != "$release" ]; then
	echo "Bail out! module built for ${vermagic%% *}, VM runs $release"
	exit 1
fi
if [ "$(vm "cat /proc/sys/kernel/panic_on_oops")" != 0 ]; then
	echo "Bail out! kernel.panic_on_oops=1 on the VM: BUG() would panic it"
	exit 1
fi
unload

# --- chance out of range: the load fails and says why ---------------------------

for bad in 101 -1; do
	mark
	out=$(vm "insmod $remote_ko chance=$bad 2>&1; echo rc=\$?")
	log=$(log_since_mark)
	check "chance=$bad: insmod fails" "$out" grep -q 'rc=[1-9]' <<<"$out"
	check "chance=$bad: the log says why" "$log" \
		grep -qF "roulette: chance=$bad is out of range 0..100" <<<"$log"
done
check "chance out of range: module not loaded" "" \
	test -z "$(vm "grep '^roulette ' /proc/modules")"

# --- chance=0: loads, announces, 1000 spins survive -----------------------------

mark
vm "insmod $remote_ko chance=0"
log=$(log_since_mark)
major=$(major_from "$log")
check "chance=0: registers kernel-roulette with a major number" "$log" test -n "$major"
check "chance=0: the line carries the module's prefix" "$log" \
	grep -qE "\] roulette: Registered kernel-roulette with major device number $major$" <<<"$log"
check "chance=0: logs the mknod hint" "$log" \
	grep -qxE ".*\] roulette: Run /bin/mknod /dev/kernel-roulette c $major 0" <<<"$log"
check "chance=0: logs the probability" "$log" \
	grep -qE '\] roulette: Panic probability: 0/100$' <<<"$log"
check "chance=0: major matches /proc/devices" "$(vm "cat /proc/devices")" \
	test "$(vm "awk '\$2 == \"kernel-roulette\" { print \$1 }' /proc/devices")" = "$major"
check "chance parameter is read-only (0444) and shows 0" "" \
	test "$(vm "stat -c %a /sys/module/roulette/parameters/chance; cat /sys/module/roulette/parameters/chance" | tr '\n' ' ')" = "444 0 "
vm "mknod -m 0600 /dev/kernel-roulette c $major 0"

text=$(vm "cat /dev/kernel-roulette")
check "a read returns the survivor's line and then EOF" "$text" \
	grep -qxE 'Survived\.\.\. sampled value is [0-9]{1,2}, which is >= 0' <<<"$text"
chunked=$(vm "dd if=/dev/kernel-roulette bs=7 2>/dev/null")
check "small reads return the same kind of line" "$chunked" \
	grep -qxE 'Survived\.\.\. sampled value is [0-9]{1,2}, which is >= 0' <<<"$chunked"

start=$(date +%s)
spins=$(vm "i=0; while [ \$i -lt 1000 ]; do cat /dev/kernel-roulette || echo FAILED; i=\$((i + 1)); done")
secs=$(($(date +%s) - start))
survived=$(grep -cxE 'Survived\.\.\. sampled value is [0-9]{1,2}, which is >= 0' <<<"$spins")
distinct=$(sed -n 's/.*value is \([0-9]*\),.*/\1/p' <<<"$spins" | sort -u | wc -l)
echo "# 1000 spins in ${secs}s: $survived survived, $distinct distinct samples"
check "chance=0: 1000 spins all survive" "$(grep -v Survived <<<"$spins" | head)" test "$survived" = 1000
# 1000 uniform draws from 0..99 miss a value with probability ~4e-3.
check "chance=0: the samples spread over 0..99 (>= 95 distinct)" "" test "$distinct" -ge 95
check "chance=0: rmmod succeeds" "" vm "rm -f /dev/kernel-roulette; rmmod roulette"

# --- chance unset: random probability 0..99 -------------------------------------

mark
vm "insmod $remote_ko"
log=$(log_since_mark)
c=$(sed -n 's/.*\] roulette: Panic probability: \([0-9]*\)\/100$/\1/p' <<<"$log")
check "chance unset: a random probability 0..99 is logged" "$log" \
	test -n "$c" -a "${c:-100}" -lt 100
check "chance unset: sysfs shows the probability in effect" "" \
	test "$(vm "cat /sys/module/roulette/parameters/chance")" = "$c"
check "chance unset: rmmod succeeds" "" vm "rmmod roulette"

# --- chance=100: a boom kills the reader, the kernel and rmmod survive ----------

mark
vm "insmod $remote_ko chance=100"
log=$(log_since_mark)
major=$(major_from "$log")
vm "mknod -m 0600 /dev/kernel-roulette c $major 0"
mark
rc=$(vm "cat /dev/kernel-roulette; echo rc=\$?" 2>&1)
log=$(log_since_mark)
check "chance=100: the reader dies with SIGSEGV (exit 139)" "$rc" grep -qx 'rc=139' <<<"$rc"
check "chance=100: the log shows the Rust panic's location" "$log" \
	grep -qE '\] roulette: Rust panic @ src/[a-z_]+\.rs:[0-9]+$' <<<"$log"
check "chance=100: the log shows the panic message" "$log" grep -qE '\] roulette: Boom!$' <<<"$log"
check "chance=100: the log shows the kernel BUG" "$log" grep -q 'kernel BUG at' <<<"$log"
taint=$(vm "cat /proc/sys/kernel/tainted")
check "chance=100: the kernel lives on, tainted D" "taint=$taint" test $((taint & 128)) -ne 0
check "chance=100: rmmod succeeds after the boom" "$(vm "cat /sys/module/roulette/refcnt" 2>&1)" \
	vm "rm -f /dev/kernel-roulette; rmmod roulette"

vm "rm -f $remote_ko"
echo "1..$n"
echo "# $failed of $n failed"
[ "$failed" -eq 0 ]
