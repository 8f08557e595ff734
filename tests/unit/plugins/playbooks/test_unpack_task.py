# SPDX-License-Identifier: GPL-3.0-or-later
"""kmod_build's unpack task, taken verbatim from build_release.yml and run by ansible-playbook
(connection local): the action copies the driver's packed source through the connection and
the module unpacks it on the "host"; a second run finds src/Makefile and does nothing."""

from __future__ import annotations

import tarfile
from pathlib import Path

from ansible_collections.rustkmod.roulette.tests.unit.plugins.playbooks.test_build_progress import play, role_task

REPO = Path(__file__).resolve().parents[4]
TASK = "Unpack the source into the build tree"


def test_the_build_tree_is_made_and_unpacked_once(tmp_path):
    cache = tmp_path / "cache"
    (cache / "sources").mkdir(parents=True)
    with tarfile.open(cache / "sources" / "0123abcd.tar.gz", "w:gz") as archive:
        for name in ("Makefile", "Kbuild", "src"):
            archive.add(REPO / "files" / "kmod" / name, arcname=name)
    build = tmp_path / "build" / "k"
    task = dict(role_task("roles/kmod_build/tasks/build_release.yml", TASK), vars={"__dir": str(build)})
    hosts = {"vm": {"kmod_build_controller_cache": str(cache), "__kmod_build_src_hash": "0123abcd"}}

    for run in ("first", "again"):
        (tmp_path / run).mkdir()
    first = play(tmp_path / "first", hosts, [task])["vm"]
    assert first["changed"] is True and first["dest"] == str(build / "src")
    assert (build / "src" / "Makefile").read_bytes() == (REPO / "files" / "kmod" / "Makefile").read_bytes()
    assert sorted(path.name for path in (build / "src" / "src").iterdir()) == sorted(
        path.name for path in (REPO / "files" / "kmod" / "src").iterdir())
    assert [path.name for path in build.iterdir()] == ["src"]

    again = play(tmp_path / "again", hosts, [task])["vm"]
    assert again["changed"] is False
