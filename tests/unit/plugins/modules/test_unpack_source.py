# SPDX-License-Identifier: GPL-3.0-or-later
"""unpack_source on the host: real .tar.gz archives, the real tar, a destination under tmp_path
(the copy from the controller is the action's, tests/unit/plugins/action/test_unpack_source.py)."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import unpack_source
from roulette_fakehost import Exit, Fail

SOURCE = {"Makefile": "KDIR ?= /lib/modules/$(shell uname -r)/build\n", "Kbuild": "obj-m := roulette.o\n",
          "src/roulette.rs": "// SPDX-License-Identifier: GPL-2.0\n"}


def archive(path, files=SOURCE, links=()):
    """A .tar.gz at `path` with `files` (archive name -> text) and `links` ((name, target, kind)) as given."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, target, kind in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
    return str(path)


def run(args, outcome=Exit):
    with patch_module_args(args), pytest.raises(outcome) as info:
        unpack_source.main()
    return info.value.result


def tree(root):
    """Every path under `root`, relative, with the text of each file."""
    found = {}
    for top, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(top, name), root)] = None
        for name in files:
            with open(os.path.join(top, name)) as handle:
                found[os.path.relpath(os.path.join(top, name), root)] = handle.read()
    return found


def test_unpacks_into_a_missing_nested_dest_made_with_mode_0755(exits, tmp_path):
    umask = os.umask(0o077)  # what a host's umask would take from the directories made
    try:
        dest = tmp_path / "build" / "key" / "src"
        result = run({"src": archive(tmp_path / "s.tar.gz"), "dest": str(dest), "creates": str(dest / "Makefile")})
    finally:
        os.umask(umask)
    assert result == {"changed": True, "dest": str(dest)}
    assert tree(dest) == dict(SOURCE, src=None)
    for directory in (tmp_path / "build", tmp_path / "build" / "key", dest):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o755, directory
    # Nothing left beside it: the directory tar wrote into became dest.
    assert os.listdir(tmp_path / "build" / "key") == ["src"]


def test_an_empty_dest_is_filled(exits, tmp_path):
    """The empty src of a run that stopped after the old 'Create the build tree' task."""
    (tmp_path / "src").mkdir()
    result = run({"src": archive(tmp_path / "s.tar.gz"), "dest": str(tmp_path / "src")})
    assert result["changed"] is True and tree(tmp_path / "src") == dict(SOURCE, src=None)


def test_nothing_is_done_when_creates_exists(exits, tmp_path):
    dest = tmp_path / "src"
    dest.mkdir()
    (dest / "Makefile").write_text("patched\n")
    result = run({"src": archive(tmp_path / "s.tar.gz"), "dest": str(dest), "creates": str(dest / "Makefile")})
    assert result == {"changed": False, "dest": str(dest)}
    assert tree(dest) == {"Makefile": "patched\n"}


def test_creates_is_checked_before_the_archive_is_read(exits, tmp_path):
    (tmp_path / "Makefile").write_text("")
    result = run({"src": str(tmp_path / "gone.tar.gz"), "dest": str(tmp_path / "src"), "creates": str(tmp_path / "Makefile")})
    assert result["changed"] is False


@pytest.mark.parametrize("files, links, culprit", [
    (dict(SOURCE, **{"../escaped": "x"}), (), "../escaped: its name is absolute or goes up"),
    (dict(SOURCE, **{"src/../../escaped": "x"}), (), "src/../../escaped: its name is absolute or goes up"),
    (dict(SOURCE, **{"/etc/escaped": "x"}), (), "/etc/escaped: its name is absolute or goes up"),
    (SOURCE, [("etc", "/etc", tarfile.SYMTYPE)], "etc: it links to /etc, which is absolute or goes up"),
    (SOURCE, [("up", "..", tarfile.SYMTYPE)], "up: it links to .., which is absolute or goes up"),
    (SOURCE, [("passwd", "/etc/passwd", tarfile.LNKTYPE)], "passwd: it links to /etc/passwd"),
    (SOURCE, [("null", "", tarfile.CHRTYPE)], "null: it is not a file, a directory or a link"),
])
def test_a_member_that_would_land_outside_dest_refuses_the_archive_and_nothing_is_written(exits, tmp_path, files, links, culprit):
    dest = tmp_path / "build" / "src"
    result = run({"src": archive(tmp_path / "s.tar.gz", files, links), "dest": str(dest)}, Fail)
    assert result["msg"].startswith("Refusing the archive, nothing was written: " + culprit)
    assert str(tmp_path / "s.tar.gz") in result["msg"] and str(dest) in result["msg"]
    assert sorted(os.listdir(tmp_path)) == ["s.tar.gz"]


def test_links_inside_the_tree_are_unpacked(exits, tmp_path):
    links = [("Makefile.link", "Makefile", tarfile.SYMTYPE), ("src/lib.rs", "src/roulette.rs", tarfile.LNKTYPE)]
    run({"src": archive(tmp_path / "s.tar.gz", links=links), "dest": str(tmp_path / "src")})
    assert os.readlink(tmp_path / "src" / "Makefile.link") == "Makefile"
    assert (tmp_path / "src" / "src" / "lib.rs").read_text() == SOURCE["src/roulette.rs"]


def test_an_archive_that_cannot_be_read_fails_and_writes_nothing(exits, tmp_path):
    whole = (tmp_path / "whole.tar.gz")
    archive(whole, dict(SOURCE, big=os.urandom(60000).hex()))
    (tmp_path / "cut.tar.gz").write_bytes(whole.read_bytes()[:5000])
    result = run({"src": str(tmp_path / "cut.tar.gz"), "dest": str(tmp_path / "build" / "src")}, Fail)
    assert result["msg"].startswith("Cannot read the archive: ")
    assert "cut.tar.gz" in result["msg"] and str(tmp_path / "build" / "src") in result["msg"]
    assert not (tmp_path / "build").exists()


def test_when_tar_fails_its_words_are_the_error_and_no_half_tree_is_left(exits, tmp_path):
    """tar writes Makefile, then cannot write a/b under the file a: the creates of the role would be there."""
    dest = tmp_path / "build" / "src"
    files = {"Makefile": "all:\n", "a": "a file\n", "a/b": "where a directory should be\n"}
    result = run({"src": archive(tmp_path / "s.tar.gz", files), "dest": str(dest), "creates": str(dest / "Makefile")}, Fail)
    assert result["rc"] == 2 and "a/b: Cannot open: Not a directory" in result["stderr"]
    assert result["msg"].startswith("tar failed (rc=2): ") and "a/b: Cannot open: Not a directory" in result["msg"]
    assert str(tmp_path / "s.tar.gz") in result["msg"] and str(dest) in result["msg"]
    assert os.listdir(tmp_path / "build") == []


def test_a_dest_with_files_in_it_is_refused(exits, tmp_path):
    dest = tmp_path / "src"
    dest.mkdir()
    (dest / "half.c").write_text("")
    result = run({"src": archive(tmp_path / "s.tar.gz"), "dest": str(dest), "creates": str(dest / "Makefile")}, Fail)
    assert "a directory with files in it, without %s" % (dest / "Makefile") in result["msg"]
    assert os.listdir(dest) == ["half.c"]


def test_tar_keeps_no_owner_and_runs_in_the_c_locale(exits, tmp_path, monkeypatch):
    from ansible.module_utils import basic
    calls = []
    original = basic.AnsibleModule.run_command

    def run_command(self, args, **kwargs):
        calls.append((args, dict(self.run_command_environ_update)))
        return original(self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    src = archive(tmp_path / "s.tar.gz")
    run({"src": src, "dest": str(tmp_path / "src")})
    ((argv, environment),) = calls
    assert argv[1:4] == ["--no-same-owner", "-xzf", src] and argv[4] == "-C"
    assert os.path.dirname(argv[5]) == str(tmp_path) and environment["LC_ALL"] == "C"


def test_check_mode_checks_the_archive_and_writes_nothing(exits, tmp_path):
    dest = tmp_path / "build" / "src"
    result = run({"src": archive(tmp_path / "s.tar.gz"), "dest": str(dest), "_ansible_check_mode": True})
    assert result == {"changed": True, "dest": str(dest)}
    assert not (tmp_path / "build").exists()
    bad = archive(tmp_path / "bad.tar.gz", {"../x": ""})
    assert run({"src": bad, "dest": str(dest), "_ansible_check_mode": True}, Fail)["msg"].startswith("Refusing")
