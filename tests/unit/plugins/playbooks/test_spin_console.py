# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/spin.yml with roulette_console_log: a host lost mid-spin whose console shows
a kernel panic is reported dead with the panic line, not unreachable.

The stand-in spin module plays the kernel: for a device "/panic:LOG" it appends a
panic to LOG (the host's serial console) and comes back unreachable, as the SSH
connection of a halted machine does; "/oops-lost:LOG" appends only an oops and fails
with a lost connection (the rescue's path); "/panic-lost:LOG" does both.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.rustkmod.roulette.tests.unit.plugins.playbooks.test_spin_playbook import run, statuses, stub_collection

PANIC_LINE = "Kernel panic - not syncing: kernel-roulette: Boom! (Rust panic)"
BOOT = "\x1bc\x1b[2JSeaBIOS\r\n[    0.000000] Linux version 6.1.0-27-amd64\r\n[   41.1] kernel BUG at /root/kmod/src/shim.c:168!\r\n"
PANIC = (f"[  123.456700] Rust panic @ src/roulette.rs:89\r\n[  123.456750] Boom!\r\n[  123.456789] {PANIC_LINE}\r\n"
         f"[  123.457200] ---[ end {PANIC_LINE} ]---\r\n")
OOPS = "[  123.5] BUG: soft lockup - CPU#0 stuck for 22s! [python3:812]\r\n"

STUB_SPIN = '''#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule

KERNEL = {"panic": %r, "oops-lost": %r, "panic-lost": %r}


def main():
    module = AnsibleModule(argument_spec={
        "device": {"type": "str"}, "count": {"type": "int"}, "stop_on_death": {"type": "bool"},
        "max_deaths": {"type": "int"}, "timeout": {"type": "float"}, "spins_limit": {"type": "int"},
        "expect_chance": {"type": "int"}, "allow_panic": {"type": "bool"}}, supports_check_mode=True)
    how, _, log = module.params["device"].lstrip("/").partition(":")
    if how in KERNEL:
        with open(log, "a") as handle:
            handle.write(KERNEL[how])
        if how == "panic":
            module.exit_json(unreachable=True, msg="Failed to connect to the host via ssh: Timeout, server not responding.")
        module.fail_json(msg="Shared connection to 127.0.0.1 closed.")
    count = module.params["count"]
    module.exit_json(changed=True, ansible_facts={"roulette": {
        "spins_done": count, "survived": count, "died": 0, "timeouts": 0, "chance": 5, "alive": True,
        "stop_reason": "count", "finished": "2026-11-26T19:00:00Z", "first_death": None}})


main()
''' % (PANIC, OOPS, OOPS + PANIC)


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """The checkout's plugins, with the spin module replaced by the stand-in kernel."""
    return stub_collection(tmp_path_factory.mktemp("consolecoll"), STUB_SPIN)


def console(tmp_path, name, text=BOOT):
    path = tmp_path / f"{name}.serial.log"
    path.write_text(text)
    return str(path)


def test_a_panic_on_the_console_makes_a_lost_host_dead(tmp_path, collections):
    logs = {name: console(tmp_path, name) for name in ("boom", "boom2", "hung", "calm")}
    hosts = {
        "boom": {"roulette_spin_device": f"/panic:{logs['boom']}"},
        "boom2": {"roulette_spin_device": f"/panic-lost:{logs['boom2']}"},
        "hung": {"roulette_spin_device": f"/oops-lost:{logs['hung']}"},
        "calm": {"roulette_spin_device": "/dev/kernel-roulette"},
        "nolog": {"roulette_spin_device": f"/panic:{tmp_path / 'nolog.written-but-not-configured'}"},
    }
    for name, values in hosts.items():
        values["roulette_armed"] = True
        if name in logs:
            values["roulette_console_log"] = logs[name]
    hosts["nolog"]["roulette_console_log"] = ""  # the same as unset
    proc, report = run(tmp_path, collections, hosts)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # neither dead nor lost hosts fail the run
    assert statuses(report) == {"boom": "dead", "boom2": "dead", "hung": "unreachable", "calm": "alive",
                                "nolog": "unreachable"}
    rows = {row["host"]: row for row in report["hosts"]}
    for name in ("boom", "boom2"):
        assert rows[name]["msg"] == f"kernel panic: {PANIC_LINE}"
        assert rows[name]["console_line"] == PANIC_LINE
        assert rows[name]["panic_location"] == "src/roulette.rs:89" and rows[name]["died"] == 1
        assert "shim.c:168" not in json.dumps(rows[name])  # the boot's oops is before the spin
    assert rows["boom2"]["console"][0].startswith("BUG: soft lockup")
    assert rows["hung"]["msg"] == "Shared connection to 127.0.0.1 closed."
    assert rows["hung"]["console_line"] == "BUG: soft lockup - CPU#0 stuck for 22s! [python3:812]"
    assert rows["calm"]["console"] is None and rows["nolog"]["console"] is None
    assert "Timeout, server not responding" in rows["nolog"]["msg"]
    assert report["summary"]["died"] == 2
    # (the yaml result format folds long messages)
    assert "boom was lost (dead): kernel panic: " + PANIC_LINE in " ".join(proc.stdout.split())


def test_an_old_panic_does_not_make_a_lost_host_dead(tmp_path, collections):
    # The log already holds a panic (an earlier boot); the spin adds nothing: a missing
    # file for the stand-in to write to stands for a console that stayed silent.
    log = console(tmp_path, "old", BOOT + PANIC)
    hosts = {"old": {"roulette_armed": True, "roulette_console_log": log,
                     "roulette_spin_device": f"/panic:{tmp_path / 'elsewhere.log'}"}}
    proc, report = run(tmp_path, collections, hosts)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    row = report["hosts"][0]
    assert row["status"] == "unreachable" and row["console"] is None


def test_the_fleet_death_limit_counts_a_panic(tmp_path, collections):
    logs = {name: console(tmp_path, name) for name in ("a1", "a2")}
    hosts = {name: {"roulette_armed": True, "roulette_console_log": log, "roulette_spin_device": f"/panic:{log}"}
             for name, log in logs.items()}
    proc, report = run(tmp_path, collections, hosts, {"roulette_spin_batch": 1, "roulette_spin_max_fleet_deaths": 1})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert statuses(report) == {"a1": "dead", "a2": "not_run"}
