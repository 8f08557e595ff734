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

import re

from ansible.module_utils.basic import AnsibleModule

# dpkg-query's line per package: the name as dpkg knows it (with :arch for a foreign
# architecture), the plain name, and the status abbreviation ("ii " when installed).
FORMAT = "${binary:Package}\t${Package}\t${db:Status-Abbrev}\n"


def package_of(name):
    """The package a name given to apt stands for: without a =version or /release suffix."""
    return re.split(r"[=/]", name, maxsplit=1)[0].strip()


def installed_set(output):
    """The names dpkg-query's FORMAT lines say are installed, with and without the :arch qualifier."""
    installed = set()
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[2].startswith("ii"):
            installed.update(fields[:2])
    return installed


def split(names, output):
    """(installed, missing): the given names in their order, by dpkg-query's output."""
    installed = installed_set(output)
    have = [n for n in names if package_of(n) in installed]
    return have, [n for n in names if n not in have]


def main():
    module = AnsibleModule(argument_spec={"name": {"type": "list", "elements": "str", "required": True}},
                           supports_check_mode=True)
    names = [n for n in module.params["name"] if n.strip()]
    if not names:
        module.exit_json(changed=False, installed=[], missing=[])
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    # rc 1 is "no packages found matching" some of the names: they are missing, not an error.
    rc, out, err = module.run_command([dpkg_query, "-W", "-f=" + FORMAT, "--"] + [package_of(n) for n in names],
                                      environ_update={"LC_ALL": "C"})
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query failed (rc=%d): %s" % (rc, err.strip()), rc=rc, stderr=err)
    have, missing = split(names, out)
    module.exit_json(changed=False, installed=have, missing=missing)


if __name__ == "__main__":
    main()
