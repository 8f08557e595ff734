# SPDX-License-Identifier: GPL-3.0-or-later
"""Seconds the controller takes for a fleet of N hosts: build planning, spin bookkeeping, report.

  .venv/bin/python bench/controller_bench.py [--sizes 10,100,1000] [--build-hosts K] [--forks 10]
                                             [--repeat 1] [--before REV] [--before-max N]

Every phase runs ansible-playbook from the work tree against N local-connection targets over
3 kernel releases (bench/controller_fleet.py builds the inventories), so no VM, no device, no
host is contacted:
  planning  site.yml's tasks tagged roulette_plan, taken out of the playbook with their plays'
            hosts, serial, vars and vars_files; targets with a preflight_verdict in the inventory
            (plus K build hosts with the modules of their OS release, if asked), an empty
            controller cache (every release a miss)
  spin      the whole playbooks/spin.yml, checks.yml included, on targets that are not armed
            (roulette_armed false): each gets its not_armed record and skips the spin; then its report
            play writes the report of N skipped hosts (checked: N skipped)
  report    spin.yml's play "Write the fleet report", taken out of the playbook, on targets whose
            roulette_spin_record is a spun host's (10 spins at chance 5: about 60 % alive, the
            others dead with their death record); the report is written into a temporary
            directory and report.json is checked to have N rows
  floor     Ansible's own cost of one task on every target, skipped by a condition on the host's
            verdict, which is what any per-host task costs
Each time is a whole ansible-playbook run, its start-up included (about 2 s here). The phases
run interleaved per size and repetition, so a change in the machine's load hits all alike;
the table shows the fastest of --repeat runs. A phase that is more than linear shows in the
1000 / 100 ratio printed under the table.

--before REV adds a column: the planning of REV's site.yml (tasks tagged roulette_plan or, in
a site.yml from before the build plan such as 36e1d1f, the tasks that did its work by name),
with the work tree's plugins. That code is quadratic: sizes above --before-max (default 200)
are projected from the largest size run (a*N^2). Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from controller_fleet import planning_inventory, spun_inventory, unarmed_inventory

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REPORT_PLAY = "Write the fleet report"
# The tasks that planned the builds before they were tagged roulette_plan.
PLANNING_TASKS_BEFORE = {
    "Choose the releases to build, leaving out those the controller's cache holds",
    "Say which kernel releases this host builds for",
    "Choose where the module comes from",
    "Refuse to build here when the build hosts of this release failed",
}
# Ansible's own cost of one task on every host: a debug skipped by a condition on the host's
# own verdict, as the planning's one per-host task (the refusal) is.
FLOOR = [{"name": "One skipped task on every target", "hosts": "roulette", "gather_facts": False,
          "tasks": [{"name": "Skip", "ansible.builtin.debug": {"msg": "skipped"},
                     "when": "preflight_verdict['kernel_release'] == ''"}]}]


def git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def playbooks_dir(rev, dest):
    """dest/playbooks/ with the vars/ of `rev` (None: the work tree), for plays taken out of a playbook."""
    playbooks = dest / "playbooks"
    (dest / "files").symlink_to(ROOT / "files")  # the driver source, hashed for the cache query
    if rev is None:
        shutil.copytree(ROOT / "playbooks" / "vars", playbooks / "vars")
        return
    playbooks.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "playbooks/vars"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def playbook_text(rev, name):
    return (ROOT / "playbooks" / name).read_text() if rev is None else git("show", "%s:playbooks/%s" % (rev, name))


def is_planning(task):
    tags = task.get("tags") or []
    return "roulette_plan" in ([tags] if isinstance(tags, str) else tags) or task.get("name") in PLANNING_TASKS_BEFORE


def planning_plays(site_text):
    """site.yml's plays with only their planning tasks; plays without any are left out."""
    plays = []
    for play in yaml.safe_load(site_text):
        if "import_playbook" in play:
            continue
        tasks = [task for task in play.get("tasks") or [] if is_planning(task)]
        if tasks:
            play = {key: value for key, value in play.items() if key not in ("roles", "pre_tasks", "post_tasks")}
            plays.append(dict(play, tasks=tasks))
    if not plays:
        raise SystemExit("no planning task found in this site.yml")
    return plays


def report_plays(spin_text):
    """spin.yml's report play, as it is."""
    plays = [play for play in yaml.safe_load(spin_text) if play.get("name") == REPORT_PLAY]
    if len(plays) != 1:
        raise SystemExit("spin.yml has %d plays named %r, not one" % (len(plays), REPORT_PLAY))
    return plays


def check_report(report_dir, size, status):
    """report.json has a row for each of the N targets, every one of them `status`."""
    report = json.loads((report_dir / "report.json").read_text())
    rows = report["hosts"]
    if len(rows) != size or report["summary"]["hosts"] != size:
        raise SystemExit("the report has %d rows for %d hosts" % (len(rows), size))
    if status == "spun":
        wrong = [row["host"] for row in rows if row["status"] not in ("alive", "dead")]
    else:
        wrong = [row["host"] for row in rows if row["status"] != status]
    if wrong:
        raise SystemExit("%d of the report's rows are not %s, e.g. %s" % (len(wrong), status, wrong[0]))


class Phase:
    """One playbook run on one kind of inventory, in its own work directory."""

    def __init__(self, label, top, playbook, inventory, report_status=None, rev=None):
        self.label, self.inventory, self.report_status = label, inventory, report_status
        self.work = Path(top) / label
        self.work.mkdir()
        if isinstance(playbook, Path):
            self.playbook = playbook
        else:  # plays taken out of a playbook: beside a copy of its vars/
            playbooks_dir(rev, self.work)
            self.playbook = self.work / "playbooks" / ("%s_bench.yml" % label)
            self.playbook.write_text(yaml.safe_dump(playbook, sort_keys=False, width=1000))

    def run(self, size, forks):
        inventory = self.work / "inventory.json"
        inventory.write_text(json.dumps(self.inventory(size)))
        cache, report = self.work / "cache", self.work / "report"
        for path in (cache, report):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ROULETTE_CACHE_DIR=str(cache), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
        argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks),
                "-e", json.dumps({"roulette_report_dir": str(report)}), str(self.playbook)]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit("%s: ansible-playbook failed (rc %d) for %d hosts:\n%s%s"
                             % (self.label, done.returncode, size, done.stdout[-3000:], done.stderr[-3000:]))
        if self.report_status:
            check_report(report, size, self.report_status)
        return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--build-hosts", type=int, default=0, help="build hosts in the planning's fleet (default none)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per phase and size; the table shows the fastest (a busy machine adds noise)")
    parser.add_argument("--before", default=None, help="also time the planning of this revision's site.yml, e.g. 36e1d1f")
    parser.add_argument("--before-max", type=int, default=200, help="largest fleet to run the --before code on")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    def planning(size):
        return planning_inventory(size, args.build_hosts)

    results = {}
    with tempfile.TemporaryDirectory(prefix="roulette-controller-bench-") as top:
        phases = [Phase("planning", top, planning_plays(playbook_text(None, "site.yml")), planning),
                  Phase("spin", top, ROOT / "playbooks" / "spin.yml", unarmed_inventory, report_status="skipped"),
                  Phase("report", top, report_plays(playbook_text(None, "spin.yml")), spun_inventory,
                        report_status="spun"),
                  Phase("floor", top, FLOOR, planning)]
        if args.before:
            phases.append(Phase("before", top, planning_plays(playbook_text(args.before, "site.yml")), planning,
                                rev=args.before))
        for size in sizes:
            for _ in range(args.repeat):
                for phase in phases:
                    if phase.label == "before" and size > args.before_max:
                        continue
                    seconds = phase.run(size, args.forks)
                    results[phase.label, size] = min(seconds, results.get((phase.label, size), seconds))
                    print("%-8s %5d hosts: %7.1f s" % (phase.label, size, seconds), file=sys.stderr, flush=True)

    commit = git("rev-parse", "--short", "HEAD").strip() + ("+changes" if git("status", "--porcelain").strip() else "")
    print("controller at fleet scale, %s UTC, commit %s, %d cores, load %.2f at the end, -f %d, 3 kernel releases, "
          "%d build hosts, fastest of %d run(s)"
          % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), commit, os.cpu_count(),
             os.getloadavg()[0], args.forks, args.build_hosts, args.repeat))
    print("command: .venv/bin/python bench/controller_bench.py " + " ".join(sys.argv[1:]))
    print()
    before = " planning at %s, s |" % args.before if args.before else ""
    print("| hosts | planning, s | spin bookkeeping (not armed), s | report, s | planning + report, s "
          "| floor (one skipped task per host), s |%s" % before)
    print("| ---: | ---: | ---: | ---: | ---: | ---: |%s" % (" ---: |" if args.before else ""))
    ran = [size for size in sizes if ("before", size) in results]
    for size in sizes:
        cells = [results["planning", size], results["spin", size], results["report", size],
                 results["planning", size] + results["report", size], results["floor", size]]
        row = "| %d | %s |" % (size, " | ".join("%.1f" % cell for cell in cells))
        if args.before:
            if ("before", size) in results:
                row += " %.1f |" % results["before", size]
            elif ran:
                largest = max(ran)
                row += " ~%.0f (projected from %d hosts, N^2) |" % (
                    results["before", largest] * (size / largest) ** 2, largest)
            else:
                row += " not run |"
        print(row)
    if 1000 in sizes:
        subprocess.run([sys.executable, str(ROOT / "bench" / "latest.py"), "controller 1000 hosts",
                        "%.1f s planning + report (%.1f + %.1f); spin bookkeeping of 1000 not-armed hosts %.1f s; "
                        "load %.1f" % (results["planning", 1000] + results["report", 1000], results["planning", 1000],
                                       results["report", 1000], results["spin", 1000], os.getloadavg()[0]),
                        ".venv/bin/python bench/controller_bench.py " + " ".join(sys.argv[1:])], check=True)
    if len(sizes) > 1:
        small, large = sorted(sizes)[-2:]
        print()
        print("growth from %d to %d hosts (x%g): %s" % (small, large, large / small, ", ".join(
            "%s x%.1f" % (label, results[label, large] / results[label, small])
            for label in ("planning", "spin", "report", "floor"))))


if __name__ == "__main__":
    main()
