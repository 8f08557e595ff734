# SPDX-License-Identifier: GPL-3.0-or-later
"""A kernel upgrade keeps the driver (the upgrade scenario, ROULETTE_VM_SCOPE=upgrade).

One story on one Debian 12 VM, in the order a user lives it, each step checked where the
user would look: the driver kept across reboots on the image's 6.1 kernel; bookworm-backports'
newer kernel installed with apt and booted; that boot says the module is missing for the
new kernel and fails nothing; the next site.yml builds and loads a module for the new
release and keeps the old one; a rollback boot into 6.1 loads the old module at boot, at the
chance it had, before any Ansible run. The test converges the bare VM itself.
"""

from __future__ import annotations

import json

from conftest import (
    DEVICE,
    SITE,
    failures,
    host_name,
    lab,
    loaded_chance,
    node_numbers,
    registered_major,
    release_key,
    usable,
)

BACKPORTS = "/etc/apt/sources.list.d/bookworm-backports.list"
CHANCE = 7
KEPT = dict(SITE, roulette_chance=CHANCE, kmod_load_persist=True)


def module_vermagic(host, release):
    """The vermagic of the roulette.ko installed for `release`, or None."""
    path = "/lib/modules/%s/extra/roulette.ko" % release
    if not host.file(path).exists:
        return None
    return host.check_output("modinfo -F vermagic %s" % path)


def unit_state(host):
    return host.run("systemctl is-active roulette-node.service").stdout.strip()


def boot_log(host):
    """What roulette-node.service said during this boot."""
    return host.check_output("journalctl -b -o cat -u roulette-node.service")


def reboot_into(host, release=None):
    """lab.py reboot: a clean shutdown, then the newest installed kernel (or `release`)."""
    out = lab("reboot", host_name(host), *(["--kernel", release] if release else []))
    booted = json.loads(out.splitlines()[-1])["kernel_release"]
    assert host.check_output("uname -r") == booted
    return booted


def installed_kernels(host):
    """The kernel releases in /boot, oldest first (version order, as `lab.py reboot` reads them)."""
    releases = host.check_output("ls -1 /boot | sed -n 's/^vmlinuz-//p'").split()
    return sorted(releases, key=release_key)


def test_kernel_upgrade_keeps_the_driver(host, ansible_run):
    name = host_name(host)
    usable(host)
    # The starting state: the image's kernel (the oldest in /boot) running, and no roulette
    # module for any other kernel (an earlier run of this test may have left both otherwise).
    old = installed_kernels(host)[0]
    if host.check_output("uname -r") != old:
        reboot_into(host, old)
    host.run_expect([0], "find /lib/modules -path '*/extra/roulette.ko' ! -path '/lib/modules/%s/*' -delete" % old)

    # The driver installed, loaded at CHANCE and kept across reboots on the image's kernel.
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=KEPT)
    assert rc == 0, failures(report, name)
    assert loaded_chance(host) == CHANCE
    assert module_vermagic(host, old).startswith(old + " ")

    # The upgrade, as a user makes it: backports' kernel image from apt (no headers: the
    # collection installed the running kernel's own headers, not the metapackage).
    host.run_expect([0], "echo 'deb http://deb.debian.org/debian bookworm-backports main' > %s" % BACKPORTS)
    host.run_expect([0], "apt-get update -q")
    installed = host.run("DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports linux-image-amd64")
    assert installed.rc == 0, installed.stderr[-2000:]
    new = reboot_into(host)
    assert new != old, "bookworm-backports brought no newer kernel than %s" % old

    # The boot on a kernel without the module: the unit says so and fails nothing; no node.
    assert unit_state(host) == "active"
    assert "no roulette module is installed for kernel %s" % new in boot_log(host)
    assert host.run("systemctl is-failed systemd-modules-load.service").stdout.strip() != "failed"
    assert loaded_chance(host) is None
    assert not host.file(DEVICE).exists

    # The next site.yml builds a module for the new release and loads it; the old one stays.
    # Its headers, rustc and a cold build of core under emulation: more than the default half hour
    # on a loaded machine.
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=KEPT, timeout=5400)
    assert rc == 0, failures(report, name)
    assert module_vermagic(host, new).startswith(new + " ")
    assert loaded_chance(host) == CHANCE
    assert node_numbers(host) == (registered_major(host), 0)
    assert module_vermagic(host, old).startswith(old + " ")

    # A rollback boot into the old kernel: its module, at CHANCE, before any Ansible run.
    assert reboot_into(host, old) == old
    assert unit_state(host) == "active"
    assert loaded_chance(host) == CHANCE
    assert node_numbers(host) == (registered_major(host), 0)
