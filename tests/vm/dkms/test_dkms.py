# SPDX-License-Identifier: GPL-3.0-or-later
"""kmod_build_method: dkms on a real host: the molecule scenario `dkms` (one bookworm VM, not in CI)
runs these after its converge (ROULETTE_VM_SCOPE=dkms); every other scenario skips them.

In order: DKMS built and installed the driver for the running kernel and kmod_load loaded it;
roulette_info reports it; site.yml again and in check mode changes nothing; then a kernel
upgrade from bookworm-backports, during which DKMS's kernel hook builds the module for the new
kernel, and a reboot (lab.py reboot) into it, after which the boot unit has loaded the
module with its chance before any Ansible run; site.yml on the new kernel changes nothing;
teardown removes what the collection registered with DKMS and nothing else.

The kernel upgrade's times (apt, the DKMS build in it, the reboot) are printed and written as
JSON to $ROULETTE_DKMS_RESULTS (default tests/output/dkms-upgrade.json).
"""

import json
import os
import re
import time

import pytest

from conftest import ROOT, failures, host_name, lab, play_results

pytestmark = pytest.mark.skipif(os.environ.get("ROULETTE_VM_SCOPE") != "dkms",
                                reason="the dkms scenario's checks (ROULETTE_VM_SCOPE=dkms)")

SITE = {"roulette_spin_count": 0}
BACKPORTS = "deb http://deb.debian.org/debian bookworm-backports main"
RESULTS = os.environ.get("ROULETTE_DKMS_RESULTS", str(ROOT / "tests" / "output" / "dkms-upgrade.json"))
MARKER = "# Managed by rustkmod.roulette (kmod_build_method: dkms)"


def status(host, release=None):
    """{(version, kernel): state} of `dkms status -m roulette` (kernel None for an added version)."""
    found = {}
    for line in host.check_output("dkms status -m roulette").splitlines():
        match = re.match(r"^roulette/(\S+?)(?:, (\S+), (\S+))?: (\S+)", line)
        if match and (release is None or match.group(2) == release):
            found[(match.group(1), match.group(2))] = match.group(4)
    return found


def versions(host):
    return sorted({version for version, _ in status(host)})


def changed_tasks(report, name):
    return [task for task, result in play_results(report, name) if result.get("changed")]


def record(**values):
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    data = {}
    if os.path.exists(RESULTS):
        with open(RESULTS) as handle:
            data = json.load(handle)
    data.update(values)
    with open(RESULTS, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    print("dkms results:", json.dumps(values, sort_keys=True))


def assert_loaded_from_dkms(host, release, chance=0):
    """roulette is loaded on `release`, from DKMS's updates/dkms, with `chance`, its node there."""
    assert host.check_output("uname -r") == release
    assert re.search(r"^roulette ", host.file("/proc/modules").content_string, re.M), "roulette not in /proc/modules"
    assert int(host.file("/sys/module/roulette/parameters/chance").content_string) == chance
    path = host.check_output("modinfo -k %s -n roulette" % release)
    assert re.fullmatch(r"/lib/modules/%s/updates/dkms/roulette\.ko(\.xz|\.zst|\.gz)?" % re.escape(release), path), path
    assert host.check_output("cat /sys/module/roulette/version") == host.check_output(
        "modinfo -k %s -F version roulette" % release)
    assert host.run("test -c /dev/kernel-roulette").rc == 0


def test_dkms_built_and_installed_the_driver_for_the_running_kernel(host):
    release = host.check_output("uname -r")
    (version,) = versions(host)
    assert re.fullmatch(r"\d+\.\d+\.\d+-[0-9a-f]{12}", version), version
    assert status(host, release) == {(version, release): "installed"}
    conf = host.file("/usr/src/roulette-%s/dkms.conf" % version)
    assert MARKER in conf.content_string.splitlines()
    assert 'AUTOINSTALL="yes"' in conf.content_string
    # The tree is the patched source: no patch leftovers, the driver's Makefile.
    assert host.run("test -f /usr/src/roulette-%s/Makefile" % version).rc == 0
    assert host.check_output("find /usr/src/roulette-%s -name '*.orig' -o -name '*.rej'" % version) == ""
    # kmod_build_method ansible's copy is not there: DKMS's is the only roulette.ko.
    assert not host.file("/lib/modules/%s/extra/roulette.ko" % release).exists
    # The toolchain and DKMS stay, with the headers metapackage that brings a new kernel's headers.
    for package in ("dkms", "rustc-web", "rust-web-src", "linux-headers-amd64", "linux-headers-" + release):
        assert host.package(package).is_installed, package


def test_the_module_dkms_installed_is_loaded_with_the_chance(host):
    assert_loaded_from_dkms(host, host.check_output("uname -r"))
    assert host.service("roulette-node.service").is_enabled


def test_roulette_info_reports_the_dkms_state(host, ansible_run):
    rc, report = ansible_run(module="rustkmod.roulette.roulette_info", limit=host_name(host))
    assert rc == 0, report
    (result,) = [r for play in report["plays"] for task in play["tasks"] for r in task["hosts"].values()]
    info = result["ansible_facts"]["roulette_info"]
    release = host.check_output("uname -r")
    (version,) = versions(host)
    assert [(e["version"], e["kernel"], e["arch"], e["state"]) for e in info["dkms"]] == [
        (version, release, "x86_64", "installed")]
    assert info["dkms_sources"] == [{"version": version, "path": "/usr/src/roulette-" + version, "ours": True}]
    assert any(path.startswith("/lib/modules/%s/updates/dkms/roulette.ko" % release) for path in info["module_files"])


def test_site_yml_again_changes_nothing(host, ansible_run):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=SITE)
    assert rc == 0, failures(report, name)
    assert report["stats"][name]["changed"] == 0, changed_tasks(report, name)


def test_check_mode_changes_nothing(host, ansible_run):
    name = host_name(host)
    before = host.check_output("ls -l --time-style=full-iso /usr/src /var/lib/dkms/roulette")
    rc, report = ansible_run(["playbooks/site.yml", "--check", "--limit", name], extra_vars=SITE)
    assert rc == 0, failures(report, name)
    assert report["stats"][name]["changed"] == 0, changed_tasks(report, name)
    assert host.check_output("ls -l --time-style=full-iso /usr/src /var/lib/dkms/roulette") == before


def test_a_kernel_upgrade_keeps_the_driver(host):
    name = host_name(host)
    old = host.check_output("uname -r")
    (version,) = versions(host)
    assert host.run("echo '%s' > /etc/apt/sources.list.d/bookworm-backports.list" % BACKPORTS).rc == 0
    started = time.monotonic()
    upgrade = host.run("apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends"
                       " -t bookworm-backports linux-image-amd64 linux-headers-amd64 2>&1")
    apt_seconds = round(time.monotonic() - started, 1)
    assert upgrade.rc == 0, upgrade.stdout[-3000:]
    new = host.check_output("ls -1 /boot | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1")
    assert new != old
    # DKMS's hook (the kernel's postinst.d/dkms, or its headers' header_postinst.d/dkms) built and
    # installed it for the new kernel during the install.
    assert "dkms: running auto installation service for kernel %s" % new in upgrade.stdout, upgrade.stdout[-3000:]
    assert status(host, new) == {(version, new): "installed"}
    log = "/var/lib/dkms/roulette/%s/%s/x86_64/log/make.log" % (version, new)
    build_start, build_end = host.check_output(
        "date -d \"$(sed -n 2p %s)\" +%%s; stat -c %%Y %s" % (log, log)).split()
    make_log = host.file(log).content_string
    std_built = "RUSTC   core" in make_log
    # Which package's hook built it: the kernel's (postinst.d) when its headers were unpacked by then.
    dpkg = host.check_output("grep -E ' (configure|status installed) linux-(image|headers)-%s[: ]' /var/log/dpkg.log"
                             % re.escape(new))

    started = time.monotonic()
    booted = json.loads(lab("reboot", name).splitlines()[-1])
    reboot_seconds = round(time.monotonic() - started, 1)
    assert booted["kernel_release"] == new
    # Before any Ansible run: the boot unit loaded DKMS's module for the new kernel with the chance.
    assert_loaded_from_dkms(host, new)
    assert host.service("roulette-node.service").is_running
    unit = host.check_output("systemctl show roulette-node.service -p ActiveState -p SubState -p ExecMainStatus")
    assert "ActiveState=active" in unit and "ExecMainStatus=0" in unit, unit
    record(old_kernel=old, new_kernel=new, dkms_version=version, apt_install_seconds=apt_seconds,
           dkms_build_seconds=int(build_end) - int(build_start), dkms_build_compiled_std=std_built,
           dpkg_kernel_lines=dpkg.splitlines(), reboot_seconds=reboot_seconds,
           module_path=host.check_output("modinfo -k %s -n roulette" % new),
           boot_unit_journal=host.check_output("journalctl -b -u roulette-node.service --no-pager -o short-monotonic")
           .splitlines()[-5:])


def test_site_yml_on_the_new_kernel_changes_nothing(host, ansible_run):
    name = host_name(host)
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=SITE)
    assert rc == 0, failures(report, name)
    assert report["stats"][name]["changed"] == 0, changed_tasks(report, name)


def test_teardown_removes_what_the_collection_registered_and_nothing_else(host, ansible_run):
    name = host_name(host)
    (version,) = versions(host)
    # A tree of someone else's, which the collection must leave alone.
    assert host.run("mkdir -p /usr/src/roulette-0.9 && echo 'PACKAGE_NAME=roulette' > /usr/src/roulette-0.9/dkms.conf").rc == 0
    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0, failures(report, name)
    assert versions(host) == []
    assert not host.file("/usr/src/roulette-" + version).exists
    assert host.file("/usr/src/roulette-0.9/dkms.conf").exists
    assert host.check_output("ls /lib/modules/*/updates/dkms/ 2>/dev/null | grep -c roulette || true") == "0"
    assert not host.file("/sys/module/roulette").exists
    assert host.package("dkms").is_installed and host.package("rustc-web").is_installed
    assert host.run("rm -rf /usr/src/roulette-0.9").rc == 0
    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0 and report["stats"][name]["changed"] == 0, changed_tasks(report, name)
