# SPDX-License-Identifier: GPL-3.0-or-later
"""open_regular: only regular files are opened, and a FIFO never blocks."""

from __future__ import annotations

import hashlib
import os
import socket
import stat

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import controller_files
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import NotRegularFileError, file_kind, file_sha256, open_regular


def test_a_regular_file_and_a_link_to_one(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"data")
    (tmp_path / "link").symlink_to(path)
    for name in ("log", "link"):
        with open_regular(str(tmp_path / name)) as handle:
            assert handle.read() == b"data"


def test_nothing_there_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_regular(str(tmp_path / "none"))


@pytest.mark.parametrize("shape, kind", [
    ("fifo", "a FIFO (named pipe)"), ("directory", "a directory"), ("socket", "a socket"),
    ("dangling", "a symbolic link to "), ("link to fifo", "a FIFO (named pipe)"),
])
def test_what_is_not_a_regular_file_is_refused_by_name(tmp_path, shape, kind):
    path = tmp_path / "thing"
    if shape == "fifo":
        os.mkfifo(path)
    elif shape == "directory":
        path.mkdir()
    elif shape == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    elif shape == "dangling":
        path.symlink_to(tmp_path / "gone")
    else:
        os.mkfifo(tmp_path / "fifo")
        path.symlink_to(tmp_path / "fifo")
    with pytest.raises(NotRegularFileError) as error:
        open_regular(str(path))
    assert str(error.value).startswith("%s is %s" % (path, kind))
    if shape == "dangling":
        assert str(error.value) == "%s is a symbolic link to %s, which does not exist" % (path, tmp_path / "gone")
    else:
        assert str(error.value).endswith(", not a regular file")


def test_a_character_device_is_refused():
    with pytest.raises(NotRegularFileError, match="/dev/null is a character device, not a regular file"):
        open_regular("/dev/null")


def test_a_fifo_swapped_in_after_the_first_look_is_refused_without_blocking(tmp_path, monkeypatch):
    path = tmp_path / "log"
    os.mkfifo(path)
    real_stat = os.stat

    def stat_says_regular(target, *args, **kwargs):  # the file was regular when looked at
        result = real_stat(target, *args, **kwargs)
        if str(target) == str(path):
            return os.stat_result((stat.S_IFREG | 0o644,) + tuple(result)[1:])
        return result

    monkeypatch.setattr(controller_files.os, "stat", stat_says_regular)
    with pytest.raises(NotRegularFileError, match="is a FIFO"):
        open_regular(str(path))


def test_file_kind():
    assert file_kind(stat.S_IFREG) == "a regular file"
    assert file_kind(stat.S_IFBLK) == "a block device"
    assert file_kind(stat.S_IFLNK) == "a symbolic link"


def test_file_sha256_gives_the_sum_and_size_of_a_regular_file_only(tmp_path):
    path = tmp_path / "roulette.ko"
    path.write_bytes(b"\x7fELF" + b"x" * (3 << 20))
    assert file_sha256(str(path)) == (hashlib.sha256(path.read_bytes()).hexdigest(), 4 + (3 << 20))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NotRegularFileError):
        file_sha256(str(fifo))
