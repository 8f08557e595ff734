# SPDX-License-Identifier: GPL-3.0-or-later
"""SpinTally: counters, the value summary, the listed spins and the deaths."""

from __future__ import annotations

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils.spin_results import SpinTally, new_facts

PARAMS = {"device": "/dev/kernel-roulette", "count": 10}


def survived(n, value, chance=5):
    return {"n": n, "outcome": "survived", "value": value, "chance": chance}


def died(n):
    return {"n": n, "outcome": "died", "value": None, "signal": "SIGSEGV", "exit_code": None,
            "time": "2026-01-01T00:00:00Z", "confirmed": True, "location": "src/lib.rs:31",
            "message": "boom", "bug_location": "shim.c:5", "kernel_lines": ["a", "Rust panic @ x:1", "b"]}


def tally(**options):
    return SpinTally(new_facts(PARAMS, False), **options)


def test_counts_and_summary():
    t = tally()
    for n, value in enumerate([5, 15, 99, 50], 1):
        t.record(survived(n, value))
    t.record(died(5))
    t.record({"n": 6, "outcome": "timeout", "value": None})
    t.record({"n": 7, "outcome": "error", "value": None, "errno": 2, "msg": "gone"})
    t.record({"n": 8, "outcome": "survived", "value": None, "text": "?"})
    t.finish("error", [], 2.0)
    f = t.facts
    assert (f["spins_done"], f["survived"], f["unparsed"], f["died"], f["timeouts"], f["errors"]) == (8, 5, 1, 1, 1, 1)
    assert f["value_summary"] == {"min": 5, "max": 99, "mean": 42.25, "histogram": [1, 1, 0, 0, 0, 1, 0, 0, 0, 1]}
    assert f["chance_seen"] == 5 and f["spins_per_second"] == 4.0 and f["observed_death_rate"] == 0.125
    assert f["first_death"]["spin"] == 5 and f["first_death"]["kernel_lines"] == ["a", "Rust panic @ x:1", "b"]
    assert "kernel_lines" not in f["deaths"][0] and f["stop_reason"] == "error"
    assert [s["n"] for s in f["spins"]] == list(range(1, 9))


def test_spins_limit_keeps_deaths_timeouts_errors():
    t = tally(spins_limit=2)
    for n in range(1, 5):
        t.record(survived(n, 50))
    t.record(died(5))
    t.record(survived(6, 50))
    assert [s["n"] for s in t.facts["spins"]] == [1, 2, 5] and t.facts["spins_truncated"] is True


def test_record_spins_false_lists_nothing():
    t = tally(record_spins=False)
    t.record(survived(1, 50))
    t.record(died(2))
    assert t.facts["spins"] == [] and t.facts["died"] == 1 and t.facts["deaths"][0]["spin"] == 2


def test_kernel_lines_limit():
    t = tally(kernel_lines_limit=1)
    t.record(died(1))
    assert len(t.facts["first_death"]["kernel_lines"]) == 1


@pytest.mark.parametrize("elapsed", [0.0, -1.0])
def test_finish_without_time(elapsed):
    t = tally()
    t.finish("count", [], elapsed)
    assert t.facts["spins_per_second"] == 0.0 and t.facts["observed_death_rate"] == 0.0
    assert t.facts["value_summary"]["mean"] is None
