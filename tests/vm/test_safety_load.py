# SPDX-License-Identifier: GPL-3.0-or-later
"""A module the kernel refuses (its vermagic does not match the running kernel): the load
fails with the kernel's own words, and nothing half-installed is left: no module file in
/lib/modules, no device node. site.yml then puts the host back."""

import pytest

from conftest import host_name, load_driver, play_results

SITE = {"roulette_armed": True, "roulette_chance": 0, "roulette_spin_count": 0}


@pytest.mark.full_suite
def test_a_module_the_kernel_refuses_is_removed_with_the_kernel_log(host, ansible_run, tmp_path, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    installed = "/lib/modules/%s/extra/roulette.ko" % host.check_output("uname -r")
    good = host.file(installed).content
    # Same length, another build configuration: the kernel compares this part of the
    # vermagic even with modversions.
    assert b" mod_unload " in good
    bad = tmp_path / "roulette.ko"
    bad.write_bytes(good.replace(b" mod_unload ", b" mod_unlaod ", 1))
    try:
        rc, report = ansible_run(["tests/vm/playbooks/load_module.yml", "--limit", name],
                                 extra_vars={"roulette_chance": 7, "kmod_load_module_file": str(bad)})
        assert rc != 0
        failed = [(task, result) for task, result in play_results(report, name) if result.get("failed")]
        task, result = failed[-1]
        assert task == "Explain why the module did not load", failed
        assert "version magic" in result["msg"] and "mod_unlaod" in result["msg"], result["msg"]
        assert "were removed" in result["msg"]
        assert not host.file(installed).exists
        assert not host.file("/dev/kernel-roulette").exists
        assert not host.file("/sys/module/roulette").exists
    finally:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=SITE)
    assert rc == 0, [(t, r.get("msg")) for t, r in play_results(report, name) if r.get("failed")]
    assert host.file(installed).content == good
    assert host.file("/sys/module/roulette").is_directory
