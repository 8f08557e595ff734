# SPDX-License-Identifier: GPL-3.0-or-later
"""DriverState against the fake host tree: the reads both modules rely on."""

from __future__ import annotations

import os
import stat

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import (
    DriverState,
    char_drivers,
    meminfo_mib,
    node_type,
)


def test_loaded_driver(host):
    state = DriverState(host.root)
    assert state.loaded() is True and state.chance() == 5 and state.major() == 1
    assert state.refcount() == 0 and state.parameters() == {"chance": "5"}
    assert state.taint()["letters"] == "OE" and state.kernel_release() == "6.1.0-27-amd64"
    assert state.panic_on_oops() is False and state.srcversion() is None
    host.write("sys/module/roulette/srcversion", "ABC123\n")
    assert state.srcversion() == "ABC123"


def test_each_read_is_fresh(host):
    """The state is read when asked, not cached: spin reads taint before and after."""
    state = DriverState(host.root)
    assert state.taint()["letters"] == "OE"
    host.write("proc/sys/kernel/tainted", "12416\n")
    assert state.taint()["letters"] == "DOE"


def test_nothing_readable(host):
    for rel in ("sys/module/roulette", "proc/devices", "proc/sys/kernel/tainted",
                "proc/sys/kernel/osrelease", "proc/sys/kernel/panic_on_oops"):
        host.remove(rel)
    state = DriverState(host.root)
    assert state.loaded() is False and state.chance() is None and state.major() is None
    assert state.parameters() == {} and state.srcversion() is None and state.refcount() is None
    assert state.taint() == {"value": None, "letters": "", "flags": []}
    assert state.kernel_release() == os.uname().release
    assert state.panic_on_oops() is None  # callers fail closed on None
    assert state.memory() == {"available_mib": None, "swap_free_mib": None}


@pytest.mark.parametrize("text, value", [("1\n", True), ("2\n", True), ("0\n", False), ("x\n", None), ("", None)])
def test_panic_on_oops(host, text, value):
    host.write("proc/sys/kernel/panic_on_oops", text)
    assert DriverState(host.root).panic_on_oops() is value


def test_node_follows_a_symlink_only_when_asked(host):
    real = host.path("dev/real")
    os.mknod(real, 0o600 | stat.S_IFCHR, os.makedev(1, 0))
    os.unlink(host.device)
    os.symlink(real, host.device)
    state = DriverState(host.root)
    plain = state.node(host.device)
    assert plain["type"] == "symlink" and plain["matches"] is False
    followed = state.node(host.device, follow=True)
    assert followed["type"] == "char" and followed["matches"] is True and followed["ours"] is True
    assert followed["driver"] == "kernel-roulette"


def test_node_reads_proc_devices_once_when_given(host):
    state = DriverState(host.root)
    node = state.node(host.device, devices="Character devices:\n  1 mem\n")
    assert node["driver"] == "mem" and node["ours"] is False  # the text given, not the fake tree's


def test_default_module_path(host):
    assert DriverState(host.root).default_module_path() == "/lib/modules/6.1.0-27-amd64/extra/roulette.ko"


def test_helpers():
    assert node_type(stat.S_IFCHR) == "char" and node_type(stat.S_IFLNK) == "symlink"
    assert node_type(0) == "other"
    assert char_drivers("Character devices:\n  4 /dev/vc/0\n  4 tty\n 10 misc\n 10 kernel-roulette\n"
                        "Block devices:\n  7 loop\n") == {4: "/dev/vc/0", 10: "kernel-roulette"}
    assert meminfo_mib("MemAvailable:   2048 kB\n", "MemAvailable") == 2
    assert meminfo_mib("MemAvailable:   2048 MB\n", "MemAvailable") is None
    assert meminfo_mib(None, "SwapFree") is None
