# SPDX-License-Identifier: GPL-3.0-or-later
"""Interlocks and bad input on a real host; each leaves the host as it found it."""

import pytest

from conftest import SITE, adhoc_result, host_name, load_driver, play_results


def failures(report, name):
    return [(task, result) for task, result in play_results(report, name) if result.get("failed")]


def test_panic_on_oops_refuses_an_armed_host(host, ansible_run, per_host_playbooks):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    assert host.run("sysctl -w kernel.panic_on_oops=1").rc == 0
    try:
        rc, report = ansible_run(["playbooks/site.yml", "--limit", name], extra_vars=SITE)
    finally:
        host.run("sysctl -w kernel.panic_on_oops=0")
    assert rc != 0
    (task, result), = failures(report, name)
    assert task == "Refuse a host where a boom would panic the whole kernel"
    assert "kernel.panic_on_oops=1" in result["msg"]


@pytest.mark.parametrize("args, words", [
    ("count=0", ["count", "1"]),                                      # count below 1
    ("device=/dev/no-such-roulette", ["/dev/no-such-roulette"]),      # a missing device
    ("device=/dev/null", ["major"]),                                  # a device of another driver
])
def test_spin_refuses_bad_input(host, ansible_run, args, words):
    name = host_name(host)
    load_driver(host, ansible_run, chance=0)
    rc, report = ansible_run(module="rustkmod.roulette.spin", args=args, limit=name)
    result = adhoc_result(report, name)
    assert rc != 0 and result["failed"]
    for word in words:
        assert word in result["msg"]


@pytest.mark.full_suite
def test_a_patch_that_does_not_apply_is_named_and_changes_nothing(host, ansible_run, tmp_path, per_host_playbooks):
    name = host_name(host)
    bad = tmp_path / "0099-does-not-apply.patch"
    bad.write_text("--- a/src/shim.c\n+++ b/src/shim.c\n@@ -1,3 +1,3 @@\n-this line is not in shim.c\n+nor is this one\n context\n")
    load_driver(host, ansible_run, chance=0)
    before = host.check_output("md5sum /lib/modules/$(uname -r)/extra/roulette.ko")
    rc, report = ansible_run(["playbooks/site.yml", "--limit", name + ",roulette_build"],
                             extra_vars=dict(SITE, kmod_build_extra_patches=[str(bad)]))
    assert rc != 0
    msgs = [result["msg"] for _, result in failures(report, name)] + [
        result["msg"] for host_, in [(h,) for h in report["stats"]] for _, result in failures(report, host_)]
    assert any("0099-does-not-apply.patch does not apply" in msg for msg in msgs), msgs
    assert host.check_output("md5sum /lib/modules/$(uname -r)/extra/roulette.ko") == before
    assert host.file("/sys/module/roulette").is_directory
