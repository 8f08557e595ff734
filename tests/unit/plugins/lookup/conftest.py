# SPDX-License-Identifier: GPL-3.0-or-later
"""A lookup plugin set up as Ansible's loader sets it up, for the lookup tests."""

from __future__ import annotations

import pytest
import yaml
from ansible import constants as C


def make_lookup(module, name):
    """module.LookupModule with its options defined from the module's DOCUMENTATION."""
    if not C.config.has_configuration_definition("lookup", name):
        C.config.initialize_plugin_configuration_definitions(
            "lookup", name, yaml.safe_load(module.DOCUMENTATION).get("options", {}))
    plugin = module.LookupModule()
    plugin._load_name = name
    return plugin


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
