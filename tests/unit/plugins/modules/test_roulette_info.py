# SPDX-License-Identifier: GPL-3.0-or-later
"""The roulette_info module against a fake /proc, /sys and /dev."""

from __future__ import annotations

import os

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rustkmod.roulette.plugins.modules import roulette_info
from roulette_fakehost import Exit


def facts(host, args=None):
    with patch_module_args(dict({"device": host.device}, **(args or {}))):
        module = roulette_info.build_module()
    return roulette_info.RouletteInfo(module, root=host.root).facts(module.params["device"])


def test_loaded_driver(host):
    info = facts(host)
    assert info["loaded"] is True
    assert info["chance"] == 5 and info["parameters"] == {"chance": "5"}
    assert info["major"] == 1 and info["refcount"] == 0
    assert info["node"]["exists"] and info["node"]["is_char"] and info["node"]["matches"] is False
    assert (info["node"]["major"], info["node"]["minor"]) == (1, 3)  # /dev/null's numbers: minor is not 0
    assert info["node"]["mode"] == "0600" and info["node"]["owner"] == "root"
    assert info["taint"]["letters"] == "OE"
    assert info["panic_on_oops"] is False and info["modules_disabled"] is False
    assert info["lockdown"] == "none" and info["sig_enforce"] is False
    assert info["module_support"] is True
    assert info["kernel_release"] == "6.1.0-27-amd64"


def test_node_matches_minor_zero(host):
    os.unlink(host.device)
    os.mknod(host.device, 0o600 | 0o020000, os.makedev(1, 0))
    assert facts(host)["node"]["matches"] is True


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


def test_main_never_changes(exits):
    with patch_module_args({"_ansible_check_mode": True}), pytest.raises(Exit) as info:
        roulette_info.main()
    result = info.value.result
    assert result["changed"] is False
    assert set(result["ansible_facts"]["roulette_info"]) >= {
        "loaded", "chance", "major", "node", "refcount", "taint", "panic_on_oops",
        "modules_disabled", "lockdown", "sig_enforce", "module_support", "kernel_release"}
