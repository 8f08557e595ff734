#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Prepare this checkout: system packages (QEMU, mmdebstrap, ssh, and Chromium for the
# report page's browser tests), a Python >= 3.12
# virtualenv in .venv with ansible-core and the test tools, and the checkout linked
# into .venv/collections as the collection rustkmod.roulette.
# Safe to run again: every step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
APT_PACKAGES=(qemu-system-x86 qemu-utils mmdebstrap openssh-client e2fsprogs rsync chromium)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# shellcheck source=scripts/apt_ensure.sh
. "$ROOT/scripts/apt_ensure.sh"
apt_ensure "${APT_PACKAGES[@]}"

# shellcheck source=scripts/find_python.sh
. "$ROOT/scripts/find_python.sh"

if [[ ! -x $VENV/bin/python ]]; then
    if ! PY=$(find_python 12 99 "${ROULETTE_PYTHON:-}" python3.13 python3.12 \
        "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3 \
        /usr/local/bin/python3.13 /usr/local/bin/python3.12 python3); then
        echo "error: ansible-core 2.21 needs Python >= 3.12 and none was found." >&2
        echo "Install one (pyenv install 3.12, or your distribution's python3.12 with venv)" >&2
        echo "or point ROULETTE_PYTHON at it, then run this again." >&2
        exit 1
    fi
    say "Creating virtualenv .venv with $PY"
    "$PY" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "Installing Python packages (ansible-core, ansible, molecule, linters)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements.txt"
    echo "$want" >"$stamp"
fi

link="$VENV/collections/ansible_collections/rustkmod/roulette"
if [[ ! -L $link || $(readlink "$link") != "$ROOT" ]]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$ROOT" "$link"
fi
say "Ready: $("$VENV/bin/ansible" --version 2>/dev/null | sed -n 1p)"
