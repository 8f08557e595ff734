# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the lab's package (molecule/shared/roulette_lab) importable, as lab.py does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "molecule" / "shared"
if str(SHARED) not in sys.path:
    sys.path.insert(0, str(SHARED))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty lab cache (images, disks, key) of the test's own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "rustkmod-roulette"
