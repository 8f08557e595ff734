#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The lowest ansible-core that meta/runtime.yml claims (requires_ansible), tested for real:
# a second virtualenv (.venv-core-min) with the versions of tests/core-min/requirements.txt,
# then ansible-test sanity and the controller-side playbook tests (tests/integration) with
# its ansible-playbook (the unit tests, ansible-test units, run with the newest only). The VM scenarios run with .venv's newest
# ansible-core only. ansible-core 2.19 runs on Python 3.11 to 3.13.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-core-min"
REQUIREMENTS="$ROOT/tests/core-min/requirements.txt"

claimed=$(sed -n 's/^requires_ansible: *">=\([0-9.]*\)".*/\1/p' "$ROOT/meta/runtime.yml")
pinned=$(sed -n 's/^ansible-core==\([0-9.]*\)$/\1/p' "$REQUIREMENTS")
if [[ ${pinned%.*} != "${claimed%.*}" ]]; then
    echo "meta/runtime.yml claims ansible-core >= $claimed but $REQUIREMENTS tests $pinned" >&2
    exit 1
fi

# shellcheck source=scripts/find_python.sh
. "$ROOT/scripts/find_python.sh"

stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    PY=$(find_python 11 13 python3.11 python3 python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3) || { echo "ansible-core $pinned needs Python 3.11 to 3.13; none found" >&2; exit 1; }
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
    echo "$want" >"$stamp"
fi
echo "testing with $("$VENV/bin/ansible" --version | head -n1) on $("$VENV/bin/python" --version)"

"$ROOT/scripts/ansible_test.sh" "$VENV" sanity
# The playbook tests run ansible-playbook from the interpreter's own bin directory.
cd "$ROOT"
# test_std_cache.py (a Debian chroot made with mmdebstrap, the std crates compiled in it: minutes)
# runs with the newest ansible-core only, to keep CI within its hour; kmod_build's std tasks are
# thus not run with 2.19.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n 2 tests/integration --ignore tests/integration/test_std_cache.py
