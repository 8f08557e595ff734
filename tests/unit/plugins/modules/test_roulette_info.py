# SPDX-License-Identifier: GPL-3.0-or-later
"""The roulette_info module against a fake /proc, /sys and /dev."""

from __future__ import annotations

import hashlib
import os
import socket
import stat

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import roulette_info
from elf_fixture import make_elf, modinfo
from roulette_fakehost import Exit


def facts(host, args=None):
    with patch_module_args(dict({"device": host.device}, **(args or {}))):
        module = roulette_info.build_module()
    return roulette_info.gather(module.params, root=host.root)


def test_loaded_driver(host):
    info = facts(host)
    assert info["loaded"] is True
    assert info["chance"] == 5 and info["parameters"] == {"chance": "5"}
    assert info["major"] == 1 and info["refcount"] == 0
    assert info["node"]["exists"] and info["node"]["is_char"] and info["node"]["matches"] is True
    assert (info["node"]["major"], info["node"]["minor"]) == (1, 0)
    assert info["node"]["mode"] == "0600" and info["node"]["owner"] == "root"
    assert info["taint"]["letters"] == "OE"
    assert info["panic_on_oops"] is False and info["modules_disabled"] is False
    assert info["lockdown"] == "none" and info["sig_enforce"] is False
    assert info["module_support"] is True
    assert info["kernel_release"] == "6.1.0-27-amd64"


def test_node_of_another_minor_does_not_match(host):
    os.unlink(host.device)
    os.mknod(host.device, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    assert facts(host)["node"]["matches"] is False


def test_node_of_another_major(host):
    host.write("proc/devices", "Character devices:\n247 kernel-roulette\n")
    node = facts(host)["node"]
    assert node["exists"] and node["matches"] is False


def test_not_loaded_no_node_locked_down(host):
    host.remove("sys/module/roulette")
    host.write("proc/devices", "Character devices:\n  1 mem\nBlock devices:\n")
    host.write("sys/kernel/security/lockdown", "none integrity [confidentiality]\n")
    host.write("sys/module/module/parameters/sig_enforce", "Y\n")
    host.write("proc/sys/kernel/panic_on_oops", "1\n")
    host.write("proc/sys/kernel/modules_disabled", "1\n")
    host.write("proc/sys/kernel/tainted", "12416\n")
    os.unlink(host.device)
    info = facts(host)
    assert info["loaded"] is False and info["chance"] is None and info["refcount"] is None
    assert info["major"] is None and info["parameters"] == {}
    assert info["node"]["exists"] is False and info["node"]["matches"] is False
    assert info["lockdown"] == "confidentiality" and info["sig_enforce"] is True
    assert info["panic_on_oops"] is True and info["modules_disabled"] is True
    assert info["taint"]["letters"] == "DOE"


def test_kernel_without_modules(host):
    for rel in ("proc/modules", "sys/kernel/security/lockdown", "sys/module/module/parameters/sig_enforce",
                "proc/sys/kernel/osrelease", "proc/sys/kernel/panic_on_oops", "proc/sys/kernel/tainted"):
        host.remove(rel)
    info = facts(host)
    assert info["module_support"] is False and info["lockdown"] is None and info["sig_enforce"] is False
    assert info["kernel_release"] == os.uname().release
    assert info["panic_on_oops"] is None and info["taint"]["value"] is None


def test_regular_file_is_not_a_char_node(host):
    os.unlink(host.device)
    host.write("dev/kernel-roulette", "")
    node = facts(host)["node"]
    assert node["exists"] is True and node["is_char"] is False and node["major"] is None


def make_char(path, major, minor):
    if os.path.lexists(path):
        os.unlink(path)
    os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(major, minor))


def test_srcversion_of_the_loaded_module(host):
    host.write("sys/module/roulette/srcversion", "9F3C6B1D2E4A5F60718293A\n")
    assert facts(host)["srcversion"] == "9F3C6B1D2E4A5F60718293A"
    host.remove("sys/module/roulette/srcversion")
    assert facts(host)["srcversion"] is None  # built-in or unreadable
    host.remove("sys/module/roulette")
    assert facts(host)["srcversion"] is None


def test_loaded_version(host):
    host.write("sys/module/roulette/version", "1.0.0+b2981c0b6499dd11\n")
    assert facts(host)["version"] == "1.0.0+b2981c0b6499dd11"
    host.remove("sys/module/roulette/version")
    assert facts(host)["version"] is None


def test_installed_module_file(host):
    ko = host.path("lib/modules/6.1.0-27-amd64/extra/roulette.ko")
    os.makedirs(os.path.dirname(ko))
    data = make_elf([(".text", b"\x90" * 8), (".modinfo", modinfo(
        license="GPL", version="1.0.0+b2981c0b6499dd11", srcversion="9F3C6B1D2E4A5F60718293A",
        vermagic="6.1.0-27-amd64 SMP mod_unload "))])
    with open(ko, "wb") as handle:
        handle.write(data)
    installed = facts(host, {"module_path": ko})["installed"]
    assert installed.pop("sha256") == hashlib.sha256(data).hexdigest()
    assert installed == {"path": ko, "exists": True, "regular": True, "size": len(data),
                         "srcversion": "9F3C6B1D2E4A5F60718293A", "version": "1.0.0+b2981c0b6499dd11",
                         "vermagic": "6.1.0-27-amd64 SMP mod_unload "}


def test_installed_module_default_path_follows_the_running_release(host):
    installed = facts(host)["installed"]
    assert installed["path"] == "/lib/modules/6.1.0-27-amd64/extra/roulette.ko"


def test_installed_module_missing_empty_or_not_elf(host):
    ko = host.path("roulette.ko")
    assert facts(host, {"module_path": ko})["installed"] == {
        "path": ko, "exists": False, "regular": False, "size": None, "sha256": None, "srcversion": None,
        "version": None, "vermagic": None}
    host.write("roulette.ko", "")
    installed = facts(host, {"module_path": ko})["installed"]
    assert installed["exists"] and installed["regular"] and installed["size"] == 0
    assert installed["srcversion"] is None and installed["vermagic"] is None
    host.write("roulette.ko", "srcversion=ABC\0vermagic=6.1\0")  # the strings, but no ELF around them
    assert facts(host, {"module_path": ko})["installed"]["srcversion"] is None


def test_installed_module_that_is_a_directory_or_a_symlink(host):
    ko = host.path("roulette.ko")
    os.mkdir(ko)
    installed = facts(host, {"module_path": ko})["installed"]
    assert installed["exists"] is True and installed["regular"] is False and installed["size"] is None
    os.rmdir(ko)
    host.write("real.ko", "")
    os.symlink(host.path("real.ko"), ko)
    installed = facts(host, {"module_path": ko})["installed"]
    assert installed["exists"] is True and installed["regular"] is False
    os.unlink(host.path("real.ko"))
    assert facts(host, {"module_path": ko})["installed"]["exists"] is True  # dangling: still something there


@pytest.mark.parametrize("make, kind", [
    (lambda path: make_char(path, 1, 0), "char"),
    (lambda path: os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(7, 0)), "block"),
    (lambda path: open(path, "w").close(), "file"),
    (os.mkdir, "directory"),
    (lambda path: os.symlink("/dev/null", path), "symlink"),
    (os.mkfifo, "fifo"),
    (lambda path: socket.socket(socket.AF_UNIX).bind(path), "socket"),
])
def test_node_type(host, make, kind):
    os.unlink(host.device)
    make(host.device)
    node = facts(host)["node"]
    assert node["exists"] is True and node["type"] == kind
    assert node["is_char"] is (kind == "char")


def test_node_type_when_nothing_is_there(host):
    os.unlink(host.device)
    node = facts(host)["node"]
    assert node["type"] is None and node["driver"] is None and node["ours"] is False


def test_symlink_to_the_right_node_is_not_ours(host):
    """lstat: a symlink to a matching node is a symlink, neither matching nor ours."""
    real = host.path("dev/real")
    make_char(real, 1, 0)
    os.unlink(host.device)
    os.symlink(real, host.device)
    node = facts(host)["node"]
    assert node["type"] == "symlink" and node["matches"] is False and node["ours"] is False
    assert node["major"] is None and node["driver"] is None


def test_node_of_the_driver_is_ours(host):
    host.write("proc/devices", "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n247 kernel-roulette\n"
                               "Block devices:\n  1 ramdisk\n")
    make_char(host.device, 247, 0)
    node = facts(host)["node"]
    assert node["driver"] == "kernel-roulette" and node["matches"] is True and node["ours"] is True
    make_char(host.device, 247, 1)  # our major, another minor: ours, but not the node a spin needs
    node = facts(host)["node"]
    assert node["ours"] is True and node["matches"] is False and node["minor"] == 1


def test_node_of_another_driver_is_not_ours(host):
    host.write("proc/devices", "Character devices:\n  1 mem\n  4 /dev/vc/0\n  4 tty\n247 kernel-roulette\n"
                               "Block devices:\n  1 ramdisk\n")
    make_char(host.device, 1, 3)  # /dev/null's numbers
    node = facts(host)["node"]
    assert node["driver"] == "mem" and node["ours"] is False and node["matches"] is False
    make_char(host.device, 4, 0)
    assert facts(host)["node"]["driver"] == "/dev/vc/0"  # the first name of a shared major


def test_stale_node_of_an_earlier_load_is_ours(host):
    """After an unload, the old node's major is registered by no character driver."""
    host.remove("sys/module/roulette")
    host.write("proc/devices", "Character devices:\n  1 mem\n  4 tty\nBlock devices:\n247 blk\n")
    make_char(host.device, 247, 0)
    node = facts(host)["node"]
    assert node["driver"] is None and node["ours"] is True and node["matches"] is False
    host.write("proc/devices", "Character devices:\n  1 mem\n240 kernel-roulette\nBlock devices:\n")
    node = facts(host)["node"]  # reloaded with another major: the old node is still ours, stale
    assert node["ours"] is True and node["matches"] is False


def test_block_device_and_file_are_not_ours(host):
    os.unlink(host.device)
    os.mknod(host.device, 0o600 | stat.S_IFBLK, os.makedev(1, 0))  # block 1:0 (same numbers as the char device)
    node = facts(host)["node"]
    assert node["type"] == "block" and (node["major"], node["minor"]) == (1, 0)
    assert node["driver"] is None and node["ours"] is False and node["matches"] is False
    os.unlink(host.device)
    host.write("dev/kernel-roulette", "")
    assert facts(host)["node"]["ours"] is False


def test_memory(host):
    host.write("proc/meminfo", "MemTotal:        2014420 kB\nMemFree:          120000 kB\n"
                               "MemAvailable:    1571234 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n")
    assert facts(host)["memory"] == {"available_mib": 1534, "swap_free_mib": 0}


@pytest.mark.parametrize("text", [None, "", "MemTotal: 100 kB\n", "MemAvailable: lots kB\nSwapFree:\n"])
def test_memory_unreadable(host, text):
    if text is not None:
        host.write("proc/meminfo", text)
    assert facts(host)["memory"] == {"available_mib": None, "swap_free_mib": None}


@pytest.mark.parametrize("text", [None, "", "garbage\n"])
def test_panic_on_oops_unreadable_is_null(host, text):
    host.remove("proc/sys/kernel/panic_on_oops")
    if text is not None:
        host.write("proc/sys/kernel/panic_on_oops", text)
    assert facts(host)["panic_on_oops"] is None


def test_main_never_changes(exits):
    with patch_module_args({"_ansible_check_mode": True}), pytest.raises(Exit) as info:
        roulette_info.main()
    result = info.value.result
    assert result["changed"] is False
    assert set(result["ansible_facts"]["roulette_info"]) >= {
        "loaded", "chance", "major", "node", "refcount", "taint", "panic_on_oops",
        "modules_disabled", "lockdown", "sig_enforce", "module_support", "kernel_release",
        "srcversion", "installed", "memory"}


def test_paths_are_reported_by_type_without_following_links(host):
    host.write("etc/unit.service", "x")
    os.symlink(host.path("nowhere"), host.path("etc/dangling"))
    paths = [host.path("etc/unit.service"), host.path("etc/dangling"), host.path("etc/none"), host.path("etc")]
    assert facts(host, {"paths": paths})["paths"] == {
        paths[0]: "file", paths[1]: "symlink", paths[2]: None, paths[3]: "directory"}
    assert facts(host)["paths"] == {}


# --- DKMS -----------------------------------------------------------------------

DKMS_LINE = "roulette/1.0.0-0123abcd4567, 6.1.0-27-amd64, x86_64: installed"


def test_dkms_is_null_without_dkms_and_parsed_with_it(host):
    assert facts(host)["dkms"] is None
    info = roulette_info.gather({"device": host.device, "module_path": None, "paths": []}, root=host.root,
                                dkms=DKMS_LINE + "\nother/2.0: added\nroulette/1.0.0-ffff: added\n")
    assert info["dkms"] == [
        {"version": "1.0.0-0123abcd4567", "kernel": "6.1.0-27-amd64", "arch": "x86_64", "state": "installed",
         "notes": [], "weak_from": None, "line": DKMS_LINE},
        {"version": "1.0.0-ffff", "kernel": None, "arch": None, "state": "added", "notes": [], "weak_from": None,
         "line": "roulette/1.0.0-ffff: added"},
    ]
    assert roulette_info.gather({"device": host.device, "module_path": None}, root=host.root, dkms="")["dkms"] == []


def test_dkms_sources_say_which_trees_are_the_collections(host):
    from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import DKMS_MARKER
    host.write("usr/src/roulette-1.0.0-0123abcd4567/dkms.conf", DKMS_MARKER + "\nPACKAGE_NAME=roulette\n")
    host.write("usr/src/roulette-0.9/dkms.conf", "PACKAGE_NAME=roulette\n")
    host.write("usr/src/linux-headers-6.1.0-27-amd64/Makefile", "")
    assert facts(host)["dkms_sources"] == [
        {"version": "0.9", "path": "/usr/src/roulette-0.9", "ours": False},
        {"version": "1.0.0-0123abcd4567", "path": "/usr/src/roulette-1.0.0-0123abcd4567", "ours": True},
    ]


def test_module_files_of_every_kernel_in_extra_and_updates_dkms(host):
    for rel in ("lib/modules/6.1.0-27-amd64/extra/roulette.ko", "lib/modules/6.1.0-27-amd64/updates/dkms/roulette.ko",
                "lib/modules/6.12.48+bpo-amd64/updates/dkms/roulette.ko.xz", "lib/modules/6.1.0-26-amd64/extra/other.ko",
                "lib/modules/6.1.0-26-amd64/kernel/drivers/roulette.ko"):
        host.write(rel, "")
    assert facts(host)["module_files"] == [
        "/lib/modules/6.1.0-27-amd64/extra/roulette.ko",
        "/lib/modules/6.1.0-27-amd64/updates/dkms/roulette.ko",
        "/lib/modules/6.12.48+bpo-amd64/updates/dkms/roulette.ko.xz",
    ]


@pytest.mark.parametrize("suffix, pack", [(".xz", "lzma"), (".gz", "gzip")])
def test_a_compressed_module_dkms_installed_is_read(host, suffix, pack):
    import importlib
    ko = host.path("lib/modules/6.12.48+bpo-amd64/updates/dkms/roulette.ko")
    os.makedirs(os.path.dirname(ko))
    data = make_elf([(".modinfo", modinfo(version="1.0.0+b2981c0b6499dd11", vermagic="6.12.48+bpo-amd64 SMP "))])
    packed = importlib.import_module(pack).compress(data)
    with open(ko + suffix, "wb") as handle:
        handle.write(packed)
    installed = facts(host, {"module_path": ko})["installed"]
    assert installed["path"] == ko + suffix and installed["regular"] and installed["size"] == len(packed)
    assert installed["version"] == "1.0.0+b2981c0b6499dd11" and installed["vermagic"] == "6.12.48+bpo-amd64 SMP "
    assert installed["sha256"] == hashlib.sha256(packed).hexdigest()
    with open(ko + suffix, "wb") as handle:
        handle.write(b"not " + pack.encode())
    assert facts(host, {"module_path": ko})["installed"]["vermagic"] is None


def test_main_runs_dkms_status_for_roulette_only(exits, tmp_path, monkeypatch):
    from ansible.module_utils import basic
    fake = tmp_path / "bin" / "dkms"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho \"$*\" > %s/args\necho 'Error! something' >&2\nprintf '%%s\\n' '%s'\n"
                    % (tmp_path, DKMS_LINE))
    fake.chmod(0o755)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: str(fake) if name == "dkms" else None)
    with patch_module_args({}), pytest.raises(Exit) as info:
        roulette_info.main()
    assert (tmp_path / "args").read_text() == "status -m roulette\n"
    assert [e["line"] for e in info.value.result["ansible_facts"]["roulette_info"]["dkms"]] == [DKMS_LINE]
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, *a, **k: None)
    with patch_module_args({}), pytest.raises(Exit) as info:
        roulette_info.main()
    assert info.value.result["ansible_facts"]["roulette_info"]["dkms"] is None
