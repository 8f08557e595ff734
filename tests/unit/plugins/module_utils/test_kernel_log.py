# SPDX-License-Identifier: GPL-3.0-or-later
"""KernelLog: new lines only, from /dev/kmsg records or two dmesg outputs."""

from __future__ import annotations

from ansible_collections.rustkmod.roulette.plugins.module_utils.kernel_log import KernelLog
from roulette_fakehost import KMSG_DEATH


def test_kmsg_starts_at_the_end(host):
    log = KernelLog(host.kmsg)
    log.start()
    try:
        assert log.source == "kmsg" and log.read_new() == []
        host.write("dev/kmsg", "4,1,1000,-;old line before the run\n" + KMSG_DEATH)
        lines = log.read_new()
    finally:
        log.close()
    assert lines[0] == "[    5.000000] roulette: Rust panic @ src/lib.rs:31"
    assert not any("old line" in line or "SUBSYSTEM" in line for line in lines)
    assert len(lines) == 5


def test_chatty_log_keeps_the_newest_records(host):
    log = KernelLog(host.kmsg)
    log.start()
    with open(host.kmsg, "a") as handle:
        handle.write("".join(f"6,{i},{i},-;noise {i}\n" for i in range(10, 12000)))
        handle.write(KMSG_DEATH)
    try:
        lines = log._read_kmsg(keep=100)
    finally:
        log.close()
    assert len(lines) == 100 and "Rust panic @" in lines[-5] and lines[0].endswith("noise 11905")


def test_dmesg_when_kmsg_cannot_be_opened(host):
    outputs = ["[ 1.0] boot\n[ 2.0] two\n", "[ 1.0] boot\n[ 2.0] two\n[ 3.0] roulette: Boom!\n"]
    log = KernelLog(host.path("no/kmsg"), dmesg=lambda: outputs[0] if len(outputs) == 2 else outputs[-1])
    log.start()
    assert log.source == "dmesg"
    outputs.pop(0)
    assert log.read_new() == ["[ 3.0] roulette: Boom!"]
    assert log.read_new() == []


def test_no_source(host):
    log = KernelLog(host.path("no/kmsg"), dmesg=lambda: None)
    log.start()
    assert log.source == "none" and log.read_new() == []
    log.close()
    log = KernelLog(host.path("no/kmsg"))
    log.start()
    assert log.source == "none"
