# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: cached_module
short_description: Find a module already built for a kernel release in the controller's cache
version_added: 1.0.0
description:
  - Looks through the build cache of the kmod_build role (one directory per build key, each with
    C(roulette.ko) and C(build.json)) for a module built for the given kernel release from the
    same source, extra patches and panic choice, and returns the newest one's path, or an empty
    string.
  - An entry is used only when it is sound, as P(rustkmod.roulette.cache_entry#lookup) checks it. Its
    C(build.json) is a JSON object with the fields compared here and the C(sha256) of C(roulette.ko), and
    C(roulette.ko) is a regular, non-empty ELF file with that sha256. A corrupt entry is skipped with a warning
    naming its directory and what is wrong, so that the module is built again.
  - site.yml uses it so that a target whose kernel already has a module needs no toolchain.
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _terms:
    description: Kernel releases to look up.
    required: true
  cache:
    description:
      - The controller's module cache (kmod_build_controller_cache). Default as the role's,
        C($ROULETTE_CACHE_DIR/modules) or C(~/.cache/rustkmod-roulette/modules). Empty means the default.
    type: str
    default: ""
  source:
    description: tree_hash of the driver source.
    type: str
    required: true
  extra_patches:
    description: SHA-256 of each extra patch, in order.
    type: list
    elements: str
    default: []
  real_panic:
    description: Whether the real-panic patch was asked for.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Find the modules the controller holds for two kernel releases
  ansible.builtin.debug:
    msg: >-
      {{ query('rustkmod.roulette.cached_module', '6.1.0-27-amd64', '6.12.48-amd64',
               source=lookup('rustkmod.roulette.tree_hash', 'files/kmod')) }}
"""

RETURN = r"""
_raw:
  description: One path per release (of a C(roulette.ko) in the cache), empty when no sound entry matches.
  type: list
  elements: str
"""

from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import cache_dir, find_module


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        cache = cache_dir(self.get_option("cache"))
        display = Display()
        return [find_module(cache, str(term), self.get_option("source"), self.get_option("extra_patches"),
                            self.get_option("real_panic"), warn=display.warning)
                for term in terms]
