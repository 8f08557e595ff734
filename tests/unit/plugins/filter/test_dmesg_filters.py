# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_load and dmesg_tail: the lines the kmod_load role reads after its marker."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.rustkmod.roulette.plugins.filter.dmesg import FilterModule, dmesg_tail, roulette_load

MARKER = "rustkmod.roulette: loading roulette run 42"
TEXT = """\
[   10.0] roulette: Registered kernel-roulette with major device number 240
[   10.1] roulette: Panic probability: 9/100
[   20.0] rustkmod.roulette: loading roulette run 42
[   20.1] roulette: Registered kernel-roulette with major device number 241
[   20.2] roulette: Run /bin/mknod /dev/kernel-roulette c 241 0
[   20.3] roulette: Panic probability: 5/100
"""


def test_roulette_load_reads_only_the_load_after_the_marker():
    load = roulette_load(TEXT, MARKER)
    assert (load["major"], load["chance"], load["marker_found"]) == (241, 5, True)
    assert load["mknod"] == {"path": "/dev/kernel-roulette", "major": 241, "minor": 0}
    assert len(load["lines"]) == 3


def test_roulette_load_without_the_marker_or_text():
    assert roulette_load(TEXT, "absent")["marker_found"] is False
    assert roulette_load(None, MARKER) == {"major": None, "mknod": None, "chance": None, "lines": [],
                                           "marker_found": False}


def test_dmesg_tail_gives_the_last_lines_after_the_marker():
    assert dmesg_tail(TEXT, MARKER, 2) == [
        "[   20.2] roulette: Run /bin/mknod /dev/kernel-roulette c 241 0", "[   20.3] roulette: Panic probability: 5/100"]
    assert len(dmesg_tail(TEXT, MARKER)) == 3
    assert dmesg_tail(TEXT, MARKER, "1") == ["[   20.3] roulette: Panic probability: 5/100"]


def test_dmesg_tail_of_zero_lines_is_none():
    assert dmesg_tail(TEXT, MARKER, 0) == []


@pytest.mark.parametrize("count", [-1, "abc", True])
def test_dmesg_tail_refuses_a_count_that_is_no_number_of_lines(count):
    with pytest.raises(AnsibleFilterError, match="dmesg_tail: count must be a number of lines"):
        dmesg_tail(TEXT, MARKER, count)


def test_registered_names():
    assert FilterModule().filters() == {"roulette_load": roulette_load, "dmesg_tail": dmesg_tail}
