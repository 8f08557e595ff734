# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad settings are refused before anything runs on a host: the collection's own playbooks
(site, spin, reset, teardown) against an inventory of controller-local hosts, with the raw
values a user types. Each failure names the variable; none is a traceback, none an exit 0."""

import json
import os
import subprocess

import pytest

from integration_support import ROOT, VENV_BIN

PLAYBOOKS = ["site.yml", "spin.yml", "reset.yml", "teardown.yml"]


def run(tmp_path, playbook, extra_vars=None, groups=("roulette",), limit=None):
    inventory = tmp_path / "inventory.json"
    hosts = {"target-1": {"ansible_connection": "local", "ansible_python_interpreter": "/nonexistent/python"}}
    inventory.write_text(json.dumps({group: {"hosts": hosts} for group in groups} if groups else
                                    {"ungrouped": {"hosts": hosts}}))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / playbook)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if limit:
        argv += ["--limit", limit]
    # The json callback: messages whole, as every ansible-core version gives them (the yaml
    # callback of 2.17 folds long lines).
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("playbook", PLAYBOOKS)
@pytest.mark.parametrize("name, value, words", [
    ("roulette_batch", "abc", "roulette_batch"),
    ("roulette_max_fail_percentage", "lots", "roulette_max_fail_percentage"),
])
def test_a_bad_play_setting_is_refused_by_name_not_a_traceback(tmp_path, playbook, name, value, words):
    rc, out = run(tmp_path, playbook, {name: value})
    assert rc != 0, out
    assert "Traceback" not in out and "ERROR! Unexpected Exception" not in out, out
    assert words in out and repr(value).strip("'") in out, out
    # Refused before any host was contacted (the hosts' Python does not even exist).
    assert "/nonexistent/python" not in out, out


@pytest.mark.parametrize("name, value", [
    ("roulette_spin_max_fleet_deaths", "abc"),
    ("roulette_chance", "abc"),
    ("roulette_chance", 101),
    ("roulette_spin_count", "many"),
    ("roulette_spin_count", -1),
    ("kmod_load_device", "/dev/x;reboot;#"),
    ("kmod_load_device", "/dev/../etc/passwd"),
    ("kmod_load_device_mode", "0666"),
    ("kmod_load_device_group", "wheel;id"),
])
def test_a_bad_host_setting_is_refused_before_the_host_is_touched(tmp_path, name, value):
    for playbook in ("site.yml", "spin.yml"):
        rc, out = run(tmp_path, playbook, {"roulette_armed": True, name: value})
        assert rc != 0, (playbook, out)
        assert name in out and str(value) in out, (playbook, out)
        assert "/nonexistent/python" not in out, (playbook, out)


@pytest.mark.parametrize("playbook", ["site.yml", "spin.yml", "reset.yml"])
def test_an_inventory_without_a_roulette_group_is_named(tmp_path, playbook):
    rc, out = run(tmp_path, playbook, groups=())
    assert rc != 0, out
    assert "no host in the group 'roulette'" in out, out


def run_fleet(tmp_path, playbook, hosts):
    """`playbook` on the hosts (name -> their variables) of the group roulette, with the json callback."""
    for values in hosts.values():
        values.update(ansible_connection="local", ansible_python_interpreter="/nonexistent/python")
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"roulette": {"hosts": hosts}}))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / playbook),
            "-e", json.dumps({"roulette_report_dir": str(tmp_path / "report")})]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    try:
        return proc.returncode, json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError("ansible-playbook printed no JSON:\n" + proc.stdout + proc.stderr) from exc


def results_of(log, host):
    """(play name, task name, result) of every task the host ran or skipped."""
    return [(play["play"]["name"], task["task"]["name"].split(" : ", 1)[-1], task["hosts"][host])
            for play in log["plays"] for task in play["tasks"] if host in task["hosts"]]


def test_a_bad_host_is_refused_by_name_and_the_others_go_on(tmp_path):
    """Only the host with the bad value stops; the report is written for the others."""
    hosts = {"good-1": {}, "bad": {"roulette_chance": "abc"}, "good-2": {"roulette_armed": False},
             "unreadable": {"roulette_spin_count": "{{ no_such_variable }}"}}
    rc, log = run_fleet(tmp_path, "spin.yml", hosts)
    assert rc != 0
    refused = {host: result["msg"] for host in hosts for _play, task, result in results_of(log, host)
               if task == "Refuse invalid settings of this host" and result.get("failed")}
    assert sorted(refused) == ["bad", "unreadable"], refused
    assert refused["bad"].startswith("bad: roulette_chance must be an integer from 0 to 100") and "'abc'" in refused["bad"]
    assert refused["unreadable"].startswith("unreadable: roulette_spin_count cannot be read:")
    assert "no_such_variable" in refused["unreadable"]
    assert {host: log["stats"][host]["failures"] for host in hosts} == {"good-1": 0, "bad": 1, "good-2": 0, "unreadable": 1}
    report = json.loads(next((tmp_path / "report").glob("report.json")).read_text())
    assert {row["host"]: row["status"] for row in report["hosts"]}["good-2"] == "skipped"


def test_settings_that_are_fine_cost_no_task_per_host(tmp_path):
    """The hosts' settings are checked by one task for the play (on its first host), not by a task
    per host: a fleet of a thousand hosts paid one in every playbook (bench/controller_bench.py)."""
    hosts = {"first": {}, "second": {"roulette_chance": 5}, "third": {"kmod_load_device": "/dev/roulette0"}}
    _rc, log = run_fleet(tmp_path, "site.yml", hosts)
    checks = ("Check the inventory and the settings", "Refuse the hosts whose settings are invalid")
    for host in ("second", "third"):
        assert [(play, task) for play, task, _result in results_of(log, host) if play in checks] == [], host
    ran = [task for play, task, _result in results_of(log, "first") if play in checks]
    assert "Find the hosts whose own settings are invalid" in ran, ran


@pytest.mark.parametrize("playbook", ["site.yml", "teardown.yml"])
def test_an_unknown_build_method_is_refused_by_name(tmp_path, playbook):
    rc, out = run(tmp_path, playbook, {"kmod_build_method": "kbuild"})
    assert rc != 0, out
    assert "kmod_build_method must be ansible" in out and "'kbuild'" in out, out
    assert "/nonexistent/python" not in out, out


def test_dkms_on_a_build_host_is_refused_before_the_host_is_touched(tmp_path):
    rc, out = run(tmp_path, "site.yml", {"kmod_build_method": "dkms"}, groups=("roulette", "roulette_build"))
    assert rc != 0, out
    assert "target-1 is in the group roulette_build" in out, out
    assert "/nonexistent/python" not in out, out


def test_dkms_with_kernels_named_is_refused_before_the_host_is_touched(tmp_path):
    rc, out = run(tmp_path, "site.yml", {"kmod_build_method": "dkms", "kmod_build_releases": ["6.1.0-58-amd64"]})
    assert rc != 0, out
    assert "kmod_build_releases cannot choose kernels for it" in out and "6.1.0-58-amd64" in out, out
    assert "/nonexistent/python" not in out, out
