# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module tests (defined in roulette_fakehost.py)."""

from __future__ import annotations

from roulette_fakehost import exits, host  # noqa: F401 - pytest fixtures
