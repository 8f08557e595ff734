# SPDX-License-Identifier: GPL-3.0-or-later
"""The playbooks' own defaults have one home, playbooks/vars/defaults.yml, and it cannot
override the inventory: it holds only the private dict __roulette_defaults (a play's
vars_files outrank group and host vars), and every play that reads it loads it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[4]
PLAYBOOKS = sorted((REPO / "playbooks").glob("*.yml"))
DEFAULTS = yaml.safe_load((REPO / "playbooks" / "vars" / "defaults.yml").read_text())
READ = re.compile(r"__roulette_defaults\[\\?'(\w+)\\?'\]")


def plays():
    for path in PLAYBOOKS:
        for play in yaml.safe_load(path.read_text()):
            if "import_playbook" not in play:
                yield path.name, play


def test_the_defaults_file_holds_only_a_private_name():
    assert list(DEFAULTS) == ["__roulette_defaults"]
    assert all(name.startswith("roulette_") for name in DEFAULTS["__roulette_defaults"])


@pytest.mark.parametrize("playbook, play", list(plays()), ids=lambda value: value if isinstance(value, str) else "")
def test_a_play_that_reads_a_default_loads_the_file_and_defaults_no_other_way(playbook, play):
    text = json.dumps(play)
    read = set(READ.findall(text))
    assert read <= set(DEFAULTS["__roulette_defaults"]), (playbook, play["name"], read)
    if read:
        assert "vars/defaults.yml" in play.get("vars_files", []), (playbook, play["name"])
    for name in DEFAULTS["__roulette_defaults"]:
        inline = re.findall(r"\b%s \| default\((?!__roulette_defaults)|'%s', default=(?!__roulette_defaults)"
                            % (name, name), text)
        assert not inline, (playbook, play["name"], name)


def test_the_defaults_are_used():
    text = "".join(path.read_text() for path in PLAYBOOKS)
    assert set(READ.findall(text)) == set(DEFAULTS["__roulette_defaults"])
