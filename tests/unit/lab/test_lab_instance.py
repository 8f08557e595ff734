# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.instance: names, state files and whose QEMU a pid is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from roulette_lab import instance


@pytest.mark.parametrize("name", ["roulette-bookworm", "fleet-trixie-1", "a"])
def test_good_names(name):
    assert instance.check_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "x-", "under_score", "a/b", "a" * 64, "dot.ted"])
def test_bad_names(name):
    with pytest.raises(instance.LabError):
        instance.check_name(name)


def test_pid_check_does_not_confuse_vm1_with_vm10(tmp_path, monkeypatch):
    cmdline = f"qemu-system-x86_64\0-serial\0file:{tmp_path}/vm10/serial.log\0".encode()
    real_read = Path.read_bytes

    def fake_read(self):
        return cmdline if str(self) == "/proc/4242/cmdline" else real_read(self)

    monkeypatch.setattr(Path, "read_bytes", fake_read)
    assert instance.pid_is_ours(4242, str(tmp_path / "vm10")) is True
    assert instance.pid_is_ours(4242, str(tmp_path / "vm1")) is False


def test_no_pid_is_never_ours(tmp_path):
    assert instance.pid_is_ours(None, str(tmp_path)) is False
    assert instance.read_pid(tmp_path) is None


def test_read_instances_skips_broken_state(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "instance.json").write_text(json.dumps({"name": "a"}))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "instance.json").write_text("{not json")
    (tmp_path / "c").mkdir()
    assert instance.read_instances(tmp_path) == [{"name": "a"}]
    assert instance.read_instances(tmp_path / "missing") == []
