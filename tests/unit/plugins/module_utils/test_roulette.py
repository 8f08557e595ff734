# SPDX-License-Identifier: GPL-3.0-or-later
"""Parsers of module_utils/roulette.py against malformed and mixed input."""

from __future__ import annotations

import time
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


# A guest's serial console (QEMU -serial file:) around a real panic of the opt-in
# patch: firmware escapes, CRLF line ends, userspace output without a newline before
# a kernel line, bytes that are not UTF-8, and the panic's end trailer.
CONSOLE = (
    b"\x1bc\x1b[?7l\x1b[2J\x1b[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\r\n"
    b"Booting from ROM..\r\n"
    b"[    0.000000] Linux version 6.1.0-27-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC\r\n"
    b"[    0.000000] Command line: root=/dev/vda rw console=ttyS0 net.ifnames=0\r\n"
    b"\xff\xfe\x00\x00[    2.714120] EXT4-fs (vda): mounted filesystem with ordered data mode.\r\n"
    b"[  120.000001] roulette: Registered kernel-roulette with major device number 247\r\n"
    b"[  123.456700] Rust panic @ src/roulette.rs:89\r\n"
    b"[  123.456750] Boom!\r\n"
    b"login: [  123.456789] Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)\r\n"
    b"[  123.456800] CPU: 1 PID: 1234 Comm: python3 Tainted: G           OE      6.1.0-27-amd64 #1  Debian 6.1.115-1\r\n"
    b"[  123.456810] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014\r\n"
    b"[  123.456820] Call Trace:\r\n"
    b"[  123.456830]  <TASK>\r\n"
    b"[  123.456840]  dump_stack_lvl+0x44/0x5c\r\n"
    b"[  123.456850]  panic+0x118/0x2ed\r\n"
    b"[  123.456860]  abort+0x9/0x10 [roulette]\r\n"
    b"[  123.456870]  </TASK>\r\n"
    b"[  123.457100] Kernel Offset: 0x1c000000 from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)\r\n"
    b"[  123.457200] ---[ end Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic) ]---\r\n"
)


def test_console_findings_of_a_real_panic():
    found = r.console_findings(CONSOLE)
    assert found["panic"] == "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
    assert found["boom"] == "Boom!"
    assert found["location"] == "src/roulette.rs:89"
    assert found["oops"] is None
    assert found["lines"] == ["Rust panic @ src/roulette.rs:89", "Boom!", found["panic"]]
    assert r.console_findings(CONSOLE.decode("latin-1")) == found  # text in, same answer


def test_console_findings_of_an_oops_then_a_panic_on_oops():
    text = (
        "[   41.100000] roulette: Rust panic @ src/roulette.rs:86\n"
        "[   41.100001] roulette: Boom!\n"
        "[   41.100002] ------------[ cut here ]------------\n"
        "[   41.100003] kernel BUG at /root/kmod/src/shim.c:168!\n"
        "[   41.100004] Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n"
        "[   41.100005] BUG: unable to handle page fault for address: 0000000000001000\n"
        "[   41.200000] Kernel panic - not syncing: Fatal exception\n"
    )
    found = r.console_findings(text)
    assert found["oops"] == "kernel BUG at /root/kmod/src/shim.c:168!"
    assert found["panic"] == "Kernel panic - not syncing: Fatal exception"
    assert found["boom"] == "Boom!" and found["location"] == "src/roulette.rs:86"
    assert found["lines"] == ["Rust panic @ src/roulette.rs:86", "Boom!", found["oops"], found["panic"]]


@pytest.mark.parametrize("line, key, value", [
    ("[    5.1] BUG: kernel NULL pointer dereference, address: 0000000000000008\r\n", "oops",
     "BUG: kernel NULL pointer dereference, address: 0000000000000008"),
    ("<4>[    5.1] Oops: 0002 [#1] SMP PTI", "oops", "Oops: 0002 [#1] SMP PTI"),
    ("[    5.1] general protection fault, probably for non-canonical address 0xdead: 0000 [#1]", "oops",
     "general protection fault, probably for non-canonical address 0xdead: 0000 [#1]"),
    ("\x1b[0m[    5.1] Kernel panic - not syncing: VFS: Unable to mount root fs\r", "panic",
     "Kernel panic - not syncing: VFS: Unable to mount root fs"),
    # Only the end trailer survived (the log was cut before the panic line).
    ("[    5.2] ---[ end Kernel panic - not syncing: Fatal exception ]---", "panic",
     "Kernel panic - not syncing: Fatal exception"),
])
def test_console_findings_single_lines(line, key, value):
    assert r.console_findings(line)[key] == value


def test_console_findings_of_a_quiet_console():
    found = r.console_findings(b"[    1.0] Run /init as init process\r\nroulette-lab login: \r\n")
    assert found == {"panic": None, "oops": None, "boom": None, "location": None, "lines": []}
    assert r.console_findings(None)["lines"] == []
    # "WARNING:" and a debug option named like a BUG are not oopses.
    assert r.console_findings("[ 1.0] WARNING: CPU: 0 PID: 1 at kernel/x.c:1\nCONFIG_DEBUG_BUGVERBOSE: y\n")["oops"] is None


def test_console_findings_keep_the_first_of_each():
    text = "".join(f"[ {i}.0] BUG: soft lockup - CPU#0 stuck for {i}s!\n" for i in range(50))
    text += "[ 99.0] Kernel panic - not syncing: softlockup: hung tasks\n"
    found = r.console_findings(text)
    assert found["oops"] == "BUG: soft lockup - CPU#0 stuck for 0s!"
    assert found["panic"] == "Kernel panic - not syncing: softlockup: hung tasks"
    assert len(found["lines"]) == 2


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
    r.parse_load(line)
    r.lines_since(line, line + "\n" + line)
    assert time.perf_counter() - started < 1.0


def test_strip_prefixes_of_many_prefixes_still_strips_the_usual_ones():
    assert r.strip_prefixes("4,1,2,-;<4>[   12.345678] [  T123] kernel: roulette: Boom!") == "Boom!"
