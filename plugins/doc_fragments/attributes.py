# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment:
    # The attributes shared by the modules that return their results as facts.
    FACTS = r"""
attributes:
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  facts:
    support: full
    description:
      - The results are returned as facts.
"""
