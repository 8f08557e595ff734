# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the lab's package (molecule/shared/roulette_lab) importable, as lab.py does."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "molecule" / "shared"
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))

from roulette_lab import common, image, instance  # noqa: E402
from roulette_lab.qemu import Spec  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty lab cache (images, disks, key) of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rustkmod-roulette"


@pytest.fixture
def fake_qemu(monkeypatch):
    """Launches a stand-in for QEMU on the real command line: it writes -pidfile and keeps
    the -serial path in its own command line. Returns the command lines it was given."""
    calls: list[list[str]] = []
    procs: list[subprocess.Popen] = []

    def start_qemu(cmd):
        calls.append(cmd)
        serial = cmd[cmd.index("-serial") + 1]
        proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", serial])
        procs.append(proc)
        # QEMU -daemonize returns once the VM runs: wait until the exec shows in /proc.
        while serial.encode() not in Path(f"/proc/{proc.pid}/cmdline").read_bytes():
            time.sleep(0.01)
        pidfile = cmd[cmd.index("-pidfile") + 1]
        with open(pidfile, "w") as fh:
            fh.write(f"{proc.pid}\n")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(instance, "start_qemu", start_qemu)
    monkeypatch.setattr(instance, "ssh_ok", lambda port, key: True)
    monkeypatch.setattr(instance, "ensure_key", lambda: common.key_path())
    monkeypatch.setattr(instance, "require_tools", lambda *tools: None)
    monkeypatch.setattr(instance, "mem_available_mib", lambda: 64 * 1024)
    yield calls
    for proc in procs:
        proc.kill()
        proc.wait()


@pytest.fixture
def lab(cache, tmp_path, monkeypatch):
    """A state dir with one image; get_image never builds."""
    img = image.Image("bookworm", cache / "images" / "bookworm-0123456789ab")
    img.path.mkdir(parents=True)
    for name in ("base.raw", "vmlinuz", "initrd.img", "complete"):
        (img.path / name).write_text("")
    (img.path / "kernel-release").write_text("6.1.0-57-amd64\n")
    monkeypatch.setattr(instance, "get_image", lambda suite: img)

    def make_overlay(img, disk):
        disk.parent.mkdir(parents=True, exist_ok=True)
        disk.write_bytes(b"fresh overlay")

    monkeypatch.setattr(instance, "make_overlay", make_overlay)
    sdir = tmp_path / "state"
    sdir.mkdir()
    return sdir


@pytest.fixture
def boot(lab, fake_qemu):
    """boot(sdir) / boot(sdir, "vm2"): a new bookworm VM in the lab's state dir, as `lab.py up` makes it."""

    def up(sdir, name="vm1"):
        return instance.instance_up(Spec(name, "bookworm", 1024, 1), sdir, timeout=30)

    return up
