# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: tree_hash
short_description: Hash of a directory tree on the controller
description:
  - Returns the SHA-256 of the relative paths, modes and contents of every file
    under each given directory, skipping build output (objects, modules,
    kbuild's command files, Rust's build directory).
  - The kmod_build role keys its build cache with it.
options:
  _terms:
    description: Directories to hash.
    required: true
author: rustkmod.roulette maintainers (@rustkmod)
"""

RETURN = r"""
_raw:
  description: One hex digest per directory.
  type: list
  elements: str
"""

import fnmatch
import hashlib
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

SKIP_DIRS = {".git", "build", "target", "__pycache__", ".tmp_versions"}
SKIP_FILES = ("*.o", "*.ko", "*.a", "*.rlib", "*.mod", "*.mod.c", ".*.cmd", "*.rej", "*.orig",
              "Module.symvers", "modules.order", "*.pyc")


def tree_hash(top):
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            if any(fnmatch.fnmatch(name, pattern) for pattern in SKIP_FILES):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, top)
            digest.update(rel.encode("utf-8") + b"\0")
            digest.update(b"x" if os.access(path, os.X_OK) else b"-")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        results = []
        for term in terms:
            if not os.path.isdir(term):
                raise AnsibleLookupError("tree_hash: %s is not a directory" % term)
            results.append(tree_hash(term))
        return results
