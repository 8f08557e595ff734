# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters over the kernel log, for the kmod_load role."""

from __future__ import annotations

DOCUMENTATION = r"""
name: dmesg
short_description: Read the roulette driver's load messages out of dmesg text
description:
  - C(roulette_load) returns the major, chance and lines of the driver load
    that was written after a marker line (only this load, not an older one
    still in the ring buffer).
  - C(dmesg_tail) returns the last lines written after a marker.
author: rustkmod.roulette maintainers (@rustkmod)
"""

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.load_messages import (
    lines_after_marker,
    parse_load,
)


def roulette_load(text, marker):
    lines = lines_after_marker(text or "", marker)
    result = parse_load("\n".join(lines))
    result["marker_found"] = marker in (text or "")
    return result


def dmesg_tail(text, marker, count=20):
    return lines_after_marker(text or "", marker)[-int(count):]


class FilterModule(object):
    def filters(self):
        return {"roulette_load": roulette_load, "dmesg_tail": dmesg_tail}
