# SPDX-License-Identifier: GPL-3.0-or-later
"""What cannot be undone, so it runs last (the scenario destroys the VMs next):
kernel.modules_disabled=1 on one host, then a VM powered off in the middle of a spin.
Both leave the loaded driver as the earlier tests left it."""

import subprocess
import sys
import threading
import time

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
