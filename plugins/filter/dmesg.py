# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over the kernel log, for the kmod_load role: roulette_load and dmesg_tail.

Runs on the controller (filter plugins). Each filter is documented in its own
file beside this one (roulette_load.yml, dmesg_tail.yml).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.load_messages import (
    lines_after_marker,
    parse_load,
)


def roulette_load(text, marker):
    """The driver's load messages written after the newest `marker` line (see roulette_load.yml)."""
    lines = lines_after_marker(text or "", marker)
    result = parse_load("\n".join(lines))
    result["marker_found"] = marker in (text or "")
    return result


def dmesg_tail(text, marker, count=20):
    """The last `count` lines after the newest `marker` line (see dmesg_tail.yml)."""
    try:
        lines = int(count) if not isinstance(count, bool) else -1
    except (TypeError, ValueError):
        lines = -1
    if lines < 0:
        raise AnsibleFilterError("dmesg_tail: count must be a number of lines (0 or more), not %r" % (count,))
    if lines == 0:
        return []
    return lines_after_marker(text or "", marker)[-lines:]


class FilterModule(object):
    def filters(self):
        return {"roulette_load": roulette_load, "dmesg_tail": dmesg_tail}
