# SPDX-License-Identifier: GPL-3.0-or-later
"""Target-side parsers of module_utils/roulette.py against malformed and mixed input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils import roulette as r


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
    panic = r.parse_panic(text)
    assert panic["confirmed"] and panic["location"] == "src/roulette.rs:86"
    assert panic["bug_location"] == "/root/kmod/src/shim.c:168"


# 64 KB lines (a device or log that went wrong) on which a backtracking regex takes
# seconds to minutes: every parser of kernel text stays linear.
LONG_LINES = {
    "bracket_spaces_then_T": "[" + " " * 65534 + "T",
    "bracket_space_repeated": "[ " * 32768,
    "bracket_times_unclosed": "[" + "12:34:56 " * 7281,
    "priority_prefixes": "<1>" * 21845,
    "survived_spaces": "Survived" + " " * 65528,
    "survived_value_spaces": "Survived... sampled value is 5" + " " * 65500 + "x",
    "registered_spaces": "Registered kernel-roulette" + " " * 65500,
    "rust_panic_spaces": "Rust" + " " * 65530 + "x",
    "oops_spaces": "Oops" + " " * 65530 + "x",
    "kmsg_header": "1,2,3," + "x" * 65530,
}


@pytest.mark.parametrize("name", sorted(LONG_LINES))
def test_parsers_take_a_64kb_line_in_well_under_a_second(name):
    line = LONG_LINES[name]
    started = time.perf_counter()
    r.strip_prefixes(line)
    r.parse_panic(line)
    r.parse_survived(line)
    r.lines_since(line, line + "\n" + line)
    assert time.perf_counter() - started < 1.0


def test_strip_prefixes_of_many_prefixes_still_strips_the_usual_ones():
    assert r.strip_prefixes("4,1,2,-;<4>[   12.345678] [  T123] kernel: roulette: Boom!") == "Boom!"


def test_the_panic_markers_are_what_the_parsers_recognise():
    text = "\n".join("[ 1.0] " + marker + " src/roulette.rs:89" for marker in r.PANIC_MARKERS)
    found = r.parse_panic(text)
    assert found["rust_panic"] and found["boom"] and found["bug"]
    assert r.KERNEL_PANIC_MARKER not in r.PANIC_MARKERS and r.BUG_MARKER in r.OOPS_MARKERS
