# SPDX-License-Identifier: GPL-3.0-or-later
"""What cannot be undone, so it runs last (the scenario destroys the VMs next):
kernel.modules_disabled=1 on one host, then a VM powered off in the middle of a spin,
then (in the fleet scenario) a real kernel panic in the middle of a spin.
The first two leave the loaded driver as the earlier tests left it."""

import json
import subprocess
import sys
import threading
import time

import pytest
from conftest import ROOT, play_results
from test_whole_fleet import roulette_hosts


def test_modules_disabled_is_refused_with_its_cause(request, ansible_run):
    name = roulette_hosts(request.config.getoption("ansible_inventory"))[-1]
    rc, _ = ansible_run(module="ansible.builtin.command", args="sysctl -w kernel.modules_disabled=1", limit=name)
    assert rc == 0
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_spin_count": 0})
    assert rc != 0
    failed = [(n, r) for n, r in play_results(report, name) if r.get("failed")]
    assert failed[0][0] == "Refuse a kernel that cannot load this module"
    assert "kernel.modules_disabled=1" in failed[0][1]["msg"]


def test_a_host_powered_off_mid_spin_is_reported_and_hides_nobody(request, ansible_run, tmp_path):
    hosts = roulette_hosts(request.config.getoption("ansible_inventory"))
    victim = hosts[0]

    def power_off():
        time.sleep(15)
        subprocess.run([sys.executable, str(ROOT / "molecule/shared/lab.py"), "down", victim],
                       capture_output=True, check=False)

    killer = threading.Thread(target=power_off)
    killer.start()
    report_dir = tmp_path / "report"
    # No chance expectation: earlier tests left some hosts at 0 and one at 100.
    rc, report = ansible_run(["playbooks/spin.yml"],
                             extra_vars={"roulette_armed": True, "roulette_chance": None, "roulette_spin_count": 100000,
                                         "roulette_spin_timeout": 20, "roulette_report_dir": str(report_dir)},
                             timeout=900)
    killer.join()
    data = (report_dir / "report.json").read_text()
    assert victim in data
    assert "unreachable" in data or "failed" in data
    for name in hosts[1:]:
        assert name in data
        stats = report["stats"][name]
        assert stats["failures"] == 0 and stats["unreachable"] == 0
    last = [r for n, r in play_results(report, "localhost")][-1]
    assert str(report_dir) in last["msg"]


def test_a_real_kernel_panic_mid_spin_is_reported_dead(request, ansible_run, tmp_path):
    hosts = roulette_hosts(request.config.getoption("ansible_inventory"))
    if len(hosts) < 3:
        pytest.skip("needs the fleet scenario's three hosts: the first is powered off by now and "
                    "the last cannot load modules any more, the one between them is panicked")
    victim = hosts[1]
    # The opt-in patch: a boom calls panic(), and chance 100 makes the first spin a boom.
    panic_vars = {"roulette_armed": True, "roulette_allow_panic": True, "kmod_build_real_panic": True,
                  "roulette_chance": 100}
    rc, report = ansible_run(["playbooks/site.yml", "--limit", f"{victim},roulette_build"],
                             extra_vars=dict(panic_vars, roulette_spin_count=0), timeout=1800)
    assert rc == 0, [(n, r) for n, r in play_results(report, victim) if r.get("failed")]

    report_dir = tmp_path / "report"
    started = time.monotonic()
    # The machine halts; SSH's keepalives end the silent connection (ServerAlive*).
    # localhost too: the report play runs there.
    rc, report = ansible_run(["playbooks/spin.yml", "--limit", f"{victim},localhost"],
                             extra_vars=dict(panic_vars, roulette_spin_count=1, roulette_report_dir=str(report_dir)),
                             timeout=600)
    elapsed = time.monotonic() - started
    assert rc == 0, report.get("stats")  # a dead host does not fail the run
    rows = {row["host"]: row for row in json.loads((report_dir / "report.json").read_text())["hosts"]}
    row = rows[victim]
    assert row["status"] == "dead", (row, elapsed)
    assert "kernel-roulette: Boom" in row["console_line"], row
    assert row["msg"].startswith("kernel panic: Kernel panic - not syncing:"), row
    assert row["died"] == 1 and row["when"]

    status = subprocess.run([sys.executable, str(ROOT / "molecule/shared/lab.py"), "status", victim],
                            capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(status.stdout)
    assert seen["panic"] is True and seen["state"] != "running", seen
