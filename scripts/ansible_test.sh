#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# ansible-test needs the collection at .../ansible_collections/rustkmod/roulette and
# no Docker here, so: copy the tracked files of the checkout into such a tree (the
# checkout itself has another name), then run sanity and units with --local and the
# virtualenv's Python. Tests whose tools are not installed are skipped by
# ansible-test with a notice. ansible-test bootstraps pip in its per-test venvs with
# a script from a host that is not reachable here: scripts/get_pip_offline.py stands
# in for it (it uses Python's bundled pip, then the package index).
#   scripts/ansible_test.sh [VENV [TESTS]]   VENV: the virtualenv whose ansible-test runs (default
#                                             .venv); TESTS: sanity, units or all (default)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$(cd "${1:-$ROOT/.venv}" && pwd)"
TESTS="${2:-all}"
WORK="$ROOT/tests/output/ansible-test-$(basename "$VENV")"
TREE="$WORK/ansible_collections/rustkmod/roulette"
PY_VERSION=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
export PATH="$VENV/bin:$PATH"

PIP_VERSION=$(grep -oP "^\s+pip='\K[0-9.]+" \
    "$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | head -n1)
if [[ -n $PIP_VERSION ]]; then
    mkdir -p ~/.ansible/test/cache
    cp "$ROOT/scripts/get_pip_offline.py" ~/.ansible/test/cache/"get_pip_${PIP_VERSION//./_}.py"
fi

rm -rf "$WORK" && mkdir -p "$TREE"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    (cd "$ROOT" && xargs -0 cp --parents -t "$TREE")
cd "$TREE"
git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm tree

[[ $TESTS == units ]] || ansible-test sanity --local --python "$PY_VERSION" --color no \
    --skip-test shellcheck --skip-test pylint --skip-test pslint
[[ $TESTS == sanity ]] || ansible-test units --local --python "$PY_VERSION" --color no
