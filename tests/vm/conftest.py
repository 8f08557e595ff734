# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks run against real hosts (the molecule VMs) after converge.

Run by each scenario's verify step (molecule's testinfra verifier, .config/molecule/config.yml) as
  pytest -p no:ansible tests/vm --hosts=ansible://roulette --ansible-inventory=INV --sudo
Each test receives a testinfra host; `ansible_run` runs playbooks or ad-hoc modules
of the collection against the same inventory and returns their JSON results.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _inventory(request):
    return request.config.getoption("ansible_inventory")


@pytest.fixture(scope="session")
def ansible_env():
    return dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json",
                ANSIBLE_HOST_KEY_CHECKING="False")


@pytest.fixture(scope="session")
def ansible_run(request, ansible_env):
    """ansible_run(["playbooks/site.yml", "--check"]) or ansible_run(module=..., args=..., limit=...)."""
    inventory = _inventory(request)

    def run(argv=None, module=None, args="", limit="roulette", extra_vars=None, timeout=1800, env=None):
        if module:
            cmd = [str(BIN / "ansible"), limit, "-i", inventory, "-m", module, "-a", args]
        else:
            cmd = [str(BIN / "ansible-playbook"), "-i", inventory] + list(argv)
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        proc = subprocess.run(cmd, cwd=ROOT, env=dict(ansible_env, **(env or {})), capture_output=True, text=True,
                              timeout=timeout)
        try:
            report = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError as exc:
            raise AssertionError("no JSON from %s:\n%s\n%s" % (cmd, proc.stdout, proc.stderr)) from exc
        return proc.returncode, report
    return run


# Two tiers: CI (.ci/run, within its hour on two emulated cores) runs every test but those
# marked full_suite; ROULETTE_VM_TESTS=all (scripts/test.sh --all-vm-tests) runs them too.
# A full_suite test repeats a path that a CI test covers (another variant of the same fault,
# another strategy, the tarball route), so CI still tries every case of the recovery, guards
# and faults once.
def pytest_configure(config):
    config.addinivalue_line("markers", "full_suite: run only with ROULETTE_VM_TESTS=all (not in CI)")


# test_upgrade.py installs another kernel and reboots into it: it runs alone, in the upgrade
# scenario (ROULETTE_VM_SCOPE=upgrade), and no other test runs there.
UPGRADE_FILE = "test_upgrade.py"


def pytest_collection_modifyitems(config, items):
    upgrade = os.environ.get("ROULETTE_VM_SCOPE") == "upgrade"
    for item in items:
        if (item.path.name == UPGRADE_FILE) != upgrade:
            item.add_marker(pytest.mark.skip(
                reason="the upgrade scenario's own test" if not upgrade else "not a test of the upgrade scenario"))
    if os.environ.get("ROULETTE_VM_TESTS") == "all":
        return
    skip = pytest.mark.skip(reason="full VM suite only: ROULETTE_VM_TESTS=all (scripts/test.sh --all-vm-tests)")
    for item in items:
        if item.get_closest_marker("full_suite"):
            item.add_marker(skip)


@pytest.fixture
def per_host_playbooks():
    """Skip in the fleet scenario: the checks that run whole playbooks once per host are
    the single-VM scenarios' job; the fleet scenario runs the fleet-wide ones."""
    if os.environ.get("ROULETTE_VM_SCOPE") == "fleet":
        pytest.skip("per-host playbook checks run in the single-VM scenarios")


def host_name(host):
    """The inventory name of a testinfra host."""
    return host.backend.get_hostname()


def play_results(report, host):
    """(task name, result) pairs of one host in a playbook's JSON report."""
    for play in report.get("plays", []):
        for task in play["tasks"]:
            if host in task["hosts"]:
                yield task["task"]["name"].split(" : ", 1)[-1], task["hosts"][host]


def adhoc_result(report, host):
    for play in report.get("plays", []):
        for task in play["tasks"]:
            if host in task["hosts"]:
                return task["hosts"][host]
    raise AssertionError("no result for %s in %s" % (host, report))


# --- starting states a test puts the host in itself ------------------------------------------

SITE = {"roulette_armed": True, "roulette_spin_count": 0}
DEVICE = "/dev/kernel-roulette"


def failures(report, name):
    """(task, result) of the tasks that failed on host `name`."""
    return [(task, result) for task, result in play_results(report, name) if result.get("failed")]


def installed_module(host):
    return "/lib/modules/%s/extra/roulette.ko" % host.check_output("uname -r")


def registered_major(host):
    """The kernel-roulette major in /proc/devices, or None."""
    out = host.check_output("awk '$2 == \"kernel-roulette\" {print $1}' /proc/devices")
    return int(out) if out else None


def node_numbers(host, path=DEVICE):
    """(major, minor) of a character device node, or None when there is none."""
    if host.run("test -c %s" % path).rc != 0:
        return None
    major, minor = host.check_output("stat -c '%%t %%T' %s" % path).split()
    return int(major, 16), int(minor, 16)


def loaded_chance(host):
    chance = host.file("/sys/module/roulette/parameters/chance")
    return int(chance.content_string) if chance.exists else None


LAB = ROOT / "molecule" / "shared" / "lab.py"
if str(LAB.parent) not in sys.path:
    sys.path.insert(0, str(LAB.parent))
from roulette_lab.instance import release_key  # noqa: E402,F401 - the lab's version order of kernel releases


def lab(*args, timeout=900):
    """Run lab.py (the VM lab) and return its stdout; the lab's state dir comes from the environment."""
    done = subprocess.run([sys.executable, str(LAB)] + list(args), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (args, done.stderr[-2000:])
    return done.stdout


def lab_state(name):
    """The lab's view of a VM (state running / ssh-unreachable / dead / off / absent, panic, oops)."""
    return json.loads(lab("status", name).splitlines()[0])


def power_cycle(name):
    """Pull the plug and boot the same disk again: what a host that panicked, was powered off or
    had module loading switched off until reboot needs."""
    lab("poweroff", name)
    lab("start", name)


def usable(host):
    """A host a test can start from: its VM runs and answers, and it can load modules. A test that
    left it powered off, panicked or with kernel.modules_disabled=1 is undone here."""
    name = host_name(host)
    if lab_state(name)["state"] in ("off", "dead", "ssh-unreachable"):
        power_cycle(name)
    if host.run("cat /proc/sys/kernel/modules_disabled").stdout.strip() == "1":
        power_cycle(name)


def load_driver(host, ansible_run, chance):
    """The driver installed, freshly loaded at `chance` and its node made for its major, by hand
    (as a user would), or with site.yml when no module is installed yet."""
    usable(host)
    if not host.file(installed_module(host)).exists:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", host_name(host) + ",roulette_build"],
                                 extra_vars=dict(SITE, roulette_chance=chance))
        assert rc == 0, failures(report, host_name(host))
    host.run("modprobe -r roulette")
    assert host.run("modprobe roulette chance=%d" % chance).rc == 0
    major = registered_major(host)
    assert host.run("rm -f %s && mknod -m 0600 %s c %d 0" % (DEVICE, DEVICE, major)).rc == 0
    assert loaded_chance(host) == chance and node_numbers(host) == (major, 0)
    return major


def boom(host):
    """Spin once by hand at chance 100: the reader dies, the kernel survives with taint D."""
    assert loaded_chance(host) == 100
    result = host.run("cat %s" % DEVICE)
    assert result.rc != 0, result.stdout
    assert int(host.check_output("cat /proc/sys/kernel/tainted")) & (1 << 7), "no taint D after the boom"
