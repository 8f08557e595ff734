# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the kmod_load role does with the driver and its node (runs on the controller)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: load_plan
short_description: Decide whether the roulette module must be loaded, reloaded or left as it is
version_added: 1.0.0
description:
  - Compares the driver's state as C(rustkmod.roulette.roulette_info) read it with what is wanted,
    the module file that is (or is about to be) installed, identified by its C(version) (the driver's
    release and a hash of what it was built from), and the chance.
  - The decision never depends on whether this run copied a file, so a run that was cut short (a
    new module installed, the old one still loaded; or the driver unloaded behind Ansible's back)
    is repaired by the next run.
positional: _input, module, chance
options:
  _input:
    description: The C(roulette_info) facts (C(ansible_facts['roulette_info'])).
    type: dict
    required: true
  module:
    description:
      - The module file that should be loaded, as C(rustkmod.roulette.module_file_info) (a file on the
        controller) or C(roulette_info)'s C(installed) (the file on the host) describe it. It is identified
        by its C(version), or its C(srcversion) when it declares no version; when neither is known (null),
        only the chance and whether the driver is loaded decide.
    type: dict
  chance:
    description: The wanted chance in percent; null when any chance will do (the driver picks one).
    type: int
"""

EXAMPLES = r"""
- name: Decide
  ansible.builtin.set_fact:
    plan: >-
      {{ ansible_facts['roulette_info']
         | rustkmod.roulette.load_plan(ansible_facts['roulette_info']['installed'], roulette_chance) }}
# plan.action: load, reload or none; plan.reason says why.
"""

RETURN = r"""
_value:
  description: The decision.
  type: dict
  contains:
    action:
      description: V(load) (not loaded), V(reload) (loaded, but not the wanted module or chance), V(none).
      type: str
    reason:
      description: Why, in words for the task output.
      type: str
"""

from ansible.errors import AnsibleFilterError


def _chance(value):
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"load_plan: the chance must be an integer, not {value!r}") from None


def module_id(module):
    """What tells one build of the module from another: its version, else its srcversion."""
    if not module:
        return None
    return module.get("version") or module.get("srcversion") or None


def load_plan(info, module=None, chance=None):
    if not isinstance(info, dict) or "loaded" not in info:
        raise AnsibleFilterError("load_plan expects the roulette_info facts")
    if module is not None and not isinstance(module, dict):
        raise AnsibleFilterError("load_plan: the module must be a dict as module_file_info returns it")
    wanted_chance = _chance(chance)
    if not info["loaded"]:
        return {"action": "load", "reason": "the driver is not loaded"}
    wanted_id, loaded_id = module_id(module), module_id(info)
    if wanted_id and loaded_id != wanted_id:
        return {"action": "reload",
                "reason": f"the loaded module ({loaded_id}) is not the installed one ({wanted_id})"}
    if wanted_chance is not None and info.get("chance") != wanted_chance:
        return {"action": "reload",
                "reason": f"the driver's chance is {info.get('chance')}, {wanted_chance} is wanted"}
    return {"action": "none", "reason": "the installed module is loaded with the wanted chance"}


class FilterModule(object):
    def filters(self):
        return {"load_plan": load_plan}
