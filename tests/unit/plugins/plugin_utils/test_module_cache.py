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
