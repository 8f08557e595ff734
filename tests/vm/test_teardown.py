# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/teardown.yml leaves nothing of the driver on the host, a second run changes
nothing, and site.yml puts the host back (the module coming from the controller's cache)."""

from conftest import host_name

SITE = {"roulette_armed": True, "roulette_spin_count": 0}
GONE = [
    "/sys/module/roulette",
    "/dev/kernel-roulette",
    "/etc/modules-load.d/roulette.conf",
    "/etc/modprobe.d/roulette.conf",
    "/etc/systemd/system/roulette-node.service",
    "/var/lib/rustkmod-roulette/build",
    "/var/cache/rustkmod-roulette/std",
]


def test_teardown_removes_everything_then_site_restores_the_host(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0, report["stats"]
    for path in GONE:
        assert not host.file(path).exists, path
    assert host.run("find /lib/modules -name roulette.ko").stdout.strip() == ""
    assert host.run("modinfo roulette").rc != 0  # depmod forgot it

    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0 and report["stats"][name]["changed"] == 0, report["stats"]

    rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=SITE)
    assert rc == 0, report["stats"]
    assert host.file("/sys/module/roulette").is_directory
    assert host.run("test -c /dev/kernel-roulette").rc == 0
