# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the lookup tests: the warnings a lookup gives, a guard against blocking."""

from __future__ import annotations

import pytest


@pytest.fixture
def warnings(monkeypatch):
    """The warnings lookups give through ansible.utils.display.Display().warning, in order."""
    from ansible.utils.display import Display
    seen = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *args, **kwargs: seen.append(msg))
    return seen


@pytest.fixture
def within_seconds():
    """Fail a test whose code blocks (on a FIFO, say) instead of hanging the run: within_seconds(5)."""
    import signal

    def expired(signum, frame):
        raise TimeoutError("the code under test blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    yield signal.alarm
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
