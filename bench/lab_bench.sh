#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Measures the VM lab (molecule/shared/lab.py):
#   - cold image build per suite (a throw-away cache, so nothing is reused),
#   - boot-to-SSH of one VM, then of three VMs started at once (2 bookworm, 1 trixie).
# Usage: bench/lab_bench.sh [--no-build] [--runs N]
# Image builds need root and Debian's mirror. VMs go in a private state dir and are
# always torn down. Prints one line per measurement, then a summary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
LAB=("$PY" "$ROOT/molecule/shared/lab.py")
BUILD=1
RUNS=1
while (($#)); do
    case $1 in
        --no-build) BUILD=0 ;;
        --runs) RUNS=$2; shift ;;
        -h | --help) sed -n '3,8p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done

STATE="$(mktemp -d -t roulette-lab-bench-state.XXXXXX)"
COLD=""
cleanup() {
    ROULETTE_LAB_STATE="$STATE" "${LAB[@]}" down --all >/dev/null 2>&1 || true
    rm -rf "$STATE"
    [[ -n $COLD ]] && rm -rf "$COLD"
    return 0
}
trap cleanup EXIT
export ROULETTE_LAB_STATE="$STATE"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
field() { "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

echo "# lab bench: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
    "load $(cut -d' ' -f1-3 /proc/loadavg), $(qemu-system-x86_64 --version | head -1)"
echo "# other QEMU VMs running now: $(pgrep -c -f '^qemu-system' || true)"

if ((BUILD)); then
    COLD="$(mktemp -d -t roulette-lab-bench-cache.XXXXXX)"
    for suite in bookworm trixie; do
        t0=$(now)
        out=$(XDG_CACHE_HOME="$COLD" "${LAB[@]}" image "$suite" 2>/dev/null)
        echo "image build (cold) $suite: $(since "$t0") s, kernel $(field "$out" kernel_release)"
    done
    rm -rf "$COLD"
    COLD=""
fi

# Warm images for the boots (built now if the user's cache has none: not timed).
"${LAB[@]}" image bookworm trixie >/dev/null

for ((run = 1; run <= RUNS; run++)); do
    t0=$(now)
    out=$("${LAB[@]}" up bench-one --suite bookworm 2>/dev/null)
    echo "boot-to-SSH, one VM (bookworm, 2 vCPU, 2 GiB), run $run:" \
        "$(field "$out" boot_seconds) s (lab.py up: $(since "$t0") s)"
    "${LAB[@]}" down bench-one 2>/dev/null

    spec="$STATE/spec.json"
    cat >"$spec" <<'JSON'
[{"name": "bench-b1", "suite": "bookworm"},
 {"name": "bench-b2", "suite": "bookworm"},
 {"name": "bench-t1", "suite": "trixie"}]
JSON
    t0=$(now)
    outs=$("${LAB[@]}" up --spec "$spec" 2>/dev/null)
    total=$(since "$t0")
    while read -r line; do
        echo "boot-to-SSH, three at once, run $run: $(field "$line" name)" \
            "($(field "$line" suite)) $(field "$line" boot_seconds) s"
    done <<<"$outs"
    echo "boot-to-SSH, three at once, run $run: all three answer SSH after $total s"
    "${LAB[@]}" down bench-b1 bench-b2 bench-t1 2>/dev/null
done
