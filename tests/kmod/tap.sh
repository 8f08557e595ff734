# SPDX-License-Identifier: GPL-3.0-or-later
# TAP output for the driver's shell tests (sourced by test_build.sh and run_vm_tests.sh):
# ok DESCRIPTION; not_ok DESCRIPTION [DETAIL]; $n tests so far, $failed of them failed.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'
}
