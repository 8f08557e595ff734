# SPDX-License-Identifier: GPL-3.0-or-later
"""The helpers beside this file (action_fakes.py) are imported by name, with plain pytest and
under ansible-test alike."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
