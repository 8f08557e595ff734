# SPDX-License-Identifier: GPL-3.0-or-later
"""The module tests' fake host and helpers, for the module_utils tests too."""

from __future__ import annotations

import os
import sys

# roulette_fakehost.py and elf_fixture.py live beside the module tests; they
# are imported by name, with plain pytest and under ansible-test alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modules"))

from roulette_fakehost import exits, host  # noqa: E402, F401 - pytest fixtures
