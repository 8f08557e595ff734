#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Measures converging the collection on fresh lab VMs, in one run on this machine:
#   1. cold site.yml on one bookworm VM that builds on itself, with per-role times
#   2. warm re-run of the same (changed=0 expected)
#   3. the same steps by hand (bench/manual_steps.sh) on another fresh VM: the ratio
#   4. cold site.yml on three VMs (2 bookworm, 1 trixie) with chroot build hosts, then warm
# Prints the numbers and appends them to bench/RESULTS.md.
# Usage: bench/converge_bench.sh [--skip-self] [--skip-manual] [--skip-fleet]   (needs root, ~1 h under TCG)
# (--skip-self leaves out 1 and 2; 3 then has no site.yml time to compare with and is left out too.)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
SELF=1 MANUAL=1 FLEET=1
for arg in "$@"; do
    case $arg in
        --skip-self) SELF=0 MANUAL=0 ;;
        --skip-manual) MANUAL=0 ;;
        --skip-fleet) FLEET=0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done
WORK=$(mktemp -d -t roulette-converge-bench.XXXXXX)
export ROULETTE_LAB_STATE="$WORK/lab" ROULETTE_CACHE_DIR="$WORK/cache"
LAB=(python "$ROOT/molecule/shared/lab.py")
cleanup() {
    "${LAB[@]}" down --all >/dev/null 2>&1 || true
    for c in "$WORK"/chroot-*; do [[ -d $c ]] && "${LAB[@]}" chroot --dest "$c" --remove >/dev/null 2>&1; done
    rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
since() { python3 -c "print(f'{$(now) - $1:.1f}')"; }
site() {  # site LOG INVENTORY...
    local log=$1
    shift
    local args=()
    for inv in "$@"; do args+=(-i "$inv"); done
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_roles,ansible.posix.profile_tasks ansible-playbook "${args[@]}" "$ROOT/playbooks/site.yml" \
        -e roulette_armed=true -e roulette_chance=0 -e roulette_spin_count=0 >"$log" 2>&1
}
# profile_roles' and profile_tasks' recaps: per role, and the slowest tasks.
roles_of() { sed -n '/^ROLES RECAP/,/^~\{20,\}/p' "$1" | grep -E ' -+ [0-9.]+s *$' | sed -E 's/ -+ / /' || true; }
tasks_of() { sed -n '/^TASKS RECAP/,/^$/p' "$1" | grep -E ' -+ [0-9.]+s *$' | head -n "${2:-8}" | sed -E 's/ -+ / /' || true; }
changed_of() { grep -E '^\S+ +: ok=' "$1" | sed -E 's/.*changed=([0-9]+).*/\1/' | paste -sd+ | bc; }

"${LAB[@]}" image bookworm trixie >/dev/null
results=()
# Each result is printed when measured, so that a later failure (a VM that does not boot) loses none.
result() { results+=("$1"); echo "result: $1"; }

if ((SELF)); then
    "${LAB[@]}" up bench-self --suite bookworm >/dev/null
    "${LAB[@]}" inventory -o "$WORK/self.yml" >/dev/null
    t=$(now); site "$WORK/cold.log" "$WORK/self.yml"; cold=$(since "$t")
    t=$(now); site "$WORK/warm.log" "$WORK/self.yml"; warm=$(since "$t")
    result "cold converge, one VM building on itself: ${cold} s"
    result "warm re-run of the same: ${warm} s (changed=$(changed_of "$WORK/warm.log")), $(python3 -c "print(f'{$warm/$cold:.2f}')") of its cold time"
    echo "per role, cold converge (profile_roles):"
    roles_of "$WORK/cold.log" | sed 's/^/  /'
    echo "slowest tasks, cold converge (profile_tasks):"
    tasks_of "$WORK/cold.log" 12 | sed 's/^/  /'
    "${LAB[@]}" down bench-self >/dev/null
fi

if ((MANUAL)); then
    vm=$("${LAB[@]}" up bench-manual --suite bookworm)
    read -r port user key < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["port"], d["user"], d["key"])' "$vm")
    t=$(now); "$ROOT/bench/manual_steps.sh" 127.0.0.1 "$port" "$user" "$key" 0 >"$WORK/manual.log" 2>&1; manual=$(since "$t")
    ratio=$(python3 -c "print(f'{$cold/$manual:.2f}')")
    result "same steps by hand over SSH (bench/manual_steps.sh): ${manual} s; site.yml/manual = ${ratio}"
    echo "steps by hand (manual_steps.sh):"
    sed -n 's/^step /  /p' "$WORK/manual.log"
    python3 "$ROOT/bench/latest.py" "converge ratio" "${ratio} (site.yml ${cold} s / by hand ${manual} s, one bookworm VM building on itself)" \
        "bench/converge_bench.sh $*"
    "${LAB[@]}" down bench-manual >/dev/null
fi

if ((FLEET)); then
    rm -rf "$ROULETTE_CACHE_DIR"
    printf '[{"name":"bench-f1","suite":"bookworm"},{"name":"bench-f2","suite":"bookworm"},{"name":"bench-f3","suite":"trixie"}]' >"$WORK/fleet.json"
    t=$(now)
    "${LAB[@]}" up --spec "$WORK/fleet.json" >/dev/null
    "${LAB[@]}" inventory -o "$WORK/fleet.yml" >/dev/null
    {
        echo "roulette_build:"
        echo "  hosts:"
        for suite in bookworm trixie; do
            "${LAB[@]}" chroot "$suite" --dest "$WORK/chroot-$suite" --mount >/dev/null
            printf '    build-%s:\n      ansible_connection: community.general.chroot\n      ansible_host: %s\n      ansible_python_interpreter: /usr/bin/python3\n' \
                "$suite" "$WORK/chroot-$suite"
        done
    } >"$WORK/builders.yml"
    boot=$(since "$t")
    t=$(now); site "$WORK/fleet.log" "$WORK/fleet.yml" "$WORK/builders.yml"; fleet=$(since "$t")
    result "cold converge, three VMs with chroot build hosts: ${fleet} s (plus ${boot} s to boot the VMs and make the chroots)"
    t=$(now); site "$WORK/fleet-warm.log" "$WORK/fleet.yml" "$WORK/builders.yml"; fleet_warm=$(since "$t")
    ratio=$(python3 -c "print(f'{$fleet_warm/$fleet:.2f}')")
    result "warm re-run of the fleet: ${fleet_warm} s (changed=$(changed_of "$WORK/fleet-warm.log")), ${ratio} of its cold time"
    python3 "$ROOT/bench/latest.py" "warm fleet ratio" \
        "${ratio} (warm ${fleet_warm} s / cold ${fleet} s, 3 VMs + 2 chroot build hosts, default strategy)" "bench/converge_bench.sh $*"
    echo "per role, fleet converge (profile_roles):"
    roles_of "$WORK/fleet.log" | sed 's/^/  /'
    echo "slowest tasks, warm fleet re-run (profile_tasks):"
    tasks_of "$WORK/fleet-warm.log" 10 | sed 's/^/  /'
fi

echo
printf '%s\n' "${results[@]}"
{
    echo
    echo "## converge_bench.sh, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, QEMU TCG"
    echo
    echo "Command: bench/converge_bench.sh $*"
    echo
    printf -- '- %s\n' "${results[@]}"
} >>"$ROOT/bench/RESULTS.md"
