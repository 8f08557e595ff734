# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/teardown.yml from a host that has everything (loaded module, node, boot-time
persistence enabled): it leaves nothing of the driver, no dangling unit link, a second run
changes nothing, and site.yml puts the host back."""

from conftest import SITE, failures, host_name, installed_module, load_driver

UNIT = "/etc/systemd/system/roulette-node.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/roulette-node.service"
SCRIPT = "/usr/local/libexec/rustkmod-roulette/roulette-node"
# Files of earlier releases of the collection, which teardown removes too.
OLD = ["/etc/modules-load.d/roulette.conf", "/etc/modprobe.d/roulette.conf"]
GONE = [
    "/sys/module/roulette",
    "/dev/kernel-roulette",
    UNIT,
    SCRIPT,
    "/var/lib/rustkmod-roulette/build",
    "/var/cache/rustkmod-roulette/std",
] + OLD


def test_teardown_removes_everything_then_site_restores_the_host(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, roulette_chance=0, kmod_load_persist=True))
    assert rc == 0, failures(report, name)
    # The starting state: every boot-time piece is really there, and an upgrade from an
    # earlier release left its modules-load.d and modprobe.d files.
    for path in OLD:
        assert host.run("printf 'roulette\\n' > %s" % path).rc == 0
    for path in [UNIT, WANTS, SCRIPT] + OLD:
        assert host.file(path).exists, path
    assert host.check_output("systemctl is-enabled roulette-node.service") == "enabled"

    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0, failures(report, name)
    for path in GONE:
        assert not host.file(path).exists, path
    assert not host.file(WANTS).exists and not host.file(WANTS).is_symlink, "dangling unit link left"
    assert host.run("systemctl cat roulette-node.service").rc != 0, "systemd still knows the unit"
    assert host.run("find /lib/modules -name roulette.ko").stdout.strip() == ""
    assert host.run("modinfo roulette").rc != 0  # depmod forgot it

    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0 and report["stats"][name]["changed"] == 0, report["stats"]

    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, roulette_chance=0))
    assert rc == 0, failures(report, name)
    assert host.file("/sys/module/roulette").is_directory
    assert host.run("test -c /dev/kernel-roulette").rc == 0
    assert host.file(installed_module(host)).exists
    assert not host.file(UNIT).exists
