# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module tests (defined in roulette_fakehost.py)."""

from __future__ import annotations

import os
import sys

# The helpers beside this file are imported by name, with plain pytest and
# under ansible-test alike.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from roulette_fakehost import exits, host  # noqa: F401 - pytest fixtures
