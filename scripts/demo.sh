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
# On the local fleet it ends with a table of where the time went (setup, images, boot, chroots,
# then the playbook's phases), also when a step fails; kept as JSON in the demo dir, phases.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# The phases of the demo, each from its start to the next one's: NAME=SECONDS in the order they ran.
phases=()
phase_name=""
phase_began=0
now_us() { local t=${EPOCHREALTIME:-$SECONDS.000000}; echo $((10#${t/[.,]/})); }
phase() { # end the running phase, start the one named $1 (none without $1)
    local now us
    now=$(now_us)
    if [[ -n $phase_name ]]; then
        us=$((now - phase_began))
        phases+=("$phase_name=$((us / 1000000)).$(printf '%06d' $((us % 1000000)))")
    fi
    phase_name=${1:-}
    phase_began=$now
}

phase setup
"$ROOT/scripts/setup.sh"
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
LAB=("$ROOT/.venv/bin/python" "$ROOT/molecule/shared/lab.py")
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
mapfile -t releases < <(printf '%s\n' "${suites[@]}" | sort -u)
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
# On every exit, a failed step's too (the table then shows how far the demo got), keeping the
# exit status: stop the VMs if asked, then print the time of each phase.
finish() {
    local rc=$? stopped_in=$phase_name
    set +e
    if [[ ${ROULETTE_DEMO_KEEP:-1} != 1 ]]; then
        phase teardown
        cleanup
    fi
    phase
    say "Time per phase (kept in $DEMO_DIR/phases.json)"
    "$ROOT/.venv/bin/python" "$ROOT/scripts/demo_phases.py" --playbook-phases "$DEMO_DIR/playbook-phases.json" \
        --json "$DEMO_DIR/phases.json" --exit-status "$rc" --stopped-in "$stopped_in" "${phases[@]}"
    exit "$rc"
}
trap finish EXIT

# The images first, on their own (lab.py up would build the missing ones too), so that the
# table tells building them from booting.
phase images
say "Building the base images not cached yet: ${releases[*]} (built once, then reused)"
"${LAB[@]}" image "${releases[@]}" >"$DEMO_DIR/images.jsonl"

phase boot
say "Booting the demo fleet: ${suites[*]} (QEMU)"
"${LAB[@]}" up --spec "$spec" >"$DEMO_DIR/vms.jsonl"
"${LAB[@]}" inventory --output "$DEMO_DIR/inventory.yml" --group roulette
inventories=(-i "$DEMO_DIR/inventory.yml")

if [[ ${ROULETTE_DEMO_BUILD:-chroot} == chroot ]]; then
    phase chroots
    say "Preparing build chroots on this machine (native speed; the VMs get only the module)"
    # One chroot per release, made side by side (each its own mmdebstrap and directory).
    pids=()
    for suite in "${releases[@]}"; do
        "${LAB[@]}" chroot "$suite" --dest "$DEMO_DIR/chroot-$suite" --mount >"$DEMO_DIR/chroot-$suite.json" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    {
        echo "roulette_build:"
        echo "  hosts:"
        for suite in "${releases[@]}"; do
            path=$("$ROOT/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["path"])' <"$DEMO_DIR/chroot-$suite.json")
            echo "    build-$suite:"
            echo "      ansible_connection: community.general.chroot"
            echo "      ansible_host: $path"
            echo "      ansible_python_interpreter: /usr/bin/python3"
        done
    } >"$DEMO_DIR/build-hosts.yml"
    inventories+=(-i "$DEMO_DIR/build-hosts.yml")
fi

phase playbook
say "Running playbooks/site.yml on the demo fleet (armed: these VMs only)"
# The callback roulette_phases (scripts/ansible_plugins/callback) splits the playbook's time into
# its phases, for this run only: ansible.cfg does not enable it. Ansible's default callback paths
# stay searched, and callbacks that the environment enables stay enabled.
rm -f "$DEMO_DIR/playbook-phases.json"
playbook_rc=0
ANSIBLE_CALLBACK_PLUGINS="$ROOT/scripts/ansible_plugins/callback:${ANSIBLE_CALLBACK_PLUGINS:-$HOME/.ansible/plugins/callback:/usr/share/ansible/plugins/callback}" \
    ANSIBLE_CALLBACKS_ENABLED="${ANSIBLE_CALLBACKS_ENABLED:+$ANSIBLE_CALLBACKS_ENABLED,}roulette_phases" \
    ROULETTE_PHASES_FILE="$DEMO_DIR/playbook-phases.json" \
    ansible-playbook "${inventories[@]}" "$ROOT/playbooks/site.yml" \
    -e roulette_armed=true -e "roulette_chance=${ROULETTE_DEMO_CHANCE:-30}" \
    -e "roulette_spin_count=${ROULETTE_DEMO_SPINS:-20}" \
    -e "roulette_report_dir=$ROOT/reports/demo-$(date +%Y%m%d-%H%M%S)" "$@" || playbook_rc=$?
((playbook_rc == 0)) || exit "$playbook_rc"
say "Inventory of the demo fleet, reusable with ansible-playbook -i: $DEMO_DIR/inventory.yml"
[[ ${ROULETTE_DEMO_KEEP:-1} == 1 ]] && say "The VMs keep running; stop them with: ROULETTE_LAB_STATE=$ROULETTE_LAB_STATE .venv/bin/python molecule/shared/lab.py down --all"
exit 0
