# SPDX-License-Identifier: GPL-3.0-or-later
"""Spins for real on the converged hosts. Runs after test_loaded.py; the last test
leaves the host with a boom behind it (taint D), so the scenario destroys it next."""

from conftest import adhoc_result, host_name, play_results


def test_a_thousand_spins_at_chance_zero_all_survive(host, ansible_run):
    if int(host.file("/sys/module/roulette/parameters/chance").content_string) != 0:
        import pytest
        pytest.skip("converged with a chance other than 0")
    name = host_name(host)
    rc, report = ansible_run(module="rustkmod.roulette.spin", args="count=1000", limit=name)
    facts = adhoc_result(report, name)["ansible_facts"]["roulette"]
    assert rc == 0
    assert facts["spins_done"] == 1000
    assert facts["survived"] == 1000 and facts["died"] == 0
    assert facts["alive"] is True


def test_cat_prints_the_survived_line_and_ends(host):
    out = host.check_output("cat /dev/kernel-roulette")
    assert out.startswith("Survived... sampled value is ")
    assert out.endswith(", which is >= 0")


def test_check_mode_run_changes_nothing(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/site.yml", "--check", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_spin_count": 0})
    assert rc == 0, report
    stats = report["stats"][name]
    assert stats["changed"] == 0, [n for n, r in play_results(report, name) if r.get("changed")]
    assert stats["failures"] == 0


def test_a_chance_over_100_is_refused_with_a_message(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": 101, "roulette_spin_count": 0})
    assert rc != 0
    failed = [(n, r) for n, r in play_results(report, name) if r.get("failed")]
    assert failed and "roulette_chance must be an integer from 0 to 100" in failed[0][1]["msg"]
    assert host.file("/sys/module/roulette").is_directory, "the loaded module was touched"


def test_the_driver_itself_refuses_chance_101(host, per_host_playbooks):
    host.run("modprobe -r roulette")
    result = host.run("modprobe roulette chance=101")
    assert result.rc != 0
    assert "chance=101" in host.check_output("dmesg | tail -n 5")
    assert not host.file("/sys/module/roulette").exists


def test_a_boom_kills_the_spin_not_the_host_and_rmmod_still_works(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    # The role reloads the module when the chance changes.
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": 100, "roulette_spin_count": 0})
    assert rc == 0, [r for _, r in play_results(report, name) if r.get("failed")]
    assert host.file("/sys/module/roulette/parameters/chance").content_string.strip() == "100"

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


def test_reset_reloads_the_driver_after_a_boom(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/reset.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": 0})
    assert rc == 0, [r for _, r in play_results(report, name) if r.get("failed")]
    assert host.file("/sys/module/roulette/parameters/chance").content_string.strip() == "0"
    assert host.check_output("cat /dev/kernel-roulette").startswith("Survived... sampled value is ")


def test_reset_asks_before_rebooting_a_tainted_kernel(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    tainted = int(host.check_output("cat /proc/sys/kernel/tainted"))
    assert tainted & (1 << 7), "the boom test should have left taint D"
    rc, report = ansible_run(["playbooks/reset.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_reset_clean_kernel": True})
    assert rc != 0
    failed = [(n, r) for n, r in play_results(report, name) if r.get("failed")]
    assert failed[0][0] == "Refuse to reboot without permission"
    assert "needs a reboot" in failed[0][1]["msg"] and "roulette_reboot_ok: true" in failed[0][1]["msg"]
    facts = [r.get("ansible_facts", {}) for n, r in play_results(report, name) if n == "Decide whether only a reboot helps"]
    assert facts and facts[0]["roulette_reboot_required"] is True
    assert host.run("true").rc == 0
