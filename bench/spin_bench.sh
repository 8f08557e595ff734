#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Spins per second on one host, three ways, one after the other in one run:
#   module      rustkmod.roulette.spin (forked worker, counters in shared memory)
#   in-process  one Python process that opens, reads and closes the device (bench/spin_loop.py)
#   cat         a shell loop of `cat /dev/kernel-roulette`
# and the ratios module / in-process (the "spin ratio" of bench/RESULTS.md) and module / cat.
#
#   bench/spin_bench.sh -V vm1                          a VM of the lab (molecule/shared/lab.py)
#   bench/spin_bench.sh -i molecule-inventory.yml -l vm1
#   bench/spin_bench.sh -H 127.0.0.1 -p 2222 -u root -k ~/.ssh/lab_key
#
# Options:
#   -V NAME                          a running VM of the lab ($ROULETTE_LAB_STATE as for lab.py)
#   -i INVENTORY -l HOST             or: a host of an inventory
#   -H HOST -p PORT -u USER -k KEY   or: an SSH target (default port 22, user root)
#   -n SPINS                         spins of the module and of the in-process loop (default 100000)
#   -c CATS                          cat processes in the shell loop (default 2000)
#   -d DEVICE                        device node (default /dev/kernel-roulette)
#   -b                               become root (sudo) on the host, for a non-root -u USER
#   -f                               run even when the driver's chance is not 0
# The driver must be loaded with chance=0 (no spin dies), otherwise the numbers
# measure deaths, not speed; -f overrides the check. The host must allow spinning
# (kernel.panic_on_oops=0): the module refuses otherwise, and so does this script.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST="" PORT=22 USER_NAME=root KEY="" INVENTORY="" LIMIT="" VM=""
SPINS=100000 CATS=2000 DEVICE=/dev/kernel-roulette FORCE=0 BECOME=False

usage() { sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while getopts "V:H:p:u:k:i:l:n:c:d:bfh" opt; do
    case $opt in
        V) VM=$OPTARG ;;
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
[[ -n $HOST || -n $INVENTORY || -n $VM ]] || { echo "error: give -V NAME, -i INVENTORY -l HOST or -H HOST" >&2; usage; }
[[ $SPINS =~ ^[0-9]+$ && $CATS =~ ^[0-9]+$ && $SPINS -ge 1 && $CATS -ge 1 ]] || { echo "error: -n and -c take positive numbers" >&2; exit 2; }
[[ $DEVICE =~ ^/dev/[A-Za-z0-9._/-]+$ && $DEVICE != *..* ]] || { echo "error: -d takes a path under /dev/ of safe characters" >&2; exit 2; }

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

if [[ -n $VM ]]; then
    INVENTORY="$WORK/lab.yml"
    "$PYTHON" "$ROOT/molecule/shared/lab.py" inventory --output "$INVENTORY" >/dev/null
    LIMIT=$VM
elif [[ -z $INVENTORY ]]; then
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
    "$PYTHON" - "$WORK/out.json" "$WORK/err.txt" <<'EOF'
import json, sys
try:
    data = json.load(open(sys.argv[1]))
    tasks = data["plays"][0]["tasks"]
    print(json.dumps(next(iter(tasks[0]["hosts"].values()))))
except (ValueError, KeyError, IndexError, StopIteration):
    sys.stderr.write(open(sys.argv[2]).read())
    print(json.dumps({"failed": True, "msg": "no result from ansible (host not in the inventory?)"}))
EOF
}
field() { "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): d = d[k] if isinstance(d, dict) else d[int(k)]
print(d)' "$1" "$2"; }
failed() { [[ $(field "$1" failed 2>/dev/null || echo False) == True ]]; }

echo "==> Checking the driver on $LIMIT"
res=$(adhoc -m ansible.builtin.raw -a "cat /sys/module/roulette/parameters/chance && test -c $DEVICE")
if failed "$res" || [[ $(field "$res" rc 2>/dev/null || echo 1) != 0 ]]; then
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
if failed "$res"; then
    echo "error: the spin module failed: $(field "$res" msg)" >&2
    exit 1
fi
done_spins=$(field "$res" ansible_facts.roulette.spins_done)
elapsed=$(field "$res" ansible_facts.roulette.elapsed)
died=$(field "$res" ansible_facts.roulette.died)

echo "==> In-process loop: $SPINS x open, read, close of $DEVICE (bench/spin_loop.py)"
res=$(adhoc -m ansible.builtin.script -a "$ROOT/bench/spin_loop.py $DEVICE $SPINS executable=python3")
if failed "$res" || [[ $(field "$res" rc) != 0 ]]; then
    echo "error: the in-process loop failed: $(field "$res" msg 2>/dev/null) $(field "$res" stderr 2>/dev/null)" >&2
    exit 1
fi
# The script's output comes over a tty: CRLF line ends and a trailing empty line.
loop_json=$(field "$res" stdout | tr -d '\r' | grep -v '^[[:space:]]*$' | tail -n 1)

echo "==> Shell loop: $CATS x cat $DEVICE"
loop="n=$CATS; i=0; s=\$(date +%s%N); while [ \$i -lt \$n ]; do cat $DEVICE >/dev/null || exit 1; i=\$((i+1)); done; e=\$(date +%s%N); echo \$((e-s))"
res=$(adhoc -m ansible.builtin.raw -a "$loop")
[[ $(field "$res" rc) == 0 ]] || { echo "error: the cat loop failed: $(field "$res" stdout)" >&2; exit 1; }
cat_ns=$(field "$res" stdout | tr -d '[:space:]')

"$PYTHON" - "$done_spins" "$elapsed" "$start" "$end" "$loop_json" "$CATS" "$cat_ns" "$died" "$chance" "$LIMIT" "$WORK/latest.txt" <<'EOF'
import json, sys
spins, elapsed, start, end, loop_json, cats, cat_ns, died, chance, host = sys.argv[1:11]
spins, elapsed, wall = int(spins), float(elapsed), float(end) - float(start)
loop = json.loads(loop_json)
cats, cat_s = int(cats), int(cat_ns) / 1e9
module_rate = spins / elapsed if elapsed else float("inf")
wall_rate = spins / wall
loop_rate = loop["spins"] / loop["seconds"]
cat_rate = cats / cat_s
print(f"host                 {host}, chance {chance}")
print(f"module spins/s       {module_rate:,.0f} ({spins} spins in {elapsed:.3f} s spinning, {died} died; "
      f"{wall_rate:,.0f}/s over the whole task, {wall:.1f} s)")
print(f"in-process spins/s   {loop_rate:,.0f} ({loop['spins']} in {loop['seconds']:.3f} s, {loop['survived']} survived)")
print(f"cat loop spins/s     {cat_rate:,.0f} ({cats} cats in {cat_s:.3f} s)")
print(f"spin ratio           {module_rate / loop_rate:.2f} (module / in-process)")
print(f"module / cat         {module_rate / cat_rate:,.1f}x")
with open(sys.argv[11], "w") as out:
    out.write(f"{module_rate / loop_rate:.2f} ({module_rate:,.0f} / {loop_rate:,.0f} spins/s; cat loop {cat_rate:,.0f}/s; {host})")
EOF
"$PYTHON" "$ROOT/bench/latest.py" "spin ratio" "$(cat "$WORK/latest.txt")" "bench/spin_bench.sh $*"
