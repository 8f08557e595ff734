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


def test_a_new_node_gets_the_group_and_mode_asked_for(host, ansible_run):
    """mknod makes root's node; another group is set on the new node (the call skipped for root:root)."""
    assert host.run("rm -f /dev/kernel-roulette").rc == 0
    name = host_name(host)
    try:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                                 extra_vars=dict(SITE, kmod_load_device_group="disk"))
        assert rc == 0, failures(report, name)
        assert host.check_output("stat -c '%a %U %G' /dev/kernel-roulette").split() == ["660", "root", "disk"]
    finally:
        assert host.run("rm -f /dev/kernel-roulette").rc == 0
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"], extra_vars=SITE)
        assert rc == 0, failures(report, name)
    assert host.check_output("stat -c '%a %U %G' /dev/kernel-roulette").split() == ["600", "root", "root"]


def test_the_headers_and_the_toolchain_came_in_one_apt_transaction(host):
    """site.yml hands the toolchain's packages to kernel_headers: one dependency solve and one dpkg run.

    Reads apt's history on this VM, where only the collection installs these packages (the lab's
    image has neither): the transaction that installed this kernel's headers installed rustc-web.
    A host whose module came from a build host (the fleet's, forky's) installs no headers: skipped.
    """
    release = host.check_output("uname -r")
    if not host.package("linux-headers-%s" % release).is_installed:
        pytest.skip("this host did not build: its module came from a build host (no headers installed here)")
    entries = host.file("/var/log/apt/history.log").content_string.split("\n\n")
    headers = re.compile(r"^Install: .*\blinux-headers-%s:amd64 " % re.escape(release), re.M)
    with_headers = [entry for entry in entries if headers.search(entry)]
    assert with_headers, "no apt transaction on this VM installed linux-headers-%s" % release
    assert re.search(r"^Install: .*\brustc-web:amd64 ", with_headers[-1], re.M), with_headers[-1]
