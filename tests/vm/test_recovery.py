# SPDX-License-Identifier: GPL-3.0-or-later
"""Recovery from the states users are really in: after a boom (driver loaded, taint D,
nobody ran rmmod), after a run that was cut short (another module loaded than the one
installed), after the driver and its node went away behind Ansible's back. Each test
puts the host in its starting state itself."""

import pytest

from conftest import (DEVICE, SITE, boom, failures, host_name, installed_module, load_driver, loaded_chance,
                      node_numbers, registered_major)


def spin_once(host):
    return host.check_output("cat %s" % DEVICE)


@pytest.mark.full_suite
def test_reset_after_a_boom_reloads_the_driver_with_the_given_chance(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=100)
    boom(host)
    assert host.file("/sys/module/roulette").is_directory, "the boom unloaded the driver"

    rc, report = ansible_run(["playbooks/reset.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": 0})
    assert rc == 0, failures(report, name)
    assert loaded_chance(host) == 0
    assert node_numbers(host) == (registered_major(host), 0)
    assert spin_once(host).startswith("Survived... sampled value is ")


def test_reset_without_a_chance_keeps_the_one_the_driver_had(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=100)
    boom(host)
    loads_before = loads_logged(host)

    rc, report = ansible_run(["playbooks/reset.yml", "--limit", name],
                             extra_vars={"roulette_armed": True, "roulette_chance": None})
    assert rc == 0, failures(report, name)
    assert loaded_chance(host) == 100
    assert node_numbers(host) == (registered_major(host), 0)
    # Reloaded, not left as it was: the kernel logged one more registration.
    assert loads_logged(host) == loads_before + 1
    load_driver(host, ansible_run, chance=0)


def loads_logged(host):
    return int(host.check_output("dmesg | grep -c 'Registered kernel-roulette with major' || true"))


def test_a_loaded_module_other_than_the_installed_one_is_replaced(host, ansible_run, tmp_path, per_host_playbooks):
    """An interrupted run: a new roulette.ko was installed, the old module is still loaded."""
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    installed = installed_module(host)
    wanted = host.check_output("modinfo -F version %s" % installed)
    # The same module under another version (same length): what an older build looks like.
    other = wanted[:-4] + ("0000" if not wanted.endswith("0000") else "1111")
    assert host.run("python3 -c 'import sys; d = open(sys.argv[1], \"rb\").read(); "
                    "open(sys.argv[4], \"wb\").write(d.replace(sys.argv[2].encode(), sys.argv[3].encode(), 1))' "
                    "%s version=%s version=%s /tmp/old-roulette.ko" % (installed, wanted, other)).rc == 0
    assert host.run("modprobe -r roulette && insmod /tmp/old-roulette.ko chance=0").rc == 0
    assert host.check_output("cat /sys/module/roulette/version") == other

    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, roulette_chance=0))
    assert rc == 0, failures(report, name)
    assert host.check_output("cat /sys/module/roulette/version") == wanted
    assert node_numbers(host) == (registered_major(host), 0)
    assert spin_once(host).startswith("Survived")


@pytest.mark.full_suite
def test_a_driver_unloaded_and_its_node_removed_behind_ansibles_back_come_back(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    assert host.run("modprobe -r roulette && rm -f %s" % DEVICE).rc == 0

    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, roulette_chance=0))
    assert rc == 0, failures(report, name)
    assert loaded_chance(host) == 0
    assert node_numbers(host) == (registered_major(host), 0)
    assert spin_once(host).startswith("Survived")


@pytest.mark.full_suite
def test_a_node_left_with_a_stale_major_is_made_again(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    major = load_driver(host, ansible_run, chance=0)
    # A node from an earlier load, whose major no driver holds now.
    stale = next(m for m in range(major - 1, 200, -1)
                 if host.run("awk '$1 == %d' /proc/devices | grep -q ." % m).rc != 0)
    assert host.run("rm -f %s && mknod -m 0600 %s c %d 0" % (DEVICE, DEVICE, stale)).rc == 0

    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, roulette_chance=0))
    assert rc == 0, failures(report, name)
    assert node_numbers(host) == (major, 0)
