# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_outcome filter: one host's status from its raw spin record. Runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
name: host_outcome
short_description: A host's status in the fleet report, from its raw spin record
version_added: 1.0.0
description:
  - Decides, from the raw record playbooks/spin.yml keeps in C(roulette_spin_record), what the fleet report
    will say about the host. It is the decision of P(rustkmod.roulette.fleet_report#module), made by the same code.
  - spin.yml uses it to count the fleet's deaths between batches and to tell how each host fared.
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _input:
    description:
      - The record (see the O(rustkmod.roulette.fleet_report#module:hosts) option of fleet_report);
        V({}) or V(null) for a host that recorded nothing.
    type: raw
    required: true
  failed:
    description: For a host without a record, whether it failed in the spin play (it is then V(failed)).
    type: bool
    default: false
  armed:
    description: For a host without a record, whether it is armed (V(not_run)) or not (V(skipped)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Count the deaths of this batch
  ansible.builtin.debug:
    msg: >-
      {{ ansible_play_batch | map('extract', hostvars) | map(attribute='roulette_spin_record', default={})
         | map('rustkmod.roulette.host_outcome') | map(attribute='died') | sum }}

- name: Say how the host fared
  ansible.builtin.debug:
    msg: "{{ (roulette_spin_record | rustkmod.roulette.host_outcome)['status'] }}"
"""

RETURN = r"""
_value:
  description:
    - The host's report row without its name, among others C(status) (V(dead), V(unreachable), V(failed),
      V(stuck), V(alive), V(not_run), V(skipped)), C(msg), C(died) (1 for a kernel panic seen on the console),
      C(spins) (null when unknown), C(console_line), C(panic_location) and C(notes) (what in the record could not be used).
  type: dict
  sample: {"status": "dead", "msg": "kernel panic: Kernel panic - not syncing: kernel-roulette: Boom!", "died": 1, "spins": 1}
"""

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.host_status import host_row


def host_outcome(record, failed=False, armed=False):
    row = host_row("", record, failed_host=bool(failed), armed=bool(armed))
    row.pop("host")
    return row


class FilterModule:
    def filters(self):
        return {"host_outcome": host_outcome}
