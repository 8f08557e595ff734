# SPDX-License-Identifier: GPL-3.0-or-later
"""Guards on a real host: what is at the device path is never deleted unless it is the
roulette node, a kernel whose panic_on_oops cannot be read is refused, the spin module
holds the panic interlock on its own, a build host with too little memory is refused
before anything is installed. Each test sets up its state and puts the host back."""

import pytest

import json

from conftest import (DEVICE, SITE, adhoc_result, failures, host_name, load_driver, loaded_chance, node_numbers,
                      play_results, registered_major)


def site(ansible_run, name, **extra):
    return ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"], extra_vars=dict(SITE, **extra))


@pytest.mark.parametrize("make, describe", [
    ("printf 'precious\\n' > {path}", "regular file"),
    pytest.param("mknod -m 0644 {path} c 1 3", "character device 1:3 of mem", marks=pytest.mark.full_suite),
    pytest.param("mkdir {path} && touch {path}/keep", "directory", marks=pytest.mark.full_suite),
])
def test_what_is_not_the_roulette_node_is_never_removed(host, ansible_run, per_host_playbooks, make, describe):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    path = "/dev/roulette-guard-test"
    host.run("rm -rf %s" % path)
    assert host.run(make.format(path=path)).rc == 0
    before = host.check_output("ls -la --time-style=full-iso %s" % path)
    try:
        rc, report = site(ansible_run, name, roulette_chance=0, kmod_load_device=path)
        assert rc != 0
        (task, result), = failures(report, name)
        assert path in result["msg"] and "not the roulette device node" in result["msg"], result["msg"]
        assert host.check_output("ls -la --time-style=full-iso %s" % path) == before
    finally:
        host.run("rm -rf %s" % path)


def test_dev_null_given_by_mistake_is_left_alone(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = site(ansible_run, name, roulette_chance=0, kmod_load_device="/dev/null")
    assert rc != 0
    assert any("/dev/null" in r["msg"] for _, r in failures(report, name))
    assert node_numbers(host, "/dev/null") == (1, 3)
    assert host.check_output("stat -c %a /dev/null") == "666"


@pytest.mark.full_suite
def test_teardown_leaves_a_foreign_node_at_the_device_path(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    path = "/dev/roulette-guard-null"
    assert host.run("rm -f %s && mknod -m 0600 %s c 1 3" % (path, path)).rc == 0
    try:
        rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name], extra_vars={"kmod_load_device": path})
        assert rc == 0, failures(report, name)
        assert node_numbers(host, path) == (1, 3)
        assert not host.file("/sys/module/roulette").exists
    finally:
        host.run("rm -f %s" % path)
        load_driver(host, ansible_run, chance=0)


def test_an_unreadable_panic_on_oops_refuses_an_armed_host(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    # The sysctl reads as empty text: what a kernel or a sandbox that hides it looks like.
    assert host.run("touch /run/roulette-empty && mount --bind /run/roulette-empty "
                    "/proc/sys/kernel/panic_on_oops").rc == 0
    try:
        assert host.check_output("cat /proc/sys/kernel/panic_on_oops") == ""
        rc, report = site(ansible_run, name, roulette_chance=0)
        assert rc != 0
        (task, result), = failures(report, name)
        assert task == "Refuse a host where a boom would panic the whole kernel"
        assert "cannot be read" in result["msg"] and "roulette_allow_panic" in result["msg"], result["msg"]
    finally:
        host.run("umount /proc/sys/kernel/panic_on_oops")
    assert host.check_output("cat /proc/sys/kernel/panic_on_oops") == "0"


@pytest.mark.parametrize("how", ["module", "playbook"])
def test_the_spin_holds_the_panic_interlock_on_its_own(host, ansible_run, tmp_path, per_host_playbooks, how):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)  # chance 0: a spin that slips through survives
    assert host.run("sysctl -w kernel.panic_on_oops=1").rc == 0
    try:
        if how == "module":
            rc, report = ansible_run(module="rustkmod.roulette.spin", args="count=3", limit=name)
            result = adhoc_result(report, name)
            assert rc != 0 and result.get("failed")
            msg = result["msg"]
            assert result["ansible_facts"]["roulette"]["spins_done"] == 0
        else:
            rc, report = ansible_run(["playbooks/spin.yml", "--limit", name + ",localhost"],
                                     extra_vars={"roulette_armed": True, "roulette_spin_count": 3,
                                                 "roulette_report_dir": str(tmp_path)})
            assert rc != 0
            msg = " ".join(r.get("msg", "") for _, r in failures(report, "localhost"))
            msg += " ".join(str(r.get("msg", "")) for _, r in failures(report, name))
            rows = {row["host"]: row for row in json.loads((tmp_path / "report.json").read_text())["hosts"]}
            assert rows[name]["status"] == "failed", rows[name]
            assert not rows[name].get("spins"), rows[name]
        assert "kernel.panic_on_oops" in msg, msg
    finally:
        host.run("sysctl -w kernel.panic_on_oops=0")


def test_the_spin_refuses_a_node_with_the_wrong_minor(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    major = load_driver(host, ansible_run, chance=0)
    assert host.run("rm -f %s && mknod -m 0600 %s c %d 1" % (DEVICE, DEVICE, major)).rc == 0
    try:
        rc, report = ansible_run(module="rustkmod.roulette.spin", args="count=1", limit=name)
        result = adhoc_result(report, name)
        assert rc != 0 and "minor" in result["msg"], result
    finally:
        load_driver(host, ansible_run, chance=0)


@pytest.mark.parametrize("args, words", [
    ("timeout=nan", "timeout"),
    pytest.param("timeout=inf", "timeout", marks=pytest.mark.full_suite),
    pytest.param("timeout=1e12", "timeout", marks=pytest.mark.full_suite),
    ("count=99999999999", "count"),
])
def test_the_spin_refuses_absurd_numbers_before_spinning(host, ansible_run, args, words):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(module="rustkmod.roulette.spin", args=args, limit=name)
    result = adhoc_result(report, name)
    assert rc != 0 and result.get("failed"), result
    assert words in result["msg"] and "Traceback" not in result.get("module_stderr", ""), result
    assert result["ansible_facts"]["roulette"]["spins_done"] == 0


def test_a_build_host_with_too_little_memory_is_refused_before_installing(host, ansible_run, per_host_playbooks):
    """The requirement is raised above what the host has, so that the real measurement refuses it."""
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    available = int(host.check_output("awk '/^MemAvailable:/ {print int($2/1024)}' /proc/meminfo"))
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                             extra_vars=dict(SITE, roulette_chance=0, kmod_build_rebuild=True,
                                             preflight_build_min_memory_mib=available * 4))
    assert rc != 0
    (task, result), = failures(report, name)
    assert "memory" in result["msg"] and "roulette_build" in result["msg"] and "swap" in result["msg"], result["msg"]
    tasks = [t for t, _ in play_results(report, name)]
    assert not any(t.startswith(("Install the headers", "Install rustc", "Build roulette")) for t in tasks), tasks
    assert loaded_chance(host) == 0 and node_numbers(host) == (registered_major(host), 0)
