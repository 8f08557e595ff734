# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A module file on the controller, as roulette_info describes one on a host (runs on the controller)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: module_file_info
short_description: Describe a kernel module file on the controller (srcversion, vermagic)
version_added: 1.0.0
description:
  - Reads the C(.modinfo) strings of a kernel module file on the controller, in Python, with the same
    code C(rustkmod.roulette.roulette_info) uses for the installed file on a host, so that the two
    C(srcversion) values can be compared.
  - A path that is missing, not a regular file, or not an ELF object gives null values, never an error.
options:
  _input:
    description: Path of the module file on the controller.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Compare the module about to be installed with the loaded one
  ansible.builtin.debug:
    msg: "{{ (kmod_load_module_file | rustkmod.roulette.module_file_info)['srcversion'] }}"
"""

RETURN = r"""
_value:
  description: C(path), C(exists), C(regular), C(size), C(srcversion), C(vermagic).
  type: dict
"""

import os

from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import DriverState


def module_file_info(path):
    return DriverState.installed(os.path.expanduser(str(path)))


class FilterModule(object):
    def filters(self):
        return {"module_file_info": module_file_info}
