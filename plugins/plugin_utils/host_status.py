# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host's status in the fleet report, decided here and nowhere else. Runs on the controller.

playbooks/spin.yml records what happened to each host as it was, in
`roulette_spin_record` (see RECORD_DOC); host_row() turns one record into the
report's row. Records come from playbook variables and may be anything: every
value is read defensively, and what cannot be used is said in the row's
`notes`, never raised.
"""

from __future__ import annotations

import json
import math
import re

# Worst first: the order of the report's table and tiles.
STATUSES = ("dead", "unreachable", "failed", "stuck", "alive", "not_run", "skipped")
OUTCOMES = ("not_armed", "spun", "unreachable", "failed")

RECORD_DOC = """\
outcome: not_armed, spun, unreachable or failed (as Ansible said of the spin task); a host that never
    reached the spin has no record ({} or None), and whether it is armed comes from elsewhere
time: when it was recorded (ISO 8601)
kernel: the host's kernel release, when known before the spin
count: spins asked for
msg: Ansible's message (unreachable, failed)
console: the console_panic lookup's findings since the spin began (unreachable, failed)
roulette: the spin module's ansible_facts.roulette (spun)
roulette_info: the roulette_info module's fact, when the host has it
"""

# A task that failed because the connection went away, not because the module did.
LOST_CONNECTION = re.compile(
    r"Shared connection|Connection (closed|reset|refused|timed out)|Failed to connect|ssh|Broken pipe|Timeout")
# XML 1.0 has no place for most control characters; a serial console is full of them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_BIG = 10 ** 12  # more spins than any run makes: a count beyond it is a broken record

NOT_ARMED_MSG = "not armed (set roulette_armed to true to spin it)"
NO_RECORD_MSG = ("not spun: the spin play ended before its turn (the fleet death limit, or too many failed hosts), "
                 "or the host failed in an earlier play")
FAILED_EARLY_MSG = "failed before its result was recorded"


class Reader:
    """Reads one record's values into plain, finite, printable ones, noting what it had to drop."""

    def __init__(self):
        self.notes = []

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def mapping(self, value, field):
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.note(f"{field} is not a mapping ({type(value).__name__}): left out")
        return {}

    def text(self, value, field):
        """A printable string, or None. Lists are joined; anything else is shown as JSON."""
        if value is None:
            return None
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, (list, tuple)):
            self.note(f"{field} is a list, shown joined")
            return clean("; ".join("" if item is None else str(item) for item in value))
        self.note(f"{field} is not a string ({type(value).__name__})")
        try:
            return clean(json.dumps(value, sort_keys=True, default=str, allow_nan=True))
        except (TypeError, ValueError):
            return clean(repr(value))

    def lines(self, value, field):
        """A list of printable lines, or None."""
        if value is None:
            return None
        if isinstance(value, str):
            self.note(f"{field} is a string, not a list of lines")
            value = value.splitlines()
        if not isinstance(value, (list, tuple)):
            self.note(f"{field} is not a list of lines ({type(value).__name__}): left out")
            return None
        return [clean(line if isinstance(line, str) else str(line)) for line in value]

    def count(self, value, field, required=False):
        """A whole number from 0 to 10**12, or None."""
        if value is None:
            if required:
                self.note(f"{field} is missing")
            return None
        if isinstance(value, bool):
            self.note(f"{field} is a boolean, not a count")
            return None
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip()) if value.strip() else None
            except ValueError:
                number = None
        if isinstance(number, float):
            if math.isfinite(number) and number == int(number):
                number = int(number)
            elif not math.isfinite(number):
                self.note(f"{field} is not a finite number ({number!r})")
                return None
        if not isinstance(number, int) or not 0 <= number <= _BIG:
            self.note(f"{field} is not a count: {clean(repr(value))[:60]}")
            return None
        return number

    def number(self, value, field):
        """A finite float, or None."""
        if value is None:
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.note(f"{field} is not a number: {clean(repr(value))[:60]}")
            return None
        if isinstance(value, bool) or not math.isfinite(number):
            self.note(f"{field} is not a finite number ({clean(repr(value))})")
            return None
        return number

    def chance(self, value, field):
        chance = self.count(value, field)
        if chance is not None and chance > 100:
            self.note(f"{field} {chance} is more than 100 %")
            return None
        return chance


def clean(text):
    """The text without control characters that no report format can show (tab and newline stay)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))


def decide(outcome, facts, console, msg, failed_host=False, armed=False):
    """The status and message of a host from its raw outcome: (status, msg, panic_line).

    outcome: one of OUTCOMES, or None (no record). facts: the spin facts (spun);
    console: the console's findings; msg: Ansible's message. For a host without a
    record: failed_host, whether it failed in the spin play; armed, whether it is armed.
    """
    if outcome == "spun":
        if not facts:
            return "failed", msg or "spun, but the spin returned no facts", None
        if (facts.get("died") or 0) > 0 or facts.get("first_death"):
            return "dead", msg, None
        if facts.get("stuck_workers") or (facts.get("spins_done") and facts.get("alive") is False):
            return "stuck", msg or "a spin's worker could not be killed", None
        return "alive", msg, None
    lost = outcome == "unreachable" or (outcome == "failed" and LOST_CONNECTION.search(msg or ""))
    if lost:
        panic = console.get("panic")
        if panic:
            return "dead", f"kernel panic: {panic}", panic
        return "unreachable", msg or "unreachable", None
    if outcome == "failed":
        return "failed", msg or "the spin task failed", None
    if outcome == "not_armed":
        return "skipped", msg or NOT_ARMED_MSG, None
    if failed_host:
        return "failed", msg or FAILED_EARLY_MSG, None
    if armed:
        return "not_run", msg or NO_RECORD_MSG, None
    return "skipped", msg or NOT_ARMED_MSG, None


def _spin_facts(reader, raw):
    """The spin facts the report uses, read defensively."""
    facts = reader.mapping(raw, "roulette")
    if not facts:
        return {}
    first = reader.mapping(facts.get("first_death"), "first_death")
    taint = facts.get("taint_after")
    read = {
        "spins_done": reader.count(facts.get("spins_done"), "spins_done", required=True),
        "died": reader.count(facts.get("died"), "died", required=True),
        "survived": reader.count(facts.get("survived"), "survived"),
        "timeouts": reader.count(facts.get("timeouts"), "timeouts"),
        "chance": reader.chance(facts.get("chance"), "chance"),
        "count_requested": reader.count(facts.get("count_requested"), "count_requested"),
        "kernel_release": reader.text(facts.get("kernel_release"), "kernel_release"),
        "stop_reason": reader.text(facts.get("stop_reason"), "stop_reason"),
        "finished": reader.text(facts.get("finished"), "finished"),
        "elapsed": reader.number(facts.get("elapsed"), "elapsed"),
        "alive": facts.get("alive") if isinstance(facts.get("alive"), bool) else None,
        "stuck_workers": bool(facts.get("stuck_workers")),
        "taint_after": reader.text(taint.get("letters"), "taint_after.letters") if isinstance(taint, dict) else None,
        "first_death": None,
    }
    if first:
        read["first_death"] = {
            "spin": reader.count(first.get("spin"), "first_death.spin"),
            "time": reader.text(first.get("time"), "first_death.time"),
            "confirmed": first.get("confirmed") if isinstance(first.get("confirmed"), bool) else None,
            "location": reader.text(first.get("location"), "first_death.location"),
            "message": reader.text(first.get("message"), "first_death.message"),
            "bug_location": reader.text(first.get("bug_location"), "first_death.bug_location"),
            "kernel_lines": reader.lines(first.get("kernel_lines"), "first_death.kernel_lines"),
        }
        if read["died"] == 0:
            reader.note("first_death is set but died is 0")
    elif read["died"]:
        reader.note("died is not 0 but there is no first_death")
    return read


def _check_counts(reader, facts):
    """Counts that contradict each other: noted, and the host left out of the estimate."""
    spins, died = facts["spins_done"], facts["died"]
    consistent = spins is not None and died is not None
    if consistent and died > spins:
        reader.note(f"died ({died}) is more than spins_done ({spins})")
        consistent = False
    if consistent and (facts["survived"] or 0) + died > spins:
        reader.note(f"survived and died ({facts['survived']} + {died}) are more than spins_done ({spins})")
        consistent = False
    first = facts["first_death"] or {}
    if consistent and first.get("spin") is not None and not 1 <= first["spin"] <= spins:
        reader.note(f"first_death.spin ({first['spin']}) is not within the {spins} spins")
        consistent = False
    return consistent


def host_row(name, record, failed_host=False, armed=False):
    """One host's row of the report from its raw record (see RECORD_DOC)."""
    reader = Reader()
    name = reader.text(name, "host") or "?"
    if record is None:
        record = {}
    if not isinstance(record, dict):
        reader.note(f"the record is not a mapping ({type(record).__name__})")
        record = {"outcome": "failed", "msg": "unreadable record"}
    raw_outcome = record.get("outcome")
    outcome = reader.text(raw_outcome, "outcome")
    if outcome is not None and outcome not in OUTCOMES:
        reader.note(f"unknown outcome {outcome!r}")
        outcome = "failed"
    msg = reader.text(record.get("msg"), "msg")
    facts = _spin_facts(reader, record.get("roulette")) if outcome == "spun" else {}
    console = reader.mapping(record.get("console"), "console")
    info = reader.mapping(record.get("roulette_info"), "roulette_info")
    status, msg, panic_line = decide(outcome, facts, console, msg, bool(failed_host), bool(armed))
    count = reader.count(record.get("count"), "count")

    consistent = _check_counts(reader, facts) if facts else False
    first = facts.get("first_death") or {}
    console_line = None
    console_lines = None
    if status in ("dead", "unreachable", "failed") and not facts:
        console_line = reader.text(console.get("panic") or console.get("oops"), "console.panic")
        console_lines = reader.lines(console.get("lines"), "console.lines") or None
    spins = facts.get("spins_done")
    died = facts.get("died")
    ended_on_death = facts.get("stop_reason") in ("death", "max_deaths")
    if panic_line:
        # The kernel died with the host: one death, at a spin the host could not report.
        died = 1
        spins = 1 if count == 1 else None
        ended_on_death = True
        consistent = spins is not None
    elif spins is not None and not consistent:
        reader.note("left out of the fleet's estimate")
    left_out = None
    if panic_line and spins is None:
        left_out = "a kernel panic at a spin the host could not report: left out of the estimate"
    chance = facts.get("chance")
    if chance is None:
        chance = reader.chance(info.get("chance"), "roulette_info.chance")
    location = first.get("location") or (reader.text(console.get("location"), "console.location") if not facts else None)
    when = None
    if status == "dead" and first:
        when = first.get("time")
    elif status in ("alive", "stuck"):
        when = facts.get("finished")
    when = when or reader.text(record.get("time"), "time") or facts.get("finished")
    return {
        "host": name,
        "status": status,
        "outcome": outcome,
        "msg": msg,
        "when": when,
        "kernel": (reader.text(record.get("kernel"), "kernel") or reader.text(info.get("kernel_release"), "roulette_info.kernel_release")
                   or facts.get("kernel_release")),
        "chance": chance,
        "expected_death_rate": None if chance is None else chance / 100.0,
        "count": facts.get("count_requested") if facts.get("count_requested") is not None else count,
        "spins": spins,
        "survived": facts.get("survived"),
        "died": died if died is not None else int(status == "dead"),
        "timeouts": facts.get("timeouts"),
        "observed_death_rate": round(died / float(spins), 6) if consistent and spins else None,
        "stop_reason": facts.get("stop_reason"),
        "first_death_spin": first.get("spin") if not panic_line else spins,
        "confirmed": first.get("confirmed") if first else (bool(console.get("boom") or location) if console_line else None),
        "panic_location": location,
        "panic_message": first.get("message"),
        "bug_location": first.get("bug_location"),
        "kernel_lines": first.get("kernel_lines") or None,
        "console_line": console_line,
        "console": console_lines,
        "taint_after": facts.get("taint_after"),
        "alive": facts.get("alive"),
        "elapsed": facts.get("elapsed"),
        "in_estimate": bool(consistent and spins),
        "ended_on_death": bool(ended_on_death),
        "estimate_note": left_out,
        "notes": reader.notes,
    }
