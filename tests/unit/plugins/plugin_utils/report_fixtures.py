# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleets of raw spin records, as playbooks/spin.yml keeps them, for the report's tests.

fleet(n) is deterministic: the same n and seed give the same records. The spins
follow the driver's chance (each spin a death with that chance, stop at the first
death, at most `count` spins), so the report's estimate has something true to find.
"""

from __future__ import annotations

import math
import random

KERNELS = ("6.1.0-27-amd64", "6.1.0-28-amd64", "6.12.12+deb13-amd64", "6.12.9-amd64", "6.16.3+deb14-amd64")
PANIC_LINE = "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
UNREACHABLE_MSG = "Failed to connect to the host via ssh: ssh: connect to host 10.0.2.15 port 22: Connection timed out"


def kernel_lines(kernel, pid, seconds):
    """A death's lines as the kernel logs them: the driver's panic, the BUG, the first lines of the oops."""
    stamp = f"[{seconds:12.6f}]"
    return [f"{stamp} {line}" for line in (
        "kernel-roulette: device opened",
        "Rust panic @ src/roulette.rs:89",
        "Boom!",
        "------------[ cut here ]------------",
        "kernel BUG at /root/kmod/src/shim.c:168!",
        "invalid opcode: 0000 [#1] PREEMPT SMP NOPTI",
        f"CPU: 0 PID: {pid} Comm: python3 Tainted: G           OE      {kernel} #1  Debian {kernel[:6]}-1",
        "Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
        "RIP: 0010:abort+0x5/0x10 [roulette]",
        "Code: 0f 1f 44 00 00 e8 b6 ff ff ff 0f 0b 66 2e 0f 1f 84 00 00 00 00 00 90 90 90 90 90 90 90 90 90 90 "
        "f3 0f 1e fa 0f 1f 44 00 00 55 48 89 e5 41 54",
        "RSP: 0018:ffffb5a0c0a3fd38 EFLAGS: 00010246",
        "RAX: 0000000000000000 RBX: ffff9c4e41f2a000 RCX: 0000000000000000",
        "Call Trace:",
        " <TASK>",
        " ? die+0x36/0x90",
        " ? do_trap+0xda/0x100",
        " ? abort+0x5/0x10 [roulette]",
        " rust_begin_unwind+0x5f/0x70 [roulette]",
        " roulette_open+0x9a/0xc0 [roulette]",
        " chrdev_open+0xc9/0x240",
        " do_dentry_open+0x1e6/0x440",
        " </TASK>",
        "---[ end trace 0000000000000000 ]---",
    )]


def spin_facts(rng, chance, count, kernel, index, outcome=None):
    """What the spin module returns after spinning until the first death or `count` spins.

    outcome "dead" or "alive" draws until the host has it (for fixtures that must show both).
    """
    p = chance / 100.0
    while True:
        first = 1 + int(math.log(1.0 - rng.random()) / math.log1p(-p)) if p > 0 else count + 1
        if outcome is None or (outcome == "dead") == (first <= count):
            break
    died = 1 if first <= count else 0
    spins = first if died else count
    facts = {
        "spins_done": spins, "survived": spins - died, "died": died, "timeouts": 0, "errors": 0,
        "chance": chance, "count_requested": count, "kernel_release": kernel, "alive": True,
        "stop_reason": "death" if died else "count", "stuck_workers": [],
        "started": "2026-11-26T19:00:00Z", "finished": f"2026-11-26T19:{index % 60:02d}:30Z",
        "elapsed": round(spins * 0.05, 3), "first_death": None, "deaths": [],
        "taint_after": {"value": 12416 if died else 12288, "letters": "DOE" if died else "OE"},
    }
    if died:
        death = {"spin": first, "value": None, "signal": "SIGSEGV", "exit_code": None,
                 "time": f"2026-11-26T19:{index % 60:02d}:12Z", "confirmed": True,
                 "location": "src/roulette.rs:89", "message": "Boom!", "bug_location": "/root/kmod/src/shim.c:168"}
        facts["deaths"] = [death]
        facts["first_death"] = dict(death, kernel_lines=kernel_lines(kernel, 800 + index, 40.0 + index))
    return facts


def record(kind, rng, index, chance=5, count=30):
    """One host's record of a kind: spun (dead, alive: forced), stuck, lost_panic, lost, failed, not_armed, none."""
    kernel = KERNELS[index % len(KERNELS)]
    base = {"time": f"2026-11-26T19:{index % 60:02d}:00Z", "kernel": kernel, "count": count}
    if kind in ("spun", "dead", "alive"):
        facts = spin_facts(rng, chance, count, kernel, index, None if kind == "spun" else kind)
        return dict(base, outcome="spun", roulette=facts)
    if kind == "stuck":
        facts = spin_facts(random.Random(0), chance, 3, kernel, index, "alive")
        facts.update(alive=False, stop_reason="stuck", stuck_workers=[{"pid": 4242, "state": "D", "wchan": "roulette_open"}])
        return dict(base, outcome="spun", roulette=facts)
    if kind == "lost_panic":
        lines = ["Rust panic @ src/roulette.rs:89", "Boom!", PANIC_LINE, f"---[ end {PANIC_LINE} ]---"]
        return dict(base, outcome="unreachable", msg="Failed to connect to the host via ssh: Timeout, server not responding.",
                    console={"panic": PANIC_LINE, "oops": None, "boom": "Boom!", "location": "src/roulette.rs:89",
                             "lines": lines, "path": f"/lab/h{index}/serial.log", "size": 90210, "offset": 81000})
    if kind == "lost":
        return dict(base, outcome="unreachable", msg=UNREACHABLE_MSG, console={})
    if kind == "failed":
        return dict(base, outcome="failed", msg="the roulette driver is not loaded: /dev/kernel-roulette is missing")
    if kind == "not_armed":
        return {"outcome": "not_armed", "time": base["time"], "kernel": kernel}
    return {}


KINDS = ("spun", "stuck", "lost_panic", "lost", "failed", "not_armed", "none")
WEIGHTS = (86, 1, 3, 3, 3, 3, 1)
# Every status: dead and alive (spun), stuck, dead by a panic, lost, failed, skipped, not run.
EVERY_STATUS = ("dead", "alive", "stuck", "lost_panic", "lost", "failed", "not_armed", "none")


def fleet(n, seed=1, chance=5, count=30):
    """(records, armed_hosts) of n hosts. 3 hosts: dead, alive, lost. From 8 on, every status is there."""
    rng = random.Random(seed)
    if n == 3:
        kinds = ["dead", "alive", "lost"]
    else:
        kinds = list(EVERY_STATUS[:n]) + rng.choices(KINDS, WEIGHTS, k=max(0, n - len(EVERY_STATUS)))
    records, armed = {}, []
    for index, kind in enumerate(kinds):
        name = f"roulette-{index + 1:04d}.lab.example.org"
        records[name] = record(kind, rng, index, chance, count)
        if kind != "not_armed":
            armed.append(name)
    return records, armed
