# SPDX-License-Identifier: GPL-3.0-or-later
"""console_panic: a console log read from an offset, as spin.yml reads it around a spin."""

from __future__ import annotations

import os

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleLookupError
from ansible_collections.rustkmod.roulette.plugins.lookup import console_panic

BOOT = (b"\x1bc\x1b[?7l\x1b[2JSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
        b"[    0.000000] Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org)\r\n"
        b"[   41.100000] kernel BUG at /root/kmod/src/shim.c:168!\r\n"  # an earlier spin's oops
        b"[   41.100010] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\r\n")
PANIC = (b"[  123.456700] Rust panic @ src/roulette.rs:89\r\n"
         b"[  123.456750] Boom!\r\n"
         b"[  123.456789] Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)\r\n"
         b"[  123.456800] CPU: 1 PID: 1234 Comm: python3 Tainted: G      D    OE      6.1.0-27-amd64 #1\r\n"
         b"[  123.457200] ---[ end Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic) ]---\r\n")


@pytest.fixture
def lookup():
    """The plugin as the loader sets it up: its options come from its DOCUMENTATION."""
    name = "rustkmod.roulette.console_panic"
    if not C.config.has_configuration_definition("lookup", name):
        C.config.initialize_plugin_configuration_definitions(
            "lookup", name, yaml.safe_load(console_panic.DOCUMENTATION)["options"])
    plugin = console_panic.LookupModule()
    plugin._load_name = name
    return plugin


def test_size_then_findings_since_that_size(tmp_path, lookup):
    log = tmp_path / "serial.log"
    log.write_bytes(BOOT)
    before = lookup.run([str(log)], scan=False)[0]
    assert before["size"] == len(BOOT) and before["panic"] is None and before["oops"] is None
    with log.open("ab") as handle:
        handle.write(PANIC)
    after = lookup.run([str(log)], offset=before["size"])[0]
    assert after["size"] == len(BOOT) + len(PANIC) and after["offset"] == len(BOOT)
    assert after["panic"] == "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
    assert after["oops"] is None  # the earlier spin's BUG is before the offset
    assert after["boom"] == "Boom!" and after["location"] == "src/roulette.rs:89"
    assert after["lines"] == ["Rust panic @ src/roulette.rs:89", "Boom!", after["panic"]]


def test_whole_log_from_offset_zero(tmp_path, lookup):
    log = tmp_path / "serial.log"
    log.write_bytes(BOOT + PANIC)
    found = lookup.run([str(log)])[0]
    assert found["offset"] == 0
    assert found["oops"] == "kernel BUG at /root/kmod/src/shim.c:168!"
    assert found["panic"].startswith("Kernel panic - not syncing: kernel-roulette: Boom!")


def test_missing_file_and_empty_path_are_not_errors(tmp_path, lookup):
    for term in (str(tmp_path / "nothing.log"), ""):
        found = lookup.run([term], offset=500)[0]
        assert found["size"] == 0 and found["panic"] is None and found["lines"] == []


def test_a_shorter_file_is_read_from_its_start(tmp_path, lookup):
    log = tmp_path / "serial.log"
    log.write_bytes(PANIC)  # the VM was rebooted and its log started again
    found = lookup.run([str(log)], offset=len(BOOT) + len(PANIC) + 100)[0]
    assert found["offset"] == 0 and found["panic"] is not None


def test_one_result_per_path(tmp_path, lookup):
    quiet, dead = tmp_path / "quiet.log", tmp_path / "dead.log"
    quiet.write_bytes(b"[    1.0] Run /init as init process\r\n")
    dead.write_bytes(PANIC)
    results = lookup.run([str(quiet), str(dead)])
    assert [r["path"] for r in results] == [str(quiet), str(dead)]
    assert results[0]["panic"] is None and results[1]["panic"] is not None


def test_max_bytes_reads_the_end(tmp_path):
    log = tmp_path / "serial.log"
    log.write_bytes(BOOT + b"[  100.0] Survived... sampled value is 42, which is >= 5\r\n" * 5000 + PANIC)
    found = console_panic.read_console(str(log), max_bytes=4096)
    assert found["panic"] is not None and found["oops"] is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_log_is_an_error(tmp_path):
    log = tmp_path / "serial.log"
    log.write_bytes(PANIC)
    log.chmod(0)
    with pytest.raises(AnsibleLookupError, match="cannot read the console log"):
        console_panic.read_console(str(log))


def test_a_directory_is_an_error(tmp_path):
    with pytest.raises(AnsibleLookupError, match="cannot read the console log"):
        console_panic.read_console(str(tmp_path))
