# SPDX-License-Identifier: GPL-3.0-or-later
"""roulette_lab.console: what the serial log says."""

from __future__ import annotations

from roulette_lab import console


def test_serial_findings():
    clean = "[    1.0] Run /init as init process\n"
    oops = "kernel BUG at shim.c:12!\nOops: invalid opcode: 0000 [#1] SMP\n"
    panic = oops + "Kernel panic - not syncing: Fatal exception\n"
    assert console.serial_findings(clean) == {"panic": False, "oops": False}
    assert console.serial_findings(oops) == {"panic": False, "oops": True}
    assert console.serial_findings(panic) == {"panic": True, "oops": True}


def test_serial_tail_keeps_the_last_lines(tmp_path):
    log = tmp_path / "serial.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert console.serial_tail(log, lines=2) == "line 98\nline 99\n"
    assert console.serial_tail(tmp_path / "missing") == "(no serial log)"
