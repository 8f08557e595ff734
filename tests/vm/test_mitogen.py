# SPDX-License-Identifier: GPL-3.0-or-later
"""mitogen's strategy (offered in the README and the demo) against the VM, become through
sudo included: a real build on the host with an extra patch, the reload of the new module,
a re-run that changes nothing, and spins. Then the default strategy puts the host back."""

import os

import pytest

from conftest import host_name, load_driver

ansible_mitogen = pytest.importorskip("ansible_mitogen")

PATCH = """--- a/src/shim.c
+++ b/src/shim.c
@@ -1,4 +1,5 @@
 // SPDX-License-Identifier: GPL-2.0
+// Built by tests/vm/test_mitogen.py under mitogen's strategy.
 /*
  * roulette: the C half of kernel-roulette.
  *
"""


def mitogen():
    return {"ANSIBLE_STRATEGY_PLUGINS": os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy"),
            "ANSIBLE_STRATEGY": "mitogen_linear"}


@pytest.mark.full_suite
def test_mitogen_builds_loads_spins_and_is_idempotent(host, ansible_run, tmp_path, per_host_playbooks):
    name = host_name(host)
    patch = tmp_path / "0090-mitogen-comment.patch"
    patch.write_text(PATCH)
    site = {"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 0,
            "kmod_build_extra_patches": [str(patch)]}
    load_driver(host, ansible_run, chance=0)
    before = host.check_output("md5sum /lib/modules/$(uname -r)/extra/roulette.ko").split()[0]
    try:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=site, env=mitogen())
        assert rc == 0, [r.get("msg") for p in report["plays"] for t in p["tasks"]
                         for h, r in t["hosts"].items() if r.get("failed")]
        after = host.check_output("md5sum /lib/modules/$(uname -r)/extra/roulette.ko").split()[0]
        assert after != before, "the patched module was not built and installed"
        assert host.file("/sys/module/roulette").is_directory

        rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=dict(site, roulette_spin_count=200),
                                 env=mitogen())
        assert rc == 0
        spun = [t["hosts"][name] for p in report["plays"] for t in p["tasks"]
                if name in t["hosts"] and t["task"]["name"].split(" : ")[-1].startswith("Spin the device")]
        assert spun and spun[0]["ansible_facts"]["roulette"]["survived"] == 200
        # Only the spin and the report changed anything.
        changed = [t["task"]["name"] for p in report["plays"] for t in p["tasks"]
                   if t["hosts"].get(name, {}).get("changed")]
        assert all(task.split(" : ")[-1].startswith("Spin the device") for task in changed), changed
    finally:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name],
                                 extra_vars={"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 0})
    assert rc == 0
    assert host.check_output("md5sum /lib/modules/$(uname -r)/extra/roulette.ko").split()[0] == before
