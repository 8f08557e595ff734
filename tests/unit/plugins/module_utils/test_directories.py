# SPDX-License-Identifier: GPL-3.0-or-later
"""make_dirs: the missing directories get the mode asked for whatever the umask; a file in the way raises."""

from __future__ import annotations

import os

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils.directories import make_dirs


def test_missing_parents_get_the_mode_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        make_dirs(str(tmp_path / "a" / "b" / "c"))
    finally:
        os.umask(old)
    for path in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "c"):
        assert oct(path.stat().st_mode & 0o7777) == "0o755"


def test_an_existing_directory_keeps_its_mode(tmp_path):
    (tmp_path / "a").mkdir(mode=0o700)
    make_dirs(str(tmp_path / "a" / "b"), 0o750)
    assert oct((tmp_path / "a").stat().st_mode & 0o7777) == "0o700"
    assert oct((tmp_path / "a" / "b").stat().st_mode & 0o7777) == "0o750"


def test_a_file_in_the_way_raises_and_names_it(tmp_path):
    (tmp_path / "a").write_text("not a directory")
    with pytest.raises(OSError) as info:
        make_dirs(str(tmp_path / "a" / "b"))
    assert info.value.filename in (str(tmp_path / "a"), str(tmp_path / "a" / "b"))
