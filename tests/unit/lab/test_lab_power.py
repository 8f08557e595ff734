# SPDX-License-Identifier: GPL-3.0-or-later
"""Power-cycling a lab VM (roulette_lab.instance): `poweroff` pulls the plug and keeps the
disk and the state, `start` (and `up`) boot that same disk again.

QEMU is played by a sleeping process whose command line names the instance directory, as
QEMU's does (that is how the lab tells its own QEMU from a recycled pid), and SSH answers
when the test says so."""

from __future__ import annotations

import argparse
import json
import struct
import time
from pathlib import Path

import pytest
from roulette_lab import cli, common, image, instance
from roulette_lab.qemu import Spec


def test_poweroff_ends_qemu_and_keeps_disk_and_state(lab, fake_qemu, boot):
    inst = boot(lab)
    idir = lab / "vm1"
    disk = common.disk_path(idir)
    disk.write_bytes(b"what the guest wrote")
    (idir / "serial.log").write_text("[  1.0] booted\n")
    assert instance.pid_is_ours(inst["pid"], str(idir))

    off = instance.power_off(idir)

    assert not instance.pid_is_ours(inst["pid"], str(idir))
    assert disk.read_bytes() == b"what the guest wrote"
    assert (idir / "serial.log").read_text() == "[  1.0] booted\n"
    saved = instance.load_instance(idir)
    assert saved["power"] == "off" and saved["pid"] is None
    assert saved["port"] == inst["port"] and saved["machine_id"] == inst["machine_id"]
    assert off == saved


def test_poweroff_kills_at_once_the_guest_gets_no_shutdown(lab, fake_qemu, monkeypatch, boot):
    boot(lab)
    sent = []
    real_kill = instance.os.kill
    monkeypatch.setattr(instance.os, "kill", lambda pid, sig: (sent.append(sig), real_kill(pid, sig)))
    instance.power_off(lab / "vm1")
    assert sent == [instance.signal.SIGKILL]


def test_poweroff_of_a_vm_already_off_changes_nothing(lab, fake_qemu, boot):
    boot(lab)
    first = instance.power_off(lab / "vm1")
    assert instance.power_off(lab / "vm1") == first


def test_poweroff_of_an_unknown_vm_is_an_error(lab):
    with pytest.raises(common.LabError, match="no instance nobody"):
        instance.power_off(lab / "nobody")


def test_status_of_a_powered_off_vm_is_off(lab, fake_qemu, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    status = instance.instance_status(instance.load_instance(lab / "vm1"), lab / "vm1")
    assert status["state"] == "off"


def test_start_boots_the_same_disk_as_the_same_machine(lab, fake_qemu, boot):
    first = boot(lab)
    idir = lab / "vm1"
    disk = common.disk_path(idir)
    disk.write_bytes(b"what the guest wrote")
    (idir / "serial.log").write_text("the first boot\n")
    instance.power_off(idir)

    again = instance.instance_start("vm1", lab, timeout=30)

    assert disk.read_bytes() == b"what the guest wrote"
    assert instance.pid_is_ours(again["pid"], str(idir))
    assert again["pid"] != first["pid"]
    assert "power" not in again
    assert again["boots"] == 2
    assert again["port"] == first["port"]  # molecule's and the user's inventories stay valid
    assert again["machine_id"] == first["machine_id"]
    assert again["boot_seconds"] >= 0
    cmd = fake_qemu[-1]
    assert f"file={disk}," in cmd[cmd.index("-drive") + 1]
    assert f"systemd.machine_id={first['machine_id']}" in cmd[cmd.index("-append") + 1]
    # The console of the boot before the power cut stays readable; serial.log is this boot's.
    assert (idir / "serial.log.1").read_text() == "the first boot\n"
    assert not (idir / "serial.log").exists()
    assert instance.load_instance(idir) == again


def test_start_takes_another_port_when_its_own_is_taken(lab, fake_qemu, monkeypatch, boot):
    first = boot(lab)
    instance.power_off(lab / "vm1")
    monkeypatch.setattr(instance, "port_is_free", lambda port: port != first["port"])
    again = instance.instance_start("vm1", lab, timeout=30)
    assert again["port"] != first["port"]


def test_start_leaves_a_running_vm_alone(lab, fake_qemu, boot):
    first = boot(lab)
    assert instance.instance_start("vm1", lab, timeout=30) == first
    assert len(fake_qemu) == 1


def test_start_of_a_running_vm_without_ssh_asks_for_a_poweroff(lab, fake_qemu, monkeypatch, boot):
    boot(lab)
    monkeypatch.setattr(instance, "ssh_ok", lambda port, key: False)
    with pytest.raises(common.LabError, match="poweroff vm1"):
        instance.instance_start("vm1", lab, timeout=30)


def test_start_needs_the_kept_disk(lab, fake_qemu, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    common.disk_path(lab / "vm1").unlink()
    with pytest.raises(common.LabError, match="disk .* is gone"):
        instance.instance_start("vm1", lab, timeout=30)


def test_start_of_an_unknown_vm_says_how_to_make_one(lab, fake_qemu):
    with pytest.raises(common.LabError, match="no instance nobody.*lab.py up nobody"):
        instance.instance_start("nobody", lab, timeout=30)


def test_a_vm_that_does_not_come_back_is_powered_off_not_removed(lab, fake_qemu, monkeypatch, boot):
    boot(lab)
    idir = lab / "vm1"
    common.disk_path(idir).write_bytes(b"what the guest wrote")
    instance.power_off(idir)
    monkeypatch.setattr(instance, "ssh_ok", lambda port, key: False)
    with pytest.raises(common.LabError, match="no SSH after 0 s"):
        instance.instance_start("vm1", lab, timeout=0)
    assert common.disk_path(idir).read_bytes() == b"what the guest wrote"
    saved = instance.load_instance(idir)
    assert saved["power"] == "off"
    assert not instance.pid_is_ours(instance.read_pid(idir), str(idir))


def test_up_boots_a_powered_off_vm_from_its_disk(lab, fake_qemu, boot):
    boot(lab)
    idir = lab / "vm1"
    common.disk_path(idir).write_bytes(b"what the guest wrote")
    instance.power_off(idir)
    again = boot(lab)
    assert common.disk_path(idir).read_bytes() == b"what the guest wrote"
    assert again["boots"] == 2


def test_up_of_a_powered_off_vm_of_another_suite_is_refused(lab, fake_qemu, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    with pytest.raises(common.LabError, match="powered-off bookworm VM"):
        instance.instance_up(Spec("vm1", "trixie", 1024, 1), lab, timeout=30)


def test_up_still_replaces_a_vm_that_died_on_its_own(lab, fake_qemu, boot):
    first = boot(lab)
    idir = lab / "vm1"
    common.disk_path(idir).write_bytes(b"a crashed VM's disk")
    instance.os.kill(first["pid"], instance.signal.SIGKILL)
    deadline = time.monotonic() + 10
    while instance.pid_is_ours(first["pid"], str(idir)) and time.monotonic() < deadline:
        time.sleep(0.05)
    again = boot(lab)
    assert common.disk_path(idir).read_bytes() == b"fresh overlay"
    assert again["boots"] == 1


def test_down_removes_a_powered_off_vm(lab, fake_qemu, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    instance.destroy(lab / "vm1")
    assert not (lab / "vm1").exists()
    assert not common.disk_path(lab / "vm1").exists()


# -- the commands ----------------------------------------------------------------------


def test_poweroff_and_start_commands_print_one_json_line_per_vm(lab, fake_qemu, capsys, boot):
    boot(lab)
    assert cli.cmd_poweroff(argparse.Namespace(state_dir=str(lab), name=["vm1"])) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["name"] == "vm1" and off["state"] == "off"
    assert off["disk"] == str(common.disk_path(lab / "vm1"))
    assert cli.cmd_start(argparse.Namespace(state_dir=str(lab), name=["vm1"], timeout=30)) == 0
    on = json.loads(capsys.readouterr().out)
    assert on["name"] == "vm1" and on["port"] and on["pid"]


def test_list_shows_a_powered_off_vm_as_off(lab, fake_qemu, capsys, boot):
    boot(lab)
    instance.power_off(lab / "vm1")
    cli.cmd_list(argparse.Namespace(state_dir=str(lab), json=False))
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[0] == "vm1" and row[4] == "off"


# -- images a powered-off VM still needs -----------------------------------------------


def qcow2_overlay(path, backing):
    """The start of a qcow2 v3 header naming a backing file, as qemu-img create writes it."""
    name = str(backing).encode()
    header = b"QFI\xfb" + struct.pack(">IQI", 3, 104, len(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.ljust(104, b"\0") + name)


def test_prune_keeps_an_image_a_kept_overlay_backs_onto(cache, monkeypatch):
    images = cache / "images"
    for name in ("bookworm-new", "bookworm-old", "bookworm-older"):
        (images / name).mkdir(parents=True)
    qcow2_overlay(cache / "disks" / "0123abcd" / "vm1.qcow2", images / "bookworm-old" / "base.raw")
    (cache / "disks" / "0123abcd" / "junk.qcow2").write_bytes(b"not qcow2")
    monkeypatch.setattr(image, "paths_in_use", lambda: "")
    image.prune_images("bookworm", keep=images / "bookworm-new")
    assert sorted(p.name for p in images.iterdir()) == ["bookworm-new", "bookworm-old"]


def test_overlay_backing_file_reads_the_qcow2_header(tmp_path):
    qcow2_overlay(tmp_path / "a.qcow2", "/cache/images/trixie-0123/base.raw")
    assert image.overlay_backing_file(tmp_path / "a.qcow2") == "/cache/images/trixie-0123/base.raw"
    (tmp_path / "b.qcow2").write_bytes(b"QFI\xfb" + struct.pack(">IQI", 3, 0, 0))
    assert image.overlay_backing_file(tmp_path / "b.qcow2") is None
    assert image.overlay_backing_file(tmp_path / "missing.qcow2") is None


def test_a_new_vm_whose_kernel_panics_at_boot_is_booted_anew_once(lab, fake_qemu, boot, monkeypatch):
    """A panic before SSH on a new VM (a TCG race at boot, seen once in the fleet) costs one
    more boot, not the run; the panicked console is kept."""
    real_start = instance.start_qemu

    def first_boot_panics(cmd):
        done = real_start(cmd)
        if len(fake_qemu) == 1:
            Path(cmd[cmd.index("-serial") + 1].removeprefix("file:")).write_text("[    2.4] Kernel panic - not syncing: Fatal exception in interrupt\n")
        return done

    monkeypatch.setattr(instance, "start_qemu", first_boot_panics)
    monkeypatch.setattr(instance, "ssh_ok", lambda port, key: len(fake_qemu) >= 2)
    inst = boot(lab)
    assert len(fake_qemu) == 2 and instance.pid_is_ours(inst["pid"], str(lab / "vm1"))
    assert "Kernel panic" in (lab / ".vm1.panicked-boot.log").read_text()


def test_a_new_vm_that_panics_twice_fails_fast_with_its_console(lab, fake_qemu, boot, monkeypatch):
    real_start = instance.start_qemu

    def always_panics(cmd):
        done = real_start(cmd)
        Path(cmd[cmd.index("-serial") + 1].removeprefix("file:")).write_text("Kernel panic - not syncing: boom\n")
        return done

    monkeypatch.setattr(instance, "start_qemu", always_panics)
    monkeypatch.setattr(instance, "ssh_ok", lambda port, key: False)
    started = time.monotonic()
    with pytest.raises(common.LabError, match="vm1: the kernel panicked while booting; serial log tail:\n.*not syncing: boom"):
        boot(lab)
    assert len(fake_qemu) == 2 and time.monotonic() - started < 25  # not the 30 s SSH timeout
    assert not (lab / "vm1").exists()
