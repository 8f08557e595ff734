# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The driver's load messages in the text of dmesg, for the kmod_load role.

Runs on the controller, in ansible-core's Python: the roulette_load and
dmesg_tail filters (plugins/filter/dmesg.py) read with it the dmesg output that
the role's tasks brought back from the host after a load.
"""

from __future__ import annotations

import re

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import split_lines, strip_prefixes

_REGISTERED_RE = re.compile(r"Registered\s+kernel-roulette\s+with\s+major\s+device\s+number\s+(\d+)")
_MKNOD_RE = re.compile(r"mknod\s+(\S+)\s+c\s+(\d+)\s+(\d+)")
_CHANCE_RE = re.compile(r"Panic\s+probability:\s*(\d+)\s*/\s*100")
LOAD_MARKER = "Registered kernel-roulette"


def last_load_lines(text):
    """Lines from the last `Registered kernel-roulette` marker to the end.

    A ring buffer can hold several loads (reloads with another chance); only
    the newest one describes the driver that is loaded now.  Returns [] when
    there is no marker at all.
    """
    lines = split_lines(text)
    start = None
    for index, line in enumerate(lines):
        if _REGISTERED_RE.search(line) or LOAD_MARKER in line:
            start = index
    if start is None:
        return []
    return lines[start:]


def parse_load(text):
    """Parse the newest load's messages.

    Returns a dict with `major` (int or None), `mknod` ({path, major, minor}
    or None), `chance` (int or None) and `lines` (the raw lines of that load).
    A line truncated before its number gives None for that value.
    """
    lines = last_load_lines(text)
    result = {"major": None, "mknod": None, "chance": None, "lines": lines}
    for raw in lines:
        msg = strip_prefixes(raw)
        match = _REGISTERED_RE.search(msg)
        if match and result["major"] is None:
            result["major"] = int(match.group(1))
            continue
        match = _MKNOD_RE.search(msg)
        if match and result["mknod"] is None:
            result["mknod"] = {
                "path": match.group(1),
                "major": int(match.group(2)),
                "minor": int(match.group(3)),
            }
            continue
        match = _CHANCE_RE.search(msg)
        if match and result["chance"] is None:
            result["chance"] = int(match.group(1))
    if result["major"] is None and result["mknod"] is not None:
        # "Registered ..." was truncated; the mknod hint names the same major.
        result["major"] = result["mknod"]["major"]
    return result


def lines_after_marker(text, marker):
    """Lines after the newest line containing `marker` (all when absent)."""
    lines = split_lines(text)
    position = None
    for index, line in enumerate(lines):
        if marker in line:
            position = index
    if position is None:
        return lines
    return lines[position + 1:]
