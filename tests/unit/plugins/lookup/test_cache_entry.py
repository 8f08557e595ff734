# SPDX-License-Identifier: GPL-3.0-or-later
"""cache_entry: one module of the cache checked before it is copied to a host."""

from __future__ import annotations

import hashlib
import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.lookup import cache_entry
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import KO, make_lookup, write_entry


@pytest.fixture
def lookup():
    return make_lookup(cache_entry, "rustkmod.roulette.cache_entry")


def test_a_sound_entry_by_module_path_or_directory(tmp_path, lookup):
    entry = write_entry(tmp_path, "k1")
    by_module, by_dir = lookup.run([str(entry / "roulette.ko"), str(entry)])
    for result in (by_module, by_dir):
        assert result["ok"] is True and result["problem"] is None
        assert result["sha256"] == hashlib.sha256(KO).hexdigest()
        assert result["module"] == str(entry / "roulette.ko") and result["directory"] == str(entry)
        assert result["build"]["kernel_release"] == "6.1.0-27-amd64"


@pytest.mark.parametrize("fields, raw_json, problem", [
    ({}, "null", "build.json holds null, not a JSON object"),
    ({"ko": b""}, None, "roulette.ko is empty (0 bytes)"),
    ({"sha256": "0" * 64}, None, "roulette.ko has sha256 " + hashlib.sha256(KO).hexdigest()),
    ({"sha256": None}, None, "build.json has no 'sha256' field"),
    ({"ko": b"ELF but not quite"}, None, "roulette.ko is not an ELF file (it starts with b'ELF ')"),
    ({"ko": None}, None, "roulette.ko is missing"),
], ids=["null build.json", "0-byte module", "sha mismatch", "no sha256", "not ELF", "no module"])
def test_a_corrupt_entry_is_not_ok_and_says_why(tmp_path, lookup, fields, raw_json, problem):
    entry = write_entry(tmp_path, "k1", **fields)
    if raw_json is not None:
        (entry / "build.json").write_text(raw_json)
    result = lookup.run([str(entry / "roulette.ko")])[0]
    assert result["ok"] is False and result["sha256"] is None and result["build"] is None
    assert result["problem"].startswith(str(entry) + ": ") and problem in result["problem"]


def test_a_module_that_is_a_directory(tmp_path, lookup):
    entry = write_entry(tmp_path, "k1", ko=None)
    (entry / "roulette.ko").mkdir()
    result = lookup.run([str(entry)])[0]
    assert not result["ok"] and "roulette.ko is a directory, not a regular file" in result["problem"]


def test_a_module_that_is_a_fifo_does_not_block(tmp_path, lookup):
    entry = write_entry(tmp_path, "k1", ko=None)
    os.mkfifo(entry / "roulette.ko")
    result = lookup.run([str(entry / "roulette.ko")])[0]
    assert not result["ok"] and "is a FIFO (named pipe), not a regular file" in result["problem"]


def test_another_kernel_release_is_not_ok_when_one_is_asked_for(tmp_path, lookup):
    entry = write_entry(tmp_path, "k1", release="6.1.0-27-amd64")
    assert lookup.run([str(entry)], kernel_release="6.1.0-27-amd64")[0]["ok"]
    result = lookup.run([str(entry)], kernel_release="6.12.48-amd64")[0]
    assert not result["ok"] and result["problem"].endswith("it was built for kernel 6.1.0-27-amd64, not 6.12.48-amd64")


def test_nothing_there_and_no_path(tmp_path, lookup):
    gone, empty = lookup.run([str(tmp_path / "k9" / "roulette.ko"), ""])
    assert not gone["ok"] and gone["problem"].endswith("build.json is missing")
    assert not empty["ok"] and empty["problem"] == "no path was given"
