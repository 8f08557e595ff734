# Copyright (c) 2026, the rustkmod.roulette authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What DKMS knows about the roulette module: `dkms status` parsed, and the source trees.

Runs on the target host (imported by the roulette_info module), on its Python
(3.9 or later). The parser is pure text handling, tested with the lines that
Debian 12's dkms 3.0.10 and Debian 13's dkms 3.2 print. The formats:

    roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed
    roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: built
    roulette/1.0.0-0123abcd4567: added
    roulette/1.0.0-0123abcd4567: broken                      (dkms 3.1 and later)
    roulette/1.0.0-0123abcd4567, 6.1.0-57-amd64, x86_64: installed (WARNING! Diff between built and installed module!)
    roulette/1.0.0-0123abcd4567, 6.12.57+deb13-amd64, x86_64: installed (Differences between built and installed modules)
    roulette, 1.0.0, 6.1.0-57-amd64, x86_64: installed        (dkms 2.x)
    roulette, 1.0.0, 6.1.0-58-amd64, x86_64: installed-weak from 6.1.0-57-amd64

A note in parentheses after the state (dkms 3.0: "WARNING! ...", "original_module exists";
dkms 3.2: "Original modules exist", "Differences between built and installed modules") is
kept, in order, in `notes`.
"""

from __future__ import annotations

import os
import re

from ansible_collections.rustkmod.roulette.plugins.module_utils.roulette import DRIVER_NAME

# What the collection writes into every dkms.conf it registers: only a source tree
# whose dkms.conf carries it is the collection's to replace or remove.
DKMS_MARKER = "# Managed by rustkmod.roulette (kmod_build_method: dkms)"
# DKMS's source trees: /usr/src/<module>-<version>/ with a dkms.conf.
SOURCE_ROOT = "/usr/src"

_NOTE_RE = re.compile(r"\(([^()]{0,200})\)")
_WEAK_RE = re.compile(r"^installed-weak\s+from\s+(\S{1,200})")
_STATE_RE = re.compile(r"^([A-Za-z][A-Za-z-]{0,30})")


def _entry(module, version, kernel, arch, state, notes, line, weak_from=None):
    return {"module": module, "version": version, "kernel": kernel, "arch": arch, "state": state,
            "notes": notes, "weak_from": weak_from, "line": line}


def parse_status_line(line):
    """One line of `dkms status` as a dict, or None when it is not a status line.

    Keys: module, version, kernel and arch (null for a module only added or broken), state
    (added, built, installed, installed-weak, broken, or what a newer dkms says), notes (the
    parenthesised remarks after the state), weak_from (the kernel an installed-weak module was
    built for) and line (the line as printed).
    """
    text = (line or "").strip()
    head, sep, tail = text.partition(": ")
    if not sep:
        # "roulette/1.0: added" has ": "; a line ending in ":" has nothing after it.
        return None
    fields = [field.strip() for field in head.split(",")]
    first = fields[0]
    if "/" in first:  # dkms 3: module/version[, kernel, arch]
        module, _, version = first.partition("/")
        rest = fields[1:]
    elif len(fields) >= 2:  # dkms 2 and installed-weak: module, version[, kernel, arch]
        module, version = first, fields[1]
        rest = fields[2:]
    else:
        return None
    if not module or not version or " " in module or " " in version or len(rest) not in (0, 2):
        return None
    kernel, arch = (rest[0], rest[1]) if rest else (None, None)
    if rest and (not kernel or not arch):
        return None
    tail = tail.strip()
    weak = _WEAK_RE.match(tail)
    state_match = _STATE_RE.match(tail)
    if not state_match:
        return None
    state = "installed-weak" if weak else state_match.group(1)
    after = tail[weak.end():] if weak else tail[state_match.end():]
    notes = [note.strip() for note in _NOTE_RE.findall(after)]
    return _entry(module, version, kernel, arch, state, notes, text, weak.group(1) if weak else None)


def parse_status(text, module=DRIVER_NAME):
    """The status lines of `module` in the output of `dkms status`, in the order printed."""
    entries = []
    for line in (text or "").splitlines():
        entry = parse_status_line(line)
        if entry is not None and entry["module"] == module:
            del entry["module"]
            entries.append(entry)
    return entries


def is_ours(conf_text):
    """Whether a dkms.conf was written by the collection (it carries DKMS_MARKER as a line)."""
    return any(line.strip() == DKMS_MARKER for line in (conf_text or "").splitlines())


def source_trees(read, root_path, module=DRIVER_NAME):
    """[{version, path, ours}] of the DKMS source trees /usr/src/<module>-<version>/ on the host.

    `read(*parts)` reads a file below the host's root (None when unreadable) and `root_path(*parts)`
    names a path there (the tests point both at a fake tree). A directory without a dkms.conf, or whose
    dkms.conf lacks the collection's marker, is listed with ours false: it is never the collection's
    to remove.
    """
    prefix = module + "-"
    try:
        names = sorted(os.listdir(root_path(SOURCE_ROOT.lstrip("/"))))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.startswith(prefix) or len(name) == len(prefix):
            continue
        relative = os.path.join(SOURCE_ROOT.lstrip("/"), name)
        if not os.path.isdir(root_path(relative)) or os.path.islink(root_path(relative)):
            continue
        conf = read(relative, "dkms.conf")
        found.append({"version": name[len(prefix):], "path": os.path.join(SOURCE_ROOT, name),
                      "ours": is_ours(conf)})
    return found


def status_output(module):
    """The output of `dkms status -m roulette`, or None when dkms is not installed.

    dkms prints its errors (a broken module's, for one) on stderr and exits 0 for a status; the
    lines it printed are what counts, whatever its exit status.
    """
    dkms = module.get_bin_path("dkms")
    if dkms is None:
        return None
    _rc, out, _err = module.run_command([dkms, "status", "-m", DRIVER_NAME], environ_update={"LC_ALL": "C"})
    return out or ""
