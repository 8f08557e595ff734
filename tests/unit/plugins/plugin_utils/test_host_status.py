# SPDX-License-Identifier: GPL-3.0-or-later
"""host_status: a host's status decided once, from its raw record, whatever the record holds."""

from __future__ import annotations

import math

import pytest
from ansible_collections.rustkmod.roulette.plugins.filter.host_outcome import FilterModule
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.host_status import host_row
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.report_data import build_report

PANIC = "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"


def facts(spins=10, died=0, **extra):
    value = {"spins_done": spins, "survived": spins - died, "died": died, "chance": 5, "alive": True,
             "stop_reason": "death" if died else "count", "first_death": None, "stuck_workers": []}
    if died:
        value["first_death"] = {"spin": spins, "location": "src/roulette.rs:89", "kernel_lines": ["Boom!"]}
    value.update(extra)
    return value


CASES = [
    # (record, failed, armed) -> (status, died, words in msg)
    ({"outcome": "spun", "roulette": facts(10, 0)}, False, True, "alive", 0, None),
    ({"outcome": "spun", "roulette": facts(7, 1)}, False, True, "dead", 1, None),
    ({"outcome": "spun", "roulette": facts(3, 0, alive=False, stuck_workers=[{"pid": 1}])}, False, True, "stuck", 0, "could not be killed"),
    ({"outcome": "unreachable", "msg": "ssh: connect to host x port 22: Connection refused"}, False, True, "unreachable", 0, "Connection refused"),
    ({"outcome": "unreachable", "msg": "Timeout", "console": {"panic": PANIC}}, False, True, "dead", 1, "kernel panic: " + PANIC),
    ({"outcome": "failed", "msg": "Shared connection to 10.0.2.15 closed.", "console": {"panic": PANIC}}, False, True, "dead", 1, PANIC),
    ({"outcome": "failed", "msg": "Shared connection to 10.0.2.15 closed.", "console": {"oops": "BUG: soft lockup"}},
     False, True, "unreachable", 0, "Shared connection"),
    # A module that failed by itself is failed even if the console shows a panic: the host answered.
    ({"outcome": "failed", "msg": "the roulette driver is not loaded", "console": {"panic": PANIC}}, False, True, "failed", 0, "not loaded"),
    ({"outcome": "not_armed"}, False, False, "skipped", 0, "not armed"),
    ({}, False, True, "not_run", 0, "not spun"),
    ({}, False, False, "skipped", 0, "not armed"),
    (None, True, True, "failed", 0, "failed before its result was recorded"),
    ({"outcome": "spun", "roulette": facts(7, 1)}, True, True, "dead", 1, None),  # the record wins
    ({"outcome": "spun"}, False, True, "failed", 0, "returned no facts"),
    ({"outcome": "exploded"}, False, True, "failed", 0, "the spin task failed"),
    ("not a mapping", False, True, "failed", 0, "unreadable record"),
]


@pytest.mark.parametrize("record, failed, armed, status, died, words", CASES)
def test_status(record, failed, armed, status, died, words):
    row = host_row("h", record, failed_host=failed, armed=armed)
    assert row["status"] == status and row["died"] == died
    if words:
        assert words in row["msg"]


@pytest.mark.parametrize("record, failed, armed, status, died, words", CASES)
def test_the_filter_and_the_report_agree(record, failed, armed, status, died, words):
    outcome = FilterModule().filters()["host_outcome"](record, failed=failed, armed=armed)
    report = build_report({"h": record}, failed_hosts=["h"] if failed else [], armed_hosts=["h"] if armed else [])
    row = dict(report["hosts"][0])
    assert row.pop("host") == "h"
    assert outcome == row


def test_a_panic_after_one_spin_counts_that_spin():
    one = host_row("h", {"outcome": "unreachable", "msg": "Timeout", "count": 1, "console": {"panic": PANIC}})
    many = host_row("h", {"outcome": "unreachable", "msg": "Timeout", "count": "100", "console": {"panic": PANIC}})
    assert (one["spins"], one["died"], one["in_estimate"], one["first_death_spin"]) == (1, 1, True, 1)
    assert (many["spins"], many["died"], many["in_estimate"]) == (None, 1, False)
    assert "left out of the estimate" in many["estimate_note"] and many["notes"] == []


@pytest.mark.parametrize("roulette, note", [
    ({"spins_done": math.inf, "died": 0}, "spins_done is not a finite number (inf)"),
    ({"spins_done": 10, "died": math.nan}, "died is not a finite number (nan)"),
    ({"spins_done": 3, "died": 5}, "died (5) is more than spins_done (3)"),
    ({"spins_done": -3, "died": 0}, "spins_done is not a count: -3"),
    ({"spins_done": True, "died": 0}, "spins_done is a boolean, not a count"),
    ({"spins_done": "abc", "died": 0}, "spins_done is not a count: 'abc'"),
    ({"spins_done": 10**20, "died": 0}, "spins_done is not a count"),
    ({"died": 0}, "spins_done is missing"),
    ({"spins_done": 10, "died": 1, "first_death": {"spin": 11}}, "first_death.spin (11) is not within the 10 spins"),
    ({"spins_done": 10, "died": 1, "first_death": "spin 3"}, "first_death is not a mapping (str): left out"),
    ({"spins_done": 10, "died": 0, "chance": 250}, "chance 250 is more than 100 %"),
    ({"spins_done": 10, "died": 0, "elapsed": math.inf}, "elapsed is not a finite number (inf)"),
    ({"spins_done": 10, "died": 1, "first_death": {"spin": 2, "kernel_lines": "Boom!"}}, "first_death.kernel_lines is a string"),
    ({"spins_done": 10, "died": 1, "first_death": {"spin": 2, "message": ["Boom", "!"]}}, "first_death.message is a list, shown joined"),
])
def test_a_malformed_record_is_shown_with_a_note(roulette, note):
    row = host_row("h", {"outcome": "spun", "roulette": roulette})
    assert any(note in text for text in row["notes"]), row["notes"]
    assert all(value is None or isinstance(value, (str, int, float, bool, list)) for value in row.values())
    for key in ("spins", "died", "chance", "elapsed", "observed_death_rate"):
        assert row[key] is None or math.isfinite(row[key])


def test_text_is_made_printable():
    row = host_row("h\x1b[31m", {"outcome": "failed", "msg": {"code": 3, "why": "no\x00 driver"}, "kernel": ["6.1", "x"],
                                 "console": {"oops": "BUG: \x07x", "lines": ["a\r\nb", 5]}})
    assert row["host"] == "h[31m"
    assert row["msg"] == '{"code": 3, "why": "no\\u0000 driver"}' and "msg is not a string (dict)" in row["notes"]
    assert row["kernel"] == "6.1; x"
    assert row["console_line"] == "BUG: x" and row["console"] == ["a\nb", "5"]


def test_when_is_the_death_or_the_end_or_the_record():
    dead = host_row("h", {"outcome": "spun", "time": "T0", "roulette": dict(facts(7, 1), finished="T2",
                                                                            first_death={"spin": 7, "time": "T1"})})
    alive = host_row("h", {"outcome": "spun", "time": "T0", "roulette": dict(facts(7, 0), finished="T2")})
    lost = host_row("h", {"outcome": "unreachable", "time": "T0"})
    assert (dead["when"], alive["when"], lost["when"]) == ("T1", "T2", "T0")
