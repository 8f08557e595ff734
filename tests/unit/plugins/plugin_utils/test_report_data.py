# SPDX-License-Identifier: GPL-3.0-or-later
"""report_data: one list of rows, worst first, and the aggregates the page shows."""

from __future__ import annotations

import pytest
from ansible_collections.rustkmod.roulette.plugins.plugin_utils import report_data
from ansible_collections.rustkmod.roulette.tests.unit.plugins.plugin_utils.report_fixtures import PANIC_LINE, fleet


def test_rows_worst_first_then_by_name():
    records = {"h10": {"outcome": "spun", "roulette": {"spins_done": 5, "died": 0}},
               "h9": {"outcome": "spun", "roulette": {"spins_done": 5, "died": 1, "first_death": {"spin": 5}}},
               "h2": {"outcome": "failed", "msg": "no driver"}, "h1": {"outcome": "unreachable", "msg": "ssh"},
               "h3": {}, "h11": {"outcome": "not_armed"}, "h12": {"outcome": "spun", "roulette": {"spins_done": 5, "died": 0}}}
    report = report_data.build_report(records, armed_hosts=["h3"])
    assert [row["host"] for row in report["hosts"]] == ["h9", "h1", "h2", "h10", "h12", "h3", "h11"]
    assert [row["status"] for row in report["hosts"]] == ["dead", "unreachable", "failed", "alive", "alive", "not_run", "skipped"]


def test_summary_and_estimate_of_a_fleet():
    records, armed = fleet(40)
    report = report_data.build_report(records, armed_hosts=armed, title="forty\nhosts", generated="2026-11-26T19:00:00Z")
    summary, estimate = report["summary"], report["estimate"]
    assert report["title"] == "forty hosts"
    assert summary["hosts"] == 40 == sum(summary[status] for status in report_data.STATUSES)
    assert all(summary[status] for status in report_data.STATUSES)  # the fixture has every status
    used = [row for row in report["hosts"] if row["in_estimate"]]
    assert estimate["deaths"] == sum(row["died"] for row in used) and estimate["spins"] == sum(row["spins"] for row in used)
    assert estimate["rate"] == pytest.approx(estimate["deaths"] / estimate["spins"])
    assert estimate["low"] < estimate["rate"] < estimate["high"] and estimate["chances"] == [5]
    assert estimate["method"] == "clopper-pearson"  # some hosts spun their 30 spins and lived
    assert estimate["chance_inside"] is True
    assert summary["died_without_spins"] == sum(row["died"] for row in report["hosts"] if not row["in_estimate"])


def test_every_spun_host_is_counted_once_in_the_first_death_chart():
    records, armed = fleet(1000)
    report = report_data.build_report(records, armed_hosts=armed)
    chart = report["first_deaths"]
    spun = [row for row in report["hosts"] if row["status"] in ("dead", "alive", "stuck")]
    counted = sum(item["observed"] for item in chart["bins"] + chart["extra"])
    assert chart["hosts"] == len(spun) == counted
    panics = sum(1 for row in report["hosts"] if row["console_line"] == PANIC_LINE)
    assert panics and chart["extra"][-1] == dict(chart["extra"][-1], label="died, spin unknown", observed=panics)
    expected = sum(item["expected"] for item in chart["bins"] + chart["extra"] if item["expected"] is not None)
    assert expected == pytest.approx(chart["modelled_hosts"], abs=0.05)
    assert len(chart["bins"]) <= 20 and chart["peak"] >= max(item["observed"] for item in chart["bins"] + chart["extra"])
    assert all(0 <= item["observed_pct"] <= 100 for item in chart["bins"] + chart["extra"])


def test_kernels_beyond_fifteen_are_folded():
    records = {f"h{i}": {"outcome": "not_armed", "kernel": f"6.1.0-{i % 20}-amd64"} for i in range(100)}
    kernels = report_data.kernel_outcomes(report_data.build_report(records)["hosts"])
    assert len(kernels) == 16 and kernels[-1]["kernel"] == "5 other releases"
    assert sum(kernel["hosts"] for kernel in kernels) == 100
    assert all(sum(item["pct"] for item in kernel["counts"]) == pytest.approx(100) for kernel in kernels)


def test_table_pages():
    records, armed = fleet(1000)
    groups = report_data.table_groups(report_data.build_report(records, armed_hosts=armed)["hosts"], page_size=100)
    assert [group["status"] for group in groups] == list(report_data.STATUSES)
    assert sum(len(page["rows"]) for group in groups for page in group["pages"]) == 1000
    dead = groups[0]
    assert dead["pages"][0]["open"] and not any(page["open"] for page in dead["pages"][1:])
    alive = next(group for group in groups if group["status"] == "alive")
    assert alive["count"] > 100 and not any(page["open"] for page in alive["pages"])


def test_nice_ceiling():
    assert [report_data.nice_ceiling(v) for v in (0, 1, 1.5, 3, 7, 11, 191, 702)] == [1, 1, 2, 5, 10, 20, 200, 1000]
