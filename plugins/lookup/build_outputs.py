# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: build_outputs
short_description: The driver's build outputs as path patterns, for leaving them out of an archive
version_added: 1.0.0
description:
  - Returns the names that C(files/kmod/build-outputs.txt) lists (what building the driver leaves in its
    tree; the driver's C(make clean) removes them) as fnmatch patterns over paths relative to a tree,
    as C(community.general.archive)'s O(community.general.archive#module:exclusion_patterns) takes them.
  - Each name is given at the top (after a prefix, when terms are given) and at any depth below it, and
    with what a directory of that name holds.
  - The kmod_build role packs the driver's source for build hosts with these; the tree_hash lookup leaves
    the same names out of the source hash.
options:
  _terms:
    description:
      - Prefixes to put before the patterns, for example V(files/kmod/) for paths relative to the
        collection; the patterns of each prefix follow one another.
      - None gives the patterns relative to the tree's top.
    required: false
author: rustkmod.roulette maintainers (@rustkmod)
"""

EXAMPLES = r"""
- name: Pack the driver source without build output
  community.general.archive:
    path: "{{ source_dir }}/*"
    dest: /tmp/source.tar.gz
    format: gz
    exclusion_patterns: "{{ query('rustkmod.roulette.build_outputs') }}"
    mode: "0644"
"""

RETURN = r"""
_raw:
  description: fnmatch patterns, four per listed name (V(NAME), V(*/NAME), V(NAME/*), V(*/NAME/*)).
  type: list
  elements: str
  sample: ["*.ko", "*/*.ko", "*.ko/*", "*/*.ko/*"]
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.build_outputs import BuildOutputsError, path_patterns


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        try:
            return [pattern for prefix in (terms or [""]) for pattern in path_patterns(str(prefix))]
        except (OSError, BuildOutputsError) as exc:
            raise AnsibleLookupError("build_outputs: cannot read the list of build outputs: %s" % exc) from exc
