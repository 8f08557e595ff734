# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ansible_collections.rustkmod.roulette importable from this checkout.

Run from the checkout (`python -m pytest tests/unit`), a temporary tree
ansible_collections/rustkmod/roulette -> repository root goes to the front
of sys.path, so the plugins import each other by their collection names, as
they do on a target host. Under ansible-test the checkout already is such a
tree and nothing is done.
"""

from __future__ import annotations

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _in_collection_tree():
    namespace_dir = os.path.dirname(REPO)
    return os.path.basename(os.path.dirname(namespace_dir)) == "ansible_collections"


def _collections_tree():
    top = tempfile.mkdtemp(prefix="roulette-collections-")
    namespace = os.path.join(top, "ansible_collections", "rustkmod")
    os.makedirs(namespace)
    os.symlink(REPO, os.path.join(namespace, "roulette"))
    return top


if not _in_collection_tree():
    sys.path.insert(0, _collections_tree())
