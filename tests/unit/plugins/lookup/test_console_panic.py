# SPDX-License-Identifier: GPL-3.0-or-later
"""console_panic: a console log read from an offset, as spin.yml reads it around a spin."""

from __future__ import annotations

import os
import time

import pytest
from ansible.errors import AnsibleLookupError
from ansible_collections.rustkmod.roulette.plugins.lookup import console_panic
from ansible_collections.rustkmod.roulette.tests.unit.plugins.lookup.lookup_helpers import make_lookup

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
    return make_lookup(console_panic, "rustkmod.roulette.console_panic")


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


def test_a_fifo_is_refused_without_blocking(tmp_path, within_seconds):
    log = tmp_path / "serial.log"
    os.mkfifo(log)
    within_seconds(5)
    for scan in (False, True):
        with pytest.raises(AnsibleLookupError, match=r"cannot read the console log: %s is a FIFO \(named pipe\), not a regular file" % log):
            console_panic.read_console(str(log), scan=scan)


def test_a_dangling_symlink_is_refused_by_name(tmp_path):
    log = tmp_path / "serial.log"
    log.symlink_to(tmp_path / "vm1" / "serial.log")
    with pytest.raises(AnsibleLookupError, match="cannot read the console log: %s is a symbolic link to %s, which does not exist$"
                       % (log, tmp_path / "vm1" / "serial.log")):
        console_panic.read_console(str(log))


def test_a_symlink_to_a_log_is_read(tmp_path):
    (tmp_path / "real.log").write_bytes(PANIC)
    (tmp_path / "serial.log").symlink_to(tmp_path / "real.log")
    assert console_panic.read_console(str(tmp_path / "serial.log"))["panic"] is not None


# Lines a console can hold that make a backtracking regex take seconds to minutes
# (64 KB each: firmware or userspace writing without a newline).
ADVERSARIAL = {
    "bracket_spaces_then_T": "[" + " " * 65534 + "T",
    "bracket_space_repeated": "[ " * 32768,
    "bracket_digits_and_spaces": "[" + "1 " * 32767,
    "bracket_times_unclosed": "[" + "12:34:56 " * 7281,
    "bracket_word_digit_colon": "[" + "a1:" * 21845,
    "priority_prefixes": "<1>" * 21845,
    "panic_line_ending_in_spaces": "Kernel panic - not syncing: " + " " * 65500 + "x",
    "Survived_and_spaces": "Survived" + " " * 65528,
    "escape_with_parameters": "\x1b[" + "0" * 65534,
    "unterminated_OSC": "\x1b]" + "a" * 65534,
    "Rust_panic_without_location": "Rust panic @ " + "a" * 65523,
    "kernel_BUG_at_words": "kernel BUG at " + "a " * 32761,
    "kmsg_header": "1,2,3," + "x" * 65530,
    "syslog_host": "Nov 26 19:00:00 " + "h" * 65520,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_64kb_line_is_read_in_well_under_a_second(tmp_path, name):
    log = tmp_path / "serial.log"
    log.write_bytes(BOOT + ADVERSARIAL[name].encode("utf-8") + b"\r\n" + PANIC)
    started = time.perf_counter()
    found = console_panic.read_console(str(log))
    assert time.perf_counter() - started < 1.0
    assert found["location"] == "src/roulette.rs:89" and found["boom"] == "Boom!"
