# SPDX-License-Identifier: GPL-3.0-or-later
"""What cannot be undone without a reboot: kernel.modules_disabled=1, a VM powered off in the
middle of a spin, a real kernel panic in the middle of a spin. Each test starts from a host
it makes usable itself (conftest.usable power-cycles a VM an earlier test left off, panicked
or unable to load modules), so none depends on the order they run in."""

import threading
import time

import pytest

from conftest import (failures, host_name, lab, lab_state, load_driver, play_results, power_cycle, usable)
from test_whole_fleet import fleet_host, report_rows, roulette_hosts


@pytest.mark.full_suite
def test_modules_disabled_is_refused_with_its_cause(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    assert host.run("sysctl -w kernel.modules_disabled=1").rc == 0
    try:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                                 extra_vars={"roulette_armed": True, "roulette_spin_count": 0})
        assert rc != 0
        (task, result), = failures(report, name)
        assert task == "Refuse a kernel that cannot load this module"
        assert "kernel.modules_disabled=1" in result["msg"]
    finally:
        power_cycle(name)  # the only way back
    usable(host)
    assert host.check_output("cat /proc/sys/kernel/modules_disabled") == "0"


def test_a_host_powered_off_mid_spin_is_reported_and_hides_nobody(request, ansible_run, tmp_path):
    inventory = request.config.getoption("ansible_inventory")
    hosts = roulette_hosts(inventory)
    if len(hosts) < 2:
        # One VM alone spins the 100,000 in about 12 s, before the power cut; the fleet's three
        # share two emulated cores and take about 30 s.
        pytest.skip("needs the fleet scenario: the others must be seen to go on")
    victim = hosts[0]
    for name in hosts:
        load_driver(fleet_host(inventory, name), ansible_run, chance=0)

    def power_off():
        time.sleep(15)
        lab("poweroff", victim)

    killer = threading.Thread(target=power_off)
    killer.start()
    report_dir = tmp_path / "report"
    rc, report = ansible_run(["playbooks/spin.yml"],
                             extra_vars={"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 100000,
                                         "roulette_spin_timeout": 20, "roulette_report_dir": str(report_dir)},
                             timeout=900)
    killer.join()
    rows = report_rows(report_dir)
    assert rows[victim]["status"] == "unreachable", rows[victim]
    assert rc == 0, report["stats"]  # a lost host does not fail the run
    for name in hosts[1:]:
        assert rows[name]["status"] == "alive" and rows[name]["spins"] == 100000, rows[name]
        assert report["stats"][name]["failures"] == 0 and report["stats"][name]["unreachable"] == 0
    last = [r for n, r in play_results(report, "localhost")][-1]
    assert str(report_dir) in last["msg"]
    usable(fleet_host(inventory, victim))


@pytest.mark.full_suite
def test_a_real_kernel_panic_mid_spin_is_reported_dead(request, ansible_run, tmp_path):
    inventory = request.config.getoption("ansible_inventory")
    hosts = roulette_hosts(inventory)
    if len(hosts) < 2:
        pytest.skip("needs the fleet scenario: the real-panic module is built on a build host")
    victim = hosts[1]
    usable(fleet_host(inventory, victim))
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
    row = report_rows(report_dir)[victim]
    assert row["status"] == "dead", (row, elapsed)
    assert row["console_line"].startswith("Kernel panic - not syncing:"), row
    assert "kernel-roulette: Boom" in row["console_line"], row
    assert row["died"] == 1 and row["when"]
    seen = lab_state(victim)
    assert seen["panic"] is True, seen
    # Back to a normal module for whoever comes next (the real-panic one stays in the cache).
    power_cycle(victim)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", f"{victim},roulette_build"],
                             extra_vars={"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 0})
    assert rc == 0, failures(report, victim)
