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
  module_path:
    description:
      - Path of the installed module file, described in RV(ansible_facts.roulette_info.installed).
      - When not set, C(/lib/modules/RELEASE/extra/roulette.ko) of the running kernel's release
        (where the kmod_load role installs it).
    type: path
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
    - ansible_facts['roulette_info']['srcversion'] != ansible_facts['roulette_info']['installed']['srcversion']

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
            vermagic:
              description: The C(vermagic) in the file's C(.modinfo) section, null when absent or not an ELF file.
              type: str
              sample: 6.1.0-27-amd64 SMP preempt mod_unload modversions
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
"""

import grp
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.rustkmod.roulette.plugins.module_utils.elf_modinfo import first, read_modinfo
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    HostFiles,
    DEVICE_NAME,
    DRIVER_NAME,
    char_major,
    decode_taint,
    parse_bool_param,
    parse_int,
    parse_lockdown,
    parse_proc_devices,
)

# lstat's file type -> the name in node.type, in the order they are tested.
_NODE_TYPES = (
    (stat.S_ISCHR, "char"),
    (stat.S_ISBLK, "block"),
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
)


def node_type(mode):
    """The kind of file an lstat mode describes (char, block, file, ...; other)."""
    for test, name in _NODE_TYPES:
        if test(mode):
            return name
    return "other"


def char_drivers(devices_text):
    """{major: name} of the character devices in /proc/devices.

    A major listed under several names (4: /dev/vc/0, tty, ttyS) keeps the
    first one, or the driver's own name when it is among them.
    """
    result = {}
    for name, majors in parse_proc_devices(devices_text)["character"].items():
        for major in majors:
            if major not in result or name == DEVICE_NAME:
                result[major] = name
    return result


def meminfo_mib(text, key):
    """A `Key:   1234 kB` line of /proc/meminfo in MiB (int, rounded down), or None."""
    for line in (text or "").splitlines():
        name, sep, rest = line.partition(":")
        if sep and name.strip() == key:
            fields = rest.split()
            if len(fields) == 2 and fields[0].isdigit() and fields[1] == "kB":
                return int(fields[0]) // 1024
            return None
    return None


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

    def node(self, device, major, drivers):
        info = {
            "path": device, "exists": False, "type": None, "is_char": False, "major": None, "minor": None,
            "driver": None, "matches": False, "ours": False,
            "mode": None, "owner": None, "group": None, "uid": None, "gid": None,
        }
        try:
            st = os.lstat(device)
        except OSError:
            return info
        info["exists"] = True
        info["type"] = node_type(st.st_mode)
        info["is_char"] = info["type"] == "char"
        info["mode"] = f"{stat.S_IMODE(st.st_mode):04o}"
        info["uid"] = st.st_uid
        info["gid"] = st.st_gid
        info["owner"] = self._name(pwd.getpwuid, st.st_uid)
        info["group"] = self._name(grp.getgrgid, st.st_gid)
        if info["type"] in ("char", "block"):
            info["major"] = os.major(st.st_rdev)
            info["minor"] = os.minor(st.st_rdev)
        if info["is_char"]:
            info["driver"] = drivers.get(info["major"])
            info["matches"] = major is not None and info["major"] == major and info["minor"] == 0
            # A major nobody registered is what a node of an earlier load of
            # the driver points to after an unload: ours, stale.
            info["ours"] = (major is not None and info["major"] == major) or info["driver"] is None
        return info

    def installed(self, path):
        info = {"path": path, "exists": False, "regular": False, "size": None,
                "srcversion": None, "vermagic": None}
        try:
            st = os.lstat(path)
        except (OSError, ValueError):
            return info
        info["exists"] = True
        info["regular"] = stat.S_ISREG(st.st_mode)
        if info["regular"]:
            info["size"] = st.st_size
            modinfo = read_modinfo(path)
            info["srcversion"] = first(modinfo, "srcversion")
            info["vermagic"] = first(modinfo, "vermagic")
        return info

    def kernel_release(self):
        text = self.read("proc/sys/kernel/osrelease")
        if text and text.strip():
            return text.strip()
        return os.uname().release

    def memory(self):
        text = self.read("proc/meminfo")
        return {"available_mib": meminfo_mib(text, "MemAvailable"),
                "swap_free_mib": meminfo_mib(text, "SwapFree")}

    def facts(self, device, module_path=None):
        loaded = os.path.isdir(self.path("sys/module", DRIVER_NAME))
        params = self.parameters() if loaded else {}
        devices = self.read("proc/devices") or ""
        major = char_major(devices)
        tainted = self.read("proc/sys/kernel/tainted")
        panic_on_oops = parse_int(self.read("proc/sys/kernel/panic_on_oops") or "")
        modules_disabled = parse_int(self.read("proc/sys/kernel/modules_disabled") or "")
        release = self.kernel_release()
        srcversion = (self.read("sys/module", DRIVER_NAME, "srcversion") or "").strip() if loaded else ""
        if module_path is None:
            module_path = os.path.join("/lib/modules", release, "extra", f"{DRIVER_NAME}.ko")
        return {
            "loaded": loaded,
            "chance": parse_int(params["chance"]) if "chance" in params else None,
            "parameters": params,
            "major": major,
            "refcount": parse_int(self.read("sys/module", DRIVER_NAME, "refcnt") or "") if loaded else None,
            "srcversion": srcversion or None,
            "installed": self.installed(module_path),
            "device": device,
            "node": self.node(device, major, char_drivers(devices)),
            "taint": decode_taint(tainted) if tainted is not None else {"value": None, "letters": "", "flags": []},
            "panic_on_oops": bool(panic_on_oops) if panic_on_oops is not None else None,
            "memory": self.memory(),
            "modules_disabled": bool(modules_disabled),
            "lockdown": parse_lockdown(self.read("sys/kernel/security/lockdown") or ""),
            "sig_enforce": bool(parse_bool_param(self.read("sys/module/module/parameters/sig_enforce") or "")),
            "module_support": os.path.exists(self.path("proc/modules")),
            "kernel_release": release,
        }


def build_module():
    return AnsibleModule(
        argument_spec={
            "device": {"type": "path", "default": f"/dev/{DEVICE_NAME}"},
            "module_path": {"type": "path"},
        },
        supports_check_mode=True,
    )


def main():
    module = build_module()
    facts = RouletteInfo(module).facts(module.params["device"], module.params["module_path"])
    module.exit_json(changed=False, ansible_facts={"roulette_info": facts})


if __name__ == "__main__":
    main()
