# SPDX-License-Identifier: GPL-3.0-or-later
"""Print where scripts/demo.sh's time went, one row per phase, and keep the table as JSON.

Runs on the controller with the checkout's virtualenv, called by scripts/demo.sh as it exits
(also when a step failed: the table shows how far it got). Its arguments are the script's own
phases in the order they ran, NAME=SECONDS. The one named "playbook", the run of
playbooks/site.yml, is split by what the callback scripts/ansible_plugins/callback/roulette_phases.py
wrote (--playbook-phases): its phases (checks, plan, toolchain, build, load, spin, report) take
its place, and what no task accounts for (ansible-playbook's start-up, parsing, recap) is the row
"ansible". Without that file the row stays "playbook".

  demo_phases.py [--playbook-phases FILE] [--json OUT] [--exit-status N --stopped-in NAME] NAME=SECONDS...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PLAYBOOK = "playbook"
PLAYBOOK_OUTSIDE_TASKS = "ansible"


def shell_phase(text):
    name, sep, seconds = text.partition("=")
    try:
        if not (sep and name):
            raise ValueError
        return name, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError("not NAME=SECONDS: %r" % text) from None


def read_playbook_phases(path):
    """The callback's report, or None when there is none to read (no task ran, or no file)."""
    if path is None:
        return None
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("phases"), dict):
        return None
    return report


def merge(shell_phases, playbook_report):
    """(phase, seconds) rows in the order they ran, the playbook's row split by its report."""
    rows = []
    for name, seconds in shell_phases:
        if name != PLAYBOOK or playbook_report is None:
            rows.append((name, seconds))
            continue
        inside = [(phase, float(spent)) for phase, spent in playbook_report["phases"].items()]
        rows.append((PLAYBOOK_OUTSIDE_TASKS, max(seconds - sum(spent for _, spent in inside), 0.0)))
        rows.extend(inside)
    # A phase that ran twice (the callback's "checks" as well as a script's) is one row, where it first ran.
    merged = {}
    for name, seconds in rows:
        merged[name] = merged.get(name, 0.0) + seconds
    return list(merged.items())


def table(rows, exit_status=0, stopped_in=None, playbook_report=None):
    """The table as data: what scripts/demo.sh keeps in its directory as JSON."""
    total = sum(seconds for _, seconds in rows)
    return {
        "phases": [
            {"phase": name, "seconds": round(seconds, 1), "share": round(100.0 * seconds / total, 1) if total else 0.0}
            for name, seconds in rows
        ],
        "total_seconds": round(total, 1),
        "exit_status": exit_status,
        # The script's phase that failed (the whole "playbook" when ansible-playbook did).
        "stopped_in": stopped_in if exit_status else None,
        "playbook_complete": bool(playbook_report and playbook_report.get("complete")),
        "slowest_tasks": (playbook_report or {}).get("slowest_tasks", []),
    }


def render(data):
    width = max([len(row["phase"]) for row in data["phases"]] + [len("total")])
    lines = ["%-*s  %9s  %6s" % (width, "phase", "seconds", "share")]
    lines += ["%-*s  %9.1f  %5.1f%%" % (width, row["phase"], row["seconds"], row["share"]) for row in data["phases"]]
    total = data["total_seconds"]
    lines.append("%-*s  %9.1f  %5.1f%%   (%.1f min)" % (width, "total", total, 100.0 if data["phases"] else 0.0, total / 60))
    if data["exit_status"]:
        lines.append("The demo failed (exit status %d)%s: the times are those up to the failure."
                     % (data["exit_status"], " in its phase %s" % data["stopped_in"] if data["stopped_in"] else ""))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playbook-phases", help="the JSON file the callback roulette_phases wrote")
    parser.add_argument("--json", help="where to keep the table as JSON")
    parser.add_argument("--exit-status", type=int, default=0, help="the demo's exit status")
    parser.add_argument("--stopped-in", help="the script's phase that was running when it failed")
    parser.add_argument("phases", nargs="*", type=shell_phase, metavar="NAME=SECONDS")
    args = parser.parse_args(argv)

    report = read_playbook_phases(args.playbook_phases)
    data = table(merge(args.phases, report), args.exit_status, args.stopped_in, report)
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n")
    print(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
