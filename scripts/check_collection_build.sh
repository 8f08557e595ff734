#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the collection tarball, check that it carries no build output, install
# it into a clean collections path and check that its content resolves there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/tests/output/collection"
rm -rf "$OUT" && mkdir -p "$OUT"
PATH="$ROOT/.venv/bin:$PATH"

ansible-galaxy collection build "$ROOT" --output-path "$OUT" --force >/dev/null
tarball=$(ls "$OUT"/rustkmod-roulette-*.tar.gz)
echo "built $(basename "$tarball") ($(du -h "$tarball" | cut -f1))"

bad=$(tar -tzf "$tarball" | grep -E '(^|/)(target|build|\.venv|reports|tests/output)/|\.(ko|o|a|rlib|mod|mod\.c|cmd|pyc)$|(^|/)\.[^/]*\.cmd$|Module\.symvers|modules\.order' || true)
if [[ -n $bad ]]; then
    echo "the tarball carries build or test output:" >&2
    echo "$bad" >&2
    exit 1
fi
listing=$(tar -tzf "$tarball")
# What only the repository's developers run stays out of the tarball (galaxy.yml build_ignore).
dev=$(grep -E '^(bench|scripts|molecule|\.config|tests/(vm|browser|ee|kmod|integration|unit/lab|unit/project))(/|$)|^(\.ansible-lint|\.yamllint|ruff\.toml|requirements\.txt|ansible\.cfg)$' <<<"$listing" || true)
if [[ -n $dev ]]; then
    echo "the tarball carries files for the repository's developers only:" >&2
    echo "$dev" >&2
    exit 1
fi
for must in MANIFEST.json playbooks/site.yml playbooks/spin.yml playbooks/tasks/spin_host.yml playbooks/vars/defaults.yml files/kmod/Makefile \
    files/kmod/build-outputs.txt meta/runtime.yml meta/execution-environment.yml changelogs/changelog.yaml \
    tests/sanity/ignore-2.21.txt tests/unit/plugins/filter/test_build_plan.py plugins/modules/spin.py plugins/modules/roulette_info.py roles/kmod_load/meta/argument_specs.yml; do
    grep -qx "$must" <<<"$listing" || { echo "the tarball lacks $must" >&2; exit 1; }
done

# A clean collections path, and none of the checkout's ansible.cfg (which links the checkout).
cd "$OUT"
unset ANSIBLE_CONFIG
export ANSIBLE_COLLECTIONS_PATH="$OUT/installed"
ansible-galaxy collection install "$tarball" -p "$OUT/installed" --no-deps --force >/dev/null
for module in spin roulette_info fleet_report; do
    ansible-doc -t module "rustkmod.roulette.$module" | grep -q "OPTIONS" ||
        { echo "ansible-doc cannot render rustkmod.roulette.$module" >&2; exit 1; }
done
printf 'roulette:\n  hosts:\n    example:\n' >inventory.yml
ansible-playbook -i inventory.yml rustkmod.roulette.site --syntax-check >/dev/null
echo "installed collection: modules documented, rustkmod.roulette.site resolves"
