# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of module_utils/roulette.py against malformed and mixed input."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils import roulette as r

PLAIN = """\
[    1.000000] Linux version 6.1.0-27-amd64
[   12.345678] roulette: Registered kernel-roulette with major device number 247
[   12.345680] roulette: Run /bin/mknod /dev/kernel-roulette c 247 0
[   12.345690] roulette: Panic probability: 5/100
"""


@pytest.mark.parametrize("line, message", [
    ("[   12.345678] roulette: Boom!", "Boom!"),
    ("<4>[   12.345678] roulette: Boom!", "Boom!"),
    ("<4>Boom!", "Boom!"),
    ("2026-11-26T19:00:00,123456+00:00 roulette: Boom!", "Boom!"),
    ("2026-11-26T19:00:00.123456Z Boom!", "Boom!"),
    ("[Thu Nov 26 19:00:00 2026] roulette: Boom!", "Boom!"),
    ("[Do Nov 26 19:00:00 2026] Boom!", "Boom!"),  # German dmesg -T
    ("kern  :warn  : [   12.345678] Boom!", "Boom!"),
    ("Nov 26 19:00:00 host1 kernel: roulette: Boom!", "Boom!"),
    ("4,1234,12345678,-;roulette: Boom!", "Boom!"),
    ("[   12.345678] [  T123] roulette: Boom!", "Boom!"),
    ("[ +0.000123] Boom!\r", "Boom!"),
    ("Boom!", "Boom!"),
])
def test_strip_prefixes(line, message):
    assert r.strip_prefixes(line) == message


def test_parse_load_plain():
    load = r.parse_load(PLAIN)
    assert load["major"] == 247
    assert load["chance"] == 5
    assert load["mknod"] == {"path": "/dev/kernel-roulette", "major": 247, "minor": 0}
    assert len(load["lines"]) == 3


def test_parse_load_takes_last_load_only():
    text = PLAIN + """\
[   40.000000] roulette: Rust panic @ src/lib.rs:31
[   41.000000] roulette: Registered kernel-roulette with major device number 246
[   41.000001] roulette: Run /bin/mknod /dev/kernel-roulette c 246 0
[   41.000002] roulette: Panic probability: 50/100
"""
    load = r.parse_load(text)
    assert (load["major"], load["chance"]) == (246, 50)
    assert r.parse_major_from_dmesg(text) == 246


def test_parse_load_crlf_iso_and_priority():
    text = (
        "<6>2026-11-26T19:00:00,123456+00:00 Registered kernel-roulette with major device number 250\r\n"
        "<6>2026-11-26T19:00:00,123457+00:00 Run /bin/mknod /dev/kernel-roulette c 250 0\r\n"
        "<6>2026-11-26T19:00:00,123458+00:00 Panic probability: 0/100\r\n"
    )
    load = r.parse_load(text)
    assert (load["major"], load["chance"]) == (250, 0)


def test_parse_load_truncated_lines():
    # "Registered" line cut before its number: the mknod hint gives the major.
    text = ("[ 5.1] roulette: Registered kernel-roulette with major dev\n"
            "[ 5.2] roulette: Run /bin/mknod /dev/kernel-roulette c 240 0\n"
            "[ 5.3] roulette: Panic probabil")
    load = r.parse_load(text)
    assert load["major"] == 240
    assert load["chance"] is None


def test_parse_load_nothing():
    assert r.parse_load("")["major"] is None
    assert r.parse_load(b"\xff\xfe garbage\n")["lines"] == []
    assert r.parse_major_from_dmesg(None) is None


def test_lines_since_before_after():
    before = "[1.0] a\n[2.0] b\n[3.0] c\n"
    after = before + "[4.0] Registered kernel-roulette with major device number 9\n[5.0] d\n"
    assert r.lines_since(before, after) == [
        "[4.0] Registered kernel-roulette with major device number 9", "[5.0] d"]


def test_lines_since_wrapped_ring_buffer():
    before = "[1.0] a\n[2.0] b\n[3.0] c\n"
    after = "[2.0] b\n[3.0] c\n[4.0] new\n"  # [1.0] a fell out of the buffer
    assert r.lines_since(before, after) == ["[4.0] new"]
    assert r.lines_since(before, "[9.0] cleared\n") == ["[9.0] cleared"]
    assert r.lines_since("", "x\n") == ["x"]
    assert r.lines_since(before, before) == []


def test_lines_since_repeated_lines_without_timestamps():
    before = "x\ny\nx\ny\n"
    after = before + "z\n"
    assert r.lines_since(before, after) == ["z"]


def test_lines_after_marker_and_seconds():
    text = "[1.0] a\n[2.0] MARK\n[3.0] b\n  continuation\n"
    assert r.lines_after_marker(text, "MARK") == ["[3.0] b", "  continuation"]
    assert r.lines_after_marker(text, "absent") == r.split_lines(text)
    assert r.lines_after_seconds(text, 2.5) == ["[3.0] b", "  continuation"]
    assert r.lines_after_seconds("<4>[ 7,5] x\n", 7) == ["<4>[ 7,5] x"]
    assert r.line_seconds("no stamp") is None


def test_parse_kmsg_record():
    assert r.parse_kmsg_record(b"4,77,12345678,-;Boom!\n SUBSYSTEM=x\n") == (77, 12345678, "Boom!")
    assert r.parse_kmsg_record("4,77,1,c,caller=T1;msg") == (77, 1, "msg")
    assert r.parse_kmsg_record("junk") is None


PROC_DEVICES = """\
Character devices:
  1 mem
  4 /dev/vc/0
247 kernel-roulette
254 gpiochip

Block devices:
  8 sd
245 kernel-roulette
"""


def test_proc_devices_char_only():
    assert r.char_major(PROC_DEVICES) == 247
    parsed = r.parse_proc_devices(PROC_DEVICES)
    assert parsed["block"]["kernel-roulette"] == [245]
    assert parsed["character"]["/dev/vc/0"] == [4]


def test_proc_devices_block_only_or_missing():
    text = "Character devices:\n  1 mem\nBlock devices:\n245 kernel-roulette\n"
    assert r.char_major(text) is None
    assert r.char_major("") is None
    assert r.char_major("247 kernel-roulette\n") is None  # no section header: unknown
    assert r.char_major("Character devices:\r\n247 kernel-roulette\r\n") == 247


@pytest.mark.parametrize("text, expected", [
    ("Survived... sampled value is 42, which is >= 5\n", {"value": 42, "chance": 5}),
    (b"Survived... sampled value is 0, which is >= 0", {"value": 0, "chance": 0}),
    ("Survived\u2026 sampled value is 99, which is >= 98\r\n", {"value": 99, "chance": 98}),
    ("Survived... sampled value is", None),
    ("", None),
])
def test_parse_survived(text, expected):
    assert r.parse_survived(text) == expected


OOPS = """\
[  100.000001] roulette: Rust panic @ src/lib.rs:31
[  100.000002] roulette: Boom!
[  100.000003] ------------[ cut here ]------------
[  100.000004] kernel BUG at /tmp/kmod/src/shim.c:42!
[  100.000005] invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
[  100.000006] CPU: 0 PID: 1234 Comm: python3 Tainted: G           OE      6.1.0-27-amd64
"""


def test_parse_panic_full():
    panic = r.parse_panic(OOPS)
    assert panic["confirmed"] is True
    assert panic["location"] == "src/lib.rs:31"
    assert panic["message"] == "Boom!"
    assert panic["bug_location"] == "/tmp/kmod/src/shim.c:42"
    assert panic["oops"] is True


def test_parse_panic_partial_and_none():
    assert r.parse_panic("[1.0] Rust panic @ src/lib.rs:7:5\n[1.1] Boom!\n")["confirmed"] is True
    only_bug = r.parse_panic("kernel BUG at mm/slub.c:1!\n")
    assert only_bug["confirmed"] is False and only_bug["bug"] is True
    assert r.parse_panic("")["confirmed"] is False
    assert r.parse_panic(["<4>Rust panic @ src/lib.rs:9", "<4>Oops: 0000"])["location"] == "src/lib.rs:9"


def test_panic_window():
    lines = [f"noise {i}" for i in range(20)] + r.split_lines(OOPS)
    window = r.panic_window(lines, before=2, limit=4)
    assert window[0] == "noise 18" and len(window) == 4
    assert r.panic_window(["a", "b", "c"], limit=2) == ["b", "c"]


def test_decode_taint():
    taint = r.decode_taint("12416\n")  # D (128) + O (4096) + E (8192)
    assert taint["value"] == 12416
    assert taint["letters"] == "DOE"
    assert [f["bit"] for f in taint["flags"]] == [7, 12, 13]
    assert r.decode_taint(0) == {"value": 0, "letters": "", "flags": []}
    assert r.decode_taint("garbage")["value"] is None
    unknown = r.decode_taint(1 << 30)
    assert unknown["letters"] == "?"


def test_small_parsers():
    assert r.parse_lockdown("none [integrity] confidentiality\n") == "integrity"
    assert r.parse_lockdown("") is None
    assert r.parse_bool_param("Y\n") is True
    assert r.parse_bool_param("N") is False
    assert r.parse_bool_param("maybe") is None
    assert r.parse_int(" 3\n") == 3
    assert r.parse_int("x") is None


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("name", ["plain", "r", "iso", "T"])
def test_real_guest_dmesg_formats(name):
    """dmesg of a Debian 13 guest (6.12) with the driver: plain, -r, --time-format iso, -T."""
    text = (FIXTURES / f"dmesg-trixie-{name}.txt").read_text()
    load = r.parse_load(text)
    assert (load["major"], load["chance"]) == (244, 0)
    assert load["mknod"]["minor"] == 0
    panic = r.parse_panic(text)
    assert panic["confirmed"] and panic["location"] == "src/roulette.rs:86"
    assert panic["bug_location"] == "/root/kmod/src/shim.c:168"
