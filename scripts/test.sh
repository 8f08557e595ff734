#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The project's test command: lint, unit tests, the report page in a real browser,
# ansible-test, the driver's build checks, and the molecule scenarios that boot real VMs.
#   scripts/test.sh                 everything (scenarios from $ROULETTE_SCENARIOS)
#   scripts/test.sh --no-vm         everything that needs no VM
#   scripts/test.sh --all-vm-tests  also the VM tests CI leaves out (marked full_suite in tests/vm)
#   scripts/test.sh --scenario fleet   one molecule scenario (repeatable)
# Ends with one line "tests: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUN_VMS=1
SCENARIOS=()
while (($#)); do
    case $1 in
        --no-vm) RUN_VMS=0 ;;
        --all-vm-tests) export ROULETTE_VM_TESTS=all ;;
        --scenario) SCENARIOS+=("$2"); shift ;;
        -h | --help) sed -n '3,10p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done
((${#SCENARIOS[@]})) || read -r -a SCENARIOS <<<"${ROULETTE_SCENARIOS:-fleet default}"

"$ROOT/scripts/setup.sh" || exit 1
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
mkdir -p tests/output
passed=0
failed=0
failures=()

stage() {
    local name=$1
    shift
    local started=$SECONDS
    printf '\n\033[1m==> %s\033[0m\n' "$name"
    if "$@"; then
        passed=$((passed + 1))
        printf '\033[32m--- %s: passed (%ss)\033[0m\n' "$name" $((SECONDS - started))
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '\033[31m--- %s: FAILED (%ss)\033[0m\n' "$name" $((SECONDS - started))
    fi
}

stage "yamllint" yamllint -s .
stage "ruff" ruff check plugins tests molecule bench
stage "ansible-lint (production profile)" ansible-lint --profile production --offline
stage "role docs match argument specs" .venv/bin/python scripts/role_docs.py --check
stage "unit tests" python -m pytest -q -p no:testinfra tests/unit
stage "report page in headless Chromium (tests/browser)" python -m pytest -q -rs -p no:testinfra tests/browser
stage "playbooks on the controller (preflight, package selection)" python -m pytest -q -p no:testinfra -n 2 tests/integration
stage "ansible-test sanity and units" scripts/ansible_test.sh
stage "lowest claimed ansible-core: sanity, controller playbooks" scripts/check_core_min.sh
stage "collection build has no build output" scripts/check_collection_build.sh
stage "execution environment (ansible-builder create)" scripts/check_ee.sh
stage "driver build tests (tests/kmod/test_build.sh)" scripts/driver_tests.sh

if ((RUN_VMS)); then
    for scenario in "${SCENARIOS[@]}"; do
        stage "molecule test -s $scenario" molecule test -s "$scenario"
    done
fi

echo
((failed)) && printf 'failed: %s\n' "${failures[@]}"
echo "tests: $passed passed, $failed failed"
((failed == 0))
