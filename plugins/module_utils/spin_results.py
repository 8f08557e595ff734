# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The facts of a spin run (ansible_facts.roulette), built from the worker's results.

Runs on the target host (imported by the spin module), on its Python (3.9 or
later).  The runner reports outcomes; this file decides what the user sees:
counters, the value summary, the listed spins (bounded by spins_limit) and
the deaths.
"""

from __future__ import annotations

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import panic_window


def new_facts(params, check_mode):
    """The facts before anything is known."""
    return {
        "device": params["device"],
        "kernel_release": None,
        "panic_on_oops": None,
        "chance": None,
        "chance_seen": None,
        "major": None,
        "count_requested": params["count"],
        "spins_done": 0,
        "survived": 0,
        "unparsed": 0,
        "died": 0,
        "timeouts": 0,
        "errors": 0,
        "spins": [],
        "spins_truncated": False,
        "value_summary": {"min": None, "max": None, "mean": None, "histogram": [0] * 10},
        "first_death": None,
        "deaths": [],
        "taint_before": None,
        "taint_after": None,
        "alive": False,
        "stop_reason": None,
        "stuck_workers": [],
        "kernel_log_source": "none",
        "observed_death_rate": 0.0,
        "expected_death_rate": None,
        "elapsed": 0.0,
        "spins_per_second": 0.0,
        "started": None,
        "finished": None,
        "check_mode": check_mode,
        "problems": [],
    }


class SpinTally:
    """Adds the runner's events and counters to the facts.

    `record_spins`, `spins_limit` and `kernel_lines_limit` are the module's
    options of the same names.  Survived spins are counted from the runner's
    totals (a counter per sampled value), not one by one: memory stays flat
    however many spins are done, and only the listed spins are kept.
    """

    def __init__(self, facts, record_spins=True, spins_limit=1000, kernel_lines_limit=60):
        self.facts = facts
        self.record_spins = record_spins
        self.spins_limit = spins_limit
        self.kernel_lines_limit = kernel_lines_limit
        self._listed_survivals = 0

    @property
    def listed(self):
        """How many of the first spins the runner is to tell one by one."""
        return self.spins_limit if self.record_spins else 0

    def record(self, event):
        """One event of the runner: a listed survived spin, or a death, timeout or error."""
        facts = self.facts
        outcome = event["outcome"]
        if outcome == "survived":
            self._listed_survivals += 1
        elif outcome == "died":
            facts["died"] += 1
            lines = panic_window(event.pop("kernel_lines", []), limit=self.kernel_lines_limit)
            death = {
                "spin": event["n"],
                "value": None,
                "signal": event["signal"],
                "exit_code": event["exit_code"],
                "time": event["time"],
                "confirmed": event["confirmed"],
                "location": event["location"],
                "message": event.get("message"),
                "bug_location": event.get("bug_location"),
            }
            facts["deaths"].append(death)
            if facts["first_death"] is None:
                facts["first_death"] = dict(death, kernel_lines=lines)
        elif outcome == "timeout":
            facts["timeouts"] += 1
        else:
            facts["errors"] += 1
        if self.record_spins:
            facts["spins"].append(event)

    def finish(self, reason, stuck, elapsed, totals):
        """The totals once spinning has stopped; `totals` are the runner's counters."""
        facts = self.facts
        values = totals["values"]
        parsed = sum(values)
        facts["unparsed"] = totals["unparsed"]
        facts["survived"] = parsed + totals["unparsed"]
        facts["spins_done"] = facts["survived"] + facts["died"] + facts["timeouts"] + facts["errors"]
        facts["spins_truncated"] = bool(self.record_spins and facts["survived"] > self._listed_survivals)
        facts["chance_seen"] = totals["chance"]
        summary = facts["value_summary"]
        summary["histogram"] = [sum(values[start:start + 10]) for start in range(0, 100, 10)]
        if parsed:
            present = [value for value, times in enumerate(values) if times]
            summary["min"] = present[0]
            summary["max"] = present[-1]
            summary["mean"] = round(sum(value * times for value, times in enumerate(values)) / float(parsed), 3)
        facts["stop_reason"] = reason
        facts["stuck_workers"] = stuck
        facts["elapsed"] = round(elapsed, 6)
        done = facts["spins_done"]
        facts["spins_per_second"] = round(done / elapsed, 1) if elapsed > 0 else 0.0
        facts["observed_death_rate"] = round(facts["died"] / float(done), 6) if done else 0.0
