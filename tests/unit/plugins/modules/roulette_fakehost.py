# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake host tree (/proc, /sys, /dev) for the module tests, and exit helpers."""

from __future__ import annotations

import os
import signal
import stat
import time

import pytest

KMSG_DEATH = (
    "4,900,5000000,-;roulette: Rust panic @ src/lib.rs:31\n"
    "4,901,5000001,-;roulette: Boom!\n"
    "4,902,5000002,-;------------[ cut here ]------------\n"
    "4,903,5000003,-;kernel BUG at /build/roulette/src/shim.c:57!\n"
    " SUBSYSTEM=none\n"
    "4,904,5000004,-;invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
)


def answer(value, chance=5):
    """What the driver answers to a read that survives."""
    return f"Survived... sampled value is {value}, which is >= {chance}\n".encode()


def survive_all(path, n):
    """A reader (runs in the worker) for which every spin survives."""
    return answer(n % 95 + 5)


def die_like_bug(kmsg=None):
    """What a BUG() in the driver does to the reading process: the oops in the log, then SIGSEGV."""
    if kmsg:
        with open(kmsg, "a") as handle:
            handle.write(KMSG_DEATH)
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)  # pytest's faulthandler would print
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(5)


def dies_on(spins, kmsg=None):
    """A reader whose spins numbered in `spins` die (with the oops in `kmsg` when given)."""
    def reader(path, n):
        if n in spins:
            die_like_bug(kmsg)
        return answer(n % 95 + 5)
    return reader


class FakeHost:
    """Files a module reads, under one root; the device is a real char node."""

    def __init__(self, root):
        self.root = str(root)
        self.device = os.path.join(self.root, "dev", "kernel-roulette")
        self.kmsg = os.path.join(self.root, "dev", "kmsg")
        self.write("proc/devices", "Character devices:\n  1 kernel-roulette\n\nBlock devices:\n  8 sd\n")
        self.write("proc/sys/kernel/tainted", "12288\n")
        self.write("proc/sys/kernel/panic_on_oops", "0\n")
        self.write("proc/sys/kernel/modules_disabled", "0\n")
        self.write("proc/sys/kernel/osrelease", "6.1.0-27-amd64\n")
        self.write("proc/modules", "roulette 16384 0 - Live 0x0000000000000000 (OE)\n")
        self.write("sys/module/roulette/parameters/chance", "5\n")
        self.write("sys/module/roulette/refcnt", "0\n")
        self.write("sys/module/module/parameters/sig_enforce", "N\n")
        self.write("sys/kernel/security/lockdown", "[none] integrity confidentiality\n")
        self.write("dev/kmsg", "4,1,1000,-;old line before the run\n")
        # The driver's node: char, the major /proc/devices gives above, minor 0.
        # (1:0 is no real device: opening it fails, so a test that reads for
        # real reads `null`, /dev/null's 1:3, which answers EOF.)
        os.mknod(self.device, 0o600 | stat.S_IFCHR, os.makedev(1, 0))
        self.null = os.path.join(self.root, "dev", "null")
        os.mknod(self.null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, text):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)

    def remove(self, rel):
        path = self.path(rel)
        if os.path.isdir(path):
            import shutil
            shutil.rmtree(path)
        else:
            os.unlink(path)


@pytest.fixture
def host(tmp_path):
    return FakeHost(tmp_path)


class Exit(Exception):
    def __init__(self, kwargs):
        super().__init__(kwargs)
        self.result = kwargs


class Fail(Exit):
    pass


@pytest.fixture
def exits(monkeypatch):
    """exit_json/fail_json raise Exit/Fail carrying the result."""
    from ansible.module_utils import basic

    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        kwargs["failed"] = True
        raise Fail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    return Exit, Fail
