# SPDX-License-Identifier: GPL-3.0-or-later
"""A checkout that scripts/setup.sh has not set up: its ansible.cfg looks for the collection in
.venv/collections, where nothing links the checkout, so site.yml fails while Ansible parses it
("role 'rustkmod.roulette.preflight' not found"), before any task of ours could explain. The
checkout's ansible.cfg then says what to do: run scripts/setup.sh. Where the collection
resolves it says nothing, and a run's output is what it was."""

import json
import os
import subprocess

import pytest

from integration_support import ROOT, VENV_BIN

HINT = "scripts/setup.sh"


def syntax_check(tmp_path, collections_path=None):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"roulette": {"hosts": {"target-1": {"ansible_connection": "local"}}},
                                     "roulette_build": {"hosts": {}}}))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "site.yml"), "--syntax-check"]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    env.pop("ANSIBLE_COLLECTIONS_PATHS", None)
    if collections_path is not None:
        # The environment wins over ansible.cfg's collections_path.
        env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path)
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_a_checkout_that_was_not_set_up_is_told_to_run_setup_sh(tmp_path):
    empty = tmp_path / "collections"
    empty.mkdir()
    proc = syntax_check(tmp_path, empty)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    # Ansible's own error stays; the hint comes first and names what was searched.
    assert "rustkmod.roulette" in proc.stderr and "not found" in proc.stderr, out
    assert HINT in proc.stderr, out
    assert str(ROOT / "scripts" / "setup.sh") in proc.stderr, out
    assert str(empty) in proc.stderr, out
    assert proc.stderr.index(HINT) < proc.stderr.index("ERROR"), out
    assert proc.stderr.count(HINT) == 1, out
    assert "Traceback" not in out, out


def linked_collections(tmp_path):
    path = tmp_path / "collections"
    (path / "ansible_collections" / "rustkmod").mkdir(parents=True)
    (path / "ansible_collections" / "rustkmod" / "roulette").symlink_to(ROOT)
    return path


@pytest.mark.parametrize("how", ["as ansible.cfg says", "another collections path"])
def test_where_the_collection_resolves_nothing_is_said(tmp_path, how):
    if how == "as ansible.cfg says" and not (ROOT / ".venv" / "collections" / "ansible_collections" / "rustkmod" / "roulette").is_dir():
        pytest.skip("this checkout is not set up (scripts/setup.sh)")
    proc = syntax_check(tmp_path, None if how == "as ansible.cfg says" else linked_collections(tmp_path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert HINT not in out, out
    assert "WARNING" not in out, out
