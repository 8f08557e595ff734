# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/load_messages: the driver's load lines in dmesg text, as the dmesg filters read them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import load_messages as r

PLAIN = """\
[    1.000000] Linux version 6.1.0-27-amd64
[   12.345678] roulette: Registered kernel-roulette with major device number 247
[   12.345680] roulette: Run /bin/mknod /dev/kernel-roulette c 247 0
[   12.345690] roulette: Panic probability: 5/100
"""


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
    assert r.parse_load(None)["major"] is None


def test_lines_after_marker():
    text = "[1.0] a\n[2.0] MARK\n[3.0] b\n  continuation\n[4.0] MARK\n[5.0] c\n"
    assert r.lines_after_marker(text, "MARK") == ["[5.0] c"]
    assert r.lines_after_marker(text, "absent") == ["[1.0] a", "[2.0] MARK", "[3.0] b", "  continuation", "[4.0] MARK",
                                                    "[5.0] c"]


FIXTURES = Path(__file__).parent.parent / "module_utils" / "fixtures"


@pytest.mark.parametrize("name", ["plain", "r", "iso", "T"])
def test_real_guest_dmesg_formats(name):
    """dmesg of a Debian 13 guest (6.12) with the driver: plain, -r, --time-format iso, -T."""
    load = r.parse_load((FIXTURES / f"dmesg-trixie-{name}.txt").read_text())
    assert (load["major"], load["chance"]) == (244, 0)
    assert load["mknod"]["minor"] == 0


@pytest.mark.parametrize("line", [
    "Registered kernel-roulette" + " " * 65500,
    "Registered kernel-roulette with major device number 5 " + "mknod " * 10000,
    "[" + " " * 65534 + "T",
    "Panic probability: " + " " * 65000,
], ids=["registered_spaces", "mknod_words", "bracket_spaces_then_T", "probability_spaces"])
def test_a_64kb_line_is_parsed_in_well_under_a_second(line):
    started = time.perf_counter()
    r.parse_load(line + "\n" + line)
    r.lines_after_marker(line, "Registered")
    assert time.perf_counter() - started < 1.0
