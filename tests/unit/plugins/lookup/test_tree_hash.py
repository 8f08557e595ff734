# SPDX-License-Identifier: GPL-3.0-or-later
"""tree_hash: the driver source's hash; what cannot be hashed is an error, never a hang."""

from __future__ import annotations

import os
import socket

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.rustkmod.roulette.plugins.lookup import tree_hash
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import make_lookup


@pytest.fixture
def lookup():
    return make_lookup(tree_hash, "rustkmod.roulette.tree_hash")


def source(tmp_path):
    top = tmp_path / "kmod"
    (top / "src").mkdir(parents=True)
    (top / "Makefile").write_text("KDIR ?= /lib/modules/$(shell uname -r)/build\n")
    (top / "src" / "roulette.rs").write_text("// SPDX\n")
    (top / "build.sh").write_text("#!/bin/sh\n")
    (top / "build.sh").chmod(0o755)
    (top / "src" / "shim.o").write_bytes(b"\x7fELF")  # build output: not hashed
    (top / "target" / "debug").mkdir(parents=True)
    (top / "target" / "debug" / "x").write_text("x")
    return top


def test_the_hash_of_a_tree_is_what_it_was(tmp_path, lookup):
    # Computed by the lookup before it refused special files: caches keyed by it stay valid.
    assert lookup.run([str(source(tmp_path))]) == ["5ed4e64aaf1fd29cb310142da6621af7e2c2c9c70ff9deb4d12e9ee26746936f"]


def test_content_names_and_modes_change_the_hash(tmp_path, lookup):
    top = source(tmp_path)
    first = lookup.run([str(top)])[0]
    (top / "src" / "shim.o").write_bytes(b"other")
    assert lookup.run([str(top)])[0] == first
    (top / "build.sh").chmod(0o644)
    assert lookup.run([str(top)])[0] != first


def test_a_link_to_a_file_is_hashed_as_the_file(tmp_path, lookup):
    top = source(tmp_path)
    plain = lookup.run([str(top)])[0]
    (top / "src" / "roulette.rs").rename(tmp_path / "roulette.rs")
    (top / "src" / "roulette.rs").symlink_to(tmp_path / "roulette.rs")
    assert lookup.run([str(top)])[0] == plain


@pytest.mark.parametrize("shape, says", [
    ("fifo", "is a FIFO (named pipe), not a regular file"),
    ("socket", "is a socket, not a regular file"),
    ("dangling", "is a symbolic link to {tmp}/gone, which does not exist"),
    ("link to a directory", "is a symbolic link to a directory"),
])
def test_what_cannot_be_hashed_is_an_error_naming_it(tmp_path, lookup, within_seconds, shape, says):
    top = source(tmp_path)
    path = top / "src" / "thing"
    if shape == "fifo":
        os.mkfifo(path)
    elif shape == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    elif shape == "dangling":
        path.symlink_to(tmp_path / "gone")
    else:
        (tmp_path / "elsewhere").mkdir()
        path.symlink_to(tmp_path / "elsewhere")
    within_seconds(5)
    with pytest.raises(AnsibleLookupError) as error:
        lookup.run([str(top)])
    assert str(error.value).startswith("tree_hash: cannot hash %s: %s " % (top, path))
    assert says.format(tmp=tmp_path) in str(error.value)


def test_an_unreadable_directory_is_an_error(tmp_path, lookup, monkeypatch):
    top = source(tmp_path)
    real_scandir = os.scandir

    def scandir(path="."):  # as for a user without read permission (root reads any directory)
        if os.fspath(path) == str(top / "src"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(AnsibleLookupError, match="tree_hash: cannot hash %s: %s: Permission denied" % (top, top / "src")):
        lookup.run([str(top)])


def test_not_a_directory(tmp_path, lookup):
    with pytest.raises(AnsibleLookupError, match="is not a directory"):
        lookup.run([str(tmp_path / "none")])
