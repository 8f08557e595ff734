# SPDX-License-Identifier: GPL-3.0-or-later
"""The task and connection an action plugin is built with in these tests."""

from __future__ import annotations

from unittest.mock import MagicMock


def fake_task(args=None, check_mode=False):
    """A task with `args`, in check mode or not, not async, without diff."""
    task = MagicMock()
    task.args = args if args is not None else {}
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = False
    return task


def fake_connection():
    """A connection whose shell has no temporary directory yet."""
    connection = MagicMock()
    connection._shell.tmpdir = None
    return connection
