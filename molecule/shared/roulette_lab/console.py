# SPDX-License-Identifier: GPL-3.0-or-later
"""What a guest's serial console (QEMU's -serial file:, serial.log) says about the guest."""

from __future__ import annotations

from pathlib import Path

PANIC_MARKERS = ("Kernel panic - not syncing",)
OOPS_MARKERS = ("Oops:", "kernel BUG at", "BUG: ", "general protection fault")


def serial_findings(text: str) -> dict:
    return {
        "panic": any(m in text for m in PANIC_MARKERS),
        "oops": any(m in text for m in OOPS_MARKERS),
    }


def serial_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no serial log)"
    return "".join(text.splitlines(True)[-lines:])
