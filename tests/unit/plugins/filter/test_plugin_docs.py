# SPDX-License-Identifier: GPL-3.0-or-later
"""Every filter and lookup of the collection has documentation of its own, as ansible-doc shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.rustkmod.roulette.plugins.filter import build

# .../ansible_collections/rustkmod/roulette/plugins/filter/build.py -> the directory holding ansible_collections.
COLLECTIONS = Path(build.__file__).parents[5]
PLUGINS = Path(build.__file__).parents[1]


def filter_names():
    """Every filter name, as the FilterModule of each plugins/filter/*.py registers it."""
    import importlib
    names = []
    for path in sorted((PLUGINS / "filter").glob("*.py")):
        module = importlib.import_module("ansible_collections.rustkmod.roulette.plugins.filter." + path.stem)
        names.extend(module.FilterModule().filters())
    return sorted(names)


def lookup_names():
    return sorted(path.stem for path in (PLUGINS / "lookup").glob("*.py") if path.stem != "__init__")


def ansible_doc(kind, names):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    done = subprocess.run([sys.executable, "-m", "ansible.cli.doc", "-t", kind, "--json"]
                          + ["rustkmod.roulette." + name for name in names],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "[WARNING]" not in done.stderr and "[ERROR]" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def test_the_names_checked_are_all_there_are():
    assert filter_names() == ["build_key", "build_method_problems", "build_plan", "dmesg_tail", "format_release",
                              "host_outcome", "host_settings_problems", "load_plan", "module_file_info", "module_sources",
                              "patch_series",
                              "roulette_load", "settings_problems"]
    assert lookup_names() == ["build_estimate", "build_outputs", "cache_entry", "cached_module", "console_panic",
                              "controller_cache", "tree_hash"]


@pytest.mark.parametrize("kind, names", [("filter", filter_names()), ("lookup", lookup_names())])
def test_each_plugin_renders_its_own_documentation(kind, names):
    docs = ansible_doc(kind, names)
    assert sorted(docs) == ["rustkmod.roulette." + name for name in names]
    for name in names:
        entry = docs["rustkmod.roulette." + name]
        doc = entry["doc"]
        assert doc["name"] == name, "%s is documented as %s" % (name, doc["name"])
        assert doc["short_description"] and doc["description"], name
        assert all(isinstance(line, str) for line in doc["description"]), name
        options = doc.get("options") or {}
        assert ("_input" if kind == "filter" else "_terms") in options, name
        for option, spec in options.items():
            assert spec.get("description"), (name, option)
        assert entry["examples"] and "rustkmod.roulette." + name in entry["examples"], name
        assert entry["return"], name
