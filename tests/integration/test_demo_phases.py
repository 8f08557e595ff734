# SPDX-License-Identifier: GPL-3.0-or-later
"""The callback roulette_phases in real ansible-playbook runs, enabled as scripts/demo.sh enables
it (environment only): a small playbook with roles and plays named like the collection's, on
local-connection hosts, and the planning of playbooks/site.yml itself (--tags roulette_plan,
with the preflight verdicts given, as in test_site_plan.py: no host is contacted). The plugin
and these tests stay out of the collection's tarball (scripts/, tests/integration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from integration_support import ROOT, VENV_BIN, preflight_verdict

SLEEP = 3
HOSTS = 4


def phases_env(output):
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "scripts" / "ansible_plugins" / "callback"),
                ANSIBLE_CALLBACKS_ENABLED="roulette_phases", ROULETTE_PHASES_FILE=str(output))


def write_tree(tmp_path):
    """A playbook whose roles are named like the collection's, next to it (found before roles_path)."""
    roles = tmp_path / "roles"
    (roles / "kmod_build" / "tasks").mkdir(parents=True)
    (roles / "kmod_build" / "tasks" / "main.yml").write_text(
        "- name: Compile\n  ansible.builtin.command: sleep %d\n  changed_when: false\n" % SLEEP)
    (roles / "kmod_build" / "tasks" / "plan.yml").write_text(
        "- name: Plan\n  ansible.builtin.debug:\n    msg: planned\n  run_once: true\n")
    (roles / "kmod_load" / "tasks").mkdir(parents=True)
    (roles / "kmod_load" / "tasks" / "main.yml").write_text(
        "- name: Load\n  ansible.builtin.debug:\n    msg: loaded\n")
    playbook = [
        {"name": "Plan the builds", "hosts": "roulette", "gather_facts": False, "tasks": [
            {"name": "Plan", "ansible.builtin.import_role": {"name": "kmod_build", "tasks_from": "plan"},
             "run_once": True, "tags": ["roulette_plan"]}]},
        {"name": "Build and load", "hosts": "roulette", "gather_facts": False, "tasks": [
            {"name": "Build the module", "ansible.builtin.include_role": {"name": "kmod_build"}},
            {"name": "Load the module", "ansible.builtin.include_role": {"name": "kmod_load"}},
            {"name": "Do something no phase names", "ansible.builtin.debug": {"msg": "stray"}}]},
        {"name": "Spin the roulette on the armed hosts", "hosts": "roulette", "gather_facts": False, "tasks": [
            {"name": "Spin", "ansible.builtin.debug": {"msg": "spun"}}]},
        {"name": "Write the fleet report", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "Fail the run, after the report", "ansible.builtin.fail": {"msg": "a spin failed"},
             "when": "fail_the_report | default(false) | bool"}]},
    ]
    (tmp_path / "phases.yml").write_text(json.dumps(playbook))
    hosts = {"host-%d" % n: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable} for n in range(HOSTS)}
    inventory = {"roulette": {"hosts": hosts}, "ungrouped": {"hosts": {"localhost": hosts["host-0"]}}}
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))


def run(tmp_path, *extra, env=None):
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"), str(tmp_path / "phases.yml"), *extra]
    began = time.monotonic()
    proc = subprocess.run(argv, cwd=tmp_path, env=env or phases_env(tmp_path / "phases.json"),
                          capture_output=True, text=True, timeout=300)
    return proc, time.monotonic() - began


def test_a_run_is_split_by_tag_role_and_play_in_wall_clock_time(tmp_path):
    write_tree(tmp_path)
    proc, wall = run(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "phases.json").read_text())
    assert report["complete"] is True
    phases = report["phases"]
    assert list(phases) == ["plan", "build", "load", "other", "spin", "report"]
    # Every host sleeps SLEEP seconds in the same task, at the same time: the build phase takes
    # that long once, not once per host.
    assert SLEEP <= phases["build"] < SLEEP * HOSTS, phases
    assert sum(phases.values()) <= wall
    assert report["slowest_tasks"][0]["task"] == "kmod_build : Compile"


def test_a_failed_run_still_writes_its_phases(tmp_path):
    write_tree(tmp_path)
    proc, _ = run(tmp_path, "-e", "fail_the_report=true")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "phases.json").read_text())
    assert report["complete"] is True
    assert "report" in report["phases"]


def test_without_an_output_file_the_run_writes_nothing_and_says_nothing_more(tmp_path):
    write_tree(tmp_path)
    env = phases_env("")
    quiet, _ = run(tmp_path, env=env)
    plain, _ = run(tmp_path, env={k: v for k, v in env.items() if not k.startswith(("ANSIBLE_CALLBACK", "ROULETTE_PHASES"))})
    assert quiet.returncode == plain.returncode == 0, quiet.stdout + quiet.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["inventory.json", "phases.yml", "roles"]
    assert quiet.stderr == plain.stderr
    assert "WARNING" not in quiet.stdout + quiet.stderr


def verdict(release, release_id, armed):
    return {"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/python",
            "preflight_verdict": preflight_verdict(release, release_id, armed)}


def test_the_planning_of_site_yml_is_the_phase_plan(tmp_path):
    release = "6.1.0-27-amd64"
    builder = dict(verdict(release, "Debian-12", armed=False), kmod_build_modules={release: "/cache/roulette.ko"})
    (tmp_path / "inventory.json").write_text(json.dumps({
        "roulette": {"hosts": {"t1": verdict(release, "Debian-12", armed=True), "t2": verdict("6.12.48+deb13-amd64", "Debian-13", armed=True)}},
        "roulette_build": {"hosts": {"b12": builder}},
    }))
    env = dict(phases_env(tmp_path / "phases.json"), ROULETTE_CACHE_DIR=str(tmp_path / "cache"))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(tmp_path / "inventory.json"), str(ROOT / "playbooks" / "site.yml"),
            "--tags", "roulette_plan"]
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "/nonexistent/python" not in proc.stdout, "a host was contacted"
    report = json.loads((tmp_path / "phases.json").read_text())
    # What runs besides the planning is the validation of preflight's arguments (tagged always).
    assert list(report["phases"]) == ["checks", "plan"], report
    phase_of = {row["task"]: row["phase"] for row in report["slowest_tasks"]}
    assert len(phase_of) < 10, "more tasks than slowest_tasks lists: %s" % phase_of
    checks = [task for task, phase in phase_of.items() if phase == "checks"]
    assert len(checks) == 1 and checks[0].startswith("rustkmod.roulette.preflight : Validating arguments"), phase_of
    assert {"rustkmod.roulette.kmod_build : Plan which host builds the module for which kernel release",
            "Say which kernel releases this host builds for", "Choose where the module comes from"} <= set(phase_of), phase_of
