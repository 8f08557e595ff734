# SPDX-License-Identifier: GPL-3.0-or-later
"""preflight's refusals for kernel states no VM here can be put in (lockdown, signature
enforcement, no module support), and the ones a VM test also shows (panic_on_oops,
modules_disabled), each asserting the message a user reads."""

import pytest

from integration_support import task_results

HEALTHY = {"module_support": True, "modules_disabled": False, "lockdown": "none", "sig_enforce": False,
           "panic_on_oops": False, "taint": {"value": 0, "letters": "", "flags": []}}


def run(run_playbook, armed=True, allow_panic=False, **kernel):
    rc, report = run_playbook("interlocks.yml", {"kernel": dict(HEALTHY, **kernel), "roulette_armed": armed,
                                                 "roulette_allow_panic": allow_panic})
    failed = [(name, result) for name, result in task_results(report) if result.get("failed")]
    return rc, failed, report


def verdict(report):
    for name, result in task_results(report):
        if name == "Record the preflight verdict":
            return result["ansible_facts"]["preflight_verdict"]
    raise AssertionError("no verdict")


def test_a_healthy_kernel_is_armed(run_playbook):
    rc, failed, report = run(run_playbook)
    assert rc == 0 and not failed
    assert verdict(report)["armed"] is True


def test_an_unarmed_host_is_told_how_to_arm_it(run_playbook):
    rc, failed, report = run(run_playbook, armed=False, panic_on_oops=True)
    assert rc == 0 and not failed, "an unarmed host is not refused for panic_on_oops"
    assert verdict(report)["armed"] is False
    said = [r["msg"] for n, r in task_results(report) if n == "Say that the host is not armed"]
    assert "Set roulette_armed: true" in said[0]


@pytest.mark.parametrize("kernel, words", [
    ({"module_support": False}, "has no loadable module support"),
    ({"modules_disabled": True}, "kernel.modules_disabled=1"),
    ({"lockdown": "integrity"}, "lockdown is in integrity mode"),
    ({"lockdown": "confidentiality"}, "lockdown is in confidentiality mode"),
    ({"sig_enforce": True}, "module signature enforcement is on"),
])
def test_a_kernel_that_cannot_load_the_module_is_refused(run_playbook, kernel, words):
    rc, failed, _ = run(run_playbook, **kernel)
    assert rc != 0
    (name, result), = failed
    assert name == "Refuse a kernel that cannot load this module"
    assert words in result["msg"]


def test_two_causes_are_both_named(run_playbook):
    _, failed, _ = run(run_playbook, modules_disabled=True, sig_enforce=True)
    msg = failed[0][1]["msg"]
    assert "modules_disabled=1" in msg and "sig_enforce" in msg


def test_panic_on_oops_is_refused_unless_allowed(run_playbook):
    rc, failed, _ = run(run_playbook, panic_on_oops=True)
    assert rc != 0
    (name, result), = failed
    assert name == "Refuse a host where a boom would panic the whole kernel"
    assert "kernel.panic_on_oops=1" in result["msg"] and "roulette_allow_panic: true" in result["msg"]
    rc, failed, _ = run(run_playbook, panic_on_oops=True, allow_panic=True)
    assert rc == 0 and not failed
