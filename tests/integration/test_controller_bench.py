# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/controller_bench.py runs whole at a size of 2 hosts: nothing else runs the benchmark,
and it broke unseen once (its fake verdicts lacked a field preflight had gained). Each phase
checks its own outcome (the report's rows and statuses), so a phase that no longer works fails
here."""

from __future__ import annotations

import subprocess
import sys

from integration_support import ROOT


def test_the_controller_benchmark_runs_at_two_hosts():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "controller_bench.py"), "--sizes", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rows = [line for line in run.stdout.splitlines() if line.startswith("| 2 |")]
    assert len(rows) == 1, run.stdout
    cells = [float(cell) for cell in rows[0].strip("| ").split(" | ")[1:]]
    assert len(cells) == 5 and all(cell > 0 for cell in cells), rows
