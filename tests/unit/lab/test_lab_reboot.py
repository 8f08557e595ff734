# SPDX-License-Identifier: GPL-3.0-or-later
"""`lab.py reboot`: a VM boots a kernel it installed itself (a kernel upgrade), as grub's
default entry would, although the lab boots kernels with QEMU's -kernel.

QEMU is played by the sleeping process of test_lab_power's fixtures; the guest's SSH
commands (list /boot, copy a file out, power off) by a small fake guest."""

from __future__ import annotations

import os
import re
import signal
import subprocess

from pathlib import Path

import pytest
from roulette_lab import common, instance

OLD = "6.1.0-57-amd64"
NEW = "6.12.48+deb12-amd64"


@pytest.fixture
def guest(monkeypatch):
    """The guest's /boot and what it was asked; `systemctl poweroff` ends its QEMU."""
    state = {
        "boot": {
            f"vmlinuz-{OLD}": b"old kernel",
            f"initrd.img-{OLD}": b"old initrd",
            f"vmlinuz-{NEW}": b"new kernel",
            f"initrd.img-{NEW}": b"new initrd",
            f"config-{NEW}": b"",
            "grub": b"",
        },
        "commands": [],
    }

    def run(inst, key, command, timeout=120):
        state["commands"].append(command)
        if command == "ls -1 /boot":
            return subprocess.CompletedProcess(command, 0, "\n".join(state["boot"]).encode(), b"")
        if command.startswith("sudo cat /boot/"):
            data = state["boot"].get(command.removeprefix("sudo cat /boot/"))
            return subprocess.CompletedProcess(command, 0 if data else 1, data or b"", b"" if data else b"No such file")
        if command == "sudo systemctl poweroff":
            os.kill(inst["pid"], signal.SIGTERM)
            return subprocess.CompletedProcess(command, 255, b"", b"Connection closed")
        raise AssertionError(f"unexpected guest command {command!r}")

    monkeypatch.setattr(instance, "guest", run)
    return state


def test_releases_sort_as_versions_not_as_text():
    listing = "\n".join(
        [
            "config-6.1.0-57-amd64",
            f"vmlinuz-{OLD}",
            f"initrd.img-{OLD}",
            f"vmlinuz-{NEW}",
            f"initrd.img-{NEW}",
            "vmlinuz-6.1.0-9-amd64",
            "initrd.img-6.1.0-9-amd64",
            "vmlinuz-7.0.1-amd64",
        ]
    )  # no initrd: not bootable here
    assert instance.installed_kernels(listing) == ["6.1.0-9-amd64", OLD, NEW]


def test_reboot_boots_the_newest_installed_kernel_and_keeps_it(lab, fake_qemu, guest, boot):
    first = boot(lab)
    idir = lab / "vm1"
    assert first["kernel_release"] == OLD

    again = instance.instance_reboot("vm1", lab, timeout=30)

    assert again["kernel_release"] == NEW and again["boots"] == 2
    assert again["machine_id"] == first["machine_id"] and again["port"] == first["port"]
    assert "sudo systemctl poweroff" in guest["commands"]  # a clean shutdown, not a power cut
    assert not instance.pid_is_ours(first["pid"], str(idir))
    cmd = fake_qemu[-1]
    kernel, initrd = cmd[cmd.index("-kernel") + 1], cmd[cmd.index("-initrd") + 1]
    assert Path(kernel).read_bytes() == b"new kernel" and Path(initrd).read_bytes() == b"new initrd"
    # A power cut and a start later: the same kernel, as grub would boot it again.
    instance.power_off(idir)
    third = instance.instance_start("vm1", lab, timeout=30)
    assert third["kernel_release"] == NEW
    assert fake_qemu[-1][fake_qemu[-1].index("-kernel") + 1] == kernel


def test_reboot_into_a_named_kernel(lab, fake_qemu, guest, boot):
    boot(lab)
    instance.instance_reboot("vm1", lab, timeout=30)
    back = instance.instance_reboot("vm1", lab, timeout=30, release=OLD)
    assert back["kernel_release"] == OLD
    assert Path(fake_qemu[-1][fake_qemu[-1].index("-kernel") + 1]).read_bytes() == b"old kernel"


def test_reboot_into_a_kernel_not_installed_says_which_are_and_leaves_the_vm_running(lab, fake_qemu, guest, boot):
    first = boot(lab)
    with pytest.raises(common.LabError, match=rf"7\.0\.0-1-amd64 is not installed.*{re.escape(OLD)}, {re.escape(NEW)}"):
        instance.instance_reboot("vm1", lab, timeout=30, release="7.0.0-1-amd64")
    assert instance.pid_is_ours(first["pid"], str(lab / "vm1"))
    assert "sudo systemctl poweroff" not in guest["commands"]


def test_reboot_needs_a_running_vm(lab, fake_qemu, guest, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    with pytest.raises(common.LabError, match="not running"):
        instance.instance_reboot("vm1", lab, timeout=30)


def test_a_guest_that_does_not_power_off_loses_power(lab, fake_qemu, guest, monkeypatch, boot):
    first = boot(lab)
    real = instance.guest

    def ignores_poweroff(inst, key, command, timeout=120):
        if command == "sudo systemctl poweroff":
            return subprocess.CompletedProcess(command, 0, b"", b"")
        return real(inst, key, command, timeout)

    monkeypatch.setattr(instance, "guest", ignores_poweroff)
    again = instance.instance_reboot("vm1", lab, timeout=30, shutdown_timeout=1)
    assert not instance.pid_is_ours(first["pid"], str(lab / "vm1"))
    assert again["kernel_release"] == NEW
