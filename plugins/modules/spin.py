#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: spin
short_description: Spin the kernel roulette (open and read /dev/kernel-roulette)
version_added: 0.1.0
description:
  - Opens and reads the C(kernel-roulette) character device O(count) times. Every read makes the
    driver sample a value S in 0..99; when S is at least the driver's chance C the read answers
    C(Survived... sampled value is S, which is >= C), otherwise the driver's Rust code panics,
    the kernel raises C(BUG) and kills the reading process.
  - The reads run in one worker process, forked once, that loops over the spins, so a C(BUG)
    kills the worker, never the module. The worker counts its results in memory it shares with
    the module (no system call per spin besides the open, read and close of the device), so a
    spin costs about what it costs in a plain loop. Every death is attributed to its spin number.
    After a death a new worker is started only when spinning goes on (O(stop_on_death=false)).
  - Each death is confirmed from the kernel log lines written during that spin (C(/dev/kmsg),
    or C(dmesg) when C(/dev/kmsg) cannot be read), by the markers C(Rust panic @ file:line),
    C(Boom!) and C(kernel BUG at).
  - A death is not a failure of the module; the task succeeds and the facts tell what happened.
    The module fails only for bad options and for a host that cannot be spun (C(kernel.panic_on_oops)
    set or unreadable without O(allow_panic), driver not loaded, device missing, not a character device,
    major or minor mismatch, unexpected chance). Every check is done before the first spin, and a
    failure returns the facts gathered so far.
  - Returns the results as the RV(ansible_facts.roulette) fact.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  device:
    description:
      - Path of the character device node of the driver.
    type: path
    default: /dev/kernel-roulette
  count:
    description:
      - Number of spins (open and read of the device), within 1..10000000.
    type: int
    default: 1
  allow_panic:
    description:
      - Spin although C(kernel.panic_on_oops) is set or cannot be read. A death then panics the whole
        kernel and the host goes down (or reboots after C(kernel.panic) seconds).
      - When V(false) (the default) the module fails before spinning on such a host; the way out is
        C(sysctl -w kernel.panic_on_oops=0) on the host, or this option (C(roulette_allow_panic) in the
        playbooks). An unreadable setting is treated as set (fail closed).
    type: bool
    default: false
  stop_on_death:
    description:
      - Stop at the first death. When V(false), a new worker is started after each death and
        spinning goes on until O(count) spins or O(max_deaths) deaths.
    type: bool
    default: true
  max_deaths:
    description:
      - Stop after this many deaths (only matters with O(stop_on_death=false)), within 1..10000000.
      - Unlimited when not set.
    type: int
  timeout:
    description:
      - Seconds one spin may take, more than 0 and at most 3600 (not NaN or infinite).
      - A spin that takes longer is recorded as a C(timeout), its
        worker is killed (C(SIGKILL)); a worker stuck in the kernel (state C(D)) may not die,
        which is reported in RV(ansible_facts.roulette.stuck_workers) instead of waiting for it.
    type: float
    default: 10
  stop_on_timeout:
    description:
      - Stop spinning after a timeout. A worker that could not be killed always stops spinning.
    type: bool
    default: true
  record_spins:
    description:
      - Return the list of spins in RV(ansible_facts.roulette.spins).
    type: bool
    default: true
  spins_limit:
    description:
      - At most this many spins are listed in RV(ansible_facts.roulette.spins) (the first ones);
        deaths, timeouts and errors are always listed. Counters and RV(ansible_facts.roulette.value_summary)
        cover every spin. Within 0..100000.
    type: int
    default: 1000
  expect_chance:
    description:
      - Fail before spinning when the driver's chance (its C(chance) parameter) is not this value.
      - Also compared with the chance the device reports in its answers.
    type: int
  confirm_deaths:
    description:
      - Read the kernel log after each death to confirm it (panic markers, location).
    type: bool
    default: true
  kernel_lines_limit:
    description:
      - At most this many kernel log lines are returned for a death, within 0..5000.
    type: int
    default: 60
extends_documentation_fragment:
  - rustkmod.roulette.attributes.facts
attributes:
  check_mode:
    support: full
    description:
      - Nothing is spun. The facts tell what would be done, RV(ansible_facts.roulette.problems)
        lists what would stop a real run (an earlier task in check mode may not have loaded the
        driver, so such problems do not fail the task in check mode).
      - Options out of their bounds fail in check mode too.
notes:
  - The task reports C(changed) when at least one spin was done, because every read samples the kernel's
    random numbers and a death oopses the kernel and taints it (flag C(D)).
  - The module has to run as root (or as a user allowed to open the device node).
  - A kernel with C(kernel.panic_on_oops=1) panics at the first death and the host goes down;
    the module then never returns. The module refuses such hosts (and hosts where the setting cannot
    be read) unless O(allow_panic=true), as the preflight role does.
seealso:
  - module: rustkmod.roulette.roulette_info
"""

EXAMPLES = r"""
- name: Spin once
  rustkmod.roulette.spin:

- name: Spin 1000 times, keep going after deaths, stop after 3
  rustkmod.roulette.spin:
    count: 1000
    stop_on_death: false
    max_deaths: 3
    expect_chance: 5
    spins_limit: 20

- name: Show how the host fared
  ansible.builtin.debug:
    msg: >-
      {{ ansible_facts['roulette']['survived'] }} survived,
      {{ ansible_facts['roulette']['died'] }} died
      (observed rate {{ ansible_facts['roulette']['observed_death_rate'] }},
      chance {{ ansible_facts['roulette']['chance'] }}%)
"""

RETURN = r"""
ansible_facts:
  description: Facts about the spins.
  returned: always
  type: dict
  contains:
    roulette:
      description: The results of the spins.
      returned: always
      type: dict
      contains:
        device:
          description: Path of the device node.
          type: str
          sample: /dev/kernel-roulette
        kernel_release:
          description: The running kernel's release.
          type: str
          sample: 6.1.0-27-amd64
        panic_on_oops:
          description: Whether C(kernel.panic_on_oops) is set; null when it cannot be read (the module then refuses
            to spin unless O(allow_panic=true)).
          type: bool
          sample: false
        chance:
          description: The driver's panic probability in percent (its C(chance) parameter), null when unreadable.
          type: int
          sample: 5
        chance_seen:
          description: The chance the device reported in its answers (null before any survived spin).
          type: int
          sample: 5
        major:
          description: The driver's major number from C(/proc/devices).
          type: int
          sample: 247
        count_requested:
          description: Value of O(count).
          type: int
          sample: 100
        spins_done:
          description: Spins that have an outcome (survived, died, timeout or error).
          type: int
          sample: 21
        survived:
          description: Spins that read the C(Survived...) answer (or another answer, see RV(ansible_facts.roulette.unparsed)).
          type: int
          sample: 20
        unparsed:
          description: Survived spins whose answer is not the driver's text with a value within 0..99 and a
            chance within 0..100 (such answers have no value in RV(ansible_facts.roulette.value_summary)).
          type: int
          sample: 0
        died:
          description: Spins whose worker was killed (or exited with an error code) during the read.
          type: int
          sample: 1
        timeouts:
          description: Spins that took longer than O(timeout).
          type: int
          sample: 0
        errors:
          description: Spins whose open or read failed with an error (the device went away, permission).
          type: int
          sample: 0
        spins:
          description:
            - Spins in order, at most O(spins_limit) plus every death, timeout and error.
              Empty with O(record_spins=false).
            - Each has C(n) (1-based), C(outcome) (V(survived), V(died), V(timeout), V(error)) and C(value)
              (the sampled value, null when unknown); deaths also have C(signal), C(exit_code), C(confirmed),
              C(location); errors have C(msg).
          type: list
          elements: dict
          sample: [{"n": 1, "outcome": "survived", "value": 42}, {"n": 2, "outcome": "died", "value": null,
                    "signal": "SIGSEGV", "exit_code": null, "confirmed": true, "location": "src/lib.rs:31"}]
        spins_truncated:
          description: Whether some survived spins were left out of RV(ansible_facts.roulette.spins).
          type: bool
        value_summary:
          description: Summary of the sampled values of survived spins (C(min), C(max), C(mean), C(histogram) of 10 buckets 0-9 .. 90-99).
          type: dict
          sample: {"min": 5, "max": 99, "mean": 52.1, "histogram": [0, 10, 9, 11, 10, 10, 10, 9, 11, 10]}
        first_death:
          description:
            - The first death, null when none. Keys C(spin), C(value) (null, the kernel does not tell), C(signal), C(exit_code),
              C(time), C(confirmed), C(location) (C(src/lib.rs:LINE) of the Rust panic), C(message), C(bug_location),
              C(kernel_lines) (log lines of that spin, from a few lines before the panic).
          type: dict
        deaths:
          description: Every death, as RV(ansible_facts.roulette.first_death) without C(kernel_lines).
          type: list
          elements: dict
        taint_before:
          description: C(/proc/sys/kernel/tainted) before spinning, decoded (C(value), C(letters), C(flags)).
          type: dict
          sample: {"value": 12288, "letters": "OE", "flags": [{"bit": 12, "letter": "O", "description": "..."}]}
        taint_after:
          description: The same after spinning.
          type: dict
        alive:
          description: Whether the host is still fit to spin (driver loaded, device present, no stuck worker).
          type: bool
        stop_reason:
          description: Why spinning stopped (V(count), V(death), V(max_deaths), V(timeout), V(stuck), V(error), V(check_mode)).
          type: str
        stuck_workers:
          description: Workers that did not die after C(SIGKILL) (C(pid), C(state), C(wchan)).
          type: list
          elements: dict
        kernel_log_source:
          description: Where deaths were confirmed from (V(kmsg), V(dmesg), V(none)).
          type: str
        observed_death_rate:
          description: Deaths divided by spins done (0 when none done).
          type: float
          sample: 0.05
        expected_death_rate:
          description: The driver's chance as a rate (chance / 100), null when unknown.
          type: float
          sample: 0.05
        elapsed:
          description: Seconds spent spinning.
          type: float
        spins_per_second:
          description: Spins done per second of spinning.
          type: float
        started:
          description: When spinning started (ISO 8601, UTC).
          type: str
        finished:
          description: When spinning ended (ISO 8601, UTC).
          type: str
        check_mode:
          description: Whether this was a check mode run (nothing spun).
          type: bool
        problems:
          description: In check mode, what would stop a real run (the same messages a real run fails with).
          type: list
          elements: str
"""

import math
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import DriverState
from ansible_collections.rustkmod.roulette.plugins.module_utils.kernel_log import KernelLog
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import DEVICE_NAME, DRIVER_NAME
from ansible_collections.rustkmod.roulette.plugins.module_utils.spin_results import SpinTally, new_facts
from ansible_collections.rustkmod.roulette.plugins.module_utils.spin_worker import SpinRunner, read_device, utcnow

# Bounds of the options: beyond them a value is a typo, not a plan.  10 million
# spins take hours even at full speed; an hour for one spin is already a hang.
MAX_COUNT = 10_000_000
MAX_TIMEOUT = 3600
MAX_SPINS_LIMIT = 100_000
MAX_KERNEL_LINES = 5000


class Spin:
    """The module's logic: checks, spinning, facts."""

    runner_class = SpinRunner

    def __init__(self, module, root="/", reader=read_device, kill_grace=2.0):
        self.module = module
        self.params = module.params
        self.state = DriverState(root)
        self.reader = reader
        self.kill_grace = kill_grace

    def validate_options(self):
        """Messages about options out of bounds (checked before anything is spun)."""
        p = self.params
        errors = []

        def within(name, low, high):
            value = p[name]
            if value is not None and not low <= value <= high:
                errors.append(f"{name} must be within {low}..{high}, got {value}")

        within("count", 1, MAX_COUNT)
        timeout = p["timeout"]
        # NaN compares false with everything: test that it is inside, not that it is outside.
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
            errors.append(f"timeout must be a number of seconds within 0..{MAX_TIMEOUT} (more than 0), got {timeout}")
        within("max_deaths", 1, MAX_COUNT)
        within("spins_limit", 0, MAX_SPINS_LIMIT)
        within("kernel_lines_limit", 0, MAX_KERNEL_LINES)
        within("expect_chance", 0, 100)
        return errors

    def check_panic(self, facts):
        """The interlock of the preflight role, held by the module too: fail closed."""
        panic = self.state.panic_on_oops()
        facts["panic_on_oops"] = panic
        if panic is False:
            return []
        ways_out = ("set it to 0 with 'sysctl -w kernel.panic_on_oops=0', or, to take the host down "
                    "on purpose, set allow_panic=true (roulette_allow_panic: true in the playbooks)")
        if panic:
            problem = ("kernel.panic_on_oops is set: a death would panic the whole kernel, "
                       f"not only kill the reading process; {ways_out}")
        else:
            problem = (f"kernel.panic_on_oops cannot be read ({self.state.path('proc/sys/kernel/panic_on_oops')}): "
                       f"a death could panic the whole kernel, so the module refuses to spin; {ways_out}")
        if self.params["allow_panic"]:
            self.module.warn(f"allow_panic is set, spinning although {problem.split(':')[0]}")
            return []
        return [problem]

    def check_host(self, facts):
        """Problems that forbid spinning, as messages (first one is the cause)."""
        device = self.params["device"]
        state = self.state
        problems = self.check_panic(facts)
        if not state.loaded():
            problems.append(
                f"the {DRIVER_NAME} driver is not loaded (no {state.path('sys/module', DRIVER_NAME)}); "
                "load it first (role kmod_load)")
            return problems
        chance = state.chance()
        facts["chance"] = chance
        if chance is not None:
            facts["expected_death_rate"] = chance / 100.0
        devices = state.devices()
        major = state.major(devices)
        facts["major"] = major
        if major is None:
            problems.append(f"{DEVICE_NAME} is not a character device in {state.path('proc/devices')} "
                            "although the driver is loaded")
        # Followed like open() follows it: the node checked is the node read.
        node = state.node(device, devices, follow=True)
        shown = major if major is not None else "MAJOR"
        if not node["exists"]:
            problems.append(f"device {device} is missing; create it with mknod {device} c {shown} 0")
            return problems
        if not node["is_char"]:
            problems.append(f"{device} is not a character device")
            return problems
        if major is not None and node["major"] != major:
            problems.append(
                f"{device} has major {node['major']} but the driver registered major {major} "
                f"(stale node from an earlier load?); recreate it with mknod {device} c {major} 0")
        elif node["minor"] != 0:
            problems.append(
                f"{device} has minor {node['minor']} but the driver's device is minor 0; "
                f"recreate it with mknod {device} c {shown} 0")
        expect = self.params["expect_chance"]
        if expect is not None and chance is not None and chance != expect:
            problems.append(f"the driver's chance is {chance} but expect_chance is {expect}")
        elif expect is not None and chance is None:
            problems.append("cannot read the driver's chance to compare with expect_chance")
        return problems

    def dmesg(self):
        dmesg = self.module.get_bin_path("dmesg")
        if dmesg is None:
            return None
        rc, out, _err = self.module.run_command([dmesg])
        return out if rc == 0 else None

    def run(self):
        p = self.params
        facts = new_facts(p, self.module.check_mode)
        errors = self.validate_options()
        if errors:
            self.module.fail_json(msg=errors[0], problems=errors, ansible_facts={"roulette": facts})
        facts["taint_before"] = self.state.taint()
        facts["kernel_release"] = self.state.kernel_release()
        problems = self.check_host(facts)
        if self.module.check_mode:
            facts["problems"] = problems
            facts["stop_reason"] = "check_mode"
            facts["taint_after"] = facts["taint_before"]
            facts["alive"] = not problems
            for problem in problems:
                self.module.warn(f"A real run would fail: {problem}")
            return False, facts
        if problems:
            self.module.fail_json(msg=problems[0], problems=problems, ansible_facts={"roulette": facts})

        log = None
        if p["confirm_deaths"]:
            log = KernelLog(self.state.path("dev/kmsg"), self.dmesg)
            log.start()
            facts["kernel_log_source"] = log.source
        runner = self.runner_class(p["device"], p["timeout"], reader=self.reader,
                                   kernel_log=log, kill_grace=self.kill_grace)
        tally = SpinTally(facts, p["record_spins"], p["spins_limit"], p["kernel_lines_limit"])
        facts["started"] = utcnow()
        start = time.monotonic()
        try:
            reason, stuck = runner.spin(p["count"], stop_on_death=p["stop_on_death"],
                                        max_deaths=p["max_deaths"], stop_on_timeout=p["stop_on_timeout"],
                                        record=tally.record, listed=tally.listed)
        finally:
            if log is not None:
                log.close()
        tally.finish(reason, stuck, time.monotonic() - start, runner.totals)
        facts["finished"] = utcnow()
        facts["taint_after"] = self.state.taint()
        facts["alive"] = bool(self.state.loaded() and os.path.exists(p["device"]) and not stuck)
        if p["expect_chance"] is not None and facts["chance_seen"] not in (None, p["expect_chance"]):
            self.module.warn(f"the device reported chance {facts['chance_seen']}, "
                             f"expect_chance is {p['expect_chance']}")
        return facts["spins_done"] > 0, facts


def build_module():
    return AnsibleModule(
        argument_spec={
            "device": {"type": "path", "default": f"/dev/{DEVICE_NAME}"},
            "count": {"type": "int", "default": 1},
            "allow_panic": {"type": "bool", "default": False},
            "stop_on_death": {"type": "bool", "default": True},
            "max_deaths": {"type": "int"},
            "timeout": {"type": "float", "default": 10.0},
            "stop_on_timeout": {"type": "bool", "default": True},
            "record_spins": {"type": "bool", "default": True},
            "spins_limit": {"type": "int", "default": 1000},
            "expect_chance": {"type": "int"},
            "confirm_deaths": {"type": "bool", "default": True},
            "kernel_lines_limit": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    module.run_command_environ_update = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}
    changed, facts = Spin(module).run()
    module.exit_json(changed=changed, ansible_facts={"roulette": facts})


if __name__ == "__main__":
    main()
