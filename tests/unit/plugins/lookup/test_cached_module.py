# SPDX-License-Identifier: GPL-3.0-or-later
"""cached_module: the newest sound module for a release; corrupt entries skipped with a warning."""

from __future__ import annotations

import hashlib
import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.lookup import cached_module
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import KO, SOURCE, make_lookup, write_entry


@pytest.fixture
def lookup():
    return make_lookup(cached_module, "rustkmod.roulette.cached_module")


def run(lookup, cache, *releases, **options):
    return lookup.run(list(releases) or ["6.1.0-27-amd64"], cache=str(cache), source=SOURCE, **options)


def test_the_newest_sound_entry_for_each_release(tmp_path, lookup, warnings):
    write_entry(tmp_path, "old", mtime=1000)
    new = write_entry(tmp_path, "new", mtime=2000)
    other = write_entry(tmp_path, "trixie", release="6.12.48-amd64")
    write_entry(tmp_path, "panic", real_panic=True, mtime=3000)
    write_entry(tmp_path, "patched", extra_patches=["b" * 64], mtime=3000)
    write_entry(tmp_path, "othersrc", source="c" * 64, mtime=3000)
    assert run(lookup, tmp_path, "6.1.0-27-amd64", "6.12.48-amd64", "6.16.0-1-amd64") == [
        str(new / "roulette.ko"), str(other / "roulette.ko"), ""]
    assert warnings == []


def test_no_cache_directory_is_nothing_found(tmp_path, lookup, warnings):
    assert run(lookup, tmp_path / "none") == [""]
    assert warnings == []


def test_directories_that_are_no_entries_are_not_warned_about(tmp_path, lookup, warnings):
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / ("a" * 64 + ".tar.gz")).write_bytes(b"\x1f\x8b")
    (tmp_path / "std" / "x").mkdir(parents=True)
    (tmp_path / "a-file").write_text("x")
    assert run(lookup, tmp_path) == [""]
    assert warnings == []


CORRUPT = {
    "build.json is null": ({}, "null", "build.json holds null, not a JSON object"),
    "build.json is a list": ({}, "[1, 2]", "build.json holds [1, 2], not a JSON object"),
    "build.json is not JSON": ({}, "{", "build.json is not JSON"),
    "build.json is empty": ({}, "", "build.json is not JSON"),
    "no sha256 field": ({"sha256": None}, None, "build.json has no 'sha256' field"),
    "no kernel_release field": ({"kernel_release": None}, None, "build.json has no 'kernel_release' field"),
    "sha256 not hex": ({"sha256": "xyz"}, None, "build.json's 'sha256' is \"xyz\", not 64 lower-case hex digits"),
    "real_panic a string": ({"real_panic": "False"}, None, "build.json's 'real_panic' is \"False\", not true or false"),
    "extra_patches not a list": ({"extra_patches": "b"}, None, "'extra_patches' is \"b\", not a list of strings"),
    "roulette.ko is 0 bytes": ({"ko": b""}, None, "roulette.ko is empty (0 bytes)"),
    "roulette.ko is missing": ({"ko": None}, None, "roulette.ko is missing"),
    "roulette.ko is not ELF": ({"ko": b"<html>Not Found</html>"}, None, "roulette.ko is not an ELF file"),
    "sha256 mismatch": ({"sha256": "0" * 64}, None, "roulette.ko has sha256 %s, but build.json records %s"
                        % (hashlib.sha256(KO).hexdigest(), "0" * 64)),
}


@pytest.mark.parametrize("shape", sorted(CORRUPT))
def test_a_corrupt_entry_is_skipped_with_a_warning(tmp_path, lookup, warnings, shape):
    fields, raw_json, problem = CORRUPT[shape]
    sound = write_entry(tmp_path, "sound", mtime=1000)
    bad = write_entry(tmp_path, "bad", mtime=2000, **fields)
    if raw_json is not None:
        (bad / "build.json").write_text(raw_json)
    assert run(lookup, tmp_path) == [str(sound / "roulette.ko")]
    assert len(warnings) == 1
    assert str(bad) in warnings[0] and problem in warnings[0]


@pytest.mark.parametrize("shape", ["directory", "fifo", "dangling symlink"])
def test_a_roulette_ko_that_is_no_file_is_skipped_with_a_warning(tmp_path, lookup, warnings, shape):
    bad = write_entry(tmp_path, "bad", ko=None)
    module = bad / "roulette.ko"
    if shape == "directory":
        module.mkdir()
    elif shape == "fifo":
        os.mkfifo(module)
    else:
        module.symlink_to(tmp_path / "gone.ko")
    assert run(lookup, tmp_path) == [""]
    assert len(warnings) == 1 and str(bad) in warnings[0]
    assert ("which does not exist" if shape == "dangling symlink" else "not a regular file") in warnings[0]


def test_a_build_json_that_is_a_directory_or_fifo(tmp_path, lookup, warnings):
    write_entry(tmp_path, "dir")
    (tmp_path / "dir" / "build.json").unlink()
    (tmp_path / "dir" / "build.json").mkdir()
    write_entry(tmp_path, "fifo")
    (tmp_path / "fifo" / "build.json").unlink()
    os.mkfifo(tmp_path / "fifo" / "build.json")
    assert run(lookup, tmp_path) == [""]
    assert sorted(warnings) == sorted([
        "skipping the corrupt module cache entry %s: build.json cannot be read: %s is a directory, not a regular file"
        % (tmp_path / "dir", tmp_path / "dir" / "build.json"),
        "skipping the corrupt module cache entry %s: build.json cannot be read: %s is a FIFO (named pipe), not a regular file"
        % (tmp_path / "fifo", tmp_path / "fifo" / "build.json"),
    ])


def test_a_temporary_directory_of_a_fetch_in_progress_is_not_an_entry(tmp_path):
    from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import entries
    (tmp_path / ".tmp-key-host").mkdir()
    (tmp_path / ".tmp-key-host" / "roulette.ko").write_bytes(b"\x7fELF half")
    assert entries(str(tmp_path)) == []
