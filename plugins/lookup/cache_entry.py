# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: cache_entry
short_description: Check one entry of the controller's module cache before it is used
version_added: 1.0.0
description:
  - Checks a module in the build cache of the kmod_build role, as it is about to be copied to a host, and
    says whether it is sound and, when not, what is wrong.
  - An entry is a directory holding C(roulette.ko) and C(build.json). It is sound when C(build.json) is a JSON
    object with the fields C(kernel_release), C(source) (non-empty strings), C(extra_patches) (a list of
    strings), C(real_panic) (a boolean) and C(sha256) (64 lower-case hex digits), and C(roulette.ko) is a
    regular, non-empty file that starts like an ELF file (C(\x7fELF)) and whose SHA-256 is that C(sha256).
  - Nothing is changed; the lookup never fails on a corrupt entry, it returns RV(_raw[].ok=false) and the
    RV(_raw[].problem). A task that copies the module asserts RV(_raw[].ok).
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _terms:
    description:
      - Paths on the controller, each the C(roulette.ko) of an entry (as C(kmod_build_modules) holds them; its
        C(build.json) is the one beside it) or an entry's directory.
    required: true
  kernel_release:
    description:
      - When set, an entry built for another kernel release is not sound either.
    type: str
    default: ""
notes:
  - The module is read and hashed on the controller each time; the copy that follows reads it again, so
    nothing should write to the cache between the two.
seealso:
  - plugin: rustkmod.roulette.cached_module
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Refuse a corrupt module before it is copied to the host
  vars:
    __entry: >-
      {{ lookup('rustkmod.roulette.cache_entry', kmod_load_module_file,
                kernel_release=ansible_facts['kernel']) }}
  ansible.builtin.assert:
    that: __entry['ok']
    fail_msg: "The cached module {{ kmod_load_module_file }} is not usable: {{ __entry['problem'] }}"
    quiet: true
"""

RETURN = r"""
_raw:
  description: One dict per path.
  type: list
  elements: dict
  contains:
    path:
      description: The path given (with C(~) expanded).
      type: str
    directory:
      description: The entry's directory.
      type: str
    module:
      description: The module file checked.
      type: str
    ok:
      description: Whether the entry is sound.
      type: bool
    problem:
      description: What is wrong with it, or None when it is sound.
      type: str
      sample: roulette.ko is empty (0 bytes)
    sha256:
      description: The module's SHA-256 when the entry is sound, else None.
      type: str
    build:
      description: The entry's C(build.json) when the entry is sound, else None.
      type: dict
"""

import os

from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import MODULE_NAME, module_problem, read_info


def check_path(path, kernel_release=""):
    """The result for one path (see RETURN)."""
    if os.path.isdir(path):
        directory, module = path, os.path.join(path, MODULE_NAME)
    else:
        directory, module = os.path.dirname(path) or ".", path
    result = {"path": path, "directory": directory, "module": module, "ok": False, "problem": None,
              "sha256": None, "build": None}
    if not path:
        result["problem"] = "no path was given"
        return result
    info, problem = read_info(directory)
    if problem is None:
        problem = module_problem(module, info["sha256"])
    if problem is None and kernel_release and info["kernel_release"] != kernel_release:
        problem = "it was built for kernel %s, not %s" % (info["kernel_release"], kernel_release)
    if problem is not None:
        result["problem"] = "%s: %s" % (directory, problem)
        return result
    result.update(ok=True, sha256=info["sha256"], build=info)
    return result


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        release = self.get_option("kernel_release") or ""
        return [check_path(os.path.expanduser(str(term)) if term else "", release) for term in terms]
