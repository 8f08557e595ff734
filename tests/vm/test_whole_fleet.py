# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet as a whole: one host dies, the play goes on, the others still spin, and the
report gives each host its own status. Runs once (no testinfra host); it loads every host's
driver itself first."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra

from conftest import load_driver, play_results


def roulette_hosts(inventory):
    out = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", inventory, "--list"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return sorted(data.get("roulette", {}).get("hosts", []))


def fleet_host(inventory, name):
    return testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, inventory), sudo=True)


def report_rows(report_dir):
    return {row["host"]: row for row in json.loads((report_dir / "report.json").read_text())["hosts"]}


def test_a_death_hides_nobody_and_the_report_gives_each_host_its_status(request, ansible_run, tmp_path):
    inventory = request.config.getoption("ansible_inventory")
    hosts = roulette_hosts(inventory)
    if len(hosts) < 2:
        pytest.skip("needs at least two hosts")
    # The last host (Debian 13 in the fleet scenario) dies, so 6.12 sees a boom too.
    doomed, survivors = hosts[-1], hosts[:-1]
    for name in hosts:
        load_driver(fleet_host(inventory, name), ansible_run, chance=100 if name == doomed else 0)

    # The doomed host comes first in the play; the others must still be spun after it died.
    report_dir = tmp_path / "report"
    rc, report = ansible_run(["playbooks/spin.yml"],
                             extra_vars={"roulette_armed": True, "roulette_chance": None, "roulette_spin_count": 20,
                                         "roulette_spin_batch": 1, "roulette_report_dir": str(report_dir)})
    assert rc == 0, report["stats"]
    facts = {}
    for name in hosts:
        for task, result in play_results(report, name):
            if task.startswith("Spin the device"):
                facts[name] = result["ansible_facts"]["roulette"]
    assert facts[doomed]["died"] == 1 and facts[doomed]["spins_done"] == 1
    assert facts[doomed]["first_death"]["confirmed"] is True
    assert "D" in facts[doomed]["taint_after"]["letters"]
    for name in survivors:
        assert facts[name]["survived"] == 20 and facts[name]["died"] == 0

    rows = report_rows(report_dir)
    assert sorted(rows) == hosts
    assert rows[doomed]["status"] == "dead" and rows[doomed]["died"] == 1 and rows[doomed]["spins"] == 1
    for name in survivors:
        assert rows[name]["status"] == "alive" and rows[name]["spins"] == 20 and rows[name]["died"] == 0
    assert (report_dir / "report.html").is_file() and (report_dir / "report.md").is_file()
    last = [r for n, r in play_results(report, "localhost")][-1]
    assert str(report_dir) in last["msg"]
