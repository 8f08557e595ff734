# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.common: paths, settings, recipe hashes, sizes, mounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from roulette_lab import common


def test_recipe_hash_is_stable_and_short():
    recipe = {"kind": "image", "suite": "bookworm", "packages": ["b", "a"]}
    one = common.recipe_hash(recipe)
    assert one == common.recipe_hash(dict(reversed(list(recipe.items()))))
    assert len(one) == 12
    int(one, 16)


def test_recipe_hash_ignores_package_order():
    recipe = {"suite": "bookworm", "packages": ["a", "b", "c"]}
    assert common.recipe_hash(dict(recipe, packages=["c", "a", "b"])) == common.recipe_hash(recipe)


def test_recipe_hash_sees_every_value():
    recipe = {"suite": "bookworm", "packages": ["a"], "size": "8G"}
    assert common.recipe_hash(dict(recipe, size="12G")) != common.recipe_hash(recipe)
    assert common.recipe_hash(dict(recipe, packages=["a", "b"])) != common.recipe_hash(recipe)


@pytest.mark.parametrize(
    ("text", "mib"),
    [("2048", 2048), ("2G", 2048), ("512M", 512), ("1GiB", 1024), ("4g", 4096)],
)
def test_parse_size_mib(text, mib):
    assert common.parse_size_mib(text) == mib


def test_parse_size_mib_refuses_garbage():
    with pytest.raises(common.LabError):
        common.parse_size_mib("lots")


def test_state_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("ROULETTE_LAB_STATE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert common.state_dir() == tmp_path / "run" / "rustkmod-roulette" / "lab"
    monkeypatch.setenv("ROULETTE_LAB_STATE", str(tmp_path / "env"))
    assert common.state_dir() == tmp_path / "env"
    assert common.state_dir(str(tmp_path / "opt")) == tmp_path / "opt"


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert common.cache_dir() == tmp_path / "rustkmod-roulette"
    assert common.key_path() == tmp_path / "rustkmod-roulette" / "ssh" / "id_ed25519"


def test_disk_path_is_per_state_dir_and_name(cache, tmp_path):
    one = common.disk_path(tmp_path / "state-a" / "vm1")
    assert one.parent.parent == cache / "disks"
    assert one.name == "vm1.qcow2"
    assert one != common.disk_path(tmp_path / "state-b" / "vm1")
    assert one == common.disk_path(tmp_path / "state-a" / "vm1")


def test_missing_tools_name_the_apt_packages(monkeypatch):
    monkeypatch.setattr(common.shutil, "which", lambda tool: None)
    with pytest.raises(common.LabError, match="qemu-system-x86 qemu-utils mmdebstrap"):
        common.require_tools("qemu-system-x86_64")


MOUNTINFO = """\
22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
42 22 0:39 / /srv/build/proc rw,relatime - proc proc rw
43 22 0:5 / /srv/build/dev rw,nosuid - devtmpfs udev rw
44 43 0:6 / /srv/build/dev/pts rw,nosuid - devpts devpts rw
45 22 0:39 / /srv/build-other/proc rw,relatime - proc proc rw
46 22 0:40 / /srv/with\\040space/proc rw,relatime - proc proc rw
"""


def test_mounts_under_lists_deepest_first_and_only_below_the_chroot():
    points = common.mounts_under(Path("/srv/build"), MOUNTINFO)
    assert points[0] == "/srv/build/dev/pts"
    assert set(points) == {"/srv/build/proc", "/srv/build/dev", "/srv/build/dev/pts"}


def test_mounts_under_decodes_spaces():
    assert common.mounts_under(Path("/srv/with space"), MOUNTINFO) == ["/srv/with space/proc"]


def test_run_logged_names_the_log_and_its_tail(tmp_path):
    logfile = tmp_path / "build.log"
    with pytest.raises(common.LabError, match="exit 3") as err:
        common.run_logged(["sh", "-c", "echo the cause; exit 3"], logfile)
    assert "the cause" in str(err.value)
    assert logfile.read_text().startswith("+ sh -c")
