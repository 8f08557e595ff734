# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleets controller_bench.py runs its playbooks on: inventories of N local-connection hosts.

Runs on the controller only (the bench's own helper, not part of the collection). Every
host has the variables an earlier play would have left it, so nothing is contacted:
  planning_inventory  armed targets with their preflight_verdict (and build hosts, if asked)
  unarmed_inventory   the same targets with roulette_armed false, as a user has them before arming
  spun_inventory      armed targets whose roulette_spin_record is what spin.yml's "Record the
                      host's result" task keeps after the spin module ran (see spin_record)
The hosts are spread round-robin over 3 kernel releases (2 of Debian 12, 1 of Debian 13).
"""

from __future__ import annotations

import random
import sys

# Kernel release -> OS release of the fleet's targets, round-robin.
RELEASES = [("6.1.0-27-amd64", "Debian", "12"), ("6.1.0-28-amd64", "Debian", "12"),
            ("6.12.48+deb13-amd64", "Debian", "13")]
SPIN_COUNT = 10  # spins asked of each spun host
CHANCE = 5  # the driver's chance, %: about 40 % of the hosts die within 10 spins
NOW = "2026-11-30T12:00:00Z"


def preflight_verdict(release, release_id, armed, build_method="ansible"):
    """A host's preflight_verdict as preflight records it (the fields site.yml and spin.yml read).

    The one builder of fake verdicts: this benchmark and the integration tests (through
    tests/integration/integration_support.py) all take theirs from here.
    """
    return {"armed": armed, "kernel_release": release, "release_id": release_id,
            "distribution": release_id.replace("-", " "), "os_family": "Debian", "taint": None,
            "build_method": build_method}


def _host(release, distribution, version, armed):
    return {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "preflight_verdict": preflight_verdict(release, "%s-%s" % (distribution, version), armed)}


def _targets(size, armed):
    return {"target-%04d" % n: _host(*RELEASES[n % len(RELEASES)], armed=armed) for n in range(size)}


def planning_inventory(size, build_hosts=0):
    """N armed targets with their preflight verdicts, and K build hosts with the modules of their OS release."""
    builders = {}
    for n in range(build_hosts):
        release, distribution, version = RELEASES[[0, 2][n % 2]]
        builders["build-%02d" % n] = _host(release, distribution, version, armed=False)
        # As if it had built for its OS release's targets (no build runs here), so that the
        # targets take its module rather than being refused.
        builders["build-%02d" % n]["kmod_build_modules"] = {
            r: "/cache/%s/roulette.ko" % r for r, d, v in RELEASES if (d, v) == (distribution, version)}
    return {"roulette": {"hosts": _targets(size, armed=True)}, "roulette_build": {"hosts": builders}}


def unarmed_inventory(size):
    """N targets that are not armed (roulette_armed false): spin.yml records each as not_armed and spins none."""
    targets = _targets(size, armed=False)
    for host in targets.values():
        host["roulette_armed"] = False
    return {"roulette": {"hosts": targets}}


def spun_inventory(size, seed=1):
    """N armed targets, each with the roulette_spin_record of a host spun SPIN_COUNT times."""
    rng = random.Random(seed)
    targets = _targets(size, armed=True)
    for index, host in enumerate(targets.values()):
        host["roulette_armed"] = True
        host["roulette_spin_record"] = spin_record(rng, index, host["preflight_verdict"]["kernel_release"])
    return {"roulette": {"hosts": targets}}


def _kernel_lines(kernel, pid, seconds):
    """A death's lines as the kernel logs them (what the spin module keeps of the first death)."""
    return ["[%12.6f] %s" % (seconds, line) for line in (
        "kernel-roulette: device opened", "Rust panic @ src/roulette.rs:89", "Boom!",
        "------------[ cut here ]------------", "kernel BUG at /root/kmod/src/shim.c:168!",
        "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
        "CPU: 0 PID: %d Comm: python3 Tainted: G           OE      %s #1  Debian" % (pid, kernel),
        "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "RIP: 0010:abort+0x5/0x10 [roulette]", "RSP: 0018:ffffb5a0c0a3fd38 EFLAGS: 00010246",
        "Call Trace:", " <TASK>", " rust_begin_unwind+0x5f/0x70 [roulette]", " roulette_open+0x9a/0xc0 [roulette]",
        " chrdev_open+0xc9/0x240", " do_dentry_open+0x1e6/0x440", " </TASK>", "---[ end trace 0000000000000000 ]---")]


def _taint(died):
    flags = [{"bit": 12, "letter": "O", "description": "externally-built (out-of-tree) module was loaded"},
             {"bit": 13, "letter": "E", "description": "unsigned module was loaded"}]
    if died:
        flags.insert(0, {"bit": 7, "letter": "D", "description": "kernel died recently, i.e. there was an OOPS or BUG"})
    return {"value": 12416 if died else 12288, "letters": "DOE" if died else "OE", "flags": flags}


def spin_facts(rng, index, kernel):
    """ansible_facts.roulette as plugins/modules/spin.py returns it: SPIN_COUNT spins, stop at the first death."""
    second = index % 60
    spins, died, values = [], 0, []
    for n in range(1, SPIN_COUNT + 1):
        value = rng.randrange(100)
        if value < CHANCE:
            died = 1
            spins.append({"n": n, "outcome": "died", "value": None, "signal": "SIGSEGV", "exit_code": None,
                          "time": "2026-11-30T12:%02d:12Z" % second, "confirmed": True,
                          "location": "src/roulette.rs:89", "message": "Boom!",
                          "bug_location": "/root/kmod/src/shim.c:168"})
            break
        values.append(value)
        spins.append({"n": n, "outcome": "survived", "value": value})
    done = len(spins)
    death = None
    if died:
        death = {key: spins[-1][key] for key in ("value", "signal", "exit_code", "time", "confirmed", "location",
                                                 "message", "bug_location")}
        death["spin"] = done
    elapsed = round(done * 0.0004, 6)
    return {
        "device": "/dev/kernel-roulette", "kernel_release": kernel, "panic_on_oops": False, "chance": CHANCE,
        "chance_seen": CHANCE if values else None, "major": 247, "count_requested": SPIN_COUNT,
        "spins_done": done, "survived": len(values), "unparsed": 0, "died": died, "timeouts": 0, "errors": 0,
        "spins": spins, "spins_truncated": False,
        "value_summary": {"min": min(values, default=None), "max": max(values, default=None),
                          "mean": round(sum(values) / float(len(values)), 3) if values else None,
                          "histogram": [sum(1 for v in values if start <= v < start + 10) for start in range(0, 100, 10)]},
        "first_death": dict(death, kernel_lines=_kernel_lines(kernel, 800 + index, 40.0 + index)) if death else None,
        "deaths": [death] if death else [],
        "taint_before": _taint(False), "taint_after": _taint(died),
        "alive": True, "stop_reason": "death" if died else "count", "stuck_workers": [], "kernel_log_source": "kmsg",
        "observed_death_rate": round(died / float(done), 6), "expected_death_rate": CHANCE / 100.0,
        "elapsed": elapsed, "spins_per_second": round(done / elapsed, 1),
        "started": "2026-11-30T12:%02d:00Z" % second, "finished": "2026-11-30T12:%02d:30Z" % second,
        "check_mode": False, "problems": [],
    }


def roulette_info(kernel):
    """ansible_facts.roulette_info as kmod_load left it (site.yml gathers it before it imports spin.yml)."""
    return {"loaded": True, "chance": CHANCE, "parameters": {"chance": str(CHANCE)}, "major": 247, "refcount": 0,
            "device": "/dev/kernel-roulette", "srcversion": "9F3C6B1D2E4A5F60718293A",
            "version": "1.0.0+b2981c0b6499dd11", "panic_on_oops": False, "taint": _taint(False),
            "installed": {"path": "/lib/modules/%s/extra/roulette.ko" % kernel, "exists": True, "regular": True,
                          "size": 412336, "srcversion": "9F3C6B1D2E4A5F60718293A",
                          "sha256": "0" * 64, "version": "1.0.0+b2981c0b6499dd11"}}


def spin_record(rng, index, kernel):
    """roulette_spin_record as spin.yml's "Record the host's result" sets it for a host that was spun."""
    return {"outcome": "spun", "time": NOW, "kernel": kernel, "count": SPIN_COUNT, "msg": None, "console": {},
            "roulette": spin_facts(rng, index, kernel), "roulette_info": roulette_info(kernel)}
