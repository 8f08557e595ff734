# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ansible_collections.rustkmod.roulette importable from this checkout.

A temporary tree ansible_collections/rustkmod/roulette -> repository root
is put at the front of sys.path, so the plugins import each other by their
collection names, as they do on a target host.
"""

from __future__ import annotations

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _collections_tree():
    top = tempfile.mkdtemp(prefix="roulette-collections-")
    namespace = os.path.join(top, "ansible_collections", "rustkmod")
    os.makedirs(namespace)
    os.symlink(REPO, os.path.join(namespace, "roulette"))
    return top


sys.path.insert(0, _collections_tree())
for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
    del sys.modules[name]  # a namespace package imported before recomputes its path
