# SPDX-License-Identifier: GPL-3.0-or-later
"""Spins for real. Each test loads the driver with the chance it needs first (conftest's
load_driver), so none depends on what ran before it."""

import pytest

from conftest import DEVICE, adhoc_result, boom, host_name, load_driver, play_results


@pytest.mark.full_suite
def test_a_thousand_spins_at_chance_zero_all_survive(host, ansible_run):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(module="rustkmod.roulette.spin", args="count=1000", limit=name)
    facts = adhoc_result(report, name)["ansible_facts"]["roulette"]
    assert rc == 0
    assert facts["spins_done"] == 1000
    assert facts["survived"] == 1000 and facts["died"] == 0
    assert facts["alive"] is True


def test_cat_prints_the_survived_line_and_ends(host, ansible_run):
    load_driver(host, ansible_run, chance=0)
    out = host.check_output("cat %s" % DEVICE)
    assert out.startswith("Survived... sampled value is ")
    assert out.endswith(", which is >= 0")


@pytest.mark.full_suite
def test_check_mode_run_changes_nothing(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(["playbooks/site.yml", "--check", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 0})
    assert rc == 0, report
    stats = report["stats"][name]
    assert stats["changed"] == 0, [n for n, r in play_results(report, name) if r.get("changed")]
    assert stats["failures"] == 0


@pytest.mark.full_suite
def test_the_driver_itself_refuses_chance_101(host, ansible_run):
    load_driver(host, ansible_run, chance=0)
    host.run("modprobe -r roulette")
    result = host.run("modprobe roulette chance=101")
    assert result.rc != 0
    assert "chance=101" in host.check_output("dmesg | tail -n 5")
    assert not host.file("/sys/module/roulette").exists


def test_a_boom_kills_the_spin_not_the_host_and_rmmod_still_works(host, ansible_run):
    name = host_name(host)
    load_driver(host, ansible_run, chance=100)
    rc, report = ansible_run(module="rustkmod.roulette.spin", args="count=1", limit=name)
    result = adhoc_result(report, name)
    assert rc == 0 and not result.get("failed"), result
    facts = result["ansible_facts"]["roulette"]
    assert facts["died"] == 1 and facts["survived"] == 0
    assert facts["first_death"]["confirmed"] is True
    assert "D" in facts["taint_after"]["letters"]
    dmesg = host.check_output("dmesg")
    for marker in ("Rust panic @", "Boom!", "kernel BUG at"):
        assert marker in dmesg
    assert host.run("true").rc == 0, "the host is no longer reachable"
    assert host.run("rmmod roulette").rc == 0
    assert not host.file("/sys/module/roulette").exists


@pytest.mark.full_suite
def test_reset_asks_before_rebooting_a_tainted_kernel(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=100)
    boom(host)
    rc, report = ansible_run(["playbooks/reset.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_reset_clean_kernel": True})
    assert rc != 0
    failed = [(n, r) for n, r in play_results(report, name) if r.get("failed")]
    assert failed[0][0] == "Refuse to reboot without permission"
    assert "needs a reboot" in failed[0][1]["msg"] and "roulette_reboot_ok: true" in failed[0][1]["msg"]
    facts = [r.get("ansible_facts", {}) for n, r in play_results(report, name) if n == "Decide whether only a reboot helps"]
    assert facts and facts[0]["roulette_reboot_required"] is True
    assert host.run("true").rc == 0
