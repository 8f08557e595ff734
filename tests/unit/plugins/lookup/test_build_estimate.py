# SPDX-License-Identifier: GPL-3.0-or-later
"""build_estimate: how long the last comparable build took, from build_seconds in the cache's build.json."""

from __future__ import annotations

import json

import pytest
from ansible_collections.rustkmod.roulette.plugins.lookup import build_estimate
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import make_lookup, write_entry

NOTHING = {"seconds": None, "kernel_release": None, "built_on": None, "key": None, "directory": None,
           "same_host": False, "same_release": False}


@pytest.fixture
def lookup():
    return make_lookup(build_estimate, "rustkmod.roulette.build_estimate")


def set_field(entry, name, value):
    """Set one field of an entry's build.json (write_entry leaves out a field given as None)."""
    info = json.loads((entry / "build.json").read_text())
    info[name] = value
    (entry / "build.json").write_text(json.dumps(info))


def run(lookup, cache, *releases, **options):
    return lookup.run(list(releases) or ["6.1.0-27-amd64"], cache=str(cache), **options)


def test_one_estimate_per_release(tmp_path, lookup, warnings):
    old = write_entry(tmp_path, "old", mtime=1000, built_on="vm1", build_seconds=300)
    write_entry(tmp_path, "older", mtime=500, built_on="vm1", build_seconds=900)
    trixie = write_entry(tmp_path, "trixie", release="6.12.48-amd64", mtime=2000, built_on="chroot",
                         build_seconds=40)
    assert run(lookup, tmp_path, "6.1.0-27-amd64", "6.12.48-amd64", "6.16.0-1-amd64") == [
        {"seconds": 300, "kernel_release": "6.1.0-27-amd64", "built_on": "vm1", "key": "old",
         "directory": str(old), "same_host": False, "same_release": True},
        {"seconds": 40, "kernel_release": "6.12.48-amd64", "built_on": "chroot", "key": "trixie",
         "directory": str(trixie), "same_host": False, "same_release": True},
        NOTHING]
    assert warnings == []


def test_a_build_on_the_same_host_is_preferred(tmp_path, lookup):
    write_entry(tmp_path, "chroot", mtime=2000, built_on="chroot", build_seconds=40)
    write_entry(tmp_path, "vm1-trixie", release="6.12.48-amd64", mtime=1000, built_on="vm1", build_seconds=380)
    (found,) = run(lookup, tmp_path, built_on="vm1")
    assert (found["key"], found["seconds"], found["same_host"], found["same_release"]) == (
        "vm1-trixie", 380, True, False)
    (found,) = run(lookup, tmp_path, built_on="vm2")
    assert (found["key"], found["seconds"]) == ("chroot", 40)


def test_entries_without_build_seconds_are_no_estimate(tmp_path, lookup, warnings):
    write_entry(tmp_path, "before", built_on="vm1")  # written before build_seconds was recorded
    skipped = write_entry(tmp_path, "skipped", built_on="vm1")  # make did not run: build_seconds is null
    set_field(skipped, "build_seconds", None)
    assert run(lookup, tmp_path, built_on="vm1") == [NOTHING]
    assert run(lookup, tmp_path / "none", built_on="vm1") == [NOTHING]
    assert warnings == []


@pytest.mark.parametrize("value", ["362", 362.0, -5, False, None],
                         ids=["string", "float", "negative", "false", "null"])
def test_a_malformed_build_seconds_is_passed_over(tmp_path, lookup, warnings, value):
    write_entry(tmp_path, "good", mtime=1000, build_seconds=120)
    set_field(write_entry(tmp_path, "bad", mtime=2000), "build_seconds", value)
    assert run(lookup, tmp_path)[0]["key"] == "good"
    assert warnings == []


def test_a_corrupt_newer_entry_is_passed_over_without_a_warning(tmp_path, lookup, warnings):
    write_entry(tmp_path, "good", mtime=1000, build_seconds=120)
    write_entry(tmp_path, "bad", mtime=2000, build_seconds=5, sha256="0" * 64)
    write_entry(tmp_path, "null", mtime=3000, build_seconds=5)
    (tmp_path / "null" / "build.json").write_text("null")
    assert run(lookup, tmp_path)[0]["key"] == "good"
    assert warnings == []


def test_the_default_cache_follows_the_environment(tmp_path, lookup, monkeypatch):
    monkeypatch.setenv("ROULETTE_CACHE_DIR", str(tmp_path))
    write_entry(tmp_path / "modules", "k", build_seconds=75)
    assert lookup.run(["6.1.0-27-amd64"], {})[0]["seconds"] == 75
