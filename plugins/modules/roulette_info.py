#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: roulette_info
short_description: Facts about the kernel-roulette driver and what the kernel allows
version_added: 0.1.0
description:
  - Reads the state of the C(roulette) kernel module and of its device node, and the kernel
    settings that decide whether it can be loaded and what a boom does.
  - Nothing is changed. Returns the RV(ansible_facts.roulette_info) fact.
  - Works on a host without the driver, and on a kernel without module support (the facts then
    say so).
  - When C(dkms) is installed, runs C(dkms status -m roulette) (nothing else of DKMS's is run) and returns its
    lines parsed in RV(ansible_facts.roulette_info.dkms); without dkms that fact is null.
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  device:
    description:
      - Path of the device node to check.
    type: path
    default: /dev/kernel-roulette
  module_path:
    description:
      - Path of the installed module file, described in RV(ansible_facts.roulette_info.installed).
      - When not set, C(/lib/modules/RELEASE/extra/roulette.ko) of the running kernel's release
        (where the kmod_load role installs it).
      - When nothing is at the path but a compressed module is (the path with C(.xz), C(.zst) or C(.gz) added, what
        DKMS installs for a kernel whose modules are compressed), that file is described.
    type: path
  paths:
    description:
      - More paths to look at (C(lstat), nothing is read); their types are in RV(ansible_facts.roulette_info.paths).
      - The kmod_load role passes the files it may have installed, so that one call tells it what is there.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - rustkmod.roulette.attributes.facts
attributes:
  check_mode:
    support: full
    description:
      - The module only reads, so it runs in check mode too and returns the same facts.
seealso:
  - module: rustkmod.roulette.spin
"""

EXAMPLES = r"""
- name: Read the driver's state
  rustkmod.roulette.roulette_info:

- name: Refuse a host where a boom would panic the kernel
  ansible.builtin.assert:
    that:
      - not ansible_facts['roulette_info']['panic_on_oops']
    fail_msg: kernel.panic_on_oops is set on {{ inventory_hostname }}

- name: Reload when the installed module is not the loaded one
  ansible.builtin.debug:
    msg: the loaded driver is not the installed roulette.ko
  when:
    - ansible_facts['roulette_info']['loaded']
    - ansible_facts['roulette_info']['version'] != ansible_facts['roulette_info']['installed']['version']

- name: Show the chance and the taint
  ansible.builtin.debug:
    msg: >-
      loaded={{ ansible_facts['roulette_info']['loaded'] }}
      chance={{ ansible_facts['roulette_info']['chance'] }}
      taint={{ ansible_facts['roulette_info']['taint']['letters'] }}
"""

RETURN = r"""
ansible_facts:
  description: Facts about the driver.
  returned: always
  type: dict
  contains:
    roulette_info:
      description: The driver's state and the kernel's settings.
      returned: always
      type: dict
      contains:
        loaded:
          description: Whether the C(roulette) module is loaded (C(/sys/module/roulette) exists).
          type: bool
          sample: true
        chance:
          description: The driver's panic probability in percent (its C(chance) parameter), null when not loaded.
          type: int
          sample: 5
        parameters:
          description: Every parameter of the loaded module, as text (empty when not loaded).
          type: dict
          sample: {"chance": "5"}
        major:
          description: Major number of the C(kernel-roulette) character device in C(/proc/devices), null when absent.
          type: int
          sample: 247
        refcount:
          description: The module's reference count (C(/sys/module/roulette/refcnt)), null when not loaded.
          type: int
          sample: 0
        device:
          description: Path of the device node checked.
          type: str
          sample: /dev/kernel-roulette
        srcversion:
          description:
            - The loaded module's C(srcversion) (C(/sys/module/roulette/srcversion)), null when not loaded.
            - Compare it with RV(ansible_facts.roulette_info.installed.srcversion) to know whether the loaded
              module is the installed file.
          type: str
          sample: 9F3C6B1D2E4A5F60718293A
        version:
          description:
            - The loaded module's C(MODULE_VERSION) (C(/sys/module/roulette/version)), null when not loaded or
              when the module declares none. The collection's driver gives its release and a hash of what it was
              built from (sources as patched, build files, toolchain), e.g. V(1.0.0+b2981c0b6499dd11), which tells
              two builds apart even when only the Rust code differs (C(srcversion) covers the C sources only).
            - Compare it with RV(ansible_facts.roulette_info.installed.version).
          type: str
          sample: 1.0.0+b2981c0b6499dd11
        installed:
          description: The installed module file at O(module_path). Nothing here follows a symlink.
          type: dict
          contains:
            path:
              description: The path looked at.
              type: str
              sample: /lib/modules/6.1.0-27-amd64/extra/roulette.ko
            exists:
              description: Whether anything is at the path (a dangling symlink too).
              type: bool
            regular:
              description: Whether the path is a regular file (not a symlink, directory or device).
              type: bool
            size:
              description: Size in bytes of the regular file, null otherwise.
              type: int
              sample: 412336
            srcversion:
              description: The C(srcversion) in the file's C(.modinfo) section, null when absent or not an ELF file.
              type: str
              sample: 9F3C6B1D2E4A5F60718293A
            sha256:
              description: SHA-256 of the regular file, null otherwise.
              type: str
            version:
              description: The C(version) in the file's C(.modinfo) section (see RV(ansible_facts.roulette_info.version)).
              type: str
              sample: 1.0.0+b2981c0b6499dd11
            vermagic:
              description: The C(vermagic) in the file's C(.modinfo) section, null when absent or not an ELF file.
              type: str
              sample: 6.1.0-27-amd64 SMP preempt mod_unload modversions
        paths:
          description:
            - What is at each path of O(paths) (C(lstat)), V(null) when nothing is there.
            - One of V(char), V(block), V(file), V(directory), V(symlink), V(fifo), V(socket), V(other).
          type: dict
          sample: {"/etc/systemd/system/roulette-node.service": "file", "/etc/modprobe.d/roulette.conf": null}
        node:
          description:
            - The device node, looked at with C(lstat) (a symlink is not followed). C(exists) (anything at the path,
              a dangling symlink too), C(type), C(is_char), C(major), C(minor), C(driver), C(matches), C(ours),
              C(mode) (octal text), C(owner), C(group), C(uid), C(gid).
            - C(type) is V(char), V(block), V(file), V(directory), V(symlink), V(fifo), V(socket) or V(other);
              null when nothing is at the path.
            - C(major) and C(minor) are set for character and block devices.
            - C(driver) is the name C(/proc/devices) lists for the node's major among the character devices
              (the C(kernel-roulette) name when it is one of several); null when no character driver has that major
              or the node is not a character device.
            - C(matches) is true for a character device with the driver's major and minor 0, the node a spin needs.
            - C(ours) is true for a character device with the driver's major, or with a major no character driver
              has registered (a stale node of an earlier load of the driver); false for anything else (a node of
              another driver such as C(/dev/null), a file, a directory, a symlink) and when nothing is there.
              Only a node that is C(ours) may be removed or replaced.
          type: dict
          sample: {"path": "/dev/kernel-roulette", "exists": true, "type": "char", "is_char": true, "major": 247,
                   "minor": 0, "driver": "kernel-roulette", "matches": true, "ours": true,
                   "mode": "0600", "owner": "root", "group": "root", "uid": 0, "gid": 0}
        taint:
          description: C(/proc/sys/kernel/tainted) decoded; C(value), C(letters) and C(flags) (C(bit), C(letter), C(description)).
          type: dict
          sample: {"value": 12416, "letters": "DOE", "flags": [{"bit": 7, "letter": "D",
                   "description": "kernel died recently, i.e. there was an OOPS or BUG"}]}
        panic_on_oops:
          description:
            - Whether C(kernel.panic_on_oops) is set (a boom then panics the whole kernel); null when unreadable.
            - Callers must fail closed and treat null like true (refuse to spin); C(false) is the only safe value.
          type: bool
          sample: false
        memory:
          description:
            - C(available_mib) (C(MemAvailable)) and C(swap_free_mib) (C(SwapFree)) of C(/proc/meminfo), in MiB;
              each null when unreadable.
          type: dict
          sample: {"available_mib": 1534, "swap_free_mib": 0}
        modules_disabled:
          description: Whether C(kernel.modules_disabled) is set (no module can be loaded until reboot).
          type: bool
          sample: false
        lockdown:
          description: Selected kernel lockdown mode (V(none), V(integrity), V(confidentiality)); null without the lockdown LSM.
          type: str
          sample: none
        sig_enforce:
          description: Whether module signatures are enforced (C(/sys/module/module/parameters/sig_enforce)).
          type: bool
          sample: false
        module_support:
          description: Whether the kernel supports loadable modules (C(/proc/modules) exists).
          type: bool
          sample: true
        kernel_release:
          description: The running kernel's release.
          type: str
          sample: 6.1.0-27-amd64
        module_files:
          description:
            - Every C(roulette.ko) (or C(roulette.ko.xz), C(.zst), C(.gz)) in C(/lib/modules/*/extra/) (where kmod_load
              installs it) and C(/lib/modules/*/updates/dkms/) (where Debian's DKMS installs it), for any kernel, sorted.
          type: list
          elements: str
          sample: ["/lib/modules/6.1.0-57-amd64/updates/dkms/roulette.ko", "/lib/modules/6.12.48+bpo-amd64/updates/dkms/roulette.ko.xz"]
        dkms:
          description:
            - DKMS's state of the C(roulette) module, one entry per line of C(dkms status -m roulette) (dkms 2.x, 3.0 and
              3.2 formats); an empty list when DKMS holds no roulette; null when dkms is not installed.
            - C(version) the DKMS version (the collection's are C(COLLECTION_VERSION-HASH12), e.g.
              V(1.0.0-3fa2c1d9e0ab)); C(kernel) and C(arch) the kernel release and architecture of a built or installed
              module (null for a version only C(added), or C(broken)); C(state) V(added), V(built), V(installed),
              V(installed-weak) or V(broken) (dkms 3.1 and later, when its source tree is gone), or what a newer dkms prints;
              C(notes) the remarks in parentheses after the state, e.g.
              V(WARNING! Diff between built and installed module!) (dkms 3.0) or
              V(Differences between built and installed modules) (dkms 3.2); C(weak_from) the kernel an
              V(installed-weak) module was built for, else null; C(line) the line as printed.
          type: list
          elements: dict
          sample: [{"version": "1.0.0-3fa2c1d9e0ab", "kernel": "6.1.0-57-amd64", "arch": "x86_64", "state": "installed",
                    "notes": [], "weak_from": null,
                    "line": "roulette/1.0.0-3fa2c1d9e0ab, 6.1.0-57-amd64, x86_64: installed"}]
        dkms_sources:
          description:
            - The DKMS source trees of the driver, C(/usr/src/roulette-VERSION/) (read whether or not dkms is
              installed). C(version), C(path), and C(ours), true when its C(dkms.conf) has the marker line the
              collection writes (C(# Managed by rustkmod.roulette), then C(kmod_build_method) and C(dkms) in
              parentheses). Only those are the collection's to replace or remove.
          type: list
          elements: dict
          sample: [{"version": "1.0.0-3fa2c1d9e0ab", "path": "/usr/src/roulette-1.0.0-3fa2c1d9e0ab", "ours": true}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import status_output as dkms_status
from ansible_collections.rustkmod.roulette.plugins.module_utils.driver_state import STATE_OPTIONS, DriverState


def build_module():
    return AnsibleModule(argument_spec=dict(STATE_OPTIONS), supports_check_mode=True)


def gather(params, root="/", dkms=None):
    """The facts; `root` lets tests point the reads of /proc, /sys and /usr/src at a fake tree.

    `dkms` is what `dkms status -m roulette` printed, or None without dkms.
    """
    return DriverState(root).facts(params["device"], params["module_path"], params.get("paths"), dkms_status=dkms)


def main():
    module = build_module()
    module.exit_json(changed=False, ansible_facts={"roulette_info": gather(module.params, dkms=dkms_status(module))})


if __name__ == "__main__":
    main()
