# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report as data: one list of rows and the aggregates over it. Runs on the controller.

Everything the templates show is computed here (counts, the estimate, the
charts' bars as percentages, the table's pages); the templates only lay it out.
"""

from __future__ import annotations

import re
import time
from collections import Counter

from ansible_collections.rustkmod.roulette.plugins.plugin_utils import report_stats
from ansible_collections.rustkmod.roulette.plugins.plugin_utils.host_status import STATUSES, clean, host_row

STATUS_LABELS = {
    "dead": "Dead", "unreachable": "Lost", "failed": "Failed", "stuck": "Stuck",
    "alive": "Alive", "not_run": "Not run", "skipped": "Skipped",
}
STATUS_HELP = {
    "dead": "a spin killed the process (kernel BUG) or the kernel (panic)",
    "unreachable": "the host stopped answering during its spin and its console shows no panic",
    "failed": "the spin task failed",
    "stuck": "a spin's process could not be killed",
    "alive": "every spin survived",
    "not_run": "armed but not spun",
    "skipped": "not armed",
}
# Tiles shown even at zero: the outcomes a reader looks for.
ALWAYS_SHOWN = ("alive", "dead", "unreachable", "failed", "skipped")
BAD = ("dead", "unreachable", "failed", "stuck")
PAGE_SIZE = 100
KERNELS_SHOWN = 15
METHOD_TEXT = {
    report_stats.NEGATIVE_BINOMIAL: (
        "exact negative-binomial interval: every host counted here stopped spinning at a death, so the "
        "number of spins it took to see the deaths is negative binomial (bounds from its relation to the "
        "beta distribution)"),
    report_stats.CLOPPER_PEARSON: (
        "Clopper-Pearson interval: some hosts spun their whole count without stopping at a death, so the "
        "spins are (at least partly) a fixed number of trials; exact for those, conservative for hosts "
        "that stopped at a death"),
}


def natural_key(text):
    """h2 before h10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def build_report(hosts, failed_hosts=(), armed_hosts=(), title="Kernel roulette fleet report", generated=None):
    """The report (what report.json holds) from host name -> raw record (see host_status.RECORD_DOC)."""
    failed = {str(name) for name in (failed_hosts or ())}
    armed = {str(name) for name in (armed_hosts or ())}
    rows = [host_row(name, record, failed_host=str(name) in failed, armed=str(name) in armed)
            for name, record in (hosts or {}).items()]
    order = {status: index for index, status in enumerate(STATUSES)}
    rows.sort(key=lambda row: (order[row["status"]], natural_key(row["host"])))
    estimate = fleet_estimate(rows)
    return {
        "title": " ".join(clean(title).split()),
        "generated": generated or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": summarise(rows, estimate),
        "estimate": estimate,
        "estimates_by_chance": estimates_by_chance(rows),
        "first_deaths": first_death_histogram(rows),
        "kernels": kernel_outcomes(rows),
        "hosts": rows,
    }


def summarise(rows, estimate):
    summary = {"hosts": len(rows)}
    for status in STATUSES:
        summary[status] = sum(1 for row in rows if row["status"] == status)
    for key in ("spins", "survived", "died", "timeouts"):
        summary[key] = sum(row[key] or 0 for row in rows)
    summary["died_without_spins"] = sum(row["died"] for row in rows if not row["in_estimate"])
    summary["observed_death_rate"] = None if estimate["rate"] is None else round(estimate["rate"], 6)
    summary["hosts_with_notes"] = sum(1 for row in rows if row["notes"])
    return summary


def _estimate(rows):
    used = [row for row in rows if row["in_estimate"]]
    estimate = report_stats.death_chance_estimate((row["spins"], row["died"], row["ended_on_death"]) for row in used)
    estimate["method_text"] = METHOD_TEXT.get(estimate["method"])
    chances = sorted({row["chance"] for row in used if row["chance"] is not None})
    estimate["chances"] = chances
    estimate["chance_inside"] = None
    if len(chances) == 1 and estimate["rate"] is not None:
        estimate["chance_inside"] = estimate["low"] <= chances[0] / 100.0 <= estimate["high"]
    return estimate


def fleet_estimate(rows):
    """Total deaths over total spins of the hosts whose counts can be used, with its interval."""
    estimate = _estimate(rows)
    estimate["left_out"] = [row["host"] for row in rows if (row["spins"] or row["died"]) and not row["in_estimate"]]
    return estimate


def estimates_by_chance(rows):
    """One estimate per driver chance, when the fleet's hosts ran with more than one."""
    chances = sorted({row["chance"] for row in rows if row["in_estimate"] and row["chance"] is not None})
    if len(chances) < 2:
        return []
    result = []
    for chance in chances:
        estimate = _estimate([row for row in rows if row["in_estimate"] and row["chance"] == chance])
        estimate["chance"] = chance
        result.append(estimate)
    return result


def first_death_histogram(rows):
    """Spins to the first death over the spun hosts, against what their chance predicts.

    Every spun host is counted once: in the bin of its first death, as having
    survived all its spins, or as dead at a spin nobody could report (a kernel
    panic after more than one spin was asked for). Expected counts add up, host by
    host, the geometric distribution of its chance, cut at its spin count.
    """
    spun = [row for row in rows if row["status"] in ("dead", "alive", "stuck")]
    firsts = [row["first_death_spin"] for row in spun if row["status"] == "dead" and row["first_death_spin"]]
    survived = sum(1 for row in spun if row["status"] != "dead")
    unknown = sum(1 for row in spun if row["status"] == "dead" and not row["first_death_spin"])
    models = Counter()  # (chance 0..1, cap) -> hosts: every host whose expectation can be drawn
    for row in spun:
        cap = row["count"] if row["count"] else (row["spins"] if row["status"] != "dead" else None)
        if row["chance"] is not None and cap:
            models[(row["chance"] / 100.0, cap)] += 1
    reach = [min(cap, report_stats.typical_first_death(chance) or cap) for chance, cap in models if chance > 0]
    largest = max(firsts + reach + [1])

    def expected(probability):
        return round(sum(hosts * probability(chance, cap) for (chance, cap), hosts in models.items()), 3) if models else None

    bins = []
    for first, last in report_stats.first_death_bins(largest):
        observed = sum(1 for spin in firsts if spin >= first and (last is None or spin <= last))
        label = str(first) if last == first else (f"{first}\u2013{last}" if last is not None else f"{first}+")
        bins.append({"label": label, "first": first, "last": last, "observed": observed,
                     "expected": expected(lambda chance, cap, a=first, b=last: report_stats.expected_in_bin(chance, cap, a, b))})
    extra = [{"label": "survived all", "first": None, "last": None, "observed": survived,
              "expected": expected(report_stats.survival)}]
    if unknown:
        extra.append({"label": "died, spin unknown", "first": None, "last": None, "observed": unknown, "expected": None})
    peak = nice_ceiling(max([b["observed"] for b in bins + extra] + [b["expected"] or 0 for b in bins + extra]))
    for item in bins + extra:
        item["observed_pct"] = round(100.0 * item["observed"] / peak, 2)
        item["expected_pct"] = None if item["expected"] is None else round(100.0 * item["expected"] / peak, 2)
    chances = sorted({chance for chance, _cap in models})
    return {"hosts": len(spun), "modelled_hosts": sum(models.values()), "peak": peak, "bins": bins, "extra": extra,
            "chances": [_percent(chance) for chance in chances]}


def _percent(rate):
    value = round(rate * 100, 6)
    return int(value) if value == int(value) else value


def nice_ceiling(value):
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least value: the top of a chart's scale."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def kernel_outcomes(rows):
    """Every host's status, per kernel release: the most common releases, then the others together."""
    groups = {}
    for row in rows:
        groups.setdefault(row["kernel"] or "unknown kernel", []).append(row)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), natural_key(item[0])))
    shown = ranked[:KERNELS_SHOWN]
    rest = [row for _name, group in ranked[KERNELS_SHOWN:] for row in group]
    if rest:
        shown.append((f"{len(ranked) - KERNELS_SHOWN} other releases", rest))
    result = []
    for name, group in shown:
        counts = [{"status": status, "count": sum(1 for row in group if row["status"] == status)} for status in STATUSES]
        counts = [dict(item, pct=round(100.0 * item["count"] / len(group), 3)) for item in counts if item["count"]]
        result.append({"kernel": name, "hosts": len(group), "counts": counts})
    return result


def table_groups(rows, page_size=PAGE_SIZE):
    """The table by status, worst first, in pages: the first page of a bad status (or a short group) open."""
    groups = []
    for status in STATUSES:
        members = [row for row in rows if row["status"] == status]
        if not members:
            continue
        pages = []
        for start in range(0, len(members), page_size):
            chunk = members[start:start + page_size]
            pages.append({"first": start + 1, "last": start + len(chunk), "rows": chunk,
                          "open": start == 0 and (status in BAD or len(members) <= page_size)})
        groups.append({"status": status, "label": STATUS_LABELS[status], "help": STATUS_HELP[status],
                       "count": len(members), "pages": pages})
    return groups


def tiles(summary):
    return [{"status": status, "label": STATUS_LABELS[status], "help": STATUS_HELP[status], "count": summary[status]}
            for status in STATUSES if status in ALWAYS_SHOWN or summary[status]]
