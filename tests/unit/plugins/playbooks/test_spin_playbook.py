# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/spin.yml end to end on the controller, with a stand-in spin module.

The real spin module needs the driver; here a stub with the same name returns
canned facts (the number of deaths comes from its `device` option), so the
playbook's own logic is what is tested: arming, the fleet death limit across
serial batches, unreachable and failed hosts, and the report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]
PLAYBOOK = REPO / "playbooks" / "spin.yml"
SPIN_HOST_TASKS = REPO / "playbooks" / "tasks" / "spin_host.yml"  # included by spin.yml for each armed host
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"

STUB_SPIN = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={
        "device": {"type": "str"}, "count": {"type": "int"}, "stop_on_death": {"type": "bool"},
        "max_deaths": {"type": "int"}, "timeout": {"type": "float"}, "spins_limit": {"type": "int"},
        "expect_chance": {"type": "int"}, "allow_panic": {"type": "bool"}}, supports_check_mode=True)
    if module.params["device"] == "/fail":
        module.fail_json(msg="the roulette driver is not loaded")
    died = int(module.params["device"].rsplit("/", 1)[1])
    if module.params["max_deaths"] is not None:
        died = min(died, module.params["max_deaths"])
    count = module.params["count"]
    facts = {"spins_done": count, "survived": count - died, "died": died, "timeouts": 0, "chance": 5,
             "alive": True, "stop_reason": "death" if died else "count", "finished": "2026-11-26T19:00:00Z",
             "first_death": {"spin": count, "time": "2026-11-26T19:00:00Z", "confirmed": True,
                             "location": "src/lib.rs:31"} if died else None,
             "max_deaths_seen": module.params["max_deaths"]}
    module.exit_json(changed=True, ansible_facts={"roulette": facts})


main()
'''


def stub_collection(top, stub_spin):
    """A collection tree under top: the checkout's plugins, with spin replaced by stub_spin."""
    coll = top / "ansible_collections" / "rustkmod" / "roulette"
    (coll / "plugins" / "modules").mkdir(parents=True)
    for folder in ("module_utils", "plugin_utils", "lookup", "filter", "action"):
        (coll / "plugins" / folder).symlink_to(REPO / "plugins" / folder)
    (coll / "roles").symlink_to(REPO / "roles")
    (coll / "plugins" / "modules" / "fleet_report.py").symlink_to(REPO / "plugins" / "modules" / "fleet_report.py")
    (coll / "plugins" / "modules" / "spin.py").write_text(stub_spin)
    return top


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """A collection tree where spin is the stub and everything else is the checkout's."""
    return stub_collection(tmp_path_factory.mktemp("stubcoll"), STUB_SPIN)


def run(tmp_path, collections, hosts, extra=None, check=False, limit=None, callback=None, playbook=PLAYBOOK):
    inventory = {"roulette": {"hosts": hosts}}
    for values in hosts.values():
        values.setdefault("ansible_connection", "local")
        values.setdefault("ansible_python_interpreter", sys.executable)
    (tmp_path / "inventory.json").write_text(json.dumps(inventory))
    report = tmp_path / "report"
    extra = dict({"roulette_report_dir": str(report)}, **(extra or {}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_RETRY_FILES_ENABLED="False",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    if callback:
        env.update(ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    command = [str(ANSIBLE_PLAYBOOK), "-i", str(tmp_path / "inventory.json"), str(playbook),
               "-e", json.dumps(extra)]
    if check:
        command.append("--check")
    if limit:
        command += ["--limit", limit]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    data = None
    if (report / "report.json").exists():
        data = json.loads((report / "report.json").read_text())
    return proc, data


def statuses(report):
    return {row["host"]: row["status"] for row in report["hosts"]}


def test_fleet_death_limit_across_batches(tmp_path, collections):
    hosts = {f"h{i}": {"roulette_armed": True, "roulette_spin_device": "/dev/1"} for i in range(1, 5)}
    hosts["calm"] = {"roulette_armed": False}
    proc, report = run(tmp_path, collections, hosts,
                       {"roulette_spin_batch": 1, "roulette_spin_max_fleet_deaths": 2})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"h1": "dead", "h2": "dead", "h3": "not_run", "h4": "not_run", "calm": "skipped"}
    assert report["summary"]["died"] == 2
    last_task = proc.stdout.split("TASK [")[-1]
    assert last_task.startswith("Show where the report is") and "report.html" in last_task


def test_remaining_allowance_is_passed_as_max_deaths(tmp_path, collections):
    hosts = {"h1": {"roulette_armed": True, "roulette_spin_device": "/dev/5"}}
    proc, report = run(tmp_path, collections, hosts,
                       {"roulette_spin_max_fleet_deaths": 3, "roulette_spin_stop_on_death": False,
                        "roulette_spin_count": 50})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = report["hosts"][0]
    assert row["died"] == 3 and row["spins"] == 50


def test_failed_and_unreachable_hosts_are_reported(tmp_path, collections):
    hosts = {
        "ok": {"roulette_armed": True, "roulette_spin_device": "/dev/0"},
        "broken": {"roulette_armed": True, "roulette_spin_device": "/fail"},
        "gone": {"roulette_armed": True, "ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                 "ansible_port": 1, "ansible_ssh_timeout": 5},
    }
    proc, report = run(tmp_path, collections, hosts)
    assert proc.returncode == 2, proc.stdout + proc.stderr  # the failed host fails the run
    assert statuses(report) == {"ok": "alive", "broken": "failed", "gone": "unreachable"}
    rows = {row["host"]: row for row in report["hosts"]}
    assert "not loaded" in rows["broken"]["msg"]
    assert "127.0.0.1" in rows["gone"]["msg"] and rows["gone"]["when"]
    assert rows["ok"]["spins"] == 1


def test_nobody_armed(tmp_path, collections):
    proc, report = run(tmp_path, collections, {"a": {}, "b": {"roulette_armed": "false"}})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"a": "skipped", "b": "skipped"}
    assert "is not armed" in proc.stdout


SPIN_PLAY = "Spin the roulette on the armed hosts"


def tasks_of(log, host, play=SPIN_PLAY):
    """(task name, result) of each task the json callback shows `host` in, in the plays named `play`."""
    return [(task["task"]["name"], task["hosts"][host]) for each in log["plays"] if each["play"]["name"] == play
            for task in each["tasks"] if host in task["hosts"]]


def test_spin_yml_imported_with_a_false_condition_does_nothing_and_fails_nothing(tmp_path, collections):
    # site.yml imports spin.yml with `when: roulette_spin_count > 0` (molecule's converge runs with 0):
    # every task of spin.yml is then skipped, and a task whose loop reads a fact of a skipped task
    # must be skipped too, not fail on the undefined loop item.
    wrapper = tmp_path / "site_like.yml"
    wrapper.write_text("- name: Spin, when asked to\n  ansible.builtin.import_playbook: %s\n"
                       "  when: roulette_spin_count | default(1) | int > 0\n" % PLAYBOOK)
    hosts = {"armed": {"roulette_armed": True, "roulette_spin_device": "/dev/0"}, "calm": {}}
    proc, report = run(tmp_path, collections, hosts, {"roulette_spin_count": 0}, playbook=wrapper)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pattern = r"^(\S+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)"
    recap = {m[0]: m[1:] for m in re.findall(pattern, proc.stdout, re.M)}
    assert recap["armed"] == recap["calm"] == ("0", "0", "0"), proc.stdout
    assert all(v[1:] == ("0", "0") for v in recap.values()) and report is None, proc.stdout


def test_a_host_that_is_not_armed_has_no_spin_task_of_its_own(tmp_path, collections):
    """The hosts of a batch that are not armed are found, recorded and named by one task each,
    on the batch's first host; a not-armed host's only task is the skipped include of the spin.
    A task per host (and meta end_host, whose cost grows with the hosts already ended) made the
    play quadratic on a fleet: 117 s for 1,000 not-armed hosts (bench/controller_bench.py)."""
    hosts = {"h1": {"roulette_armed": True, "roulette_spin_device": "/dev/0"}, "calm": {},
             "calm2": {"roulette_armed": False}}
    proc, report = run(tmp_path, collections, hosts, callback="json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"h1": "alive", "calm": "skipped", "calm2": "skipped"}
    log = json.loads(proc.stdout)
    for host in ("calm", "calm2"):
        ((name, result),) = tasks_of(log, host)
        assert name == "Spin the roulette on this host" and result.get("skipped"), (host, name, result)
    recorded = dict(tasks_of(log, "h1"))["Record that the hosts are not armed"]
    assert [item["item"] for item in recorded["results"]] == ["calm", "calm2"]


def test_each_host_that_is_not_armed_is_recorded_with_its_kernel_and_is_never_contacted(tmp_path, collections):
    hosts = {"h1": {"roulette_armed": True, "roulette_spin_device": "/dev/0"},
             "calm": {"preflight_verdict": {"kernel_release": "6.1.0-27-amd64"}, "roulette_spin_device": "/fail"},
             "gone": {"roulette_armed": "no", "ansible_connection": "ssh", "ansible_host": "127.0.0.1",
                      "ansible_port": 1, "ansible_ssh_timeout": 5,
                      "preflight_verdict": {"kernel_release": "6.12.48+deb13-amd64"}},
             "bare": {"roulette_armed": False}}
    proc, report = run(tmp_path, collections, hosts)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"h1": "alive", "calm": "skipped", "gone": "skipped", "bare": "skipped"}
    rows = {row["host"]: row for row in report["hosts"]}
    assert (rows["calm"]["kernel"], rows["gone"]["kernel"], rows["bare"]["kernel"]) == (
        "6.1.0-27-amd64", "6.12.48+deb13-amd64", None)
    assert all(rows[host]["outcome"] == "not_armed" and rows[host]["when"] for host in ("calm", "gone", "bare"))
    assert "Each of these 3 hosts is not armed and is not spun: calm, gone, bare." in " ".join(proc.stdout.split())


def test_hosts_that_are_not_armed_keep_their_place_in_the_batches(tmp_path, collections):
    """serial counts them as before: calm and h1 are the first batch of two, so the fleet's
    death limit, reached by h1, ends the run before h2 and h3 (were calm left out, h1 and h2
    would spin together and both die)."""
    hosts = {"calm": {}, **{f"h{i}": {"roulette_armed": True, "roulette_spin_device": "/dev/1"} for i in (1, 2, 3)}}
    proc, report = run(tmp_path, collections, hosts, {"roulette_spin_batch": 2, "roulette_spin_max_fleet_deaths": 1})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"calm": "skipped", "h1": "dead", "h2": "not_run", "h3": "not_run"}
    assert report["summary"]["died"] == 1
    assert ("calm is not armed and is not spun. Set roulette_armed: true for this host to spin it."
            in " ".join(proc.stdout.split()))


@pytest.mark.parametrize("limit, warned, reported", [("h1", True, False), ("h1,localhost", False, True)])
def test_a_limit_without_localhost_is_told_it_gets_no_report(tmp_path, collections, limit, warned, reported):
    hosts = {"h1": {"roulette_armed": True, "roulette_spin_device": "/dev/0"}, "h2": {"roulette_armed": True, "roulette_spin_device": "/dev/0"}}
    proc, report = run(tmp_path, collections, hosts, limit=limit)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert ("leaves out localhost" in proc.stdout) is warned
    assert (report is not None) is reported


def test_spin_yml_records_raw_outcomes_and_decides_no_status():
    """A host's status is decided in Python (host_status, through fleet_report and the host_outcome
    filter); spin.yml (and the tasks it includes) only records what Ansible reported. No status is
    set in its Jinja or YAML."""
    text = PLAYBOOK.read_text() + SPIN_HOST_TASKS.read_text()
    assert not re.search(r"""['"]?\bstatus['"]?\s*:""", text), "spin.yml sets a status"
    records = re.findall(r"roulette_spin_record:\n((?:\s{10,}.*\n)+)", text)
    assert len(records) == 3 and all("outcome:" in record for record in records)
    assert "rustkmod.roulette.host_outcome" in text and "rustkmod.roulette.fleet_report" in text
