# SPDX-License-Identifier: GPL-3.0-or-later
"""module_cache: entries of the controller's module cache, sound and corrupt."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import module_cache as mc

KO = b"\x7fELF" + b"\2\1\1" + b"\0" * 100


def entry(tmp_path, info=None, ko=KO, name="k"):
    directory = tmp_path / name
    directory.mkdir()
    if info is None:
        info = {"kernel_release": "6.1.0-27-amd64", "source": "s" * 64, "extra_patches": [], "real_panic": False,
                "sha256": hashlib.sha256(ko or b"").hexdigest()}
    if isinstance(info, bytes):
        (directory / "build.json").write_bytes(info)
    else:
        (directory / "build.json").write_text(info if isinstance(info, str) else json.dumps(info))
    if ko is not None:
        (directory / "roulette.ko").write_bytes(ko)
    return directory


def test_a_sound_entry(tmp_path):
    directory = entry(tmp_path)
    assert mc.entry_problem(str(directory)) is None
    info, problem = mc.check_entry(str(directory))
    assert problem is None and info["kernel_release"] == "6.1.0-27-amd64"
    assert mc.matches(info, "6.1.0-27-amd64", "s" * 64)
    assert not mc.matches(info, "6.1.0-27-amd64", "s" * 64, real_panic=True)
    assert not mc.matches(info, "6.1.0-27-amd64", "s" * 64, extra_patches=["p"])


@pytest.mark.parametrize("info, ko, problem", [
    ("null", KO, "build.json holds null, not a JSON object"),
    ("[]", KO, "build.json holds [], not a JSON object"),
    ('"text"', KO, 'build.json holds "text", not a JSON object'),
    ("{", KO, "build.json is not JSON ("),
    (b'{"a": "\xff"}', KO, "build.json is not JSON ("),
    ("{}", KO, "build.json has no 'kernel_release' field"),
    (None, b"", "roulette.ko is empty (0 bytes)"),
    (None, b"\x7fEL", "roulette.ko is not an ELF file (it starts with b'\\x7fEL')"),
    (None, None, "roulette.ko is missing"),
], ids=["null", "list", "string", "truncated", "not utf-8", "no fields", "0 bytes", "short", "no module"])
def test_corrupt_shapes(tmp_path, info, ko, problem):
    directory = entry(tmp_path, info=info, ko=ko)
    assert problem in mc.entry_problem(str(directory))


def test_a_module_changed_after_build_json_was_written(tmp_path):
    directory = entry(tmp_path)
    (directory / "roulette.ko").write_bytes(KO + b"tampered")
    problem = mc.entry_problem(str(directory))
    assert problem == "roulette.ko has sha256 %s, but build.json records %s" % (
        hashlib.sha256(KO + b"tampered").hexdigest(), hashlib.sha256(KO).hexdigest())


def test_an_oversized_build_json(tmp_path):
    directory = entry(tmp_path, info=" " * (mc.MAX_INFO_BYTES + 1))
    assert mc.entry_problem(str(directory)) == "build.json is larger than 1048576 bytes"


def test_a_directory_module_and_a_fifo_build_json(tmp_path):
    directory = entry(tmp_path, ko=None)
    (directory / "roulette.ko").mkdir()
    assert mc.entry_problem(str(directory)).startswith("roulette.ko cannot be read: ")
    assert mc.entry_problem(str(directory)).endswith("roulette.ko is a directory, not a regular file")
    os.unlink(directory / "build.json")
    os.mkfifo(directory / "build.json")
    assert mc.entry_problem(str(directory)).endswith("build.json is a FIFO (named pipe), not a regular file")


def test_entries_are_directories_holding_either_file(tmp_path):
    entry(tmp_path, name="a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "roulette.ko").write_bytes(KO)
    (tmp_path / "sources").mkdir()
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    assert mc.entries(str(tmp_path)) == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert mc.entries(str(tmp_path / "none")) == []
    assert mc.entries(str(tmp_path / "file")) == []


def test_find_module_warns_once_per_corrupt_entry_seen(tmp_path):
    good = entry(tmp_path, name="good")
    entry(tmp_path, name="null", info="null")
    other = entry(tmp_path, name="other", ko=b"")
    info = json.loads((other / "build.json").read_text())
    info["kernel_release"] = "6.12.48-amd64"  # another release: its module is not read
    (other / "build.json").write_text(json.dumps(info))
    warnings = []
    assert mc.find_module(str(tmp_path), "6.1.0-27-amd64", "s" * 64, warn=warnings.append) == str(good / "roulette.ko")
    assert warnings == ["skipping the corrupt module cache entry %s: build.json holds null, not a JSON object"
                        % (tmp_path / "null")]
    warnings.clear()
    assert mc.find_module(str(tmp_path), "6.12.48-amd64", "s" * 64, warn=warnings.append) == ""
    assert len(warnings) == 2 and "roulette.ko is empty (0 bytes)" in warnings[1]


def test_default_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ROULETTE_CACHE_DIR", str(tmp_path))
    assert mc.default_cache() == str(tmp_path / "modules")
    monkeypatch.delenv("ROULETTE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mc.default_cache() == str(tmp_path / "xdg" / "rustkmod-roulette" / "modules")


def timed(tmp_path, name, seconds, release="6.1.0-27-amd64", host="vm1", mtime=1000, ko=KO, **fields):
    """An entry as kmod_build writes it since build_seconds is recorded; `fields` override build.json."""
    info = {"kernel_release": release, "source": "s" * 64, "extra_patches": [], "real_panic": False,
            "key": name, "built_on": host, "sha256": hashlib.sha256(ko).hexdigest(), "build_seconds": seconds}
    info.update(fields)
    directory = entry(tmp_path, info=info, ko=ko, name=name)
    os.utime(directory / "roulette.ko", (mtime, mtime))
    return directory


def test_last_build_is_none_without_a_cache_or_a_timed_entry(tmp_path):
    assert mc.last_build(str(tmp_path / "none"), "6.1.0-27-amd64", "vm1") is None
    entry(tmp_path, name="untimed")  # built before build_seconds was recorded
    timed(tmp_path, "skipped", None)  # make did not run: null
    assert mc.last_build(str(tmp_path), "6.1.0-27-amd64", "vm1") is None
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") is None


def test_last_build_of_the_release_on_the_host(tmp_path):
    directory = timed(tmp_path, "k1", 362)
    assert mc.last_build(str(tmp_path), "6.1.0-27-amd64", "vm1") == {
        "seconds": 362, "kernel_release": "6.1.0-27-amd64", "built_on": "vm1", "key": "k1",
        "directory": str(directory), "same_host": True, "same_release": True}
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 362
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64") == 362


def test_the_newest_wins(tmp_path):
    timed(tmp_path, "a-new", 300, mtime=3000)
    timed(tmp_path, "b-old", 100, mtime=1000)
    timed(tmp_path, "c-mid", 200, mtime=2000)
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 300


@pytest.mark.parametrize("builds, host, expected", [
    # (name, seconds, release, host, mtime) of each entry; the build host asked about; the key chosen.
    ([("same", 360, "6.1.0-27-amd64", "vm1", 1000), ("release", 30, "6.1.0-27-amd64", "chroot", 3000),
      ("host", 400, "6.12.48-amd64", "vm1", 3000)], "vm1", "same"),
    ([("release", 30, "6.1.0-27-amd64", "chroot", 3000), ("host", 400, "6.12.48-amd64", "vm1", 1000)],
     "vm1", "host"),
    ([("release", 30, "6.1.0-27-amd64", "chroot", 1000), ("neither", 400, "6.12.48-amd64", "vm2", 3000)],
     "vm1", "release"),
    ([("neither", 400, "6.12.48-amd64", "vm2", 3000)], "vm1", None),
    ([("release", 30, "6.1.0-27-amd64", "chroot", 1000), ("host", 400, "6.12.48-amd64", "vm1", 3000)],
     None, "release"),
], ids=["same host and release", "same host first", "then same release", "neither", "no host asked"])
def test_the_same_host_is_preferred_then_the_same_release(tmp_path, builds, host, expected):
    for name, seconds, release, built_on, mtime in builds:
        timed(tmp_path, name, seconds, release=release, host=built_on, mtime=mtime)
    found = mc.last_build(str(tmp_path), "6.1.0-27-amd64", host)
    assert (found and found["key"]) == expected


@pytest.mark.parametrize("value", [None, "360", 360.5, -1, True, [360], {"s": 360}],
                         ids=["null", "string", "float", "negative", "bool", "list", "dict"])
def test_a_malformed_build_seconds_is_ignored(tmp_path, value):
    timed(tmp_path, "old", 100, mtime=1000)
    timed(tmp_path, "bad", value, mtime=2000)
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 100


def test_zero_seconds_is_a_duration(tmp_path):
    timed(tmp_path, "old", 100, mtime=1000)
    timed(tmp_path, "fast", 0, mtime=2000)
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 0


@pytest.mark.parametrize("corrupt", ["tampered module", "no module", "null build.json", "no sha256"])
def test_a_corrupt_entry_makes_way_for_the_next(tmp_path, corrupt):
    timed(tmp_path, "old", 100, mtime=1000)
    bad = timed(tmp_path, "bad", 999, mtime=2000)
    if corrupt == "tampered module":
        (bad / "roulette.ko").write_bytes(KO + b"x")
        os.utime(bad / "roulette.ko", (2000, 2000))
    elif corrupt == "no module":
        (bad / "roulette.ko").unlink()
    elif corrupt == "null build.json":
        (bad / "build.json").write_text("null")
    else:
        info = json.loads((bad / "build.json").read_text())
        del info["sha256"]
        (bad / "build.json").write_text(json.dumps(info))
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 100


def test_an_entry_that_names_no_host_counts_for_its_release_only(tmp_path):
    timed(tmp_path, "nameless", 250, built_on=None)
    assert mc.last_build(str(tmp_path), "6.1.0-27-amd64", "vm1")["built_on"] is None
    assert mc.last_build(str(tmp_path), "6.12.48-amd64", "vm1") is None


def test_only_the_entry_chosen_is_hashed(tmp_path, monkeypatch):
    timed(tmp_path, "a", 100, mtime=1000)
    timed(tmp_path, "b", 200, mtime=2000)
    hashed = []
    original = mc.module_problem
    monkeypatch.setattr(mc, "module_problem", lambda path, sha256=None: hashed.append(path) or original(path, sha256))
    assert mc.last_build_seconds(str(tmp_path), "6.1.0-27-amd64", "vm1") == 200
    assert hashed == [str(tmp_path / "b" / "roulette.ko")]
