#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: deb_packages
short_description: Installs the named Debian packages that dpkg lacks, in one apt-get run
version_added: 1.0.0
description:
  - Reads dpkg's database (C(dpkg-query)) for the named packages and installs the missing ones with one
    C(apt-get install --no-install-recommends), after C(apt-get update) when the package lists are older than
    O(cache_valid_time). Installed packages are never upgraded; when none is missing, nothing is run but the query.
  - Needs no C(python3-apt). M(ansible.builtin.apt) on a host without it (a fresh Debian host has none) first
    runs C(apt-get update) and installs C(python3-apt), a package nobody asked for, and cannot run in check mode
    there.
  - dpkg runs with C(--force-unsafe-io) (no C(fsync) per unpacked file; C(rust-web-src) alone has some 46,000
    files) and the module runs C(sync) once after the install, so that everything it installed is on disk
    when it returns, before anything that may crash the kernel is loaded. On a 2-vCPU Debian 12 VM under
    emulation this cut the install of the headers, build tools and Rust toolchain from 205 s to 168 s.
  - Configuration files that a package ships and the host changed are kept (dpkg's C(--force-confold)).
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  name:
    description:
      - Package names, as C(apt-get install) takes them (V(foo), V(foo=1.0), V(foo/bookworm-backports)). A
        version or release suffix is passed to apt-get but not compared with what is installed; an installed
        V(foo) counts for V(foo=1.0).
      - Empty names are left out.
    type: list
    elements: str
    required: true
  cache_valid_time:
    description:
      - Package lists updated less than this many seconds ago are used as they are; older ones are updated with
        C(apt-get update) before the install. V(0) updates them before every install.
      - Their age is reckoned as M(ansible.builtin.apt) does (C(/var/lib/apt/periodic/update-success-stamp), else
        the mtime of C(/var/lib/apt/lists)); a host without any package list (an image whose lists were cleaned)
        is always updated first, however new its lists directory.
      - Read only when a package is missing.
    type: int
    default: 3600
  path_exclude:
    description:
      - Files of the packages this run installs that dpkg leaves out (dpkg's C(--path-exclude)), as shell globs
        of absolute paths, where C(*) also matches C(/). O(path_include) takes some of them back.
      - Such a package is still installed for dpkg, with the files it left out listed as its own but absent
        (C(dpkg --verify) reports them missing); C(apt-get install --reinstall) of it, or its next upgrade,
        unpacks it whole. A package already installed is not touched.
      - The Rust toolchain's source package (some 46,000 files in C(rust-web-src) 1.96, of which building
        C(core) and C(alloc) reads the C(library/) directory's 4,000) is the use it was made for.
    type: list
    elements: str
    default: []
  path_include:
    description:
      - Files that O(path_exclude) matched but dpkg unpacks all the same (dpkg's C(--path-include), given after
        the excludes, as the last filter a path matches decides).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Reads dpkg's database only, and reports the missing packages as what a real run installs (changed).
  diff_mode:
    support: none
    description:
      - Nothing to show as a diff.
  platform:
    support: full
    platforms: debian
    description:
      - Debian and its derivatives (dpkg and apt-get).
seealso:
  - module: rustkmod.roulette.dpkg_status
  - module: ansible.builtin.apt
"""

EXAMPLES = r"""
- name: Install the running kernel's headers and the Rust toolchain
  rustkmod.roulette.deb_packages:
    name: ["linux-headers-{{ ansible_facts['kernel'] }}", rustc-web, rust-web-src]
  become: true

- name: Install the Rust library sources without the compiler's and the tools' sources
  rustkmod.roulette.deb_packages:
    name: [rust-web-src]
    path_exclude: ["/usr/src/rustc-*/*"]
    path_include: ["/usr/src/rustc-*/library/*"]
  become: true
"""

RETURN = r"""
installed:
  description: The names (as given) that were installed before the run, in the order given.
  returned: success
  type: list
  elements: str
  sample: [gcc, make]
missing:
  description: The names (as given) that were not installed; what the run installed (or, in check mode, what a
    real run installs).
  returned: success
  type: list
  elements: str
  sample: [linux-headers-6.1.0-57-amd64, rustc-web, rust-web-src]
cache_updated:
  description: Whether the package lists were updated.
  returned: success
  type: bool
  sample: true
"""

import glob
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.dpkg import query

# Where apt keeps its package lists; Ubuntu's update-notifier also stamps each successful update.
LISTS_DIR = "/var/lib/apt/lists"
UPDATE_STAMP = "/var/lib/apt/periodic/update-success-stamp"
# Waiting for another apt or dpkg (unattended-upgrades on a freshly booted host) before giving up.
LOCK_TIMEOUT = 300
ENVIRONMENT = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C"}


def lists_age(now, lists_dir=LISTS_DIR, stamp=UPDATE_STAMP):
    """Seconds since the package lists were last updated, as ansible.builtin.apt reckons it (the
    update stamp, or the lists directory's mtime); None when there are no package lists at all
    (a freshly built image whose lists were cleaned: its directory may be minutes old and empty)."""
    if not glob.glob(os.path.join(lists_dir, "*_Packages*")):
        return None
    times = []
    for path in (stamp, lists_dir):
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            pass
    return now - max(times) if times else None


def needs_update(age, cache_valid_time):
    return cache_valid_time <= 0 or age is None or age >= cache_valid_time


def install_argv(apt_get, names, path_exclude=(), path_include=()):
    """apt-get install of names; dpkg's path filters in the order dpkg weighs them (the last match decides)."""
    dpkg_options = ["--force-confdef", "--force-confold", "--force-unsafe-io"]
    dpkg_options += ["--path-exclude=%s" % glob_ for glob_ in path_exclude]
    dpkg_options += ["--path-include=%s" % glob_ for glob_ in path_include]
    argv = [apt_get, "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=%d" % LOCK_TIMEOUT]
    for option in dpkg_options:
        argv += ["-o", "Dpkg::Options::=%s" % option]
    return argv + ["--"] + list(names)


def apt_errors(stdout, stderr):
    """apt's own words on a failure: its E: and W: lines, or the end of its output."""
    lines = [ln.strip() for ln in (stderr + "\n" + stdout).splitlines() if ln.strip()]
    said = [ln for ln in lines if ln.startswith(("E:", "W:"))]
    return " ".join(said or lines[-5:])


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "list", "elements": "str", "required": True},
            "cache_valid_time": {"type": "int", "default": 3600},
            "path_exclude": {"type": "list", "elements": "str", "default": []},
            "path_include": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    for option in ("path_exclude", "path_include"):
        relative = [glob_ for glob_ in module.params[option] if not glob_.startswith("/")]
        if relative:
            # dpkg matches its filters against absolute paths: a relative one would leave nothing out.
            module.fail_json(msg="%s takes globs of absolute paths (dpkg matches them against /...); not: %s"
                             % (option, ", ".join(relative)))
    names = [n.strip() for n in module.params["name"] if n.strip()]
    result = {"changed": False, "installed": [], "missing": [], "cache_updated": False}
    if not names:
        module.exit_json(**result)
    result["installed"], result["missing"] = query(module, names)
    if not result["missing"] or module.check_mode:
        result["changed"] = bool(result["missing"])
        module.exit_json(**result)

    apt_get = module.get_bin_path("apt-get", required=True)
    if needs_update(lists_age(time.time()), module.params["cache_valid_time"]):
        rc, out, err = module.run_command([apt_get, "update", "-q", "-o", "DPkg::Lock::Timeout=%d" % LOCK_TIMEOUT],
                                          environ_update=ENVIRONMENT)
        if rc != 0:
            module.fail_json(msg="apt-get update failed (rc=%d): %s" % (rc, apt_errors(out, err)),
                             rc=rc, stdout=out, stderr=err, **result)
        result["cache_updated"] = True
    rc, out, err = module.run_command(install_argv(apt_get, result["missing"], module.params["path_exclude"],
                                                   module.params["path_include"]), environ_update=ENVIRONMENT)
    # Written or not, what dpkg unpacked goes to disk now (--force-unsafe-io left it to the page cache).
    module.run_command([module.get_bin_path("sync", required=True)])
    if rc != 0:
        module.fail_json(msg="apt-get install %s failed (rc=%d): %s" % (" ".join(result["missing"]), rc, apt_errors(out, err)),
                         rc=rc, stdout=out, stderr=err, **result)
    result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
