# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as a user gets it: built into a tarball, installed into an empty
collections path, and `ansible-playbook rustkmod.roulette.site` run from there against
the scenario's VM, with none of the checkout's ansible.cfg."""

import json
import os
import subprocess

import pytest

from conftest import BIN, ROOT, host_name, usable


@pytest.mark.full_suite
def test_site_from_the_installed_tarball_converges_the_vm(host, request, tmp_path, per_host_playbooks):
    name = host_name(host)
    usable(host)
    inventory = request.config.getoption("ansible_inventory")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "installed"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_NOCOLOR="1")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(tmp_path)],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    tarball, = tmp_path.glob("rustkmod-roulette-*.tar.gz")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "--no-deps",
                    "-p", str(tmp_path / "installed")], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "installed/ansible_collections/rustkmod/roulette/playbooks/site.yml").is_file()

    proc = subprocess.run([str(BIN / "ansible-playbook"), "-i", inventory, "rustkmod.roulette.site",
                           "--limit", name, "-e", json.dumps({"roulette_spin_count": 0})],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800)
    report = json.loads(proc.stdout[proc.stdout.index("{"):])
    failed = [(t["task"]["name"], r.get("msg")) for p in report["plays"] for t in p["tasks"]
              for h, r in t["hosts"].items() if r.get("failed")]
    assert proc.returncode == 0, (failed, proc.stderr[-2000:])
    stats = report["stats"][name]
    assert stats["failures"] == 0 and stats["unreachable"] == 0
    # Every task came from the installed copy, not from the checkout.
    paths = {t["task"].get("path", "") for p in report["plays"] for t in p["tasks"]}
    assert any(str(tmp_path / "installed") in path for path in paths), sorted(paths)[:5]
    assert not any(path.startswith(str(ROOT) + "/roles") for path in paths)
    assert host.file("/sys/module/roulette").is_directory
    assert host.run("test -c /dev/kernel-roulette").rc == 0
