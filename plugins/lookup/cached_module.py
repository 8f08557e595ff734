# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: cached_module
short_description: Find a module already built for a kernel release in the controller's cache
description:
  - Looks through the build cache of the kmod_build role (one directory per build key, each with
    C(roulette.ko) and C(build.json)) for a module built for the given kernel release from the
    same source, extra patches and panic choice, and returns the newest one's path, or an empty
    string.
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

RETURN = r"""
_raw:
  description: One path per release, empty when nothing matches.
  type: list
  elements: str
"""

import json
import os

from ansible.plugins.lookup import LookupBase


def find_cached(cache, release, source, extra_patches=(), real_panic=False):
    best, best_time = "", -1.0
    try:
        keys = os.listdir(cache)
    except OSError:
        return ""
    for key in keys:
        module = os.path.join(cache, key, "roulette.ko")
        info_path = os.path.join(cache, key, "build.json")
        try:
            with open(info_path) as handle:
                info = json.load(handle)
            mtime = os.path.getmtime(module)
        except (OSError, ValueError):
            continue
        if (info.get("kernel_release") == release and info.get("source") == source
                and list(info.get("extra_patches", [])) == list(extra_patches)
                and bool(info.get("real_panic", False)) == bool(real_panic)
                and mtime > best_time):
            best, best_time = module, mtime
    return best


def default_cache():
    base = os.environ.get("ROULETTE_CACHE_DIR")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rustkmod-roulette")
    return os.path.join(base, "modules")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        cache = os.path.expanduser(self.get_option("cache") or default_cache())
        return [find_cached(cache, str(term), self.get_option("source"),
                            self.get_option("extra_patches"), self.get_option("real_panic"))
                for term in terms]
