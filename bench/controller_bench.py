# SPDX-License-Identifier: GPL-3.0-or-later
"""Seconds the controller takes for site.yml's build planning, for fleets of N hosts.

  .venv/bin/python bench/controller_bench.py [--sizes 10,100,1000] [--before REV] [--after REV]
                                             [--before-max N] [--build-hosts K] [--forks 10] [--repeat 1]

For each revision the planning tasks are taken out of that revision's playbooks/site.yml as
they are, with their plays' hosts, serial, vars and vars_files (the revision's playbooks/vars/):
the tasks tagged roulette_plan, or, in a site.yml from before the build plan, the tasks that
did its work by name. They run against an inventory of N local-connection targets over 3
kernel releases (2 of Debian 12, 1 of Debian 13; plus K build hosts if asked, each with the
kmod_build_modules of its OS release as if it had built them) whose preflight_verdict is set
in the inventory, so no preflight runs, nothing is built and no host is contacted. The controller's cache is an empty directory (every release a miss).
The time is the whole ansible-playbook run, its start-up included (about 2 s here). The last
column is Ansible's own floor on the same inventory: one task on every target, skipped by a
condition on the host's verdict, which is what any per-host task costs (the planning has one
per target: its refusal check).

--after defaults to the work tree, --before to 36e1d1f (the last site.yml before the build
plan). The before code is quadratic in N; sizes above --before-max (default 200) are not
run for it, and the table shows its time projected from the largest size run (a*N^2).
The plugins come from the work tree for both revisions (the before code's lookups,
cached_module and tree_hash, are unchanged). Prints a Markdown table for bench/RESULTS.md.
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

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BEFORE = "36e1d1f"
# Kernel release -> OS release of the fleet's targets, round-robin.
RELEASES = [("6.1.0-27-amd64", "Debian", "12"), ("6.1.0-28-amd64", "Debian", "12"),
            ("6.12.48+deb13-amd64", "Debian", "13")]
# The tasks that planned the builds before they were tagged roulette_plan.
PLANNING_TASKS_BEFORE = {
    "Choose the releases to build, leaving out those the controller's cache holds",
    "Say which kernel releases this host builds for",
    "Choose where the module comes from",
    "Refuse to build here when the build hosts of this release failed",
}


def git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout


def revision_files(rev, dest):
    """playbooks/site.yml and playbooks/vars/ of `rev` (None: the work tree) under dest/playbooks/."""
    playbooks = dest / "playbooks"
    (dest / "files").symlink_to(ROOT / "files")  # the driver source, hashed for the cache query
    if rev is None:
        shutil.copytree(ROOT / "playbooks" / "vars", playbooks / "vars")
        return (ROOT / "playbooks" / "site.yml").read_text()
    playbooks.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "playbooks/vars"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return git("show", "%s:playbooks/site.yml" % rev)


def is_planning(task):
    tags = task.get("tags") or []
    return "roulette_plan" in ([tags] if isinstance(tags, str) else tags) or task.get("name") in PLANNING_TASKS_BEFORE


def planning_playbook(site_text):
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


def inventory(size, build_hosts):
    def host(number, release, distribution, version, armed):
        return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                "preflight_verdict": {"armed": armed, "kernel_release": release,
                                      "distribution": "%s %s" % (distribution, version),
                                      "release_id": "%s-%s" % (distribution, version),
                                      "os_family": "Debian", "taint": None}}
    targets = {"target-%04d" % n: host(n, *RELEASES[n % len(RELEASES)], armed=True) for n in range(size)}
    builders = {}
    for n in range(build_hosts):
        release, distribution, version = RELEASES[[0, 2][n % 2]]
        builders["build-%02d" % n] = host(n, release, distribution, version, armed=False)
        # As if it had built for its OS release's targets (no build runs here), so that the
        # targets take its module rather than being refused.
        builders["build-%02d" % n]["kmod_build_modules"] = {
            r: "/cache/%s/roulette.ko" % r for r, d, v in RELEASES if (d, v) == (distribution, version)}
    return {"roulette": {"hosts": targets}, "roulette_build": {"hosts": builders}}


# Ansible's own cost of one task on every host: a debug skipped by a condition on the host's
# own verdict, as the planning's one per-host task (the refusal) is.
FLOOR = [{"name": "One skipped task on every target", "hosts": "roulette", "gather_facts": False,
          "tasks": [{"name": "Skip", "ansible.builtin.debug": {"msg": "skipped"},
                     "when": "preflight_verdict['kernel_release'] == ''"}]}]


def run(plays_text, work, size, build_hosts, forks):
    (work / "playbooks" / "plan_bench.yml").write_text(plays_text)
    (work / "inventory.json").write_text(json.dumps(inventory(size, build_hosts)))
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ROULETTE_CACHE_DIR=str(cache), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    argv = [str(BIN / "ansible-playbook"), "-i", str(work / "inventory.json"), "-f", str(forks),
            str(work / "playbooks" / "plan_bench.yml")]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit("ansible-playbook failed (rc %d) for %d hosts:\n%s%s"
                         % (done.returncode, size, done.stdout[-3000:], done.stderr[-3000:]))
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--before", default=BEFORE, help="revision before the build plan (default %(default)s)")
    parser.add_argument("--after", default=None, help="revision to compare (default: the work tree)")
    parser.add_argument("--before-max", type=int, default=200, help="largest fleet to run the before code on")
    parser.add_argument("--build-hosts", type=int, default=0, help="build hosts in the fleet (default none)")
    parser.add_argument("--forks", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per revision and size; the table shows the fastest (a busy machine adds noise)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    results = {}
    with tempfile.TemporaryDirectory(prefix="roulette-controller-bench-") as top:
        playbooks = {}
        for label, rev in (("before", args.before), ("after", args.after), ("floor", None)):
            work = Path(top) / label
            work.mkdir()
            site = revision_files(rev, work)
            plays = planning_playbook(site) if label != "floor" else FLOOR
            playbooks[label] = work, yaml.safe_dump(plays, sort_keys=False, width=1000)
        # Interleaved, so that a change in the machine's load hits all three alike.
        for size in sizes:
            for _ in range(args.repeat):
                for label, (work, plays) in playbooks.items():
                    if label == "before" and size > args.before_max:
                        continue
                    seconds = run(plays, work, size, args.build_hosts, args.forks)
                    results[label, size] = min(seconds, results.get((label, size), seconds))
                    print("%-6s %5d hosts: %7.1f s" % (label, size, seconds), file=sys.stderr, flush=True)

    before_label = args.before
    after_label = args.after or "work tree at %s%s" % (git("rev-parse", "--short", "HEAD").strip(),
                                                       "+changes" if git("status", "--porcelain").strip() else "")
    ran = [size for size in sizes if ("before", size) in results]
    print("controller planning, %s UTC, %d cores, load %.1f at the end, -f %d, 3 kernel releases, %d build hosts, "
          "fastest of %d run(s)" % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                                    os.cpu_count(), os.getloadavg()[0], args.forks, args.build_hosts, args.repeat))
    print("command: .venv/bin/python bench/controller_bench.py " + " ".join(sys.argv[1:]))
    print()
    print("| hosts | before (%s), s | after (%s), s | one skipped task per host, s |" % (before_label, after_label))
    print("| ---: | ---: | ---: | ---: |")
    for size in sizes:
        if ("before", size) in results:
            before = "%.1f" % results["before", size]
        elif ran:
            largest = max(ran)
            before = "~%.0f (projected from %d hosts, N^2)" % (results["before", largest] * (size / largest) ** 2,
                                                               largest)
        else:
            before = "not run"
        print("| %d | %s | %.1f | %.1f |" % (size, before, results["after", size], results["floor", size]))


if __name__ == "__main__":
    main()
