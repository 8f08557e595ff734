# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml from a host without the driver (unloaded, no node, no module installed): the
module is installed and loaded with the requested chance, and the node is right."""

import re

import pytest

from conftest import SITE, failures, host_name, installed_module, usable


@pytest.fixture(scope="module", autouse=True)
def converged(host, ansible_run):
    usable(host)
    assert host.run("modprobe -r roulette; rm -f /dev/kernel-roulette %s && depmod -a" % installed_module(host)).rc == 0
    name = host_name(host)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"], extra_vars=SITE)
    assert rc == 0, failures(report, name)


def test_module_is_loaded_with_the_requested_chance(host):
    assert host.file("/sys/module/roulette").is_directory
    wanted = host.ansible.get_variables().get("roulette_chance")
    chance = int(host.file("/sys/module/roulette/parameters/chance").content_string.strip())
    assert 0 <= chance <= 100
    if wanted is not None:
        assert chance == int(wanted)


def test_module_is_installed_for_the_running_kernel(host):
    release = host.check_output("uname -r")
    module = host.file(f"/lib/modules/{release}/extra/roulette.ko")
    assert module.is_file
    assert module.mode == 0o644
    assert "roulette" in host.check_output(f"modinfo -k {release} -F name roulette")


def test_device_node_matches_the_registered_major(host):
    devices = host.file("/proc/devices").content_string
    section = devices.split("Block devices:")[0]
    major = int(re.search(r"^\s*(\d+) kernel-roulette$", section, re.M).group(1))
    node = host.file("/dev/kernel-roulette")
    assert node.exists
    stat = host.check_output("stat -c '%F %t %T %a %U %G' /dev/kernel-roulette").split()
    assert stat[:3] == ["character", "special", "file"]
    assert int(stat[3], 16) == major and int(stat[4], 16) == 0
    assert stat[5:] == ["600", "root", "root"]


def test_load_was_logged_with_the_major(host):
    dmesg = host.check_output("dmesg")
    majors = re.findall(r"Registered kernel-roulette with major device number (\d+)", dmesg)
    assert majors, "no load line in dmesg"
    assert f"Run /bin/mknod /dev/kernel-roulette c {majors[-1]} 0" in dmesg
    assert re.search(r"Panic probability: \d+/100", dmesg)


def test_unprivileged_user_cannot_open_the_device(host):
    result = host.run("sudo -u nobody cat /dev/kernel-roulette")
    assert result.rc != 0
    assert "Permission denied" in result.stderr
