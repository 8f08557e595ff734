# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's page in a real browser: ansible_collections.rustkmod.roulette importable, as in tests/unit."""

from __future__ import annotations

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if os.path.basename(os.path.dirname(os.path.dirname(REPO))) != "ansible_collections":
    _top = tempfile.mkdtemp(prefix="roulette-collections-")
    os.makedirs(os.path.join(_top, "ansible_collections", "rustkmod"))
    os.symlink(REPO, os.path.join(_top, "ansible_collections", "rustkmod", "roulette"))
    sys.path.insert(0, _top)
