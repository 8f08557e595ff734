# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state of the roulette driver and of the kernel settings around it.

Runs on the target host, on its Python (3.9 or later); used by the
roulette_info module (which returns all of it as facts) and by the spin
module (which checks it before spinning).  Every read of /proc, /sys and the
device node is here, once: the two modules cannot disagree about whether the
driver is loaded, what its major is or what an unreadable sysctl means.

Files are read below `root`, so tests point it at a fake tree.  The device
node and the module file are given as full paths (they are options).
"""

from __future__ import annotations

import glob
import grp
import hashlib
import os
import pwd
import stat

from ansible_collections.rustkmod.roulette.plugins.module_utils.dkms import parse_status, source_trees
from ansible_collections.rustkmod.roulette.plugins.module_utils.elf_modinfo import first, read_modinfo
from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import (
    DEVICE_NAME,
    DRIVER_NAME,
    HostFiles,
    char_major,
    decode_taint,
    parse_bool_param,
    parse_int,
    parse_lockdown,
    parse_proc_devices,
)

NO_TAINT = {"value": None, "letters": "", "flags": []}

# The options of the modules that return DriverState's facts (roulette_info, roulette_load).
STATE_OPTIONS = {
    "device": {"type": "path", "default": "/dev/%s" % DEVICE_NAME},
    "module_path": {"type": "path"},
    "paths": {"type": "list", "elements": "path", "default": []},
}

# What a module file may end in besides .ko: dkms installs roulette.ko.xz (or .zst, .gz)
# for a kernel whose own modules are compressed.
COMPRESSED_SUFFIXES = (".xz", ".zst", ".gz")
# Where a roulette.ko of the collection can be, below /lib/modules/RELEASE/: extra/ (the
# kmod_load role copies it there) and updates/dkms/ (where Debian's dkms installs it).
MODULE_DIRS = ("extra", os.path.join("updates", "dkms"))

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
    """The kind of file a stat mode describes (char, block, file, ...; other)."""
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


def _user_name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


class DriverState(HostFiles):
    """Reads the driver's and the kernel's state; each method reads afresh."""

    def __init__(self, root="/"):
        self.root = root

    # -- the driver ------------------------------------------------------------

    def loaded(self):
        """Whether the module is loaded (/sys/module/roulette exists)."""
        return os.path.isdir(self.path("sys/module", DRIVER_NAME))

    def parameters(self):
        """{name: text} of the loaded module's parameters ({} when not loaded)."""
        result = {}
        try:
            names = sorted(os.listdir(self.path("sys/module", DRIVER_NAME, "parameters")))
        except OSError:
            return result
        for name in names:
            text = self.read("sys/module", DRIVER_NAME, "parameters", name)
            if text is not None:
                result[name] = text.strip()
        return result

    def chance(self):
        """The loaded driver's `chance` parameter (int), or None."""
        return parse_int(self.read("sys/module", DRIVER_NAME, "parameters", "chance") or "")

    def devices(self):
        """The text of /proc/devices ("" when unreadable)."""
        return self.read("proc/devices") or ""

    def major(self, devices=None):
        """Major of the driver's character device in /proc/devices, or None."""
        return char_major(self.devices() if devices is None else devices)

    def refcount(self):
        return parse_int(self.read("sys/module", DRIVER_NAME, "refcnt") or "")

    def srcversion(self):
        """The loaded module's srcversion, or None (not loaded, built in, unreadable)."""
        return (self.read("sys/module", DRIVER_NAME, "srcversion") or "").strip() or None

    def version(self):
        """The loaded module's MODULE_VERSION, or None; the driver's names its build."""
        return (self.read("sys/module", DRIVER_NAME, "version") or "").strip() or None

    # -- the kernel ------------------------------------------------------------

    def taint(self):
        """/proc/sys/kernel/tainted decoded; value None when unreadable."""
        text = self.read("proc/sys/kernel/tainted")
        return decode_taint(text) if text is not None else dict(NO_TAINT, flags=[])

    def kernel_release(self):
        """The running kernel's release (/proc/sys/kernel/osrelease, else uname)."""
        text = self.read("proc/sys/kernel/osrelease")
        if text and text.strip():
            return text.strip()
        return os.uname().release

    def panic_on_oops(self):
        """kernel.panic_on_oops as a bool, or None when unreadable.

        None must be treated like True by callers (fail closed): only False
        means a BUG() in the driver kills the reading process and not the host.
        """
        value = parse_int(self.read("proc/sys/kernel/panic_on_oops") or "")
        return bool(value) if value is not None else None

    def memory(self):
        text = self.read("proc/meminfo")
        return {"available_mib": meminfo_mib(text, "MemAvailable"),
                "swap_free_mib": meminfo_mib(text, "SwapFree")}

    # -- files -----------------------------------------------------------------

    def node(self, device, devices=None, follow=False):
        """The device node at `device`: type, numbers, owner, and whether it is the driver's.

        `devices` is the text of /proc/devices (read when not given).  With
        `follow`, a symlink is followed (what open() reaches); without, it is
        reported as a symlink.
        """
        if devices is None:
            devices = self.devices()
        major = self.major(devices)
        info = {
            "path": device, "exists": False, "type": None, "is_char": False, "major": None, "minor": None,
            "driver": None, "matches": False, "ours": False,
            "mode": None, "owner": None, "group": None, "uid": None, "gid": None,
        }
        try:
            st = os.stat(device) if follow else os.lstat(device)
        except (OSError, ValueError):
            return info
        info["exists"] = True
        info["type"] = node_type(st.st_mode)
        info["is_char"] = info["type"] == "char"
        info["mode"] = f"{stat.S_IMODE(st.st_mode):04o}"
        info["uid"] = st.st_uid
        info["gid"] = st.st_gid
        info["owner"] = _user_name(pwd.getpwuid, st.st_uid)
        info["group"] = _user_name(grp.getgrgid, st.st_gid)
        if info["type"] in ("char", "block"):
            info["major"] = os.major(st.st_rdev)
            info["minor"] = os.minor(st.st_rdev)
        if info["is_char"]:
            info["driver"] = char_drivers(devices).get(info["major"])
            info["matches"] = major is not None and info["major"] == major and info["minor"] == 0
            # A major nobody registered is what a node of an earlier load of
            # the driver points to after an unload: ours, stale.
            info["ours"] = (major is not None and info["major"] == major) or info["driver"] is None
        return info

    def default_module_path(self):
        """Where the kmod_load role installs the module for the running kernel."""
        return os.path.join("/lib/modules", self.kernel_release(), "extra", f"{DRIVER_NAME}.ko")

    @staticmethod
    def paths(paths):
        """{path: type} of each path (lstat: a symlink is a symlink), type None when nothing is there."""
        found = {}
        for path in paths or ():
            try:
                found[path] = node_type(os.lstat(path).st_mode)
            except (OSError, ValueError):
                found[path] = None
        return found

    @staticmethod
    def sha256(path):
        """SHA-256 of a regular file (not followed when a symlink), or None."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except (OSError, ValueError):
            return None
        digest = hashlib.sha256()
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @classmethod
    def installed(cls, path):
        """The module file at `path` (not followed when a symlink), its .modinfo and its SHA-256.

        When nothing is at `path` but a compressed file is (`path`.xz, .zst, .gz: what dkms
        installs for a kernel with compressed modules), that file is described, under its name.
        """
        if not os.path.lexists(path):
            path = next((path + suffix for suffix in COMPRESSED_SUFFIXES if os.path.lexists(path + suffix)), path)
        info = {"path": path, "exists": False, "regular": False, "size": None, "sha256": None,
                "srcversion": None, "version": None, "vermagic": None}
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
            info["version"] = first(modinfo, "version")
            info["vermagic"] = first(modinfo, "vermagic")
            info["sha256"] = cls.sha256(path)
        return info

    def module_files(self):
        """Every roulette.ko (compressed too) in /lib/modules/*/extra/ and /lib/modules/*/updates/dkms/, sorted."""
        found = []
        for directory in MODULE_DIRS:
            for suffix in ("",) + COMPRESSED_SUFFIXES:
                pattern = self.path("lib/modules", "*", directory, DRIVER_NAME + ".ko" + suffix)
                found.extend(os.path.join("/", os.path.relpath(name, self.root)) for name in glob.glob(pattern))
        return sorted(found)

    # -- DKMS --------------------------------------------------------------------

    def dkms_sources(self):
        """The DKMS source trees /usr/src/roulette-VERSION/ (version, path, ours)."""
        return source_trees(self.read, self.path)

    # -- everything ------------------------------------------------------------

    def facts(self, device, module_path=None, paths=None, dkms_status=None):
        """All of it, as the roulette_info module returns it.

        `dkms_status` is the output of `dkms status -m roulette`, or None when dkms is not installed.
        """
        loaded = self.loaded()
        params = self.parameters() if loaded else {}
        devices = self.devices()
        major = self.major(devices)
        modules_disabled = parse_int(self.read("proc/sys/kernel/modules_disabled") or "")
        return {
            "loaded": loaded,
            "chance": parse_int(params["chance"]) if "chance" in params else None,
            "parameters": params,
            "major": major,
            "refcount": self.refcount() if loaded else None,
            "srcversion": self.srcversion() if loaded else None,
            "version": self.version() if loaded else None,
            "installed": self.installed(module_path or self.default_module_path()),
            "paths": self.paths(paths),
            "device": device,
            "node": self.node(device, devices),
            "taint": self.taint(),
            "panic_on_oops": self.panic_on_oops(),
            "memory": self.memory(),
            "modules_disabled": bool(modules_disabled),
            "lockdown": parse_lockdown(self.read("sys/kernel/security/lockdown") or ""),
            "sig_enforce": bool(parse_bool_param(self.read("sys/module/module/parameters/sig_enforce") or "")),
            "module_support": os.path.exists(self.path("proc/modules")),
            "kernel_release": self.kernel_release(),
            "module_files": self.module_files(),
            "dkms": parse_status(dkms_status) if dkms_status is not None else None,
            "dkms_sources": self.dkms_sources(),
        }
