# SPDX-License-Identifier: GPL-3.0-or-later
"""SpinTally: counters from the runner's totals, the listed spins and the deaths."""

from __future__ import annotations

import pytest
from ansible_collections.rustkmod.roulette.plugins.module_utils.spin_results import SpinTally, new_facts

PARAMS = {"device": "/dev/kernel-roulette", "count": 10}


def survived(n, value):
    return {"n": n, "outcome": "survived", "value": value}


def died(n):
    return {"n": n, "outcome": "died", "value": None, "signal": "SIGSEGV", "exit_code": None,
            "time": "2026-01-01T00:00:00Z", "confirmed": True, "location": "src/lib.rs:31",
            "message": "boom", "bug_location": "shim.c:5", "kernel_lines": ["a", "Rust panic @ x:1", "b"]}


def totals(values=(), unparsed=0, chance=5):
    counts = [0] * 100
    for value in values:
        counts[value] += 1
    return {"values": counts, "unparsed": unparsed, "errors": 0, "chance": chance}


def tally(**options):
    return SpinTally(new_facts(PARAMS, False), **options)


def test_counts_and_summary():
    t = tally()
    for n, value in enumerate([5, 15, 99, 50], 1):
        t.record(survived(n, value))
    t.record(died(5))
    t.record({"n": 6, "outcome": "timeout", "value": None})
    t.record({"n": 7, "outcome": "error", "value": None, "errno": 2, "msg": "gone"})
    t.finish("error", [], 2.0, totals([5, 15, 99, 50], unparsed=1))
    f = t.facts
    assert (f["spins_done"], f["survived"], f["unparsed"], f["died"], f["timeouts"], f["errors"]) == (8, 5, 1, 1, 1, 1)
    assert f["value_summary"] == {"min": 5, "max": 99, "mean": 42.25, "histogram": [1, 1, 0, 0, 0, 1, 0, 0, 0, 1]}
    assert f["chance_seen"] == 5 and f["spins_per_second"] == 4.0 and f["observed_death_rate"] == 0.125
    assert f["first_death"]["spin"] == 5 and f["first_death"]["kernel_lines"] == ["a", "Rust panic @ x:1", "b"]
    assert "kernel_lines" not in f["deaths"][0] and f["stop_reason"] == "error"
    assert [s["n"] for s in f["spins"]] == list(range(1, 8))
    assert f["spins_truncated"] is True  # 5 survived, 4 listed


def test_listed_spins_follow_the_runner():
    t = tally(spins_limit=2)
    assert t.listed == 2
    t.record(survived(1, 50))
    t.record(survived(2, 50))
    t.record(died(5))
    t.finish("death", [], 1.0, totals([50] * 4))
    assert [s["n"] for s in t.facts["spins"]] == [1, 2, 5] and t.facts["spins_truncated"] is True
    assert t.facts["spins_done"] == 5


def test_nothing_truncated_when_every_survival_is_listed():
    t = tally(spins_limit=10)
    t.record(survived(1, 3))
    t.finish("count", [], 1.0, totals([3]))
    assert t.facts["spins_truncated"] is False and t.facts["value_summary"]["min"] == 3


def test_record_spins_false_lists_nothing():
    t = tally(record_spins=False)
    assert t.listed == 0
    t.record(died(2))
    t.finish("death", [], 1.0, totals([50]))
    assert t.facts["spins"] == [] and t.facts["died"] == 1 and t.facts["deaths"][0]["spin"] == 2
    assert t.facts["spins_truncated"] is False and t.facts["spins_done"] == 2


def test_kernel_lines_limit():
    t = tally(kernel_lines_limit=1)
    t.record(died(1))
    assert len(t.facts["first_death"]["kernel_lines"]) == 1


def test_a_million_spins_are_counters():
    counts = [10000] * 100
    t = tally()
    t.finish("count", [], 10.0, {"values": counts, "unparsed": 7, "errors": 0, "chance": 0})
    f = t.facts
    assert f["survived"] == 1000007 and f["spins_done"] == 1000007 and f["unparsed"] == 7
    assert f["value_summary"] == {"min": 0, "max": 99, "mean": 49.5, "histogram": [100000] * 10}


@pytest.mark.parametrize("elapsed", [0.0, -1.0])
def test_finish_without_time(elapsed):
    t = tally()
    t.finish("count", [], elapsed, totals(chance=None))
    assert t.facts["spins_per_second"] == 0.0 and t.facts["observed_death_rate"] == 0.0
    assert t.facts["value_summary"] == {"min": None, "max": None, "mean": None, "histogram": [0] * 10}
    assert t.facts["chance_seen"] is None
