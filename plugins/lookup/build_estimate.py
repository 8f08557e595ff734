# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: build_estimate
short_description: How long the last comparable build of the module took, from the controller's cache
version_added: 1.0.0
description:
  - Reads the C(build.json) of every entry in the build cache of the kmod_build role and returns how long
    C(make) took (its C(build_seconds)) in the build that best predicts a build for the given kernel release
    on the given host. kmod_build says it before a build starts.
  - A build on the same host tells most, since how fast a host builds (natively, or emulated) matters more
    than the kernel it builds for. The entries are tried in this order, the newest first within each
    (by the time of its C(roulette.ko)), the same kernel release on the same host, another kernel release on the
    same host, the same kernel release on another host. A build of another kernel release on another host
    is not used.
  - Only sound entries count, as P(rustkmod.roulette.cache_entry#lookup) checks them, whose C(build_seconds) is a
    whole number of seconds, 0 or more. Entries without one (built before it was recorded, or whose C(make)
    did not run because the module was already in the build tree), with another value there, or corrupt,
    are passed over without a warning. Only the entry chosen has its C(roulette.ko) hashed.
  - Nothing is changed; the lookup never fails because of the cache.
author: rustkmod.roulette maintainers (@rustkmod)
options:
  _terms:
    description: Kernel releases to estimate a build for.
    required: true
  built_on:
    description:
      - The host that is to build (its inventory name, as C(build.json) records it in C(built_on)). Empty means
        no host is preferred; only builds of the same kernel release are used then.
    type: str
    default: ""
  cache:
    description:
      - The controller's module cache (kmod_build_controller_cache). Default as the role's,
        C($ROULETTE_CACHE_DIR/modules) or C(~/.cache/rustkmod-roulette/modules). Empty means the default.
    type: str
    default: ""
seealso:
  - plugin: rustkmod.roulette.cached_module
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Say how long the build of this host's kernel took last time
  vars:
    __estimate: >-
      {{ lookup('rustkmod.roulette.build_estimate', ansible_facts['kernel'], built_on=inventory_hostname) }}
  ansible.builtin.debug:
    msg: >-
      {{ 'no earlier build to estimate from' if __estimate['seconds'] is none
         else 'the last build took about %d min (on %s)' % ((__estimate['seconds'] / 60) | round,
                                                           __estimate['built_on']) }}
"""

RETURN = r"""
_raw:
  description: One dict per kernel release.
  type: list
  elements: dict
  contains:
    seconds:
      description: How long C(make) took in that build, in seconds; None when no entry tells.
      type: int
      sample: 362
    kernel_release:
      description: The kernel release that build was for; None when no entry tells.
      type: str
    built_on:
      description: The host that built it; None when no entry tells, or its C(build.json) names none.
      type: str
    key:
      description: The build key of that cache entry (its directory's name); None when no entry tells.
      type: str
    directory:
      description: The cache entry's directory; None when no entry tells.
      type: str
    same_host:
      description: Whether it was built on O(built_on).
      type: bool
    same_release:
      description: Whether it was built for the kernel release asked about.
      type: bool
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.module_cache import cache_dir, last_build

NOTHING = {"seconds": None, "kernel_release": None, "built_on": None, "key": None, "directory": None,
           "same_host": False, "same_release": False}


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        cache = cache_dir(self.get_option("cache"))
        host = self.get_option("built_on") or None
        return [last_build(cache, str(term), host) or dict(NOTHING) for term in terms]
