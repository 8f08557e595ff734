#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The collection in an execution environment, as AWX users build one: the tarball in the
# galaxy requirements of tests/ee/execution-environment.yml, `ansible-builder create`
# (which checks the definition and lays out the build context; no container runtime
# needed), then ansible-builder's own introspection over the installed collection, which
# must find the collection's meta/execution-environment.yml dependencies.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/tests/output/ee"
rm -rf "$OUT" && mkdir -p "$OUT/collections"
PATH="$ROOT/.venv/bin:$PATH"

ansible-galaxy collection build "$ROOT" --output-path "$OUT/collections" --force >/dev/null
tarball=$(basename "$(ls "$OUT"/collections/rustkmod-roulette-*.tar.gz)")
cp "$ROOT/tests/ee/execution-environment.yml" "$OUT/"
printf -- '---\ncollections:\n  - name: collections/%s\n    type: file\n' "$tarball" >"$OUT/requirements.yml"
(cd "$OUT" && ansible-builder create --file execution-environment.yml --context context -v 1)
for containerfile in "$OUT"/context/Containerfile "$OUT"/context/Dockerfile; do
    [[ -f $containerfile ]] && break
done
grep -q "ansible-galaxy collection install" "$containerfile"
test -f "$OUT/context/_build/collections/$tarball"

ansible-galaxy collection install "$OUT/collections/$tarball" -p "$OUT/installed" --no-deps --force >/dev/null
python -m ansible_builder._target_scripts.introspect introspect "$OUT/installed" >"$OUT/introspect.txt"
grep -q "openssh-client \[platform:dpkg\]" "$OUT/introspect.txt" || { cat "$OUT/introspect.txt"; exit 1; }
echo "ansible-builder create: build context in $OUT/context; introspection finds the collection's dependencies"
