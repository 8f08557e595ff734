# SPDX-License-Identifier: GPL-3.0-or-later
"""Tell a checkout that scripts/setup.sh has not set up what to do, before Ansible's own error.

The checkout's ansible.cfg finds the collection rustkmod.roulette in .venv/collections, where
scripts/setup.sh links the checkout. Without that link, playbooks/site.yml fails while Ansible
parses it ("role 'rustkmod.roulette.preflight' not found"), before any task could run, and
before Ansible loads any callback plugin. Inventory plugins are loaded earlier, when the
inventory is read, so ansible.cfg enables this one ahead of Ansible's own: it reads no
inventory (verify_file() declines every source), it only checks once that the collection
resolves and, when it does not, warns how to set the checkout up. Where the collection
resolves it says nothing. It lives in scripts/, which the collection's tarball leaves out."""

from __future__ import annotations

DOCUMENTATION = r"""
name: roulette_setup_hint
short_description: Warn when this checkout is not set up as the collection rustkmod.roulette
description:
  - Enabled by the checkout's C(ansible.cfg) before Ansible's own inventory plugins. It parses no
    inventory source.
  - When the collection C(rustkmod.roulette) does not resolve in the collections paths, it warns
    once to run C(scripts/setup.sh), which links the checkout into C(.venv/collections).
"""

import importlib.util
import os

from ansible import constants as C
from ansible.plugins.inventory import BaseInventoryPlugin
from ansible.utils.display import Display

display = Display()

# scripts/ansible_plugins/inventory/<this file>: the checkout is four levels up.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def collection_resolves():
    """Whether Ansible's collection finder (the configured collections paths, the
    ansible_collections folders on sys.path, a playbook's adjacent collections) finds it."""
    try:
        return importlib.util.find_spec("ansible_collections.rustkmod.roulette") is not None
    except ImportError:
        return False
    except Exception:  # cannot tell: say nothing rather than disturb the run
        return True


def hint():
    return (
        "The collection rustkmod.roulette is not found in the collections paths (%s) nor on Python's path, "
        "so the playbooks of this checkout cannot resolve its roles and modules. Set the checkout up first: "
        "run %s (it creates .venv with ansible-core and links this checkout into .venv/collections as "
        "rustkmod.roulette), then run the playbook with %s."
        % (", ".join(C.COLLECTIONS_PATHS) or "none",
           os.path.join(ROOT, "scripts", "setup.sh"),
           os.path.join(ROOT, ".venv", "bin", "ansible-playbook"))
    )


class InventoryModule(BaseInventoryPlugin):
    NAME = "roulette_setup_hint"
    _checked = False

    def verify_file(self, path):
        # Called for every inventory source: check once per run.
        if not InventoryModule._checked:
            InventoryModule._checked = True
            if not collection_resolves():
                display.warning(hint())
        return False
