#!/usr/bin/python
# ruff: noqa: EXE001 - ansible-test wants modules not executable, with this shebang
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: roulette_info
short_description: Facts about the kernel-roulette driver and what the kernel allows
version_added: 1.0.0
description:
  - Reads the state of the C(roulette) kernel module and of its device node, and the kernel
    settings that decide whether it can be loaded and what a boom does.
  - Nothing is changed. Returns the RV(ansible_facts.roulette_info) fact.
  - Works on a host without the driver, and on a kernel without module support (the facts then
    say so).
author:
  - rustkmod.roulette maintainers (@rustkmod)
options:
  device:
    description:
      - Path of the device node to check.
    type: path
    default: /dev/kernel-roulette
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
        node:
          description:
            - The device node. C(exists), C(is_char), C(major), C(minor), C(matches) (a character device
              with the driver's major and minor 0), C(mode) (octal text), C(owner), C(group), C(uid), C(gid).
          type: dict
          sample: {"exists": true, "is_char": true, "major": 247, "minor": 0, "matches": true,
                   "mode": "0600", "owner": "root", "group": "root", "uid": 0, "gid": 0}
        taint:
          description: C(/proc/sys/kernel/tainted) decoded; C(value), C(letters) and C(flags) (C(bit), C(letter), C(description)).
          type: dict
          sample: {"value": 12416, "letters": "DOE", "flags": [{"bit": 7, "letter": "D",
                   "description": "kernel died recently, i.e. there was an OOPS or BUG"}]}
        panic_on_oops:
          description: Whether C(kernel.panic_on_oops) is set (a boom then panics the whole kernel); null when unreadable.
          type: bool
          sample: false
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
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    HostFiles,
    DEVICE_NAME,
    DRIVER_NAME,
    char_major,
    decode_taint,
    parse_bool_param,
    parse_int,
    parse_lockdown,
)


class RouletteInfo(HostFiles):
    """Reads the facts; `root` lets tests point it at a fake /proc and /sys."""

    def __init__(self, module, root="/"):
        self.module = module
        self.root = root

    def parameters(self):
        folder = self.path("sys/module", DRIVER_NAME, "parameters")
        result = {}
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            return result
        for name in names:
            text = self.read("sys/module", DRIVER_NAME, "parameters", name)
            if text is not None:
                result[name] = text.strip()
        return result

    @staticmethod
    def _name(lookup, number):
        try:
            return lookup(number)[0]
        except KeyError:
            return str(number)

    def node(self, device, major):
        info = {
            "path": device, "exists": False, "is_char": False, "major": None, "minor": None,
            "matches": False, "mode": None, "owner": None, "group": None, "uid": None, "gid": None,
        }
        try:
            st = os.stat(device)
        except OSError:
            return info
        info["exists"] = True
        info["is_char"] = stat.S_ISCHR(st.st_mode)
        info["mode"] = f"{stat.S_IMODE(st.st_mode):04o}"
        info["uid"] = st.st_uid
        info["gid"] = st.st_gid
        info["owner"] = self._name(pwd.getpwuid, st.st_uid)
        info["group"] = self._name(grp.getgrgid, st.st_gid)
        if info["is_char"]:
            info["major"] = os.major(st.st_rdev)
            info["minor"] = os.minor(st.st_rdev)
            info["matches"] = major is not None and info["major"] == major and info["minor"] == 0
        return info

    def kernel_release(self):
        text = self.read("proc/sys/kernel/osrelease")
        if text and text.strip():
            return text.strip()
        return os.uname().release

    def facts(self, device):
        loaded = os.path.isdir(self.path("sys/module", DRIVER_NAME))
        params = self.parameters() if loaded else {}
        major = char_major(self.read("proc/devices") or "")
        tainted = self.read("proc/sys/kernel/tainted")
        panic_on_oops = parse_int(self.read("proc/sys/kernel/panic_on_oops") or "")
        modules_disabled = parse_int(self.read("proc/sys/kernel/modules_disabled") or "")
        return {
            "loaded": loaded,
            "chance": parse_int(params["chance"]) if "chance" in params else None,
            "parameters": params,
            "major": major,
            "refcount": parse_int(self.read("sys/module", DRIVER_NAME, "refcnt") or "") if loaded else None,
            "device": device,
            "node": self.node(device, major),
            "taint": decode_taint(tainted) if tainted is not None else {"value": None, "letters": "", "flags": []},
            "panic_on_oops": bool(panic_on_oops) if panic_on_oops is not None else None,
            "modules_disabled": bool(modules_disabled),
            "lockdown": parse_lockdown(self.read("sys/kernel/security/lockdown") or ""),
            "sig_enforce": bool(parse_bool_param(self.read("sys/module/module/parameters/sig_enforce") or "")),
            "module_support": os.path.exists(self.path("proc/modules")),
            "kernel_release": self.kernel_release(),
        }


def build_module():
    return AnsibleModule(
        argument_spec={"device": {"type": "path", "default": f"/dev/{DEVICE_NAME}"}},
        supports_check_mode=True,
    )


def main():
    module = build_module()
    facts = RouletteInfo(module).facts(module.params["device"])
    module.exit_json(changed=False, ansible_facts={"roulette_info": facts})


if __name__ == "__main__":
    main()
