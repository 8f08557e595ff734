#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: dpkg_status
short_description: Which of the named Debian packages dpkg has installed
version_added: 1.0.0
description:
  - Asks C(dpkg-query) which of the named packages are installed and returns them apart from the ones that are not.
  - Nothing is changed and nothing is fetched; only dpkg's database is read, so it needs neither C(python3-apt) nor
    package lists.
  - The roles use it in check mode to predict what a real run's C(ansible.builtin.apt) installs, on hosts where
    C(ansible.builtin.apt) cannot run in check mode (it needs C(python3-apt), which a bare Debian host lacks, and
    only a real run may install it).
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  name:
    description:
      - Package names, as given to C(ansible.builtin.apt). A version (V(foo=1.0)) or release (V(foo/bookworm))
        suffix is ignored; an architecture qualifier (V(foo:i386)) is kept.
      - A name dpkg does not know (never installed, or a virtual package) is reported as missing.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description:
      - The module only reads, so it runs in check mode too and returns the same result.
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  platform:
    support: full
    platforms: debian
    description:
      - Debian and its derivatives (any host with dpkg).
seealso:
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Say which packages a real run installs
  rustkmod.roulette.dpkg_status:
    name: [linux-headers-amd64, rustc, rust-src]
  register: packages
  changed_when: packages.missing | length > 0
  when: ansible_check_mode
"""

RETURN = r"""
installed:
  description: The names (as given) that dpkg reports installed (status C(ii)), in the order given.
  returned: success
  type: list
  elements: str
  sample: [rustc]
missing:
  description: The names (as given) that are not installed, in the order given; what a real install adds.
  returned: success
  type: list
  elements: str
  sample: [linux-headers-6.1.0-57-amd64, rust-src]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.dpkg import query


def main():
    module = AnsibleModule(argument_spec={"name": {"type": "list", "elements": "str", "required": True}},
                           supports_check_mode=True)
    names = [n for n in module.params["name"] if n.strip()]
    if not names:
        module.exit_json(changed=False, installed=[], missing=[])
    have, missing = query(module, names)
    module.exit_json(changed=False, installed=have, missing=missing)


if __name__ == "__main__":
    main()
