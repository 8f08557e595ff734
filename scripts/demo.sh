#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The demo: set up this checkout, then run playbooks/site.yml (headers, toolchain,
# build, load, spin, fleet report).
#   scripts/demo.sh                      boot a local fleet of QEMU VMs, arm only them, run
#   scripts/demo.sh -i inventory.yml     run against your fleet (arming is yours to set)
# Extra arguments go to ansible-playbook (e.g. -e roulette_chance=50 -e roulette_spin_count=20).
# Settings for the local fleet: ROULETTE_DEMO_FLEET (suites, default "bookworm bookworm trixie";
# forky, Debian testing, may be one of them),
# ROULETTE_DEMO_BUILD=chroot|target (build in chroots on this machine, or on the first VM of
# each kernel), ROULETTE_DEMO_KEEP=0 to stop the VMs at the end (default: they keep running).
# ROULETTE_STRATEGY=mitogen runs the playbooks with mitogen's strategy (fewer round trips).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
LAB=("$ROOT/.venv/bin/python" "$ROOT/molecule/shared/lab.py")
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
if [[ ${ROULETTE_STRATEGY:-linear} == mitogen ]]; then
    ANSIBLE_STRATEGY_PLUGINS="$("$ROOT/.venv/bin/python" -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')/plugins/strategy"
    export ANSIBLE_STRATEGY_PLUGINS ANSIBLE_STRATEGY=mitogen_linear
    say "Using mitogen's strategy (mitogen_linear)"
fi

user_inventory=0
for arg in "$@"; do [[ $arg == -i || $arg == --inventory || $arg == -i* ]] && user_inventory=1; done
if ((user_inventory)); then
    say "Running playbooks/site.yml against your inventory"
    exec ansible-playbook "$ROOT/playbooks/site.yml" "$@"
fi

DEMO_DIR="${ROULETTE_DEMO_DIR:-$ROOT/.cache/demo}"
mkdir -p "$DEMO_DIR"
# The demo's VMs live in a lab state of their own, so that its inventory holds only them
# (molecule's VMs, if any run, stay out of it).
export ROULETTE_LAB_STATE="$DEMO_DIR/lab"
read -r -a suites <<<"${ROULETTE_DEMO_FLEET:-bookworm bookworm trixie}"
spec="$DEMO_DIR/fleet.json"
{
    printf '['
    for i in "${!suites[@]}"; do
        ((i)) && printf ','
        printf '{"name": "demo-%d-%s", "suite": "%s"}' $((i + 1)) "${suites[$i]}" "${suites[$i]}"
    done
    printf ']\n'
} >"$spec"

cleanup() {
    if [[ ${ROULETTE_DEMO_KEEP:-1} != 1 ]]; then
        say "Stopping the demo VMs"
        "${LAB[@]}" down $(for i in "${!suites[@]}"; do printf 'demo-%d-%s ' $((i + 1)) "${suites[$i]}"; done) || true
        for chroot in "$DEMO_DIR"/chroot-*; do
            [[ -d $chroot ]] && "${LAB[@]}" chroot --dest "$chroot" --remove || true
        done
    fi
}
trap cleanup EXIT

say "Booting the demo fleet: ${suites[*]} (QEMU; images are built once and cached)"
"${LAB[@]}" up --spec "$spec" >"$DEMO_DIR/vms.jsonl"
"${LAB[@]}" inventory --output "$DEMO_DIR/inventory.yml" --group roulette
inventories=(-i "$DEMO_DIR/inventory.yml")

if [[ ${ROULETTE_DEMO_BUILD:-chroot} == chroot ]]; then
    say "Preparing build chroots on this machine (native speed; the VMs get only the module)"
    {
        echo "roulette_build:"
        echo "  hosts:"
        for suite in $(printf '%s\n' "${suites[@]}" | sort -u); do
            path=$("${LAB[@]}" chroot "$suite" --dest "$DEMO_DIR/chroot-$suite" --mount | "$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["path"])')
            echo "    build-$suite:"
            echo "      ansible_connection: community.general.chroot"
            echo "      ansible_host: $path"
            echo "      ansible_python_interpreter: /usr/bin/python3"
        done
    } >"$DEMO_DIR/build-hosts.yml"
    inventories+=(-i "$DEMO_DIR/build-hosts.yml")
fi

say "Running playbooks/site.yml on the demo fleet (armed: these VMs only)"
ansible-playbook "${inventories[@]}" "$ROOT/playbooks/site.yml" \
    -e roulette_armed=true -e "roulette_chance=${ROULETTE_DEMO_CHANCE:-30}" \
    -e "roulette_spin_count=${ROULETTE_DEMO_SPINS:-20}" \
    -e "roulette_report_dir=$ROOT/reports/demo-$(date +%Y%m%d-%H%M%S)" "$@"
say "Inventory of the demo fleet, reusable with ansible-playbook -i: $DEMO_DIR/inventory.yml"
[[ ${ROULETTE_DEMO_KEEP:-1} == 1 ]] && say "The VMs keep running; stop them with: ROULETTE_LAB_STATE=$ROULETTE_LAB_STATE .venv/bin/python molecule/shared/lab.py down --all"
exit 0
