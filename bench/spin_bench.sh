#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Spins per second of the rustkmod.roulette.spin module against a shell loop of
# `cat /dev/kernel-roulette` on the same host, and their ratio.
#
#   bench/spin_bench.sh -H 127.0.0.1 -p 2222 -u root -k ~/.ssh/lab_key
#   bench/spin_bench.sh -i molecule-inventory.yml -l vm1
#
# Options:
#   -H HOST -p PORT -u USER -k KEY   SSH target (default port 22, user root)
#   -i INVENTORY -l HOST             or: a host of an inventory
#   -n SPINS                         spins done by the module (default 100000)
#   -c CATS                          cat processes in the shell loop (default 2000)
#   -d DEVICE                        device node (default /dev/kernel-roulette)
#   -b                               become root (sudo) on the host, for a non-root -u USER
#   -f                               run even when the driver's chance is not 0
# The driver must be loaded with chance=0 (no spin dies), otherwise the numbers
# measure deaths, not speed; -f overrides the check.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="" PORT=22 USER_NAME=root KEY="" INVENTORY="" LIMIT=""
SPINS=100000 CATS=2000 DEVICE=/dev/kernel-roulette FORCE=0 BECOME=False

usage() { sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "H:p:u:k:i:l:n:c:d:bfh" opt; do
    case $opt in
        H) HOST=$OPTARG ;;
        p) PORT=$OPTARG ;;
        u) USER_NAME=$OPTARG ;;
        k) KEY=$OPTARG ;;
        i) INVENTORY=$OPTARG ;;
        l) LIMIT=$OPTARG ;;
        n) SPINS=$OPTARG ;;
        c) CATS=$OPTARG ;;
        d) DEVICE=$OPTARG ;;
        b) BECOME=True ;;
        f) FORCE=1 ;;
        h) usage 0 ;;
        *) usage ;;
    esac
done
[[ -n $HOST || -n $INVENTORY ]] || { echo "error: give -H HOST or -i INVENTORY -l HOST" >&2; usage; }
[[ $SPINS =~ ^[0-9]+$ && $CATS =~ ^[0-9]+$ && $SPINS -ge 1 && $CATS -ge 1 ]] || { echo "error: -n and -c take positive numbers" >&2; exit 2; }

VENV_BIN="$ROOT/.venv/bin"
[[ -x $VENV_BIN/ansible ]] || { echo "error: $VENV_BIN/ansible missing; run scripts/setup.sh" >&2; exit 1; }
PYTHON="$VENV_BIN/python"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# The collection from this checkout, whatever ansible.cfg says.
mkdir -p "$WORK/collections/ansible_collections/rustkmod"
ln -s "$ROOT" "$WORK/collections/ansible_collections/rustkmod/roulette"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections:$ROOT/.venv/collections"
export ANSIBLE_HOST_KEY_CHECKING=False ANSIBLE_NOCOLOR=1 ANSIBLE_LOAD_CALLBACK_PLUGINS=1
export ANSIBLE_STDOUT_CALLBACK=ansible.builtin.json ANSIBLE_PIPELINING=True ANSIBLE_BECOME=$BECOME

if [[ -z $INVENTORY ]]; then
    INVENTORY="$WORK/inventory.yml"
    {
        echo "all:"
        echo "  hosts:"
        echo "    bench:"
        echo "      ansible_host: \"$HOST\""
        echo "      ansible_port: $PORT"
        echo "      ansible_user: \"$USER_NAME\""
        [[ -z $KEY ]] || echo "      ansible_ssh_private_key_file: \"$KEY\""
    } >"$INVENTORY"
    LIMIT=bench
fi
[[ -n $LIMIT ]] || { echo "error: -i needs -l HOST" >&2; exit 2; }

# ad-hoc command with the json callback; prints the host's result as JSON
adhoc() {
    "$VENV_BIN/ansible" -i "$INVENTORY" "$LIMIT" "$@" >"$WORK/out.json" 2>"$WORK/err.txt" || true
    "$PYTHON" - "$WORK/out.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
tasks = data["plays"][0]["tasks"]
print(json.dumps(next(iter(tasks[0]["hosts"].values()))))
EOF
}
field() { "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d = d[k] if isinstance(d, dict) else d[int(k)]
print(d)' "$1" "$2"; }

echo "==> Checking the driver on $LIMIT"
res=$(adhoc -m ansible.builtin.raw -a "cat /sys/module/roulette/parameters/chance && test -c $DEVICE")
if [[ $(field "$res" rc 2>/dev/null || echo 1) != 0 ]]; then
    echo "error: the roulette driver is not loaded or $DEVICE is missing on $LIMIT:" >&2
    field "$res" msg >&2 2>/dev/null || cat "$WORK/err.txt" >&2
    exit 1
fi
chance=$(field "$res" stdout | tr -d '[:space:]')
if [[ $chance != 0 && $FORCE != 1 ]]; then
    echo "error: the driver's chance is $chance, not 0: spins would die. Reload it with chance=0, or use -f." >&2
    exit 1
fi

echo "==> Module: rustkmod.roulette.spin count=$SPINS"
start=$(date +%s.%N)
res=$(adhoc -m rustkmod.roulette.spin -a "device=$DEVICE count=$SPINS record_spins=false stop_on_death=true")
end=$(date +%s.%N)
if [[ $(field "$res" failed 2>/dev/null || echo False) == True ]]; then
    echo "error: the spin module failed: $(field "$res" msg)" >&2
    exit 1
fi
done_spins=$(field "$res" ansible_facts.roulette.spins_done)
elapsed=$(field "$res" ansible_facts.roulette.elapsed)
died=$(field "$res" ansible_facts.roulette.died)

echo "==> Shell loop: $CATS x cat $DEVICE"
loop="n=$CATS; i=0; s=\$(date +%s%N); while [ \$i -lt \$n ]; do cat $DEVICE >/dev/null || exit 1; i=\$((i+1)); done; e=\$(date +%s%N); echo \$((e-s))"
res=$(adhoc -m ansible.builtin.raw -a "$loop")
[[ $(field "$res" rc) == 0 ]] || { echo "error: the cat loop failed: $(field "$res" stdout)" >&2; exit 1; }
loop_ns=$(field "$res" stdout | tr -d '[:space:]')

"$PYTHON" - "$done_spins" "$elapsed" "$start" "$end" "$CATS" "$loop_ns" "$died" "$chance" <<'EOF'
import sys
spins, elapsed, start, end, cats, loop_ns, died, chance = sys.argv[1:]
spins, elapsed, wall = int(spins), float(elapsed), float(end) - float(start)
cats, loop_s = int(cats), int(loop_ns) / 1e9
module_rate = spins / elapsed if elapsed else float("inf")
wall_rate = spins / wall
cat_rate = cats / loop_s
print(f"chance               {chance}")
print(f"module spins         {spins} in {elapsed:.3f} s spinning ({wall:.1f} s with ansible), {died} died")
print(f"module spins/s       {module_rate:,.0f} (spinning)   {wall_rate:,.0f} (whole ansible task)")
print(f"cat loop spins/s     {cat_rate:,.0f} ({cats} cats in {loop_s:.3f} s)")
print(f"ratio                {module_rate / cat_rate:,.1f}x (spinning)   {wall_rate / cat_rate:,.1f}x (whole task)")
EOF
