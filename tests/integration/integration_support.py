# SPDX-License-Identifier: GPL-3.0-or-later
"""What the integration tests share. Its own module, not conftest: pytest runs several
test folders in one session, and `from conftest import` would get another folder's."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# The fake preflight verdicts of the tests are the benchmark's (one builder for both).
sys.path.insert(0, str(ROOT / "bench"))
from controller_fleet import preflight_verdict  # noqa: E402, F401


def task_results(report, host="controller"):
    """(task name, result) pairs of every task of every play, in order."""
    for play in report["plays"]:
        for task in play["tasks"]:
            if host in task["hosts"]:
                yield task["task"]["name"].split(" : ", 1)[-1], task["hosts"][host]
