# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: controller_cache
short_description: The controller's default module cache directory
version_added: 1.0.0
description:
  - Returns the directory the kmod_build role keeps built modules in on the controller when
    C(kmod_build_controller_cache) is not set, the one default of that path in the collection
    (P(rustkmod.roulette.cached_module#lookup) and P(rustkmod.roulette.build_plan#filter) use it too).
  - It is C($ROULETTE_CACHE_DIR/modules) when C(ROULETTE_CACHE_DIR) is set and not empty, else
    C($XDG_CACHE_HOME/rustkmod-roulette/modules) when C(XDG_CACHE_HOME) is, else
    C(~/.cache/rustkmod-roulette/modules), in the environment of C(ansible-playbook).
options:
  _terms:
    description: None; the lookup takes no terms.
    required: false
author: rustkmod.roulette maintainers (@rustkmod)
"""

EXAMPLES = r"""
- name: Show where built modules are kept by default
  ansible.builtin.debug:
    msg: "{{ lookup('rustkmod.roulette.controller_cache') }}"
"""

RETURN = r"""
_raw:
  description: One path, the default cache directory.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import default_cache


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("controller_cache takes no terms, got %r" % (terms,))
        self.set_options(var_options=variables, direct=kwargs)
        return [default_cache()]
