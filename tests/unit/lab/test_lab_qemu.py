# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.qemu: ports, memory and QEMU's command line."""

from __future__ import annotations

import socket

import pytest
from roulette_lab import qemu
from roulette_lab.image import Image


def test_pick_port_takes_the_first_free_port():
    assert qemu.pick_port(10022, set(), lambda p: True) == 10022


def test_pick_port_skips_ports_other_instances_hold():
    assert qemu.pick_port(10022, {10022, 10023}, lambda p: True) == 10024


def test_pick_port_skips_ports_bound_by_other_programs():
    busy = {10022, 10024}
    assert qemu.pick_port(10022, {10023}, lambda p: p not in busy) == 10025


def test_pick_port_fails_clearly_when_the_range_is_full():
    with pytest.raises(qemu.LabError, match="no free loopback port"):
        qemu.pick_port(10022, set(), lambda p: False, span=5)


def test_port_is_free_sees_a_bound_socket():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert qemu.port_is_free(sock.getsockname()[1]) is False


def test_memory_fits_counts_qemu_overhead_and_host_reserve():
    need_one = 2048 + qemu.QEMU_OVERHEAD_MIB + qemu.HOST_RESERVE_MIB
    assert qemu.memory_fits([2048], need_one)
    assert not qemu.memory_fits([2048], need_one - 1)
    assert not qemu.memory_fits([2048, 2048, 2048], 3 * 2048)


def test_mem_available_reads_meminfo():
    meminfo = "MemTotal:       24683656 kB\nMemAvailable:   2097152 kB\n"
    assert qemu.mem_available_mib(meminfo) == 2048


def test_qemu_uses_tcg_by_default_and_loopback_forwarding(tmp_path):
    image = Image("bookworm", tmp_path)
    spec = qemu.Spec(name="vm1", suite="bookworm", memory=1024, cpus=1)
    cmd = qemu.qemu_command(spec, image, tmp_path / "vm1", 10030, "ab" * 16)
    joined = " ".join(cmd)
    assert "-accel tcg,thread=multi -cpu max" in joined
    assert "hostfwd=tcp:127.0.0.1:10030-:22" in joined
    assert f"-serial file:{tmp_path / 'vm1' / 'serial.log'}" in joined
    assert "-daemonize" in cmd and "-pidfile" in cmd
    append = cmd[cmd.index("-append") + 1]
    assert "root=/dev/vda" in append and "console=ttyS0" in append
    assert "systemd.hostname=vm1" in append
    assert "systemd.machine_id=" + "ab" * 16 in append


def test_qemu_uses_kvm_only_when_asked(tmp_path):
    spec = qemu.Spec(name="vm1", suite="bookworm", accel="kvm")
    cmd = qemu.qemu_command(spec, Image("bookworm", tmp_path), tmp_path, 10030, "0" * 32)
    assert "kvm" in cmd[cmd.index("-accel") + 1]


def test_accel_env(monkeypatch):
    monkeypatch.delenv("ROULETTE_LAB_ACCEL", raising=False)
    assert qemu.default_accel() == "tcg"
    monkeypatch.setenv("ROULETTE_LAB_ACCEL", "kvm")
    assert qemu.default_accel() == "kvm"
    monkeypatch.setenv("ROULETTE_LAB_ACCEL", "hvf")
    with pytest.raises(qemu.LabError):
        qemu.default_accel()


def test_extra_kernel_args_go_last():
    line = qemu.kernel_cmdline("vm1", "0" * 32, "panic_on_oops=1  loglevel=7")
    assert line.split()[-2:] == ["panic_on_oops=1", "loglevel=7"]
    assert qemu.kernel_cmdline("vm1", "0" * 32).split()[-1] == "systemd.machine_id=" + "0" * 32
