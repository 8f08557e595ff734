# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which of the named Debian packages dpkg has installed, from dpkg-query.

Runs on the target host (imported by the dpkg_status and deb_packages modules). Reads
only dpkg's database: needs neither python3-apt nor package lists.
"""

from __future__ import annotations

import re

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


def query(module, names):
    """(installed, missing) of the given names on this host; fails the module when dpkg-query fails."""
    dpkg_query = module.get_bin_path("dpkg-query", required=True)
    # rc 1 is "no packages found matching" some of the names: they are missing, not an error.
    rc, out, err = module.run_command([dpkg_query, "-W", "-f=" + FORMAT, "--"] + [package_of(n) for n in names],
                                      environ_update={"LC_ALL": "C"})
    if rc not in (0, 1):
        module.fail_json(msg="dpkg-query failed (rc=%d): %s" % (rc, err.strip()), rc=rc, stderr=err)
    return split(names, out)
