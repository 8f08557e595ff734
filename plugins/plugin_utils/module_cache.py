# -*- coding: utf-8 -*-
# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's cache of built modules: finding entries and checking them.

Runs on the controller, in ansible-core's Python (the cached_module and
cache_entry lookups import it). The kmod_build role writes one directory per
build key, <cache>/<key>/, holding roulette.ko and build.json. build.json is a
JSON object with at least the fields a lookup compares (kernel_release, source,
extra_patches, real_panic) and the sha256 of roulette.ko. An entry is only used
when both files are there and agree: a build.json that is not such an object, a
roulette.ko that is missing, empty, a directory, not ELF or not the file whose
sha256 build.json records, makes the entry corrupt, and it is never used.

build.json may also say how long make took (build_seconds, a whole number of
seconds, null when make did not run); last_build reads it for an estimate of
the next build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible_collections.rustkmod.roulette.plugins.plugin_utils.controller_files import open_regular

MODULE_NAME = "roulette.ko"
INFO_NAME = "build.json"
ELF_MAGIC = b"\x7fELF"
# build.json is a few hundred bytes; a bigger one is not ours.
MAX_INFO_BYTES = 1024 * 1024
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024


def _is_text(value):
    return isinstance(value, str) and value != ""


def _is_text_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# Field -> (test, what it must be). The first four are what a lookup compares.
FIELDS = (
    ("kernel_release", _is_text, "a non-empty string"),
    ("source", _is_text, "a non-empty string"),
    ("extra_patches", _is_text_list, "a list of strings"),
    ("real_panic", lambda value: isinstance(value, bool), "true or false"),
    ("sha256", lambda value: isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None,
     "64 lower-case hex digits"),
)


def default_cache():
    """The cache kmod_build uses by default: $ROULETTE_CACHE_DIR/modules, else ~/.cache/rustkmod-roulette/modules."""
    base = os.environ.get("ROULETTE_CACHE_DIR")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "rustkmod-roulette")
    return os.path.join(base, "modules")


def cache_dir(given=""):
    """The cache a lookup's `cache` option names (with ~ expanded), or default_cache() when empty."""
    return os.path.expanduser(given or default_cache())


def _cut(text, limit=60):
    return text if len(text) <= limit else text[:limit] + "..."


def read_info(directory):
    """(build.json as a dict, None), or (None, what is wrong with it)."""
    path = os.path.join(directory, INFO_NAME)
    try:
        with open_regular(path) as handle:
            data = handle.read(MAX_INFO_BYTES + 1)
    except FileNotFoundError:
        return None, "%s is missing" % INFO_NAME
    except OSError as exc:
        return None, "%s cannot be read: %s" % (INFO_NAME, exc.strerror or exc)
    if len(data) > MAX_INFO_BYTES:
        return None, "%s is larger than %d bytes" % (INFO_NAME, MAX_INFO_BYTES)
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return None, "%s is not JSON (%s)" % (INFO_NAME, exc)
    if not isinstance(info, dict):
        return None, "%s holds %s, not a JSON object" % (INFO_NAME, _cut(json.dumps(info)))
    for name, test, wanted in FIELDS:
        if name not in info:
            return None, "%s has no %r field" % (INFO_NAME, name)
        if not test(info[name]):
            return None, "%s's %r is %s, not %s" % (INFO_NAME, name, _cut(json.dumps(info[name])), wanted)
    return info, None


def module_problem(path, sha256=None):
    """None when `path` is a regular, non-empty ELF file (with this sha256 when given), else what is wrong."""
    name = os.path.basename(path)
    digest = hashlib.sha256()
    try:
        with open_regular(path) as handle:
            head = handle.read(len(ELF_MAGIC))
            digest.update(head)
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    except FileNotFoundError:
        return "%s is missing" % name
    except OSError as exc:
        return "%s cannot be read: %s" % (name, exc.strerror or exc)
    if not head:
        return "%s is empty (0 bytes)" % name
    if head != ELF_MAGIC:
        return "%s is not an ELF file (it starts with %r)" % (name, head)
    if sha256 is not None and digest.hexdigest() != sha256:
        return "%s has sha256 %s, but %s records %s" % (name, digest.hexdigest(), INFO_NAME, sha256)
    return None


def check_entry(directory):
    """(build.json as a dict, None) for a sound entry, or (None, what is wrong with it)."""
    info, problem = read_info(directory)
    if problem is None:
        problem = module_problem(os.path.join(directory, MODULE_NAME), info["sha256"])
    return (None, problem) if problem else (info, None)


def entry_problem(directory):
    """None when the cache entry `directory` is sound, else a message saying what is wrong."""
    return check_entry(directory)[1]


def is_entry(directory):
    """Whether `directory` looks like a cache entry (holds either file), sound or not.

    The cache also holds directories that are no entries (the packed sources,
    the std library): they have neither file, and are not warned about.
    """
    return any(os.path.lexists(os.path.join(directory, name)) for name in (INFO_NAME, MODULE_NAME))


def matches(info, kernel_release, source, extra_patches=(), real_panic=False):
    """Whether a sound entry's build.json is a build for these inputs."""
    return (info["kernel_release"] == kernel_release and info["source"] == source
            and info["extra_patches"] == list(extra_patches) and info["real_panic"] is bool(real_panic))


def entries(cache):
    """Paths of the directories of `cache` that look like entries, sorted; [] when there is no cache."""
    try:
        names = sorted(os.listdir(cache))
    except (FileNotFoundError, NotADirectoryError):
        return []
    # A name that starts with a dot is a fetch in progress, or one a killed run left
    # (kmod_build's cache_store.yml renames it into place when it is complete).
    paths = (os.path.join(cache, name) for name in names if not name.startswith("."))
    return [path for path in paths if os.path.isdir(path) and not os.path.islink(path) and is_entry(path)]


def find_module(cache, kernel_release, source, extra_patches=(), real_panic=False, warn=None):
    """Path of the newest sound roulette.ko built for these inputs, or "".

    Every build.json is read; the roulette.ko of an entry whose build.json
    matches is checked too (hashed), those of other entries are not. Every
    corrupt entry seen is skipped, and `warn(message)` is called for it with
    its directory and what is wrong.
    """
    best, best_time = "", None
    for directory in entries(cache):
        info, problem = read_info(directory)
        if problem is None:
            if not matches(info, kernel_release, source, extra_patches, real_panic):
                continue
            module = os.path.join(directory, MODULE_NAME)
            problem = module_problem(module, info["sha256"])
        if problem is not None:
            if warn is not None:
                warn("skipping the corrupt module cache entry %s: %s" % (directory, problem))
            continue
        try:
            mtime = os.stat(module).st_mtime
        except OSError:  # removed since it was checked
            continue
        if best_time is None or mtime > best_time:
            best, best_time = module, mtime
    return best


def _is_seconds(value):
    # JSON true/false are bools, which Python counts as ints: they are no durations.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def last_build(cache, kernel_release, built_on=None):
    """What the build that best predicts a build for `kernel_release` on `built_on` took, or None.

    Only sound entries whose build.json has a build_seconds (a whole number of
    seconds, 0 or more) count; other values (null, strings, floats, negative
    numbers, booleans) are ignored, as are corrupt entries, without a warning
    (the cache lookups warn about those). A build on the same host tells most
    (how fast a host builds matters more than which kernel it builds for), so
    the entries are tried in this order, the newest roulette.ko first within
    each: the same kernel release on the same host, another kernel release on
    the same host, the same kernel release on another host. A build of another
    kernel release on another host is not used.

    Returns a dict: seconds, kernel_release, built_on (None when build.json
    does not name a host), key (the entry's directory name), directory,
    same_host and same_release.
    """
    host = built_on or None
    candidates = []
    for directory in entries(cache):
        info, problem = read_info(directory)
        if problem is not None or not _is_seconds(info.get("build_seconds")):
            continue
        entry_host = info.get("built_on") if _is_text(info.get("built_on")) else None
        same_host = host is not None and entry_host == host
        same_release = info["kernel_release"] == kernel_release
        if same_host and same_release:
            rank = 0
        elif same_host:
            rank = 1
        elif same_release:
            rank = 2
        else:
            continue
        module = os.path.join(directory, MODULE_NAME)
        try:
            mtime = os.stat(module).st_mtime
        except OSError:  # no module: the entry is corrupt
            continue
        candidates.append((rank, -mtime, directory, module, info, entry_host, same_host, same_release))
    # Only the entry chosen is hashed; a corrupt one makes way for the next.
    for _rank, _mtime, directory, module, info, entry_host, same_host, same_release in sorted(candidates):
        if module_problem(module, info["sha256"]) is None:
            return {"seconds": info["build_seconds"], "kernel_release": info["kernel_release"],
                    "built_on": entry_host, "key": os.path.basename(directory), "directory": directory,
                    "same_host": same_host, "same_release": same_release}
    return None


def last_build_seconds(cache, kernel_release, built_on=None):
    """The build_seconds of last_build(...), or None when no entry has one."""
    found = last_build(cache, kernel_release, built_on)
    return None if found is None else found["seconds"]
