# SPDX-License-Identifier: GPL-3.0-or-later
"""--check predicts and writes nothing: on a host that still needs a build (no module
installed, none in the controller's cache) it succeeds, says what would change, and
leaves the host and the controller's cache as they were."""

from conftest import SITE, failures, host_name, installed_module, load_driver, play_results


def test_check_mode_on_a_host_that_needs_a_build(host, ansible_run, tmp_path, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(["playbooks/teardown.yml", "--limit", name])
    assert rc == 0, failures(report, name)
    assert not host.file(installed_module(host)).exists
    cache = tmp_path / "empty-cache"

    try:
        rc, report = ansible_run(["playbooks/site.yml", "--check", "--limit", name + ",roulette_build"],
                                 extra_vars=dict(SITE, roulette_chance=0, kmod_build_controller_cache=str(cache)))
        failed = [(h, t, r.get("msg")) for h in report["stats"] for t, r in failures(report, h)]
        assert rc == 0, failed
        changed = [t for h in report["stats"] for t, r in play_results(report, h) if r.get("changed")]
        assert "Say that a real run builds roulette.ko" in changed, changed
        assert "Say that a real run installs the module this run builds" in changed, changed
        assert not cache.exists() or not any(cache.rglob("*")), sorted(cache.rglob("*"))
        assert not host.file(installed_module(host)).exists
        assert not host.file("/sys/module/roulette").exists
        assert not host.file("/var/lib/rustkmod-roulette/build").exists
    finally:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                                 extra_vars=dict(SITE, roulette_chance=0))
        assert rc == 0, failures(report, name)
