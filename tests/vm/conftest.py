# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks run against real hosts (the molecule VMs) after converge.

Run by each scenario's verify.yml as
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


@pytest.fixture
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
