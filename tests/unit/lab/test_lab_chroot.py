# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.chroot: build chroots on the controller."""

from __future__ import annotations

import pytest
from roulette_lab import chroot, common, debian, image

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample lab"


def test_chroot_recipe_keeps_it_small():
    recipe = chroot.chroot_recipe("trixie")
    assert recipe["packages"] == ["ca-certificates", "python3"]
    assert recipe["sources"] == debian.sources_for("trixie")


def test_image_and_chroot_recipes_differ():
    assert common.recipe_hash(chroot.chroot_recipe("bookworm")) != common.recipe_hash(image.image_recipe("bookworm", KEY, "8G"))


def test_remove_refuses_a_directory_the_lab_did_not_make(tmp_path, monkeypatch):
    monkeypatch.setattr(chroot, "mounts_under", lambda path: [])
    (tmp_path / "etc").mkdir()
    with pytest.raises(common.LabError, match="not a lab chroot"):
        chroot.remove_chroot(tmp_path)
    assert (tmp_path / "etc").is_dir()


def test_remove_deletes_a_lab_chroot_once_nothing_is_mounted(tmp_path, monkeypatch):
    monkeypatch.setattr(chroot, "mounts_under", lambda path: [])
    dest = tmp_path / "chroot"
    (dest / "etc").mkdir(parents=True)
    (dest / chroot.MARKER).write_text("bookworm-0123456789ab\n")
    chroot.remove_chroot(dest)
    assert not dest.exists()
    chroot.remove_chroot(dest)  # already gone: nothing to do


def test_remove_stops_while_something_stays_mounted(tmp_path, monkeypatch):
    dest = tmp_path / "chroot"
    (dest / "dev").mkdir(parents=True)
    (dest / chroot.MARKER).write_text("bookworm-0123456789ab\n")
    monkeypatch.setattr(chroot, "mounts_under", lambda path: [str(dest / "dev")])
    monkeypatch.setattr(chroot.subprocess, "run", lambda *a, **k: None)
    with pytest.raises(common.LabError, match="still mounted"):
        chroot.remove_chroot(dest)
    assert (dest / "dev").is_dir()


def test_forky_chroot_uses_forkys_sources():
    assert chroot.chroot_recipe("forky")["sources"] == debian.sources_for("forky")
